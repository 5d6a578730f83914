//! The audit chain against a database writer who lacks the pepper (issue 23, item 5), on both
//! engines: an event rewritten and re-hashed under the old plain SHA-256 rule, a forged
//! retention checkpoint, a deleted head, a chain cut back after an anchor, and the CLI's
//! `audit anchor` + `audit verify --against` round trip. The store is used directly, and raw
//! SQL past the triggers plays the writer.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use store::audit::anchor;
use store::audit::chain::{verify, verify_all, ChainRow};
use store::audit::{record_now, Actor, AuditAction, Event};

const ROW: &str = "SELECT id, tenant_id, chain_seq, created_at, actor_user_id, actor, action, \
                   target_type, target_id, client_ip, details, prev_hash, hash FROM audit_events";

async fn churn(app: &TestApp, tenant: i64, n: usize) {
    for i in 0..n {
        let ev = Event::tenant(tenant, AuditAction::PlanChanged, json!({ "to": i }));
        record_now(&app.state.db, &Actor::named("churn"), ev)
            .await
            .unwrap();
    }
}

/// Runs statements as a writer who can also get past the triggers (a superuser on PostgreSQL,
/// the file's owner on SQLite).
async fn as_writer(app: &TestApp, statements: &[String]) {
    let mut conn = app.state.db.pool.acquire().await.unwrap();
    if app.engine == "postgres" {
        sqlx::query("SET session_replication_role = replica")
            .execute(&mut *conn)
            .await
            .unwrap();
    } else {
        for t in [
            "audit_events_no_update",
            "audit_events_no_delete",
            "audit_checkpoints_only_by_prune",
        ] {
            sqlx::query(&format!("DROP TRIGGER IF EXISTS {t}"))
                .execute(&mut *conn)
                .await
                .unwrap();
        }
    }
    for sql in statements {
        sqlx::query(sql).execute(&mut *conn).await.unwrap();
    }
    if app.engine == "postgres" {
        sqlx::query("SET session_replication_role = DEFAULT")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
}

async fn rows(app: &TestApp, tenant: i64) -> Vec<ChainRow> {
    sqlx::query_as::<_, ChainRow>(&format!(
        "{ROW} WHERE tenant_id = {tenant} ORDER BY chain_seq"
    ))
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap()
}

fn cli_ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn an_event_rewritten_and_rehashed_under_the_old_sha256_rule_breaks_the_chain() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        churn(&app, acme, 5).await;
        assert!(verify(&app.state.db, acme).await.unwrap().broken.is_none());
        // The writer changes one event and re-links it and every later one exactly as the
        // chain used to be computed (SHA-256 needs no key), head included.
        let mut chain = rows(&app, acme).await;
        let at = chain.len() - 3;
        let victim = chain[at].id;
        chain[at].details = json!({ "to": "forged" }).to_string();
        let mut prev = chain[at].prev_hash.clone().unwrap();
        let mut sql = Vec::new();
        for row in &chain[at..] {
            let hash = row.digest(&prev);
            sql.push(format!(
                "UPDATE audit_events SET details = '{}', prev_hash = '{prev}', hash = '{hash}' \
                 WHERE id = {}",
                row.details, row.id
            ));
            prev = hash;
        }
        sql.push(format!(
            "UPDATE audit_heads SET hash = '{prev}' WHERE chain = {acme}"
        ));
        as_writer(&app, &sql).await;
        let r = verify(&app.state.db, acme).await.unwrap();
        let b = r.broken.expect("the rewrite is seen");
        assert_eq!(b.event_id, Some(victim), "{b}");
        let out = run_latchkey(&app.url, &["audit", "verify", "--tenant", "acme"]);
        assert!(!out.status.success(), "verify must fail");
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("BROKEN at event {victim}")));
        app
    })
    .await;
}

#[tokio::test]
async fn a_checkpoint_no_prune_wrote_is_refused_and_fails_verification_if_forced_in() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        churn(&app, acme, 6).await;
        let chain = rows(&app, acme).await;
        let cut = &chain[2];
        let insert = format!(
            "INSERT INTO audit_checkpoints (chain, through_seq, through_hash, cut_off, removed, \
             created_at) VALUES ({acme}, {}, '{}', 0, 0, 0)",
            cut.chain_seq,
            cut.hash.clone().unwrap()
        );
        let refused = sqlx::query(&insert).execute(&app.state.db.pool).await;
        let err = refused.expect_err("a checkpoint no prune wrote is refused");
        assert!(err.to_string().contains("only by retention"), "{err}");
        // Past the trigger, with the events it "covers" removed: it carries no MAC that a
        // writer without the pepper could compute, and that gives it away.
        as_writer(
            &app,
            &[
                insert.clone(),
                format!(
                    "DELETE FROM audit_events WHERE tenant_id = {acme} AND chain_seq <= {}",
                    cut.chain_seq
                ),
            ],
        )
        .await;
        let r = verify(&app.state.db, acme).await.unwrap();
        let b = r.broken.expect("the forged checkpoint is seen");
        assert!(b.reason.contains("checkpoint"), "{b}");
        // A real prune still works: it opens the guard itself, and its checkpoint verifies.
        let fresh = TestApp::new(&engine_of(&app)).await;
        let t = fresh.tenant_id("acme").await;
        churn(&fresh, t, 3).await;
        let done = store::audit::retention::cap_rows(&fresh.state.db, t, 2).await;
        assert!(done.unwrap().is_some());
        assert!(verify(&fresh.state.db, t).await.unwrap().broken.is_none());
        fresh.close().await;
        app
    })
    .await;
}

