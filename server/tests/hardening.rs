//! The hardening items, through the real router (in process or over loopback HTTP) on every
//! engine: allowlist size caps, junk `X-Forwarded-For` hops, control and bidi characters in
//! names, service-token length and throttling, private data files, and the audit log staying
//! append-only against TRUNCATE and INSERT OR REPLACE.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use clap::Parser;
use common::*;
use latchkey_domain::keys::{random_base62, Mode};
use serde_json::{json, Value};
use std::path::PathBuf;

const ALL: &[&str] = &["*"];

fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("lk-hardening-{}", random_base62(10)))
}

/// The global options and `serve` arguments as `latchkey <args>` would parse them.
fn parse_serve(args: &[&str]) -> (server::config::Global, server::config::ServeArgs) {
    let cli = server::config::Cli::try_parse_from(args).unwrap();
    match cli.command {
        server::config::Command::Serve(serve) => (cli.global, *serve),
        other => panic!("not serve: {other:?}"),
    }
}

/// The field names of a server function's `Validation` answer.
fn invalid_fields(body: &Value) -> Vec<(String, String)> {
    body["Validation"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or("").to_owned(),
                e["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn new_key(name: &str, allowlist: &str) -> Value {
    json!({ "new": { "name": name, "description": "", "mode": "test",
        "scopes": ["keys:read"], "allowlist": allowlist, "expires_on": "" } })
}

// Item 4: the allowlist cap counts lines before parsing.
#[tokio::test]
async fn a_thousands_of_lines_allowlist_is_refused_with_the_cap() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        // Identical lines: they used to collapse to one entry and pass the cap. As many as fit
        // the 64 KiB body limit as the dialog's form posts them (11 bytes a line, the newline
        // being `%0A`; a longer body is refused before anything reads it).
        let huge = "10.0.0.1\n".repeat(5_000);
        let r = app
            .call_json("keys/create", new_key("huge", &huge), Some(&owner))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            &r.body[..200.min(r.body.len())]
        );
        let fields = invalid_fields(&r.json());
        assert_eq!(fields.len(), 1, "{fields:?}");
        assert_eq!(fields[0].0, "allowlist");
        assert!(fields[0].1.contains("at most 100"), "{}", fields[0].1);

        // The same through `/v1/keys`, with distinct addresses.
        let base = app.serve().await;
        let admin = app.make_key("acme", ALL, Mode::Live, "").await;
        let lines: Vec<String> = (0..3_000u32)
            .map(|i| std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string())
            .collect();
        let r = read(
            http()
                .post(format!("{base}/v1/keys"))
                .bearer_auth(&admin.secret)
                .json(
                    &json!({"name": "huge", "mode": "live", "scopes": ["keys:read"],
                    "allowlist": lines}),
                )
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (r.status, r.code()),
            (422, "validation_failed"),
            "{:?}",
            r.body
        );
        assert_eq!(r.body["error"]["fields"][0]["field"], "allowlist");
        let msg = r.body["error"]["fields"][0]["message"].as_str().unwrap();
        assert!(msg.contains("at most 100"), "{msg}");
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM api_keys WHERE name = 'huge'")
                .await,
            0
        );
        app
    })
    .await;
}

// Item 12: a junk X-Forwarded-For hop makes the client unknown, never the proxy.
#[tokio::test]
async fn a_junk_forwarded_hop_is_an_unknown_client_not_the_proxy() {
    for engine in engines() {
        let app = TestApp::with_settings(&engine, |s| {
            s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        })
        .await;
        let base = app.serve().await;
        let proxy_only = app.make_key("acme", ALL, Mode::Live, "127.0.0.1").await;
        let office = app
            .make_key("acme", ALL, Mode::Live, "203.0.113.0/24\n2001:db8::/32")
            .await;
        let anywhere = app.make_key("acme", ALL, Mode::Live, "").await;
        let call = |secret: String, from: &'static str| {
            let base = base.clone();
            async move {
                get_shaped(&base, "/v1/whoami", |r| {
                    r.bearer_auth(secret).header("x-forwarded-for", from)
                })
                .await
            }
        };
        for junk in ["unknown", "garbage", "203.0.113.9, unknown"] {
            let r = call(proxy_only.secret.clone(), junk).await;
            assert_eq!((r.status, r.code()), (403, "ip_not_allowed"), "{junk}");
            // An unknown client still passes an empty allowlist.
            let r = call(anywhere.secret.clone(), junk).await;
            assert_eq!(r.status, 200, "{junk}: {:?}", r.body);
        }
        // Ports and brackets, as proxies send them, are addresses.
        for from in ["203.0.113.9:5555", "[2001:db8::1]:443", "\"[2001:db8::1]\""] {
            let r = call(office.secret.clone(), from).await;
            assert_eq!(r.status, 200, "{from}: {:?}", r.body);
        }
        app.close().await;
    }
}

