//! The `--demo` seed: Acme Financial Group on Professional, a Starter tenant, and one user per
//! role, whose sign-ins the server prints at start.

use crate::audit::Actor;
use crate::db::Db;
use crate::{auth, tenants};
use latchkey_domain::error::AppResult;
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
