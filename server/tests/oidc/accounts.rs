//! Which account a first sign-in lands in: never one whose email Latchkey has not verified
//! (an attacker can make one for someone else's address), claims read from UserInfo when the
//! ID token leaves them out, and a first sign-in through the tenant claim all or nothing.

use super::{acme_rig, count, session_set, to_callback, Claims, Rig};
use crate::common::*;
use crate::walk::Browser;
use serde_json::json;

/// Where the callback sent the browser, relative to Latchkey.
fn landed(rig: &Rig, hop: &crate::walk::Hop) -> String {
    let location = hop.location.clone().unwrap_or_default();
    location
        .strip_prefix(&rig.base)
        .unwrap_or(&location)
        .to_owned()
}

/// One sign-in through the provider as `login`, to where Latchkey sends the browser after.
async fn sign_in_as(rig: &Rig, login: &str) -> crate::walk::Hop {
    let mut browser = Browser::new();
    let back = to_callback(rig, &mut browser, login).await;
    browser.get(&back).await
}

/// The attack: the owner of another tenant invites `email`, is shown the link (no mail is
/// configured) and accepts it themself with a password of their own. The account is theirs,
/// has a membership, and its email is unverified. Returns the attacker's session cookie.
async fn plant_account(app: &TestApp, email: &str) -> String {
    let attacker = app.sign_in("owner@starter.test").await;
    let r = app
        .call_json(
            "members/invite",
            json!({"email": email, "role": "member"}),
            Some(&attacker),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let path = r.json()["link_path"].as_str().unwrap().to_owned();
    let token = path.strip_prefix("/invite#").unwrap().to_owned();
    let accepted = app
        .call_json(
            "invite/accept_new",
            json!({"token": token, "name": "Not The CEO", "password": "the attacker's passphrase"}),
            None,
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let planted = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM users WHERE email = '{email}' AND email_verified_at IS NULL"
        ))
        .await;
    assert_eq!(planted, 1, "an unverified account with a membership");
    let set = accepted
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("lk_session="))
        .unwrap();
    set.split(';').next().unwrap().to_owned()
}

async fn sessions_of(app: &TestApp, email: &str) -> i64 {
    count(
        app,
        &format!(
            "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE u.email = '{email}'"
        ),
    )
    .await
}

#[tokio::test]
async fn an_account_whose_email_latchkey_never_verified_is_not_given_the_providers_person() {
    for engine in engines() {
        // Plain linking by email, and joining through the tenant claim; the claims in the ID
        // token or from UserInfo.
        let ways = [(false, false), (true, false), (false, true), (true, true)];
        for (claim, in_id_token) in ways {
            let claims = if claim {
                Claims::TenantAndRole
            } else {
                Claims::None
            };
            let rig = acme_rig(&engine, in_id_token, claims).await;
            let app = &rig.app;
            let attacker = plant_account(app, "ceo@acme.test").await;
            let memberships = count(app, "SELECT COUNT(*) FROM memberships").await;
            // The real CEO signs in; the provider has verified the address.
            let login = if claim {
                "ceo@acme.test#acme-ext"
            } else {
                "ceo@acme.test"
            };
            let hop = sign_in_as(&rig, login).await;
            assert_eq!(
                landed(&rig, &hop),
                "/signin?sso=no-membership",
                "{engine:?} claim: {claim}, in the ID token: {in_id_token}"
            );
            assert_eq!(session_set(&hop), None);
            assert_eq!(
                count(app, "SELECT COUNT(*) FROM user_identities").await,
                0,
                "the identity is not linked to the attacker's account"
            );
            assert_eq!(
                count(app, "SELECT COUNT(*) FROM memberships").await,
                memberships,
                "nothing joined"
            );
            assert_eq!(sessions_of(app, "ceo@acme.test").await, 1, "untouched");
            // The attacker's own session is as it was: still theirs, still in their tenant.
            let s = app.call("session", &[], Some(&attacker)).await.json();
            assert_eq!(s["email"], "ceo@acme.test");
            assert_eq!(s["tenants"].as_array().map(Vec::len), Some(1), "{s}");
            rig.app.close().await;
        }
    }
}

