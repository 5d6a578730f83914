//! The `--demo` seed: Acme Financial Group on Professional, a Starter tenant, and one user per
//! role, whose sign-ins the server prints at start; and, with `--demo-samples`, Acme's sample
//! keys in every state with a day of their usage.

use crate::audit::Actor;
use crate::db::Db;
use crate::verify::tally::Tally;
use crate::verify::usage::UsageEvent;
use crate::{auth, keys, tenants};
use latchkey_domain::error::AppResult;
use latchkey_domain::keys::{Mode, Pepper};
use latchkey_domain::views::{NewKey, Overlap};
use latchkey_domain::{Plan, Role};

/// One demo sign-in, printed at start.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub email: &'static str,
    pub password: &'static str,
    pub what: &'static str,
}

pub const DEMO_PASSWORD: &str = "latchkey-demo";

pub const DEMO_LOGINS: &[DemoLogin] = &[
    DemoLogin {
        email: "owner@acme.test",
        password: DEMO_PASSWORD,
        what: "Acme Financial Group (Professional) — owner",
    },
    DemoLogin {
        email: "admin@acme.test",
        password: DEMO_PASSWORD,
        what: "Acme Financial Group — admin",
    },
    DemoLogin {
        email: "member@acme.test",
        password: DEMO_PASSWORD,
        what: "Acme Financial Group — member",
    },
    DemoLogin {
        email: "viewer@acme.test",
        password: DEMO_PASSWORD,
        what: "Acme Financial Group — viewer",
    },
    DemoLogin {
        email: "owner@starter.test",
        password: DEMO_PASSWORD,
        what: "Starter Studio (Starter) — owner",
    },
    DemoLogin {
        email: "consultant@example.test",
        password: DEMO_PASSWORD,
        what: "admin at Acme and member at Starter Studio",
    },
];

/// Seeds the demo tenants and users once; a second call finds them and does nothing.
/// Returns whether anything was created.
pub async fn seed_demo(db: &Db) -> AppResult<bool> {
    if tenants::by_slug(db, "acme").await?.is_some() {
        return Ok(false);
    }
    let acme =
        tenants::create_tenant(db, "acme", "Acme Financial Group", Plan::Professional).await?;
    let starter =
        tenants::create_tenant(db, "starter-studio", "Starter Studio", Plan::Starter).await?;
    type Person<'a> = (&'a str, &'a str, &'a [(i64, Role)]);
    let seed = Actor::named("demo-seed");
    let people: [Person; 6] = [
        ("owner@acme.test", "Olivia Owner", &[(acme, Role::Owner)]),
        ("admin@acme.test", "Adam Admin", &[(acme, Role::Admin)]),
        ("member@acme.test", "Mia Member", &[(acme, Role::Member)]),
        ("viewer@acme.test", "Victor Viewer", &[(acme, Role::Viewer)]),
        (
            "owner@starter.test",
            "Stella Starter",
            &[(starter, Role::Owner)],
        ),
        (
            "consultant@example.test",
            "Casey Consultant",
            &[(acme, Role::Admin), (starter, Role::Member)],
        ),
    ];
    for (email, name, memberships) in people {
        let uid = match auth::user_id_by_email(db, email).await? {
            Some(id) => id,
            None => auth::create_user(db, email, name, DEMO_PASSWORD).await?,
        };
        for &(tenant, role) in memberships {
            tenants::add_member(db, tenant, uid, role, &seed).await?;
        }
    }
    Ok(true)
}

/// Milliseconds in an hour and a day, for the sample usage.
const HOUR_MS: i64 = crate::verify::tally::HOUR_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// How busy each UTC hour of the day is, in tenths of a key's peak: the sample chart has the
/// shape of a working day rather than a flat line.
const DAY_SHAPE: [i64; 24] = [
    3, 2, 2, 2, 3, 4, 6, 8, 10, 10, 9, 9, 8, 9, 10, 10, 9, 8, 6, 5, 5, 4, 4, 3,
];

