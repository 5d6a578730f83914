//! The audit log on both engines: who may read it, filters, keyset cursors under concurrent
//! writes, the CSV export (quoting, formula cells), the hash chain (verify, a row edited behind
//! the triggers' back, parallel writers), retention, the tenant-less log's bound, and that every
//! action is recorded.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};
use std::collections::HashSet;
use store::audit::chain::{verify, ChainReport};
use store::audit::{record_now, Actor, AuditAction, Event};

async fn audit_page(app: &TestApp, cookie: &str, body: Value) -> Resp {
    app.call_json("audit/list", body, Some(cookie)).await
}

async fn named(app: &TestApp, name: &str, scopes: &[&str]) -> TestKey {
    let new = latchkey_domain::views::NewKey {
        name: name.to_owned(),
        description: String::new(),
        mode: Some(latchkey_domain::keys::Mode::Test),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        allowlist: String::new(),
        expires_on: String::new(),
        resources: Vec::new(),
    };
    app.make_key_from("acme", new).await
}

fn ids(r: &Resp) -> Vec<i64> {
    r.json()["rows"]
        .as_array()
        .map(|rows| rows.iter().map(|e| e["id"].as_i64().unwrap()).collect())
        .unwrap_or_default()
}

fn actions(r: &Resp) -> Vec<String> {
    r.json()["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|e| e["action"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// `n` events on a tenant, each its own transaction (as real writers do).
async fn churn(app: &TestApp, tenant: i64, n: usize, tag: &str) {
    for i in 0..n {
        let ev = Event::tenant(
            tenant,
            AuditAction::PlanChanged,
            json!({"from": tag, "to": i}),
        );
        record_now(&app.state.db, &Actor::named("churn"), ev)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn only_owners_and_admins_read_the_log_and_only_their_own_tenant() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        for email in ["owner@acme.test", "admin@acme.test"] {
            let c = app.sign_in(email).await;
            let r = audit_page(&app, &c, json!({"query": {}})).await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{email} on {}: {}",
                app.engine,
                r.body
            );
            assert!(!ids(&r).is_empty(), "{email} sees events");
        }
        for email in ["member@acme.test", "viewer@acme.test"] {
            let c = app.sign_in(email).await;
            let r = audit_page(&app, &c, json!({"query": {}})).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{email} on {}", app.engine);
            assert!(
                !r.body.contains("api_key.") && !r.body.contains("member."),
                "{}",
                r.body
            );
            let csv = app
                .get(&format!("/audit/export.csv?tenant={acme}"), Some(&c))
                .await;
            assert_eq!(csv.status, StatusCode::FORBIDDEN, "{email} export");
            assert!(!csv.body.contains("member."), "{}", csv.body);
        }
        // Another tenant's owner: refused on Acme's id, and their own log holds nothing of Acme's.
        let c = app.sign_in("owner@starter.test").await;
        let r = audit_page(&app, &c, json!({"tenant": acme, "query": {}})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(!r.body.contains("acme.test"), "{}", r.body);
        let csv = app
            .get(&format!("/audit/export.csv?tenant={acme}"), Some(&c))
            .await;
        assert_eq!(csv.status, StatusCode::CONFLICT);
        assert!(!csv.body.contains("acme.test"));
        let own = audit_page(&app, &c, json!({"query": {}})).await;
        assert_eq!(own.status, StatusCode::OK);
        assert!(!own.body.contains("@acme.test"), "{}", own.body);
        // Signed out: nothing.
        let r = app
            .call_json("audit/list", json!({"tenant": acme, "query": {}}), None)
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        app
    })
    .await;
}

#[tokio::test]
async fn filters_combine_and_live_on_the_same_names_the_page_offers() {
    on_every_engine(|app| async move {
        let c = app.sign_in("owner@acme.test").await;
        let a = named(&app, "Deploy bot", &["keys:read"]).await;
        let b = named(&app, "Billing sync", &["keys:read"]).await;
        for k in [&a, &b] {
            let r = app
                .call_json(
                    "keys/revoke",
                    json!({"id": k.id, "reason": "test"}),
                    Some(&c),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        // Action and key (by name, any case) together: only that key's revoke.
        let r = audit_page(
            &app,
            &c,
            json!({"query": {"action": "api_key.revoked", "key": "deploy BOT"}}),
        )
        .await;
        assert_eq!(actions(&r), ["api_key.revoked"], "{}", r.body);
        assert_eq!(r.json()["rows"][0]["target_id"], a.id.as_str());
        // By id, every event of the key; by actor, only the owner's.
        let r = audit_page(&app, &c, json!({"query": {"key": b.id}})).await;
        assert_eq!(
            actions(&r),
            ["api_key.revoked", "api_key.created"],
            "{}",
            r.body
        );
        let r = audit_page(
            &app,
            &c,
            json!({"query": {"actor": "owner@acme.test", "action": "api_key.created"}}),
        )
        .await;
        assert!(
            actions(&r).is_empty(),
            "keys were made by the operator: {}",
            r.body
        );
        let r = audit_page(&app, &c, json!({"query": {"actor": "owner@acme.test"}})).await;
        assert!(
            actions(&r)
                .iter()
                .all(|a| a == "api_key.revoked" || a == "user.signed_in"),
            "{}",
            r.body
        );
        // A name no key has matches nothing (not everything).
        let r = audit_page(&app, &c, json!({"query": {"key": "no such key"}})).await;
        assert!(ids(&r).is_empty());
        // Time: events two days on are inside [from, to] of that day only.
        let today = latchkey_domain::time::format_date(app.state.db.clock.now_ms());
        app.state
            .db
            .clock
            .advance(std::time::Duration::from_secs(2 * 86_400));
        let later = latchkey_domain::time::format_date(app.state.db.clock.now_ms());
        let acme = app.tenant_id("acme").await;
        churn(&app, acme, 3, "later").await;
        let c = app.sign_in("owner@acme.test").await;
        let r = audit_page(
            &app,
            &c,
            json!({"query": {"from": later, "action": "tenant.plan_changed"}}),
        )
        .await;
        assert_eq!(ids(&r).len(), 3, "{}", r.body);
        let r = audit_page(
            &app,
            &c,
            json!({"query": {"to": today, "action": "tenant.plan_changed"}}),
        )
        .await;
        assert!(ids(&r).is_empty(), "{}", r.body);
        let r = audit_page(
            &app,
            &c,
            json!({"query": {"from": today, "to": today, "action": "api_key.revoked"}}),
        )
        .await;
        assert_eq!(ids(&r).len(), 2, "{}", r.body);
        // Bad input is a field error, not an empty page.
        let r = audit_page(
            &app,
            &c,
            json!({"query": {"from": "yesterday", "action": "api_key.deleted"}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.body.contains("from") && r.body.contains("action"),
            "{}",
            r.body
        );
        app
    })
    .await;
}

#[tokio::test]
async fn cursors_never_skip_or_repeat_a_row_when_events_arrive_between_pages() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        churn(&app, acme, 130, "before").await;
        let c = app.sign_in("owner@acme.test").await;
        let q = json!({"action": "tenant.plan_changed"});
        let first = audit_page(&app, &c, json!({"query": q})).await;
        assert_eq!(first.json()["newer"], Value::Null);
        let mut seen = ids(&first);
        assert_eq!(seen.len(), 50);
        let mut older = first.json()["older"].as_i64();
        let mut pages = vec![first];
        while let Some(before) = older {
            // New events land at the top while we walk down: none may shift the pages.
            churn(&app, acme, 7, "during").await;
            let r = audit_page(&app, &c, json!({"query": q, "before": before})).await;
            seen.extend(ids(&r));
            older = r.json()["older"].as_i64();
            pages.push(r);
        }
        assert_eq!(seen.len(), 130, "every first-seen event exactly once");
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 130);
        assert!(
            seen.windows(2).all(|w| w[0] > w[1]),
            "newest first throughout"
        );
        // And back up with Newer: the same pages, then the events that arrived, none twice.
        let mut after = pages.last().unwrap().json()["newer"].as_i64();
        let mut up = Vec::new();
        while let Some(a) = after {
            let r = audit_page(&app, &c, json!({"query": q, "after": a})).await;
            let page = ids(&r);
            assert!(page.windows(2).all(|w| w[0] > w[1]));
            up.extend(page);
            after = r.json()["newer"].as_i64();
        }
        let total = 130 + 7 * (pages.len() - 1);
        let last_page: HashSet<i64> = ids(pages.last().unwrap()).into_iter().collect();
        assert_eq!(up.len() + last_page.len(), total, "{} pages", pages.len());
        assert_eq!(
            up.iter()
                .chain(last_page.iter())
                .collect::<HashSet<_>>()
                .len(),
            total
        );
        app
    })
    .await;
}

fn parse_csv(body: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect()
}

#[tokio::test]
async fn the_export_quotes_and_neutralises_formulas_and_is_itself_audited() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        let evil = named(&app, "=HYPERLINK(\"http://x\")", &["keys:read"]).await;
        let tricky = named(&app, "a, \"quoted\" name", &["keys:read"]).await;
        let c = app.sign_in("owner@acme.test").await;
        let r = app
            .get(
                &format!("/audit/export.csv?tenant={acme}&action=api_key.created"),
                Some(&c),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        assert!(r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        assert_eq!(r.headers["cache-control"], "no-store");
        let rows = parse_csv(&r.body);
        let header = csv::Reader::from_reader(r.body.as_bytes())
            .headers()
            .unwrap()
            .clone();
        assert_eq!(
            header.iter().collect::<Vec<_>>(),
            store::audit::export::HEADER
        );
        let name_col = header.iter().position(|h| h == "target_name").unwrap();
        let by_id = |id: &str| rows.iter().find(|r| &r[5] == id).unwrap().clone();
        assert_eq!(&by_id(&evil.id)[name_col], "'=HYPERLINK(\"http://x\")");
        assert_eq!(
            &by_id(&tricky.id)[name_col],
            "a, \"quoted\" name",
            "round-trips through quoting"
        );
        for row in &rows {
            for cell in row.iter() {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "a live formula cell: {cell:?}"
                );
            }
        }
        // The same rows as the page, in the same order.
        let page = audit_page(&app, &c, json!({"query": {"action": "api_key.created"}})).await;
        let csv_ids: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
        assert_eq!(csv_ids, ids(&page));
        // The export was recorded, with its filter.
        let last = audit_page(&app, &c, json!({"query": {"action": "audit.exported"}})).await;
        assert_eq!(last.json()["rows"][0]["actor"], "owner@acme.test");
        assert!(last.json()["rows"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("action=api_key.created"));
        // Refused cross-site, like every state change.
        let mut req = axum::http::Request::get(format!("/audit/export.csv?tenant={acme}"))
            .header("cookie", &c)
            .header("sec-fetch-site", "cross-site");
        req = req.header("host", "127.0.0.1:3000");
        let r = app.send(req.body(axum::body::Body::empty()).unwrap()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        app
    })
    .await;
}

fn intact(r: &ChainReport) -> bool {
    r.broken.is_none()
}

async fn run_cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    run_latchkey(&app.url, args)
}

