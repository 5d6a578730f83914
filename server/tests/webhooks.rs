//! Lifecycle webhooks on both engines: endpoints through the page's server functions, events
//! written with each change, signed (checked by an independent Standard Webhooks verifier),
//! retried with backoff, time-based events once each by the store's clock, and one delivery per
//! event with two workers racing. The worker is driven step by step (`deliver_due`, `scan`).
#![allow(clippy::unwrap_used)]

mod common;

use common::receiver::Receiver;
use common::*;
use latchkey_domain::keys::Mode;
use latchkey_domain::views::{NewKey, Overlap};
use latchkey_domain::webhooks::{KeySafety, LeakPolicy};
use latchkey_domain::Plan;
use serde_json::json;
use std::time::Duration;
use store::audit::Actor;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

/// A fresh app whose worker the test drives, with acme's demo keys revoked out of the way (so
/// counts are this test's keys only).
async fn app(engine: &Engine) -> TestApp {
    let app = TestApp::with_settings(engine, |s| {
        s.webhooks.background = false;
        // The receivers listen on loopback.
        s.webhooks.allow_private = true;
        s.leak_report_floor = Duration::ZERO;
    })
    .await;
    sqlx::query("UPDATE api_keys SET status = 'revoked' WHERE tenant_id = $1")
        .bind(app.tenant_id("acme").await)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    app
}

