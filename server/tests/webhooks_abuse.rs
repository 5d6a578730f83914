//! Webhook endpoints as an attacker with a tenant admin's rights would use them, on both
//! engines: no address inside the server's network, neither when saved nor when connecting
//! (and the delivery log says only that it was refused); one tenant's receivers that never
//! answer do not hold up another tenant's events; test events are throttled and audited; the
//! audit log keeps only an endpoint address's scheme and host.
#![allow(clippy::unwrap_used)]

mod common;

use common::receiver::Receiver;
use common::*;
use latchkey_domain::keys::Mode;
use latchkey_domain::webhooks::address::REFUSED_ATTEMPT;
use serde_json::json;
use std::time::{Duration, Instant};
use store::audit::Actor;
use store::webhooks::{DispatcherConfig, EndpointInput};

/// Adds an endpoint for acme through the page's server function, as its owner.
async fn add_as_owner(app: &TestApp, url: &str) -> Resp {
    let owner = app.sign_in("owner@acme.test").await;
    app.call_json(
        "webhooks/create",
        json!({ "url": url, "description": "", "events": ["api_key.created"] }),
        Some(&owner),
    )
    .await
}

/// Adds an endpoint in storage, as the page would for `slug`'s admin; returns its row id.
async fn add_in_store(app: &TestApp, slug: &str, url: &str, events: &[&str]) -> (i64, String) {
    let (view, secret) = store::webhooks::create(
        &app.state.db,
        &app.state.pepper,
        &app.state.settings.webhooks,
        app.tenant_id(slug).await,
        &Actor::operator(),
        EndpointInput {
            url: url.to_owned(),
            description: String::new(),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
        },
    )
    .await
    .unwrap();
    let row = app
        .scalar_i64(&format!(
            "SELECT id FROM webhook_endpoints WHERE public_id = '{}'",
            view.id
        ))
        .await;
    (row, secret.expose().to_owned())
}

#[tokio::test]
async fn addresses_inside_the_servers_network_are_refused_when_saved() {
    on_every_engine(|app| async move {
        for url in [
            "http://127.0.0.1:6379/",
            "http://2130706433/",
            "https://10.0.0.5/",
            "https://169.254.169.254/latest/meta-data",
            "https://[fd00::1]/",
            "https://100.64.0.1/",
            "https://[::ffff:127.0.0.1]/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fe80::1]/",
            "https://224.0.0.1/",
            "http://localhost/",
        ] {
            let r = add_as_owner(&app, url).await;
            assert_eq!(r.status, 422, "{url}: {}", r.body);
            assert!(
                r.body.contains("inside the server's network") && r.body.contains("url"),
                "{url}: {}",
                r.body
            );
        }
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM webhook_endpoints")
                .await,
            0
        );
        // Nor can a public endpoint be moved inside later.
        let r = add_as_owner(&app, "https://hooks.example.com/in").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let id = r.json()["endpoint"]["id"].as_str().unwrap().to_owned();
        let owner = app.sign_in("owner@acme.test").await;
        let r = app
            .call_json(
                "webhooks/update",
                json!({ "id": id, "url": "https://169.254.169.254/", "description": "", "events": ["api_key.created"] }),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        app
    })
    .await;
}

#[tokio::test]
async fn an_endpoint_that_resolves_inside_is_refused_when_connecting_and_the_log_says_only_that() {
    for engine in engines() {
        // Saved while the operator allowed private addresses ...
        let app = TestApp::with_settings(&engine, |s| {
            s.webhooks.background = false;
            s.webhooks.allow_private = true;
        })
        .await;
        let rx = Receiver::start().await;
        // A name (the resolver's gate) and a literal IP (reqwest skips resolvers for those).
        let by_name = rx.url.replace("127.0.0.1", "localhost");
        add_in_store(&app, "acme", &by_name, &["api_key.created"]).await;
        add_in_store(&app, "acme", &rx.url, &["api_key.created"]).await;
        app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        // ... then delivered by a worker without that allowance.
        let strict = store::webhooks::Dispatcher::start(
            app.state.db.clone(),
            app.state.pepper.clone(),
            DispatcherConfig {
                background: false,
                ..Default::default()
            },
        );
        assert_eq!(strict.deliver_due().await.unwrap(), 2, "{}", app.engine);
        assert!(rx.got().is_empty(), "the receiver was reached");

        let owner = app.sign_in("owner@acme.test").await;
        let list = app
            .call_json("webhooks/list", json!({}), Some(&owner))
            .await
            .json();
        let endpoints = list["endpoints"].as_array().unwrap();
        assert_eq!(endpoints.len(), 2);
        for e in endpoints {
            let attempts = e["attempts"].as_array().unwrap();
            assert_eq!(attempts.len(), 1, "{e}");
            let a = &attempts[0];
            // No status, no timing, no error kind: nothing to probe with.
            assert_eq!(a["error"], REFUSED_ATTEMPT, "{}: {e}", app.engine);
            assert!(a["status_code"].is_null());
            assert_eq!(a["latency_ms"], 0);
        }
        app.close().await;
    }
}