/// Edits a row as a superuser would: past the append-only triggers.
async fn tamper(app: &TestApp, sql: &str) {
    let mut conn = app.state.db.pool.acquire().await.unwrap();
    if app.engine == "postgres" {
        sqlx::query("SET session_replication_role = replica")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query(sql).execute(&mut *conn).await.unwrap();
        sqlx::query("SET session_replication_role = DEFAULT")
            .execute(&mut *conn)
            .await
            .unwrap();
    } else {
        sqlx::query("DROP TRIGGER IF EXISTS audit_events_no_update")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query("DROP TRIGGER IF EXISTS audit_events_no_delete")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query(sql).execute(&mut *conn).await.unwrap();
    }
}

#[tokio::test]
async fn the_chain_verifies_and_names_the_row_edited_behind_its_back() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        churn(&app, acme, 5, "x").await;
        let ok = verify(&app.state.db, acme).await.unwrap();
        assert!(intact(&ok), "{ok:?}");
        assert!(ok.verified >= 5);
        let out = run_cli(&app, &["audit", "verify"]).await;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("intact"));

        // Someone with the database's keys changes what an event says.
        let victim = app
            .scalar_i64(&format!(
                "SELECT id FROM audit_events WHERE tenant_id = {acme} AND action = 'tenant.plan_changed' \
                 ORDER BY id LIMIT 1 OFFSET 2"
            ))
            .await;
        tamper(&app, &format!("UPDATE audit_events SET actor = 'nobody' WHERE id = {victim}")).await;
        let bad = verify(&app.state.db, acme).await.unwrap();
        assert_eq!(bad.broken.as_ref().and_then(|b| b.event_id), Some(victim), "{bad:?}");
        let out = run_cli(&app, &["audit", "verify", "--tenant", "acme"]).await;
        assert!(!out.status.success(), "verify must fail");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains(&format!("BROKEN at event {victim}")), "{said}");
        app
    })
    .await;
}