fn engine_of(app: &TestApp) -> Engine {
    match app.engine.as_str() {
        "postgres" => engines().into_iter().last().unwrap(),
        _ => Engine::Sqlite,
    }
}

#[tokio::test]
async fn deleting_a_tenants_head_is_a_break_for_that_tenant() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        churn(&app, acme, 3).await;
        sqlx::query(&format!("DELETE FROM audit_heads WHERE chain = {acme}"))
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        let all = verify_all(&app.state.db, None).await.unwrap();
        let mine = all.iter().find(|r| r.tenant_id == Some(acme));
        let b = mine
            .and_then(|r| r.broken.clone())
            .expect("acme is verified and broken");
        assert!(b.reason.contains("head is missing"), "{b}");
        let starter = app.tenant_id("starter-studio").await;
        assert!(all
            .iter()
            .any(|r| r.tenant_id == Some(starter) && r.broken.is_none()));
        let out = run_latchkey(&app.url, &["audit", "verify"]);
        assert!(!out.status.success(), "verify must fail");
        assert!(String::from_utf8_lossy(&out.stdout).contains("head is missing"));
        app
    })
    .await;
}

#[tokio::test]
async fn an_anchor_proves_a_chain_cut_back_or_regrown_after_it() {
    on_every_engine(|app| async move {
        let db = &app.state.db;
        let acme = app.tenant_id("acme").await;
        churn(&app, acme, 5).await;
        let anchors = anchor::take(db).await.unwrap();
        let mine = anchors
            .iter()
            .find(|a| a.tenant_id == Some(acme))
            .unwrap()
            .clone();
        assert!(anchor::check(db, &anchors).await.unwrap().is_empty());
        // The writer drops the newest three events and moves the head back onto a real link:
        // every remaining MAC holds, so only the anchor can tell.
        let chain = rows(&app, acme).await;
        let keep = &chain[chain.len() - 4];
        as_writer(
            &app,
            &[
                format!(
                    "DELETE FROM audit_events WHERE tenant_id = {acme} AND chain_seq > {}",
                    keep.chain_seq
                ),
                format!(
                    "UPDATE audit_heads SET seq = {}, hash = '{}', at = {} WHERE chain = {acme}",
                    keep.chain_seq,
                    keep.hash.clone().unwrap(),
                    keep.created_at
                ),
            ],
        )
        .await;
        assert!(
            verify(db, acme).await.unwrap().broken.is_none(),
            "a clean cut-back passes the chain alone"
        );
        let bad = anchor::check(db, &anchors).await.unwrap();
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert_eq!(bad[0].anchor, mine);
        assert!(bad[0].reason.contains("gone"), "{bad:?}");
        // New events at the same places carry other links: still caught.
        churn(&app, acme, 3).await;
        let bad = anchor::check(db, &anchors).await.unwrap();
        assert!(
            bad.iter().any(|m| m.reason.contains("rewritten")),
            "{bad:?}"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn the_cli_anchors_then_verifies_against_the_anchor_and_catches_a_cut_back() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        churn(&app, acme, 4).await;
        let printed = cli_ok(&run_latchkey(&app.url, &["audit", "anchor"]));
        let lines = anchor::parse(&printed).unwrap();
        assert!(lines.iter().any(|a| a.tenant_id == Some(acme)), "{printed}");
        let file = std::env::temp_dir().join(format!(
            "latchkey-anchor-{}.jsonl",
            latchkey_domain::keys::random_base62(8)
        ));
        let path = file.to_str().unwrap();
        cli_ok(&run_latchkey(&app.url, &["audit", "anchor", "--out", path]));
        churn(&app, acme, 2).await;
        cli_ok(&run_latchkey(&app.url, &["audit", "anchor", "--out", path]));
        let kept = anchor::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(kept.len(), 2 * lines.len(), "appended, one line per chain");
        let said = cli_ok(&run_latchkey(
            &app.url,
            &["audit", "verify", "--against", path],
        ));
        assert!(said.contains("0 broken"), "{said}");
        // Cut back past the first anchor: verify alone is content, `--against` is not.
        let chain = rows(&app, acme).await;
        let keep = &chain[chain.len() - 4];
        as_writer(
            &app,
            &[
                format!(
                    "DELETE FROM audit_events WHERE tenant_id = {acme} AND chain_seq > {}",
                    keep.chain_seq
                ),
                format!(
                    "UPDATE audit_heads SET seq = {}, hash = '{}' WHERE chain = {acme}",
                    keep.chain_seq,
                    keep.hash.clone().unwrap()
                ),
            ],
        )
        .await;
        cli_ok(&run_latchkey(&app.url, &["audit", "verify"]));
        let out = run_latchkey(&app.url, &["audit", "verify", "--against", path]);
        assert!(!out.status.success(), "verify --against must fail");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("BROKEN against the anchor"), "{said}");
        let _ = std::fs::remove_file(&file);
        app
    })
    .await;
}