#[tokio::test]
async fn the_audit_log_keeps_only_the_scheme_and_host_of_an_endpoint_address() {
    on_every_engine(|app| async move {
        let r = add_as_owner(&app, "https://hooks.example.com/in/s3cr3t?token=abc").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let id = r.json()["endpoint"]["id"].as_str().unwrap().to_owned();
        let owner = app.sign_in("owner@acme.test").await;
        let r = app
            .call_json(
                "webhooks/update",
                json!({ "id": id, "url": "https://hooks.example.com:8443/in/s3cr3t?token=def", "description": "", "events": ["api_key.created"] }),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app
            .call_json("webhooks/test", json!({ "id": id }), Some(&owner))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app
            .call_json("webhooks/remove", json!({ "id": id }), Some(&owner))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        for (action, origin) in [
            ("webhook.created", "https://hooks.example.com"),
            ("webhook.updated", "https://hooks.example.com:8443"),
            ("webhook.test_sent", "https://hooks.example.com:8443"),
            ("webhook.removed", "https://hooks.example.com:8443"),
        ] {
            let details = app
                .scalar_text(&format!(
                    "SELECT details FROM audit_events WHERE action = '{action}'"
                ))
                .await;
            let url = serde_json::from_str::<serde_json::Value>(&details).unwrap()["url"].clone();
            assert_eq!(url, origin, "{action}: {details}");
            assert!(
                !details.contains("s3cr3t") && !details.contains("token"),
                "{action}: {details}"
            );
        }
        app
    })
    .await;
}

#[tokio::test]
async fn test_events_are_limited_per_endpoint_and_audited() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        let mut ids = Vec::new();
        for host in ["a.example.com", "b.example.com"] {
            let r = add_as_owner(&app, &format!("https://{host}/in")).await;
            ids.push(r.json()["endpoint"]["id"].as_str().unwrap().to_owned());
        }
        let budget = DispatcherConfig::default().test_sends_per_minute;
        let send = |id: String| {
            let (app, owner) = (&app, &owner);
            async move {
                app.call_json("webhooks/test", json!({ "id": id }), Some(owner))
                    .await
            }
        };
        for _ in 0..budget {
            let r = send(ids[0].clone()).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        let r = send(ids[0].clone()).await;
        assert_eq!(r.status, 429, "{}", r.body);
        // Another endpoint has its own budget.
        let r = send(ids[1].clone()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let queued = app
            .scalar_i64("SELECT COUNT(*) FROM webhook_deliveries WHERE event_type = 'webhook.test'")
            .await;
        assert_eq!(queued, i64::from(budget) + 1);
        let audited = app
            .scalar_i64("SELECT COUNT(*) FROM audit_events WHERE action = 'webhook.test_sent'")
            .await;
        assert_eq!(audited, queued, "{}", app.engine);
        app
    })
    .await;
}

/// A receiver that accepts connections and never answers.
async fn blackhole() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}/hook")
}

#[tokio::test]
async fn ten_blackholed_endpoints_with_a_backlog_do_not_delay_another_tenants_event() {
    const TIMEOUT: Duration = Duration::from_millis(500);
    for engine in engines() {
        let app = TestApp::with_settings(&engine, |s| {
            s.webhooks.allow_private = true;
            s.webhooks.timeout = TIMEOUT;
            s.webhooks.poll = Duration::from_millis(50);
            // Fewer sending slots than the abuser's endpoints could fill: the other tenant still
            // gets the first one to come free.
            s.webhooks.concurrency = 8;
        })
        .await;
        let tenant_a = app.tenant_id("acme").await;
        let mut hooks = Vec::new();
        for _ in 0..10 {
            hooks.push(
                add_in_store(&app, "acme", &blackhole().await, &["api_key.created"])
                    .await
                    .0,
            );
        }
        // 1,000 deliveries pending (100 events to each of the 10 endpoints), oldest first.
        let mut tx = app.state.db.pool.begin().await.unwrap();
        for _ in 0..100 {
            store::webhooks::outbox::enqueue_to(
                &mut tx,
                app.state.db.clock.now_ms(),
                tenant_a,
                &hooks,
                latchkey_domain::webhooks::EventType::Created,
                json!({}),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        app.state.webhooks.wake();
        let rx = Receiver::start().await;
        let (b_hook, secret) =
            add_in_store(&app, "starter-studio", &rx.url, &["api_key.created"]).await;
        rx.set_secret(&secret);
        // Every slot is taken by the blackholes before B's event exists.
        let busy = "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending' \
                    AND locked_until IS NOT NULL";
        let deadline = Instant::now() + Duration::from_secs(10);
        while app.scalar_i64(busy).await < 8 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(app.scalar_i64(busy).await >= 8, "{}", app.engine);

        let started = Instant::now();
        app.make_key("starter-studio", &["keys:read"], Mode::Live, "")
            .await;
        app.state.webhooks.wake();
        let delivered = format!(
            "SELECT COUNT(*) FROM webhook_attempts WHERE endpoint_id = {b_hook} \
             AND status_code = 200"
        );
        // One attempt timeout (a slot frees) plus the worker's poll and this loop's slack.
        let bound = TIMEOUT + Duration::from_millis(1_500);
        while app.scalar_i64(&delivered).await == 0 && started.elapsed() < bound * 4 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let took = started.elapsed();
        assert_eq!(app.scalar_i64(&delivered).await, 1, "{}", app.engine);
        assert!(took <= bound, "{}: B's event took {took:?}", app.engine);
        assert_eq!(rx.delivered_kinds(), ["api_key.created"]);
        assert!(rx.got()[0].verified);
        eprintln!("{}: B's event recorded after {took:?}", app.engine);
        app.close().await;
    }
}