// Item 15: control and bidi characters in names, descriptions and revoke reasons.
#[tokio::test]
async fn names_descriptions_and_reasons_refuse_control_and_bidi_characters() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        for name in [
            "invoice\u{202E}fdp.exe",
            "red\u{1b}[31m",
            "two\nlines",
            "a\tb",
        ] {
            let r = app
                .call_json("keys/create", new_key(name, ""), Some(&owner))
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{name:?}: {}",
                r.body
            );
            let fields = invalid_fields(&r.json());
            assert!(
                fields.iter().any(|(f, _)| f == "name"),
                "{name:?}: {fields:?}"
            );
        }

        let base = app.serve().await;
        let admin = app.make_key("acme", ALL, Mode::Live, "").await;
        let target = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let r = read(
            http()
                .patch(format!("{base}/v1/keys/{}", target.id))
                .bearer_auth(&admin.secret)
                .json(&json!({"description": "\u{1b}[31mred"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (r.status, r.code()),
            (422, "validation_failed"),
            "{:?}",
            r.body
        );
        assert_eq!(r.body["error"]["fields"][0]["field"], "description");

        // A reason with a bell: refused through the UI and the API, and the key stays active.
        let r = app
            .call_json(
                "keys/revoke",
                json!({"id": target.id, "reason": "ring\u{0007}"}),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(invalid_fields(&r.json()).iter().any(|(f, _)| f == "reason"));
        let r = read(
            http()
                .delete(format!("{base}/v1/keys/{}?reason=ring%07", target.id))
                .bearer_auth(&admin.secret)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (r.status, r.code()),
            (422, "validation_failed"),
            "{:?}",
            r.body
        );
        let status = app
            .scalar_text(&format!(
                "SELECT status FROM api_keys WHERE public_id = '{}'",
                target.id
            ))
            .await;
        assert_eq!(status, "active");
        let r = get_with_key(&base, "/v1/whoami", Some(&target.secret)).await;
        assert_eq!(r.status, 200);
        app
    })
    .await;
}

// Item 15: the CLI's `key list` escapes what it prints (a name stored before the rule, say).
#[tokio::test]
async fn the_cli_key_list_escapes_terminal_and_bidi_characters() {
    let dir = scratch_dir();
    let url = format!("sqlite://{}/latchkey.db", dir.display());
    let dir_arg = dir.display().to_string();
    let (global, _) = parse_serve(&[
        "latchkey",
        "--data-dir",
        &dir_arg,
        "--database-url",
        &url,
        "serve",
    ]);
    let db = server::connect(&global).await.unwrap();
    store::audit::seal::install(&latchkey_domain::keys::Pepper::new(vec![7; 32]).unwrap());
    store::demo::seed_demo(&db).await.unwrap();
    let tenant_id = store::tenants::by_slug(&db, "acme")
        .await
        .unwrap()
        .unwrap()
        .0;
    let (key, _) = store::keys::create(
        &db,
        &latchkey_domain::keys::Pepper::new(vec![7; 32]).unwrap(),
        &server::scope_catalogue(&global).unwrap(),
        tenant_id,
        latchkey_domain::Plan::Professional,
        &store::audit::Actor::operator(),
        latchkey_domain::views::NewKey {
            name: "plain".into(),
            description: String::new(),
            mode: Some(Mode::Test),
            scopes: vec!["keys:read".into()],
            allowlist: String::new(),
            expires_on: String::new(),
            resources: Vec::new(),
        },
        None,
        None,
        &[],
    )
    .await
    .unwrap();
    sqlx::query("UPDATE api_keys SET name = $1 WHERE public_id = $2")
        .bind("evil\u{1b}[31m\u{202e}\tname")
        .bind(&key.id)
        .execute(&db.pool)
        .await
        .unwrap();
    db.pool.close().await;

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args([
            "--data-dir",
            &dir_arg,
            "--database-url",
            &url,
            "--log",
            "error",
        ])
        .args(["key", "list", "--tenant", "acme"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let line = stdout.lines().find(|l| l.starts_with(&key.id)).unwrap();
    assert!(
        !line.contains('\u{1b}') && !line.contains('\u{202e}'),
        "{line:?}"
    );
    assert!(
        line.ends_with("evil\\u{1b}[31m\\u{202e}\\tname"),
        "{line:?}"
    );
    assert_eq!(
        line.matches('\t').count(),
        5,
        "the columns stay put: {line:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

// Item 16a: a short service token refuses to start.
#[tokio::test]
async fn a_short_service_token_refuses_to_start() {
    let dir = scratch_dir();
    let dir_arg = dir.display().to_string();
    let (global, args) = parse_serve(&[
        "latchkey",
        "--data-dir",
        &dir_arg,
        "serve",
        "--service-token",
        "short",
    ]);
    let err = server::build_state(&global, &args).await.err().unwrap();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("service token") && msg.contains("at least 32 bytes"),
        "{msg}"
    );
    assert!(!dir.exists(), "nothing is created before the check");

    // 32 bytes is enough.
    let url = format!("sqlite://{}/latchkey.db", dir.display());
    let token = "k".repeat(32);
    let (global, args) = parse_serve(&[
        "latchkey",
        "--data-dir",
        &dir_arg,
        "--database-url",
        &url,
        "serve",
        "--service-token",
        &token,
    ]);
    let state = server::build_state(&global, &args).await.unwrap();
    assert!(state.settings.service_token_sha256.is_some());
    state.db.pool.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

// Item 16b: wrong service tokens are throttled per client address.
#[tokio::test]
async fn wrong_service_tokens_are_throttled_per_address() {
    const TOKEN: &str = "svc-token-0123456789abcdef0123456789";
    for engine in engines() {
        let app = TestApp::with_settings(&engine, |s| {
            use sha2::Digest as _;
            s.service_token_sha256 = Some(sha2::Sha256::digest(TOKEN.as_bytes()).into());
            s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        })
        .await;
        let base = app.serve().await;
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let body = json!({"key": key.secret});
        let verify = |token: &'static str, from: &'static str| {
            let (base, body) = (base.clone(), body.clone());
            async move {
                read(
                    http()
                        .post(format!("{base}/v1/verify"))
                        .bearer_auth(token)
                        .header("x-forwarded-for", from)
                        .json(&body)
                        .send()
                        .await
                        .unwrap(),
                )
                .await
            }
        };
        for i in 0..10 {
            let r = verify("wrong", "203.0.113.9").await;
            assert_eq!(
                (r.status, r.code()),
                (401, "invalid_service_token"),
                "attempt {i}"
            );
        }
        let r = verify("wrong", "203.0.113.9").await;
        assert_eq!((r.status, r.code()), (429, "rate_limited"), "{:?}", r.body);
        let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=61).contains(&retry), "{retry}");
        // While blocked, even the right token waits: a guesser learns nothing more.
        let r = verify(TOKEN, "203.0.113.9").await;
        assert_eq!((r.status, r.code()), (429, "rate_limited"));
        // Another address is not affected.
        let r = verify(TOKEN, "198.51.100.7").await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["valid"], true);
        app.close().await;
    }
}

// Item 16d: the data directory and the SQLite database are private.
#[cfg(unix)]
#[tokio::test]
async fn connect_creates_a_private_data_dir_and_database() {
    use std::os::unix::fs::PermissionsExt;
    let root = scratch_dir();
    let dir = root.join("data");
    let dir_arg = dir.display().to_string();
    let url = format!("sqlite://{}/latchkey.db", dir.display());
    let (global, _) = parse_serve(&[
        "latchkey",
        "--data-dir",
        &dir_arg,
        "--database-url",
        &url,
        "serve",
    ]);
    let db = server::connect(&global).await.unwrap();
    let mode = |p: PathBuf| std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir.clone()), 0o700);
    assert_eq!(mode(dir.join("latchkey.db")), 0o600);
    for extra in ["latchkey.db-wal", "latchkey.db-shm"] {
        if dir.join(extra).exists() {
            assert_eq!(mode(dir.join(extra)), 0o600, "{extra}");
        }
    }
    db.pool.close().await;
    let _ = std::fs::remove_dir_all(root);
}