#[tokio::test]
async fn a_removed_row_or_a_removed_newest_row_breaks_the_chain() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        churn(&app, acme, 6, "x").await;
        let ids: Vec<i64> = sqlx::query_scalar::<_, i64>(&format!(
            "SELECT id FROM audit_events WHERE tenant_id = {acme} ORDER BY id"
        ))
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
        let newest = *ids.last().unwrap();
        tamper(
            &app,
            &format!("DELETE FROM audit_events WHERE id = {newest}"),
        )
        .await;
        let r = verify(&app.state.db, acme).await.unwrap();
        assert!(
            r.broken
                .as_ref()
                .is_some_and(|b| b.reason.contains("newest")),
            "{r:?}"
        );
        let middle = ids[ids.len() - 3];
        tamper(
            &app,
            &format!("DELETE FROM audit_events WHERE id = {middle}"),
        )
        .await;
        let r = verify(&app.state.db, acme).await.unwrap();
        assert_eq!(
            r.broken.as_ref().and_then(|b| b.event_id),
            Some(ids[ids.len() - 2]),
            "{r:?}"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn parallel_writers_never_fork_the_chain() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        let before = app
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE tenant_id = {acme}"
            ))
            .await;
        let mut tasks = Vec::new();
        for w in 0..8 {
            let db = app.state.db.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..15 {
                    let ev = Event::tenant(acme, AuditAction::PlanChanged, json!({"w": w, "i": i}));
                    record_now(&db, &Actor::named("writer"), ev).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let after = app
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE tenant_id = {acme}"
            ))
            .await;
        assert_eq!(after - before, 120);
        let distinct = app
            .scalar_i64(&format!(
                "SELECT COUNT(DISTINCT chain_seq) FROM audit_events WHERE tenant_id = {acme}"
            ))
            .await;
        assert_eq!(distinct, after, "each event has its own place");
        let r = verify(&app.state.db, acme).await.unwrap();
        assert!(intact(&r), "{r:?}");
        app
    })
    .await;
}

