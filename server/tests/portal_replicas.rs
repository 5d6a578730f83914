//! Portal links across processes (issue 25): a session opened on one instance ends on the other
//! the moment the operator expires it through the first, and the link's token reaches no
//! database file and no server log.
//!
//! PostgreSQL: two `latchkey serve` processes on one database (runs when
//! `LATCHKEY_TEST_POSTGRES_URL` is set). SQLite: one process serves the file and the test's own
//! router is the other instance.
#![allow(clippy::unwrap_used)]

mod common;

use common::operator::{admin, token};
use common::replica::*;
use common::*;
use serde_json::{json, Value};

/// `POST base/api/portal/redeem` as the portal page's form does; the session cookie it set.
async fn redeem_on(base: &str, token: &str) -> Option<String> {
    let r = http()
        .post(format!("{base}/api/portal/redeem"))
        .header("sec-fetch-site", "same-origin")
        .header("accept", "application/json")
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "redeem on {base}");
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("lk_session=p_"))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

/// The session probe on `base` with `cookie`: `null` once it has ended.
async fn session_on(base: &str, cookie: &str) -> Value {
    http()
        .post(format!("{base}/api/session"))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn expiring_through_one_instance_ends_the_session_on_the_other() {
    for engine in engines() {
        let app = TestApp::new(&engine).await;
        let dir = scratch("portal");
        let (a, b, processes) = match &engine {
            Engine::Postgres(_) => {
                let a = start(&app.url, &dir, "a", &[]).await;
                let b = start(&app.url, &dir, "b", &[]).await;
                (a.base.clone(), b.base.clone(), vec![a, b])
            }
            Engine::Sqlite => {
                let b = start(&app.url, &dir, "only", &[]).await;
                (app.serve().await, b.base.clone(), vec![b])
            }
        };
        let op = token(&app, &[]).await;
        let put = |path: String, body: Value| {
            let (a, op) = (a.clone(), op.clone());
            async move { admin(&a, &op, "PUT", &path, Some(body), None).await }
        };
        put(
            "/v1/admin/tenants/saas-rep".into(),
            json!({"name": "Rep", "plan": "professional"}),
        )
        .await;
        put(
            "/v1/admin/tenants/saas-rep/members/u-r".into(),
            json!({"email": "u-r@saas.test", "name": "Rae", "role": "admin"}),
        )
        .await;
        let minted = admin(
            &a,
            &op,
            "POST",
            "/v1/admin/portal-links",
            Some(json!({"tenant": "saas-rep", "user": "u-r"})),
            None,
        )
        .await;
        assert_eq!(minted.status, 201, "{}", minted.body);
        let url = minted.body["url"].as_str().unwrap();
        let link_token = url.split_once('#').unwrap().1.to_owned();

        let cookie = redeem_on(&b, &link_token).await.expect("session cookie");
        assert_eq!(session_on(&b, &cookie).await["tenant_name"], "Rep");
        let ended = admin(
            &a,
            &op,
            "POST",
            "/v1/admin/portal-sessions/expire",
            Some(json!({"tenant": "saas-rep"})),
            None,
        )
        .await;
        assert_eq!(ended.body["expired"], 1, "{}", ended.body);
        // No waiting: sessions are read from storage on every request.
        assert_eq!(session_on(&b, &cookie).await, Value::Null, "{}", app.engine);

        // The token is kept nowhere: not in the database's files, not in any log.
        let session_value = cookie.split_once('=').unwrap().1;
        for p in &processes {
            let log = p.log_text();
            assert!(
                !log.contains(&link_token),
                "the link's token is in a server log"
            );
            assert!(
                !log.contains(session_value),
                "a session cookie is in a server log"
            );
        }
        if let Engine::Sqlite = engine {
            let file = app.url.trim_start_matches("sqlite://").to_owned();
            for suffix in ["", "-wal", "-shm"] {
                if let Ok(bytes) = std::fs::read(format!("{file}{suffix}")) {
                    let text = String::from_utf8_lossy(&bytes);
                    assert!(
                        !text.contains(&link_token),
                        "the token is in {file}{suffix}"
                    );
                    assert!(
                        !text.contains(session_value),
                        "the cookie is in {file}{suffix}"
                    );
                }
            }
        } else {
            // Every row of every table the flow wrote, as text.
            for table in ["portal_links", "sessions", "audit_events", "users"] {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT row_to_json(t)::text FROM {table} t"))
                        .fetch_all(&app.state.db.pool)
                        .await
                        .unwrap();
                assert!(!rows.is_empty() || table == "sessions", "{table} is empty");
                for row in rows {
                    assert!(!row.contains(&link_token), "the token is in {table}: {row}");
                    assert!(
                        !row.contains(session_value),
                        "the cookie is in {table}: {row}"
                    );
                }
            }
        }
        drop(processes);
        app.close().await;
    }
}