/// One sample key with traffic: its row, its peak requests an hour, and the requests its
/// request log shows.
struct Traffic<'a> {
    row_id: i64,
    peak: i64,
    /// Per mille of requests refused for a missing scope (403) and rate limited (429).
    forbidden_pm: i64,
    limited_pm: i64,
    /// `(method, path)` of the logged requests, used in turn.
    calls: &'a [(&'a str, &'a str)],
    logged: i64,
    /// Between logged requests.
    spacing_ms: i64,
    client_ip: &'a str,
}

/// Seeds Acme with five sample keys in every state and a day of their usage, so a first look at
/// the keys list and a key's charts shows what the product does. Only while Acme has no keys:
/// a second call (or a tenant someone already uses) is left alone. Returns whether it seeded.
/// The secrets are dropped unseen: nobody can use these keys.
pub async fn seed_demo_samples(db: &Db, pepper: &Pepper, catalogue: &[String]) -> AppResult<bool> {
    // `--demo` runs first; without the tenant there is nothing to fill.
    let Some((acme, plan)) = tenants::by_slug(db, "acme").await? else {
        return Ok(false);
    };
    let existing =
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1")
            .bind(acme)
            .fetch_one(&db.pool)
            .await?;
    if existing > 0 {
        return Ok(false);
    }
    let seed = Actor::named("demo-seed");
    let now = db.clock.now_ms();
    let create =
        |name: &str, description: &str, mode: Mode, wanted: &[&str], expires_on: String| {
            let new = NewKey {
                name: name.to_owned(),
                description: description.to_owned(),
                mode: Some(mode),
                scopes: scopes_for(catalogue, wanted),
                allowlist: String::new(),
                expires_on,
                resources: Vec::new(),
            };
            let seed = &seed;
            async move {
                // The secret is dropped here: shown to nobody, logged nowhere.
                let (key, _secret) = keys::create(
                    db,
                    pepper,
                    catalogue,
                    acme,
                    plan,
                    seed,
                    new,
                    None,
                    None,
                    &[],
                )
                .await?;
                AppResult::Ok(key)
            }
        };

    // Oldest first, so the list (newest first) opens on the busiest key.
    let old = create(
        "Old integration",
        "The v1 billing sync, replaced by Payments service.",
        Mode::Live,
        &["keys:read"],
        String::new(),
    )
    .await?;
    keys::revoke(db, acme, &seed, &old.id, "Integration retired").await?;

    let sandbox = create(
        "Partner sandbox",
        "Given to a partner for their integration tests; paused until they are ready.",
        Mode::Test,
        &["verifications:read"],
        String::new(),
    )
    .await?;
    keys::set_enabled(db, acme, &seed, &sandbox.id, false).await?;

    let reporting = create(
        "Reporting export",
        "Nightly export of audit events and request logs to the data warehouse.",
        Mode::Live,
        &["audit:read", "request_logs:read"],
        String::new(),
    )
    .await?;
    // The old key keeps working for a day while the exporter moves to the new one.
    keys::roll(db, pepper, acme, plan, &seed, &reporting.id, Overlap::Day).await?;

    let ci = create(
        "CI deploy",
        "Creates short-lived keys for preview environments.",
        Mode::Test,
        &["keys:read", "keys:write"],
        latchkey_domain::time::format_date(now + 5 * DAY_MS),
    )
    .await?;

    let payments = create(
        "Payments service",
        "Checks customer keys before each payment call.",
        Mode::Live,
        &["verifications:read", "verifications:write"],
        String::new(),
    )
    .await?;

    let verify_scope = payments.scopes.first().cloned().unwrap_or_default();
    let payments_calls = [("VERIFY", verify_scope.as_str())];
    let traffic = [
        Traffic {
            row_id: row_id(db, acme, &payments.id).await?,
            peak: 480,
            forbidden_pm: 8,
            limited_pm: 15,
            calls: &payments_calls,
            logged: 18,
            spacing_ms: 3 * 60_000,
            client_ip: "10.20.0.14",
        },
        Traffic {
            row_id: row_id(db, acme, &ci.id).await?,
            peak: 24,
            forbidden_pm: 40,
            limited_pm: 0,
            calls: &[("GET", "/v1/keys"), ("POST", "/v1/keys")],
            logged: 8,
            spacing_ms: 37 * 60_000,
            client_ip: "203.0.113.40",
        },
        Traffic {
            // The key in its overlap still carries the exporter's traffic: its replacement
            // was issued just now and has not been used yet.
            row_id: row_id(db, acme, &reporting.id).await?,
            peak: 60,
            forbidden_pm: 0,
            limited_pm: 20,
            calls: &[("GET", "/v1/audit-events")],
            logged: 10,
            spacing_ms: 11 * 60_000,
            client_ip: "10.20.3.7",
        },
    ];
    let (batch, tally) = sample_usage(acme, now, &traffic);
    crate::verify::usage::write_batch(db, &batch, tally).await?;
    tracing::info!(tenant_id = acme, "demo sample keys and usage seeded");
    Ok(true)
}