#[tokio::test]
async fn retention_removes_old_ranges_and_the_chain_still_verifies() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        churn(&app, acme, 4, "old").await;
        app.state.db.clock.advance(std::time::Duration::from_secs(40 * 86_400));
        churn(&app, acme, 3, "new").await;
        let done = store::audit::retention::run(
            &app.state.db,
            store::audit::retention::Retention {
                keep_for: Some(std::time::Duration::from_secs(30 * 86_400)),
                system_rows: 1_000_000,
            },
        )
        .await
        .unwrap();
        assert!(done.iter().any(|p| p.chain == acme && p.removed > 4), "{done:?}");
        let left = app
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE tenant_id = {acme} AND action = 'tenant.plan_changed'"
            ))
            .await;
        assert_eq!(left, 3, "only the recent events stay");
        let r = verify(&app.state.db, acme).await.unwrap();
        assert!(intact(&r), "{r:?}");
        assert!(r.pruned_through.is_some());
        // The prune is on the page, and the rest is still append-only.
        let c = app.sign_in("owner@acme.test").await;
        let page = audit_page(&app, &c, json!({"query": {"action": "audit.pruned"}})).await;
        assert_eq!(ids(&page).len(), 1, "{}", page.body);
        let refused = sqlx::query(&format!("DELETE FROM audit_events WHERE tenant_id = {acme}"))
            .execute(&app.state.db.pool)
            .await;
        assert!(refused.is_err(), "events newer than the checkpoint cannot be deleted");
        app
    })
    .await;
}