/// Adds an endpoint for acme through the page's server function; the receiver learns its
/// secret. Returns the endpoint's id.
async fn add_endpoint(app: &TestApp, rx: &Receiver, events: &[&str]) -> String {
    let owner = app.sign_in("owner@acme.test").await;
    let r = app
        .call_json(
            "webhooks/create",
            json!({ "url": rx.url, "description": "test receiver", "events": events }),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    let secret = body["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    rx.set_secret(secret);
    body["endpoint"]["id"].as_str().unwrap().to_owned()
}

/// Delivers until nothing is due.
async fn deliver_all(app: &TestApp) -> usize {
    let mut n = 0;
    loop {
        let k = app.state.webhooks.deliver_due().await.unwrap();
        if k == 0 {
            return n;
        }
        n += k;
    }
}

fn new_key(name: &str, expires_on: &str) -> NewKey {
    NewKey {
        name: name.into(),
        description: String::new(),
        mode: Some(Mode::Live),
        scopes: vec!["keys:read".into()],
        allowlist: String::new(),
        expires_on: expires_on.into(),
        resources: Vec::new(),
    }
}

async fn create(app: &TestApp, new: NewKey) -> (latchkey_domain::views::KeyView, String) {
    let tenant = app.tenant_id("acme").await;
    let (key, secret) = store::keys::create(
        &app.state.db,
        &app.state.pepper,
        &app.state.settings.scope_catalogue,
        tenant,
        Plan::Professional,
        &Actor::operator(),
        new,
        None,
        None,
        &[],
    )
    .await
    .unwrap();
    (key, secret.expose().to_owned())
}

#[tokio::test]
async fn every_key_change_sends_one_signed_event_without_the_secret() {
    for engine in engines() {
        let app = app(&engine).await;
        let rx = Receiver::start().await;
        add_endpoint(
            &app,
            &rx,
            &[
                "api_key.created",
                "api_key.revoked",
                "api_key.rolled",
                "api_key.disabled",
                "api_key.enabled",
            ],
        )
        .await;
        let tenant = app.tenant_id("acme").await;
        let db = &app.state.db;
        let op = Actor::operator();
        let (key, secret) = create(&app, new_key("webhook subject", "")).await;
        // An edit changes nothing a receiver acts on: no event.
        store::keys::update(
            db,
            tenant,
            &op,
            latchkey_domain::views::KeyEdit {
                id: key.id.clone(),
                name: "renamed".into(),
                description: String::new(),
                allowlist: String::new(),
            },
        )
        .await
        .unwrap();
        store::keys::set_enabled(db, tenant, &op, &key.id, false)
            .await
            .unwrap();
        store::keys::set_enabled(db, tenant, &op, &key.id, true)
            .await
            .unwrap();
        let rolled = store::keys::roll(
            db,
            &app.state.pepper,
            tenant,
            Plan::Professional,
            &op,
            &key.id,
            Overlap::Now,
        )
        .await
        .unwrap();
        store::keys::revoke(db, tenant, &op, &rolled.new.id, "done")
            .await
            .unwrap();
        // Another tenant's change reaches none of acme's endpoints.
        app.make_key("starter-studio", &["keys:read"], Mode::Live, "")
            .await;

        assert_eq!(deliver_all(&app).await, 6, "{}", app.engine);
        let got = rx.got();
        // Deliveries run side by side: arrival order is not promised (receivers order by the
        // payload's timestamp if they need to).
        let mut kinds: Vec<&str> = got.iter().map(|g| g.kind()).collect();
        kinds.sort_unstable();
        assert_eq!(
            kinds,
            [
                "api_key.created",
                "api_key.created",
                "api_key.disabled",
                "api_key.enabled",
                "api_key.revoked",
                "api_key.rolled",
            ],
            "{}",
            app.engine
        );
        let of = |kind: &str, id: &str| {
            got.iter()
                .find(|g| g.kind() == kind && g.body["data"]["key"]["id"] == id)
                .unwrap_or_else(|| panic!("no {kind} for {id}"))
        };
        for g in &got {
            assert!(
                g.verified,
                "{}: signature {} did not verify",
                app.engine, g.signature
            );
            assert!(g.id.starts_with("msg_"));
            assert!(!g.body.to_string().contains(&secret), "the secret was sent");
            assert!(!g.body.to_string().contains(rolled.secret.expose()));
        }
        assert_eq!(
            of("api_key.created", &key.id).body["data"]["key"]["masked"],
            key.masked.as_str()
        );
        of("api_key.created", &rolled.new.id);
        of("api_key.revoked", &rolled.new.id);
        assert_eq!(
            of("api_key.rolled", &key.id).body["data"]["details"]["new_key"],
            rolled.new.id.as_str()
        );
        let mut ids: Vec<&str> = got.iter().map(|g| g.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 6, "each event has its own webhook-id");
        // Delivered once: nothing is sent again.
        assert_eq!(deliver_all(&app).await, 0);
        assert_eq!(rx.got().len(), 6);
        app.close().await;
    }
}

#[tokio::test]
async fn a_receiver_failing_three_times_gets_the_event_on_the_fourth_try_and_one_failing_for_24_hours_is_given_up(
) {
    for engine in engines() {
        let app = app(&engine).await;
        let flaky = Receiver::start().await;
        let dead = Receiver::start().await;
        let flaky_id = add_endpoint(&app, &flaky, &["api_key.created"]).await;
        add_endpoint(&app, &dead, &["api_key.created"]).await;
        flaky.plan(&[500, 500, 500]);
        dead.plan(&[503; 100]);
        create(&app, new_key("retried", "")).await;

        assert_eq!(deliver_all(&app).await, 2);
        // Not due again until the backoff has passed (5 s at most 7.5 s with jitter).
        assert_eq!(deliver_all(&app).await, 0);
        for _ in 0..3 {
            app.state.db.clock.advance(HOUR);
            deliver_all(&app).await;
        }
        let got = flaky.got();
        assert_eq!(
            got.iter().map(|g| g.answered).collect::<Vec<_>>(),
            [500, 500, 500, 200],
            "{}",
            app.engine
        );
        assert!(
            got.iter().all(|g| g.id == got[0].id && g.verified),
            "one webhook-id on every try"
        );

        // The delivery log, newest first: the success, then three failures each with a retry.
        let owner = app.sign_in("owner@acme.test").await;
        let list = app
            .call_json("webhooks/list", json!({}), Some(&owner))
            .await
            .json();
        let flaky_view = list["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == flaky_id.as_str())
            .unwrap()
            .clone();
        let attempts = flaky_view["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 4);
        assert_eq!(attempts[0]["status_code"], 200);
        assert!(attempts[0]["next_retry_at"].is_null());
        for a in &attempts[1..] {
            assert_eq!(a["status_code"], 500);
            assert!(a["next_retry_at"].is_i64());
            assert_eq!(a["event_type"], "api_key.created");
        }

        // The dead receiver keeps being tried for 24 hours, then the delivery is failed.
        for _ in 0..30 {
            app.state.db.clock.advance(HOUR);
            deliver_all(&app).await;
        }
        let tries = dead.got().len();
        assert!((5..=30).contains(&tries), "{tries} tries in 24 h");
        assert_eq!(
            app.scalar_text(&format!(
                "SELECT d.state FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                 WHERE e.url = '{}'",
                dead.url
            ))
            .await,
            "failed"
        );
        app.state.db.clock.advance(DAY);
        assert_eq!(deliver_all(&app).await, 0);
        assert_eq!(
            dead.got().len(),
            tries,
            "a failed delivery is not tried again"
        );
        app.close().await;
    }
}

#[tokio::test]
async fn expiring_expired_and_unused_fire_once_each_at_the_right_time() {
    for engine in engines() {
        let app = app(&engine).await;
        // Start just after a UTC midnight, so "the end of the day 12 days from now" is nearly
        // 13 days away whatever the hour the suite runs: the steps below then hold at any time.
        let now = app.state.db.clock.now_ms();
        let to_midnight = 86_400_000 - now.rem_euclid(86_400_000) + 60_000;
        app.state
            .db
            .clock
            .advance(Duration::from_millis(u64::try_from(to_midnight).unwrap()));
        let rx = Receiver::start().await;
        add_endpoint(
            &app,
            &rx,
            &["api_key.expiring", "api_key.expired", "api_key.unused"],
        )
        .await;
        let tenant = app.tenant_id("acme").await;
        let owner = Actor::operator();
        store::webhooks::safety::set(
            &app.state.db,
            tenant,
            &owner,
            KeySafety {
                leak_policy: LeakPolicy::Revoke,
                unused_days: 3,
            },
        )
        .await
        .unwrap();
        // Expires at the end of the UTC day 12 days from now: 12 to 13 days away.
        let in_twelve_days =
            latchkey_domain::time::format_date(app.state.db.clock.now_ms() + 12 * 86_400_000);
        let (expiring, _) = create(&app, new_key("expiring", &in_twelve_days)).await;
        let (idle, _) = create(&app, new_key("idle", "")).await;
        let expires_at = expiring.expires_at.unwrap();
        let scan = || async { app.state.webhooks.scan().await.unwrap() };
        let until = |at: i64| {
            let now = app.state.db.clock.now_ms();
            Duration::from_millis(u64::try_from(at - now).unwrap())
        };

        assert_eq!(scan().await, 0, "nothing is due yet");
        // 3.5 days on: both keys are unused (3 days); "expiring" still has more than 7 days.
        app.state.db.clock.advance(DAY * 7 / 2);
        assert_eq!(scan().await, 2);
        assert_eq!(scan().await, 0, "not twice");
        // Used again, then idle for 3 more days: reported again, counted from that use.
        let used_at = app.state.db.clock.now_ms();
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE public_id = $2")
            .bind(used_at)
            .bind(&idle.id)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        app.state
            .db
            .clock
            .advance(until(expires_at - 6 * 86_400_000));
        // Two scans at once (two replicas): each notice goes out once.
        let (a, b) = tokio::join!(scan(), scan());
        assert_eq!(a + b, 2, "expiring in 7 days and unused again");
        app.state
            .db
            .clock
            .advance(until(expires_at - 12 * 3_600_000));
        assert_eq!(scan().await, 1, "expiring in a day");
        assert_eq!(scan().await, 0);
        app.state.db.clock.advance(until(expires_at + 60_000));
        assert_eq!(scan().await, 1, "expired");
        app.state.db.clock.advance(DAY);
        assert_eq!(scan().await, 0, "each fires once");

        deliver_all(&app).await;
        let got = rx.got();
        let seen: Vec<(String, String, serde_json::Value)> = got
            .iter()
            .map(|g| {
                (
                    g.kind().to_owned(),
                    g.body["data"]["key"]["id"].as_str().unwrap().to_owned(),
                    g.body["data"]["details"].clone(),
                )
            })
            .collect();
        let mut kinds: Vec<(String, String)> = seen
            .iter()
            .map(|(k, id, _)| (k.clone(), id.clone()))
            .collect();
        kinds.sort();
        let mut want = vec![
            ("api_key.expired".to_owned(), expiring.id.clone()),
            ("api_key.expiring".to_owned(), expiring.id.clone()),
            ("api_key.expiring".to_owned(), expiring.id.clone()),
            ("api_key.unused".to_owned(), expiring.id.clone()),
            ("api_key.unused".to_owned(), idle.id.clone()),
            ("api_key.unused".to_owned(), idle.id.clone()),
        ];
        want.sort();
        assert_eq!(kinds, want, "{}", app.engine);
        let mut days_left: Vec<i64> = seen
            .iter()
            .filter(|(k, _, _)| k == "api_key.expiring")
            .map(|(_, _, d)| d["days_left"].as_i64().unwrap())
            .collect();
        days_left.sort_unstable();
        assert_eq!(
            days_left,
            [1, 6],
            "1 day, and the 6 days left when it was first seen"
        );
        assert!(got.iter().all(|g| g.verified));
        app.close().await;
    }
}

#[tokio::test]
async fn two_workers_deliver_each_event_once() {
    for engine in engines() {
        let app = app(&engine).await;
        let rx = Receiver::start().await;
        add_endpoint(&app, &rx, &["api_key.created"]).await;
        for i in 0..20 {
            create(&app, new_key(&format!("burst {i}"), "")).await;
        }
        // A second process's worker: its own pool on the same database.
        let other = store::webhooks::Dispatcher::start(
            store::db::Db::connect(&app.url).await.unwrap(),
            app.state.pepper.clone(),
            store::webhooks::DispatcherConfig {
                background: false,
                allow_private: true,
                ..Default::default()
            },
        );
        let mut total = 0;
        loop {
            let (a, b) = tokio::join!(app.state.webhooks.deliver_due(), other.deliver_due());
            let n = a.unwrap() + b.unwrap();
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, 20, "{}", app.engine);
        let mut ids: Vec<String> = rx.got().into_iter().map(|g| g.id).collect();
        assert_eq!(ids.len(), 20);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 20, "no event was sent twice");
        app.close().await;
    }
}

#[tokio::test]
async fn endpoints_are_for_owners_and_admins_https_only_and_audited() {
    on_every_engine(|app| async move {
        let member = app.sign_in("member@acme.test").await;
        let r = app.call_json("webhooks/list", json!({}), Some(&member)).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let admin = app.sign_in("admin@acme.test").await;
        let r = app
            .call_json(
                "webhooks/create",
                json!({ "url": "http://example.com/hook", "description": "", "events": ["api_key.created"] }),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("https"), "{}", r.body);
        let r = app
            .call_json(
                "webhooks/create",
                json!({ "url": "https://hooks.example.com/x", "description": "", "events": ["api_key.created"] }),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let id = r.json()["endpoint"]["id"].as_str().unwrap().to_owned();
        let first_secret = r.json()["secret"].as_str().unwrap().to_owned();
        let r = app
            .call_json("webhooks/roll_secret", json!({ "id": id }), Some(&admin))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_ne!(r.json()["secret"].as_str().unwrap(), first_secret);
        assert!(r.json()["endpoint"]["previous_secret_until"].is_i64());
        // A second roll inside the 24 h overlap would cut the first secret off early.
        let again = app
            .call_json("webhooks/roll_secret", json!({ "id": id }), Some(&admin))
            .await;
        assert_eq!(again.status, 409, "{}", again.body);
        // The list never carries a secret.
        let list = app.call_json("webhooks/list", json!({}), Some(&admin)).await;
        assert!(!list.body.contains("whsec_"));
        assert_eq!(list.json()["safety"]["leak_policy"], "Revoke");
        let r = app
            .call_json("webhooks/remove", json!({ "id": id }), Some(&admin))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        for action in ["webhook.created", "webhook.secret_rolled", "webhook.removed"] {
            let n = app
                .scalar_i64(&format!(
                    "SELECT COUNT(*) FROM audit_events WHERE action = '{action}'"
                ))
                .await;
            assert_eq!(n, 1, "{action}");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn a_worker_whose_claim_lapsed_records_nothing_over_the_worker_that_took_over() {
    use common::receiver::HANG;
    for engine in engines() {
        let app = app(&engine).await;
        let rx = Receiver::start().await;
        add_endpoint(&app, &rx, &["api_key.created"]).await;
        // Both workers' requests hang: A gives up after 1 s, B after 4 s.
        rx.plan(&[HANG, HANG]);
        create(&app, new_key("contested", "")).await;
        let worker = |ms| {
            store::webhooks::Dispatcher::start(
                app.state.db.clone(),
                app.state.pepper.clone(),
                store::webhooks::DispatcherConfig {
                    background: false,
                    allow_private: true,
                    timeout: Duration::from_millis(ms),
                    ..Default::default()
                },
            )
        };
        let (a, b) = (worker(1_000), worker(4_000));
        let a_run = tokio::spawn(async move { a.deliver_due().await.unwrap() });
        rx.wait_for(Duration::from_secs(5), |g| !g.is_empty()).await;
        // A's claim (1 s + 5 s) lapses by the store's clock; B takes the delivery over.
        app.state.db.clock.advance(Duration::from_secs(10));
        let b_run = tokio::spawn(async move { b.deliver_due().await.unwrap() });
        assert_eq!(a_run.await.unwrap(), 1);
        assert_eq!(b_run.await.unwrap(), 1);
        assert_eq!(rx.got().len(), 2);
        let attempts = app
            .scalar_i64("SELECT COUNT(*) FROM webhook_attempts")
            .await;
        assert_eq!(
            attempts, 1,
            "{}: only the claim's holder records",
            app.engine
        );
        app.close().await;
    }
}

#[tokio::test]
async fn a_notice_nobody_subscribes_to_is_not_spent() {
    for engine in engines() {
        let app = app(&engine).await;
        let rx = Receiver::start().await;
        let id = add_endpoint(&app, &rx, &["api_key.created"]).await;
        let soon = latchkey_domain::time::format_date(app.state.db.clock.now_ms() + 2 * 86_400_000);
        let (key, _) = create(&app, new_key("soon", &soon)).await;
        assert_eq!(app.state.webhooks.scan().await.unwrap(), 0);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM key_notices").await, 0);
        // Subscribing later: the warning still comes, once, with the days actually left.
        let owner = app.sign_in("owner@acme.test").await;
        let r = app
            .call_json(
                "webhooks/update",
                json!({ "id": id, "url": rx.url, "description": "", "events": ["api_key.created", "api_key.expiring"] }),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(app.state.webhooks.scan().await.unwrap(), 1);
        assert_eq!(app.state.webhooks.scan().await.unwrap(), 0);
        deliver_all(&app).await;
        let warning = rx
            .got()
            .into_iter()
            .find(|g| g.kind() == "api_key.expiring")
            .unwrap();
        assert_eq!(warning.body["data"]["key"]["id"], key.id.as_str());
        let left = warning.body["data"]["details"]["days_left"]
            .as_i64()
            .unwrap();
        assert!((2..=3).contains(&left), "{left} days left, not 7");
        app.close().await;
    }
}

#[tokio::test]
async fn an_endpoints_log_keeps_its_last_100_attempts() {
    for engine in engines() {
        let app = app(&engine).await;
        let rx = Receiver::start().await;
        let id = add_endpoint(&app, &rx, &["api_key.created"]).await;
        let tenant = app.tenant_id("acme").await;
        let mut last = String::new();
        for _ in 0..130 {
            last = store::webhooks::send_test(&app.state.db, tenant, &Actor::operator(), &id)
                .await
                .unwrap();
        }
        assert_eq!(deliver_all(&app).await, 130);
        assert_eq!(rx.got().len(), 130);
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM webhook_attempts")
                .await,
            100,
            "{}",
            app.engine
        );
        let owner = app.sign_in("owner@acme.test").await;
        let list = app
            .call_json("webhooks/list", json!({}), Some(&owner))
            .await
            .json();
        let attempts = list["endpoints"][0]["attempts"].as_array().unwrap().clone();
        assert_eq!(attempts.len(), 100);
        assert_eq!(attempts[0]["event_id"], last.as_str(), "newest first");
        // Finished deliveries go after a week; the log stays.
        app.state.db.clock.advance(DAY * 8);
        assert_eq!(app.state.webhooks.prune().await.unwrap(), 130);
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM webhook_deliveries")
                .await,
            0
        );
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM webhook_attempts")
                .await,
            100
        );
        app.close().await;
    }
}

#[tokio::test]
async fn a_key_change_racing_an_endpoints_removal_still_commits() {
    for engine in engines() {
        let app = app(&engine).await;
        let rx = Receiver::start().await;
        let id = add_endpoint(&app, &rx, &["api_key.created"]).await;
        let tenant = app.tenant_id("acme").await;
        let row: i64 = sqlx::query_scalar("SELECT id FROM webhook_endpoints WHERE public_id = $1")
            .bind(&id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        // The change read the endpoint as subscribed, then the endpoint was removed before the
        // change wrote its delivery.
        store::webhooks::remove(&app.state.db, tenant, &Actor::operator(), &id)
            .await
            .unwrap();
        let mut tx = app.state.db.pool.begin().await.unwrap();
        store::webhooks::outbox::enqueue_to(
            &mut tx,
            app.state.db.clock.now_ms(),
            tenant,
            &[row],
            latchkey_domain::webhooks::EventType::Created,
            json!({}),
        )
        .await
        .expect("the change is not refused for a removed endpoint");
        tx.commit().await.unwrap();
        // The worker drops what nobody can receive.
        assert_eq!(deliver_all(&app).await, 1);
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM webhook_deliveries")
                .await,
            0
        );
        assert!(rx.got().is_empty());
        app.close().await;
    }
}