/// One audit row's content.
async fn audit_row(app: &TestApp, id: i64) -> (String, String, String, i64) {
    let sql = |col: &str| format!("SELECT {col} FROM audit_events WHERE id = {id}");
    (
        app.scalar_text(&sql("actor")).await,
        app.scalar_text(&sql("action")).await,
        app.scalar_text(&sql("details")).await,
        app.scalar_i64(&sql("created_at")).await,
    )
}

// Item 17: TRUNCATE (PostgreSQL) and INSERT OR REPLACE (SQLite) cannot rewrite the audit log.
#[tokio::test]
async fn the_audit_log_survives_truncate_and_insert_or_replace() {
    on_every_engine(|app| async move {
        app.sign_in("owner@acme.test").await;
        let count = app.scalar_i64("SELECT COUNT(*) FROM audit_events").await;
        assert!(count > 0);
        let id = app.scalar_i64("SELECT MIN(id) FROM audit_events").await;
        let before = audit_row(&app, id).await;
        let attack = if app.engine == "postgres" {
            "TRUNCATE audit_events".to_owned()
        } else {
            format!(
                "INSERT OR REPLACE INTO audit_events (id, actor, action, details, created_at) \
                 VALUES ({id}, 'forger', 'nothing.happened', '{{}}', 0)"
            )
        };
        let r = sqlx::query(&attack).execute(&app.state.db.pool).await;
        assert!(r.is_err(), "{} allowed {attack}", app.engine);
        if app.engine == "sqlite" {
            let r = sqlx::query(&attack.replacen("INSERT OR REPLACE", "REPLACE", 1))
                .execute(&app.state.db.pool)
                .await;
            assert!(r.is_err(), "sqlite allowed REPLACE INTO");
        }
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM audit_events").await,
            count
        );
        assert_eq!(audit_row(&app, id).await, before);
        // Ordinary appends still work.
        app.sign_in("owner@acme.test").await;
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM audit_events").await,
            count + 1
        );
        app
    })
    .await;
}