#[tokio::test]
async fn a_provider_that_puts_the_email_in_the_id_token_signs_in_too() {
    for engine in engines() {
        let rig = acme_rig(&engine, true, Claims::Tenant).await;
        for login in ["owner@acme.test", "joiner@acme.test#acme-ext"] {
            let hop = sign_in_as(&rig, login).await;
            assert_eq!(landed(&rig, &hop), "/", "{engine:?} {login}");
            assert!(session_set(&hop).is_some());
        }
        rig.app.close().await;
    }
}

/// Makes every insert into `user_identities` fail, as a crash or a lost connection would at
/// the last step of a first sign-in.
async fn break_identities(app: &TestApp, engine: &Engine) {
    let statements: &[&str] = match engine {
        Engine::Sqlite => &[
            "CREATE TRIGGER refuse_identity BEFORE INSERT ON user_identities \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        ],
        Engine::Postgres(_) => &[
            "CREATE FUNCTION refuse_identity() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
            "CREATE TRIGGER refuse_identity BEFORE INSERT ON user_identities \
             FOR EACH ROW EXECUTE FUNCTION refuse_identity()",
        ],
    };
    for sql in statements {
        sqlx::query(sql).execute(&app.state.db.pool).await.unwrap();
    }
}

async fn mend_identities(app: &TestApp) {
    sqlx::query("DROP TRIGGER refuse_identity ON user_identities")
        .execute(&app.state.db.pool)
        .await
        .or(sqlx::query("DROP TRIGGER refuse_identity")
            .execute(&app.state.db.pool)
            .await)
        .unwrap();
}

#[tokio::test]
async fn a_first_sign_in_through_the_tenant_claim_that_fails_leaves_nothing_behind() {
    for engine in engines() {
        let rig = acme_rig(&engine, true, Claims::TenantAndRole).await;
        let app = &rig.app;
        let users = count(app, "SELECT COUNT(*) FROM users").await;
        let memberships = count(app, "SELECT COUNT(*) FROM memberships").await;
        let events = count(app, "SELECT COUNT(*) FROM audit_events").await;
        break_identities(app, &engine).await;
        let hop = sign_in_as(&rig, "fresh@acme.test#acme-ext").await;
        assert_eq!(landed(&rig, &hop), "/signin?sso=failed", "{engine:?}");
        assert_eq!(session_set(&hop), None);
        assert_eq!(count(app, "SELECT COUNT(*) FROM users").await, users);
        assert_eq!(
            count(app, "SELECT COUNT(*) FROM memberships").await,
            memberships
        );
        assert_eq!(
            count(app, "SELECT COUNT(*) FROM audit_events").await,
            events,
            "no member.added for a member that does not exist"
        );
        // Once the fault is gone, the same person signs in: the refusal was the fault's alone.
        mend_identities(app).await;
        let hop = sign_in_as(&rig, "fresh@acme.test#acme-ext").await;
        assert_eq!(landed(&rig, &hop), "/", "{engine:?}");
        assert_eq!(count(app, "SELECT COUNT(*) FROM users").await, users + 1);
        rig.app.close().await;
    }
}

#[tokio::test]
async fn two_first_sign_ins_of_one_person_at_once_both_land_in_one_account() {
    for engine in engines() {
        let rig = acme_rig(&engine, true, Claims::Tenant).await;
        let app = &rig.app;
        for round in 0..3 {
            let login = format!("twin{round}@acme.test#acme-ext");
            let (mut a, mut b) = (Browser::new(), Browser::new());
            let back_a = to_callback(&rig, &mut a, &login).await;
            let back_b = to_callback(&rig, &mut b, &login).await;
            let (hop_a, hop_b) = tokio::join!(a.get(&back_a), b.get(&back_b));
            for hop in [&hop_a, &hop_b] {
                assert_eq!(landed(&rig, hop), "/", "{engine:?} {login}");
            }
            let email = format!("twin{round}@acme.test");
            let one = |sql: &str| sql.replace("EMAIL", &email);
            assert_eq!(
                count(
                    app,
                    &one("SELECT COUNT(*) FROM users WHERE email = 'EMAIL'")
                )
                .await,
                1
            );
            assert_eq!(
                count(
                    app,
                    &one("SELECT COUNT(*) FROM user_identities WHERE email = 'EMAIL'")
                )
                .await,
                1
            );
            assert_eq!(sessions_of(app, &email).await, 2);
        }
        rig.app.close().await;
    }
}