#[tokio::test]
async fn failed_sign_ins_are_recorded_tenant_less_by_hash_and_held_to_a_bound() {
    on_every_engine(|app| async move {
        for i in 0..25 {
            let email = format!("stranger{i}@example.test");
            let r = app.call("sign_in", &[("email", &email), ("password", "wrong-password")], None).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        }
        let failed = app
            .scalar_i64("SELECT COUNT(*) FROM audit_events WHERE tenant_id IS NULL AND action = 'user.sign_in_failed'")
            .await;
        assert_eq!(failed, 25);
        let details = app
            .scalar_text("SELECT details FROM audit_events WHERE action = 'user.sign_in_failed' ORDER BY id DESC LIMIT 1")
            .await;
        assert!(!details.contains("stranger") && !details.contains("wrong-password"), "{details}");
        use sha2::Digest;
        let want = format!("{:x}", sha2::Sha256::digest(b"stranger24@example.test"));
        assert!(details.contains(&want), "{details}");
        // The flood is bounded: the upkeep pass cuts the tenant-less log to its cap.
        store::audit::retention::run(
            &app.state.db,
            store::audit::retention::Retention { keep_for: None, system_rows: 10 },
        )
        .await
        .unwrap();
        let left = app.scalar_i64("SELECT COUNT(*) FROM audit_events WHERE tenant_id IS NULL").await;
        assert!(left <= 11, "{left} tenant-less events kept");
        let r = verify(&app.state.db, 0).await.unwrap();
        assert!(intact(&r), "{r:?}");
        app
    })
    .await;
}