/// The wanted scopes the catalogue has; when it has none of them, its first two (the wildcard
/// aside), so a key is created whatever the operator's catalogue.
fn scopes_for(catalogue: &[String], wanted: &[&str]) -> Vec<String> {
    let found: Vec<String> = wanted
        .iter()
        .filter(|w| catalogue.iter().any(|c| c == *w))
        .map(|w| (*w).to_owned())
        .collect();
    if !found.is_empty() {
        return found;
    }
    catalogue
        .iter()
        .filter(|c| c.as_str() != latchkey_domain::scopes::WILDCARD)
        .take(2)
        .cloned()
        .collect()
}

async fn row_id(db: &Db, tenant_id: i64, public_id: &str) -> AppResult<i64> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT id FROM api_keys WHERE tenant_id = $1 AND public_id = $2",
    )
    .bind(tenant_id)
    .bind(public_id)
    .fetch_one(&db.pool)
    .await?)
}

/// A day of counters (each of the last 24 hours, the current one as far as it has gone) and
/// the latest requests of each key, in the shapes the usage writer takes. Deterministic: the
/// counts vary by hour of day and by key, not by chance.
fn sample_usage(tenant_id: i64, now: i64, traffic: &[Traffic<'_>]) -> (Vec<UsageEvent>, Tally) {
    let mut tally = Tally::default();
    let mut batch = Vec::new();
    let this_hour = now - now.rem_euclid(HOUR_MS);
    for (k, t) in (0_i64..).zip(traffic) {
        for h in 0..24_i64 {
            let start = this_hour - h * HOUR_MS;
            let shape = DAY_SHAPE[usize::try_from(start.rem_euclid(DAY_MS) / HOUR_MS).unwrap_or(0)];
            // A little unevenness, so no two hours (or keys) look alike.
            let wobble = (h * 37 + k * 11) % (t.peak / 6 + 1);
            let mut total = t.peak * shape / 10 + wobble;
            if h == 0 {
                // Only the part of this hour that has passed.
                total = total * (now - this_hour) / HOUR_MS;
            }
            let forbidden = total * t.forbidden_pm * (1 + h % 3) / 2000;
            let limited = if shape >= 9 {
                total * t.limited_pm / 1000
            } else {
                0
            };
            let ok = total - forbidden - limited;
            for (status, n) in [(200_u16, ok), (403, forbidden), (429, limited)] {
                if let Ok(n @ 1..) = u64::try_from(n) {
                    tally.add(tenant_id, t.row_id, start, status, n);
                }
            }
        }
        for i in 0..t.logged {
            let status: u16 = match i % 9 {
                4 if t.forbidden_pm > 0 => 403,
                7 if t.limited_pm > 0 => 429,
                _ => 200,
            };
            let (method, path) = t.calls[usize::try_from(i).unwrap_or(0) % t.calls.len()];
            batch.push(UsageEvent {
                tenant_id,
                key_row_id: t.row_id,
                at_ms: now - (i + 1) * t.spacing_ms - (i * 7_919) % 45_000,
                method: method.to_owned(),
                path: path.to_owned(),
                status,
                client_ip: t.client_ip.parse().ok(),
                latency_us: u64::try_from(900 + (i * 613 + k * 271) % 3_800).unwrap_or(900),
                request_id: format!("req_demo{k}{i:07x}"),
                refused: status >= 400,
            });
        }
    }
    (batch, tally)
}