/// A database at migration 0010 with a tenant's events linked the old way (plain SHA-256),
/// upgraded: the first start with the pepper seals that past, and rewriting it, even with the
/// old rule recomputed, no longer passes.
#[tokio::test]
async fn a_chain_from_before_keyed_links_is_sealed_once_and_its_past_stays_fixed() {
    use store::db::Db;
    for engine in engines() {
        let name = format!(
            "lk_mac_{}",
            latchkey_domain::keys::random_base62(8).to_lowercase()
        );
        let (url, admin) = match &engine {
            Engine::Sqlite => {
                let dir = std::env::temp_dir().join("latchkey-tests");
                std::fs::create_dir_all(&dir).unwrap();
                (format!("sqlite://{}/{name}.db", dir.display()), None)
            }
            Engine::Postgres(admin) => {
                let a = Db::connect(admin).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&a.pool)
                    .await
                    .unwrap();
                let base = admin.rsplit_once('/').unwrap().0;
                (format!("{base}/{name}"), Some(a))
            }
        };
        let db = Db::connect(&url).await.unwrap();
        db.migrate_through(10).await.unwrap();
        let mut prev = store::audit::chain::GENESIS.to_owned();
        for seq in 1..=3 {
            let row = ChainRow {
                id: 0,
                tenant_id: Some(7),
                chain_seq: seq,
                created_at: seq,
                actor_user_id: None,
                actor: "old".into(),
                action: "tenant.plan_changed".into(),
                target_type: None,
                target_id: None,
                client_ip: None,
                details: "{}".into(),
                prev_hash: None,
                hash: None,
            };
            let hash = row.digest(&prev);
            sqlx::query(
                "INSERT INTO audit_events (tenant_id, chain_seq, actor, action, details, \
                 created_at, prev_hash, hash) VALUES (7, $1, 'old', 'tenant.plan_changed', '{}', \
                 $1, $2, $3)",
            )
            .bind(seq)
            .bind(&prev)
            .bind(&hash)
            .execute(&db.pool)
            .await
            .unwrap();
            prev = hash;
        }
        sqlx::query("INSERT INTO audit_heads (chain, seq, hash, at) VALUES (7, 3, $1, 3)")
            .bind(&prev)
            .execute(&db.pool)
            .await
            .unwrap();
        db.migrate().await.unwrap();
        store::audit::seal::install(&latchkey_domain::keys::Pepper::new(vec![7; 32]).unwrap());
        assert_eq!(store::audit::seal::adopt_legacy(&db).await.unwrap(), 1);
        assert_eq!(
            store::audit::seal::adopt_legacy(&db).await.unwrap(),
            0,
            "once"
        );
        let ev = Event::tenant(7, AuditAction::PlanChanged, json!({}));
        record_now(&db, &Actor::operator(), ev).await.unwrap();
        let r = verify(&db, 7).await.unwrap();
        assert_eq!((r.verified, r.legacy, r.broken), (4, 3, None), "{engine:?}");
        // Rewriting event 2 and re-linking 2..3 the old way: the sealed end no longer matches.
        let rewritten: String = sqlx::query_scalar(
            "SELECT hash FROM audit_events WHERE tenant_id = 7 AND chain_seq = 1",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        let mut conn = db.pool.acquire().await.unwrap();
        if matches!(engine, Engine::Postgres(_)) {
            sqlx::query("SET session_replication_role = replica")
                .execute(&mut *conn)
                .await
                .unwrap();
        } else {
            sqlx::query("DROP TRIGGER audit_events_no_update")
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        let mut prev = rewritten;
        for seq in 2..=3 {
            let mut row = sqlx::query_as::<_, ChainRow>(&format!(
                "{ROW} WHERE tenant_id = 7 AND chain_seq = {seq}"
            ))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
            row.actor = "someone else".into();
            let hash = row.digest(&prev);
            sqlx::query(
                "UPDATE audit_events SET actor = $1, prev_hash = $2, hash = $3 WHERE id = $4",
            )
            .bind(&row.actor)
            .bind(&prev)
            .bind(&hash)
            .bind(row.id)
            .execute(&mut *conn)
            .await
            .unwrap();
            prev = hash;
        }
        drop(conn);
        let b = verify(&db, 7).await.unwrap().broken.expect("seen");
        assert!(b.reason.contains("before keyed links"), "{b}");
        db.pool.close().await;
        if let Some(a) = admin {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&a.pool)
                .await;
        }
    }
}