#[tokio::test]
async fn every_action_is_recorded_with_actor_time_address_and_target() {
    on_every_engine(|app| async move {
        let db = &app.state.db;
        let acme = app.tenant_id("acme").await;
        let starter = app.tenant_id("starter-studio").await;
        let c = app.sign_in("consultant@example.test").await;
        let r = app.call("switch_tenant", &[("tenant_id", &starter.to_string())], Some(&c)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(app.call("sign_out", &[], Some(&c)).await.status, StatusCode::OK);
        let c = app.sign_in("consultant@example.test").await;
        assert_eq!(app.call("sign_out_everywhere", &[], Some(&c)).await.status, StatusCode::OK);
        let viewer = store::auth::user_id_by_email(db, "viewer@acme.test").await.unwrap().unwrap();
        store::tenants::add_member(db, acme, viewer, latchkey_domain::Role::Member, &Actor::operator()).await.unwrap();
        store::members::remove(db, acme, store::members::Manager::Operator, &Actor::operator(), viewer).await.unwrap();
        let app_ref = &app;
        let count = move |tenant: Option<i64>, action: &'static str| async move {
            let scope = tenant.map_or("tenant_id IS NULL".to_owned(), |t| format!("tenant_id = {t}"));
            app_ref
                .scalar_i64(&format!("SELECT COUNT(*) FROM audit_events WHERE {scope} AND action = '{action}'"))
                .await
        };
        assert!(count(Some(acme), "user.signed_in").await >= 2);
        assert_eq!(count(Some(starter), "user.tenant_switched").await, 1);
        assert_eq!(count(Some(starter), "user.signed_out").await, 1, "signed out where the session was");
        assert_eq!(count(Some(acme), "user.signed_out_everywhere").await, 1);
        assert_eq!(count(Some(acme), "member.role_changed").await, 1);
        assert_eq!(count(Some(acme), "member.removed").await, 1);
        let ip = app
            .scalar_text(&format!(
                "SELECT COALESCE(client_ip, '') FROM audit_events WHERE tenant_id = {starter} \
                 AND action = 'user.tenant_switched'"
            ))
            .await;
        assert!(!ip.is_empty(), "the address is recorded");
        let details = app
            .scalar_text(&format!("SELECT details FROM audit_events WHERE tenant_id = {acme} AND action = 'member.role_changed'"))
            .await;
        assert!(details.contains("viewer@acme.test") && details.contains("\"from\":\"viewer\""), "{details}");
        // Every recorded name is one of the listed actions.
        let names: Vec<String> = sqlx::query_scalar::<_, String>("SELECT DISTINCT action FROM audit_events")
            .fetch_all(&db.pool)
            .await
            .unwrap();
        for n in names {
            assert!(AuditAction::parse(&n).is_some(), "{n} is not in the list");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn the_api_refuses_an_unknown_action_filter() {
    on_every_engine(|app| async move {
        let key = named(&app, "auditor", &["audit:read"]).await;
        let base = app.serve().await;
        let r = api(
            &base,
            "GET",
            "/v1/audit-events?action=api_key.deleted",
            &key.secret,
            None,
        )
        .await;
        assert_eq!(r.status, 422, "{:?}", r.body);
        let r = api(
            &base,
            "GET",
            "/v1/audit-events?action=api_key.created",
            &key.secret,
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert!(r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] == "api_key.created"));
        app
    })
    .await;
}

#[tokio::test]
async fn events_from_before_the_chain_survive_the_upgrade_and_the_chain_goes_on_from_them() {
    use store::db::Db;
    for engine in engines() {
        let name = format!("lk_up_{}", std::process::id());
        let url = match &engine {
            Engine::Sqlite => {
                let dir = std::env::temp_dir().join("latchkey-tests");
                std::fs::create_dir_all(&dir).unwrap();
                let _ = std::fs::remove_file(dir.join(format!("{name}.db")));
                format!("sqlite://{}/{name}.db", dir.display())
            }
            Engine::Postgres(admin) => {
                let a = Db::connect(admin).await.unwrap();
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&a.pool)
                    .await;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&a.pool)
                    .await
                    .unwrap();
                format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
            }
        };
        let db = Db::connect(&url).await.unwrap();
        db.migrate_through(5).await.unwrap();
        for (tenant, action) in [
            (Some(7), "api_key.created"),
            (None, "user.signed_in"),
            (Some(7), "membership.added"),
        ] {
            sqlx::query(
                "INSERT INTO audit_events (tenant_id, actor, action, details, created_at) VALUES ($1, 'old', $2, '{}', 1)",
            )
            .bind(tenant)
            .bind(action)
            .execute(&db.pool)
            .await
            .unwrap();
        }
        db.migrate().await.unwrap();
        // The first start with the pepper seals the older part (here: no links at all).
        store::audit::seal::install(&latchkey_domain::keys::Pepper::new(vec![7; 32]).unwrap());
        store::audit::seal::adopt_legacy(&db).await.unwrap();
        let r = verify(&db, 7).await.unwrap();
        assert_eq!(
            (r.unsealed, r.verified, r.broken.clone()),
            (2, 0, None),
            "{engine:?}"
        );
        let ev = Event::tenant(7, AuditAction::PlanChanged, json!({}));
        record_now(&db, &Actor::operator(), ev).await.unwrap();
        let r = verify(&db, 7).await.unwrap();
        assert_eq!(
            (r.unsealed, r.verified, r.broken.clone()),
            (2, 1, None),
            "{engine:?}"
        );
        let seqs: Vec<i64> = sqlx::query_scalar::<_, i64>(
            "SELECT chain_seq FROM audit_events WHERE tenant_id = 7 ORDER BY id",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        assert_eq!(seqs, [1, 2, 3]);
        let renamed = sqlx::query_scalar::<_, String>(
            "SELECT action FROM audit_events WHERE tenant_id = 7 AND chain_seq = 2",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!(renamed, "member.added", "the old name takes the list's");
        let r = verify(&db, 0).await.unwrap();
        assert_eq!((r.unsealed, r.broken), (1, None));
        db.pool.close().await;
        if let Engine::Postgres(admin) = &engine {
            let a = Db::connect(admin).await.unwrap();
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&a.pool)
                .await;
        }
    }
}
