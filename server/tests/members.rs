//! Members and roles on both engines: the role matrix of every member server function, the
//! owner rules (admins never touch owners; a tenant keeps an owner, also under concurrent
//! demotions), single-use hashed invitations, removal taking effect at once, and passwords.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

async fn user_id(app: &TestApp, email: &str) -> i64 {
    store::auth::user_id_by_email(&app.state.db, email)
        .await
        .unwrap()
        .unwrap()
}

async fn role_of(app: &TestApp, tenant: i64, user: i64) -> Option<String> {
    sqlx::query_scalar::<_, String>(
        "SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant)
    .bind(user)
    .fetch_optional(&app.state.db.pool)
    .await
    .unwrap()
}

async fn invite(app: &TestApp, cookie: &str, email: &str, role: &str) -> Resp {
    app.call_json(
        "members/invite",
        json!({"email": email, "role": role}),
        Some(cookie),
    )
    .await
}

fn token_of(r: &Resp) -> String {
    let path = r.json()["link_path"].as_str().unwrap().to_owned();
    path.strip_prefix("/invite#").unwrap().to_owned()
}

#[tokio::test]
async fn every_member_function_by_role_other_tenant_and_no_session() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        let viewer = user_id(&app, "viewer@acme.test").await;
        let calls: [(&str, Value); 5] = [
            ("members/list", json!({})),
            (
                "members/invite",
                json!({"email": "new@acme.test", "role": "viewer"}),
            ),
            (
                "members/change_role",
                json!({"user_id": viewer, "role": "member"}),
            ),
            ("members/remove", json!({"user_id": viewer})),
            ("members/revoke_invite", json!({"id": 999_999})),
        ];
        for email in ["member@acme.test", "viewer@acme.test"] {
            let c = app.sign_in(email).await;
            for (endpoint, body) in &calls {
                let r = app.call_json(endpoint, body.clone(), Some(&c)).await;
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{email} {endpoint} on {}: {}",
                    app.engine,
                    r.body
                );
                assert!(!r.body.contains("@acme.test"), "{}", r.body);
            }
        }
        let other = app.sign_in("owner@starter.test").await;
        for (endpoint, body) in &calls {
            let mut b = body.clone();
            b["tenant"] = acme.into();
            let r = app.call_json(endpoint, b.clone(), Some(&other)).await;
            assert_eq!(
                r.status,
                StatusCode::CONFLICT,
                "other tenant {endpoint}: {}",
                r.body
            );
            let r = app.call_json(endpoint, b, None).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "no session {endpoint}");
        }
        assert_eq!(
            role_of(&app, acme, viewer).await.as_deref(),
            Some("viewer"),
            "nothing changed"
        );
        let pending = app.scalar_i64("SELECT COUNT(*) FROM invitations").await;
        assert_eq!(pending, 0);
        for email in ["owner@acme.test", "admin@acme.test"] {
            let c = app.sign_in(email).await;
            let r = app.call_json("members/list", json!({}), Some(&c)).await;
            assert_eq!(r.status, StatusCode::OK, "{email}: {}", r.body);
            assert_eq!(r.json()["members"].as_array().unwrap().len(), 5);
        }
        app
    })
    .await;
}

#[tokio::test]
async fn an_admin_never_touches_an_owner_nor_makes_one() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        let owner = user_id(&app, "owner@acme.test").await;
        let member = user_id(&app, "member@acme.test").await;
        let admin = app.sign_in("admin@acme.test").await;
        for (endpoint, body) in [
            ("members/change_role", json!({"user_id": owner, "role": "admin"})),
            ("members/remove", json!({"user_id": owner})),
            ("members/change_role", json!({"user_id": member, "role": "owner"})),
        ] {
            let r = app.call_json(endpoint, body, Some(&admin)).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{endpoint}: {}", r.body);
        }
        let r = invite(&app, &admin, "boss@acme.test", "owner").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(role_of(&app, acme, owner).await.as_deref(), Some("owner"));
        assert_eq!(role_of(&app, acme, member).await.as_deref(), Some("member"));
        // What an admin may do: raise a member to admin and back, remove a viewer.
        let r = app.call_json("members/change_role", json!({"user_id": member, "role": "admin"}), Some(&admin)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["role"], "admin");
        let viewer = user_id(&app, "viewer@acme.test").await;
        let r = app.call_json("members/remove", json!({"user_id": viewer}), Some(&admin)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let changed = app
            .scalar_text(&format!("SELECT details FROM audit_events WHERE tenant_id = {acme} AND action = 'member.role_changed'"))
            .await;
        assert!(changed.contains("\"from\":\"member\"") && changed.contains("\"role\":\"admin\""), "{changed}");
        app
    })
    .await;
}

#[tokio::test]
async fn the_last_owner_stays_even_under_two_concurrent_demotions() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        let owner = user_id(&app, "owner@acme.test").await;
        let c = app.sign_in("owner@acme.test").await;
        for (endpoint, body) in [
            (
                "members/change_role",
                json!({"user_id": owner, "role": "admin"}),
            ),
            ("members/remove", json!({"user_id": owner})),
        ] {
            let r = app.call_json(endpoint, body, Some(&c)).await;
            assert_eq!(r.status, StatusCode::CONFLICT, "{endpoint}: {}", r.body);
            assert!(r.body.contains("at least one owner"), "{}", r.body);
        }
        // Two owners, each demoted at the same moment: exactly one demotion holds.
        let second = user_id(&app, "admin@acme.test").await;
        let r = app
            .call_json(
                "members/change_role",
                json!({"user_id": second, "role": "owner"}),
                Some(&c),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for round in 0..5 {
            let demote = |who: i64| {
                let db = app.state.db.clone();
                tokio::spawn(async move {
                    store::members::change_role(
                        &db,
                        acme,
                        store::members::Manager::Role(latchkey_domain::Role::Owner),
                        &store::audit::Actor::operator(),
                        who,
                        latchkey_domain::Role::Admin,
                    )
                    .await
                })
            };
            let (a, b) = (demote(owner), demote(second));
            let (a, b) = (a.await.unwrap(), b.await.unwrap());
            assert_eq!(
                a.is_ok() as u8 + b.is_ok() as u8,
                1,
                "round {round}: {a:?} / {b:?}"
            );
            let owners = app
                .scalar_i64(&format!(
                    "SELECT COUNT(*) FROM memberships WHERE tenant_id = {acme} AND role = 'owner'"
                ))
                .await;
            assert_eq!(owners, 1, "round {round}");
            // Make both owners again for the next round.
            for who in [owner, second] {
                store::members::change_role(
                    &app.state.db,
                    acme,
                    store::members::Manager::Operator,
                    &store::audit::Actor::operator(),
                    who,
                    latchkey_domain::Role::Owner,
                )
                .await
                .unwrap();
            }
        }
        app
    })
    .await;
}

#[tokio::test]
async fn an_invitation_works_once_is_stored_hashed_and_dies_by_expiry_or_revoke() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        let owner = app.sign_in("owner@acme.test").await;
        let r = invite(&app, &owner, "New.Person@Example.test", "member").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let token = token_of(&r);
        assert!(token.starts_with("lki_") && token.len() > 40);
        // Only the hash is stored.
        let plain = app.scalar_i64(&format!("SELECT COUNT(*) FROM invitations WHERE token_hash = '{token}'")).await;
        assert_eq!(plain, 0);
        let hashed = store::auth::token_hash(&token);
        assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM invitations WHERE token_hash = '{hashed}'")).await, 1);
        // The list shows it pending, with the inviter.
        let list = app.call_json("members/list", json!({}), Some(&owner)).await;
        assert_eq!(list.json()["invitations"][0]["email"], "new.person@example.test");
        assert_eq!(list.json()["invitations"][0]["invited_by"], "Olivia Owner");
        // A weak password is a field error and uses nothing up.
        let weak = app
            .call_json("invite/accept_new", json!({"token": token, "name": "New Person", "password": "password1234"}), None)
            .await;
        assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", weak.body);
        let ok = app
            .call_json("invite/accept_new", json!({"token": token, "name": "New Person", "password": "a long enough passphrase"}), None)
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert!(ok.headers.get("set-cookie").is_some(), "signed in");
        let newbie = user_id(&app, "new.person@example.test").await;
        assert_eq!(role_of(&app, acme, newbie).await.as_deref(), Some("member"));
        let again = app
            .call_json("invite/accept_new", json!({"token": token, "name": "Mallory", "password": "another long passphrase"}), None)
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "single use: {}", again.body);
        let look = app.call_json("invite/lookup", json!({"token": token}), None).await;
        assert_eq!(look.json()["invitation"]["state"], "accepted");
        // The invite page's card, drawn on the server for the token its script read.
        let panel = |token: String| {
            let app = &app;
            async move {
                let r = app.call_json("invite/panel", json!({"token": token}), None).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.body);
                r.json().as_str().unwrap().to_owned()
            }
        };
        assert!(panel(token.clone()).await.contains("This invitation was already used."));
        assert!(panel("lki_nonsense".into()).await.contains("This invitation link isn"));

        // Revoked, then expired: both refuse.
        let r = invite(&app, &owner, "second@example.test", "viewer").await;
        let (revoked, id) = (token_of(&r), r.json()["invitation"]["id"].as_i64().unwrap());
        let pending = panel(revoked.clone()).await;
        assert!(pending.contains("invited") && pending.contains("Create account and join"), "{pending}");
        assert!(pending.contains(&format!("value=\"{revoked}\"")), "the form carries the token: {pending}");
        let w = app.call_json("members/revoke_invite", json!({"id": id}), Some(&owner)).await;
        assert_eq!(w.status, StatusCode::OK, "{}", w.body);
        let r = app
            .call_json("invite/accept_new", json!({"token": revoked, "name": "S", "password": "a long enough passphrase"}), None)
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        let r = invite(&app, &owner, "third@example.test", "viewer").await;
        let late = token_of(&r);
        app.state.db.clock.advance(std::time::Duration::from_secs(8 * 86_400));
        let r = app
            .call_json("invite/accept_new", json!({"token": late, "name": "T", "password": "a long enough passphrase"}), None)
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(store::auth::user_id_by_email(&app.state.db, "third@example.test").await.unwrap().is_none());
        let r = app.call_json("invite/lookup", json!({"token": "lki_nonsense"}), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let actions: Vec<String> = sqlx::query_scalar::<_, String>(&format!(
            "SELECT action FROM audit_events WHERE tenant_id = {acme} AND action IN \
             ('member.invited', 'member.joined', 'invitation.revoked') ORDER BY id"
        ))
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
        assert_eq!(actions, ["member.invited", "member.joined", "member.invited", "invitation.revoked", "member.invited"]);
        app
    })
    .await;
}

#[tokio::test]
async fn a_signed_in_person_with_the_invited_email_joins_with_one_call() {
    on_every_engine(|app| async move {
        let starter = app.tenant_id("starter-studio").await;
        let owner = app.sign_in("owner@starter.test").await;
        let token = token_of(&invite(&app, &owner, "viewer@acme.test", "viewer").await);
        let someone_else = app.sign_in("member@acme.test").await;
        let r = app
            .call_json(
                "invite/accept",
                json!({"token": token}),
                Some(&someone_else),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "another email: {}", r.body);
        let viewer = app.sign_in("viewer@acme.test").await;
        let r = app
            .call_json("invite/accept", json!({"token": token}), Some(&viewer))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let uid = user_id(&app, "viewer@acme.test").await;
        assert_eq!(role_of(&app, starter, uid).await.as_deref(), Some("viewer"));
        app
    })
    .await;
}

#[tokio::test]
async fn a_removed_member_is_refused_on_the_next_call() {
    on_every_engine(|app| async move {
        let member = app.sign_in("member@acme.test").await;
        let acme = app.tenant_id("acme").await;
        let r = app
            .call_json(
                "keys/list",
                json!({"search": "", "include_revoked": false, "before": null}),
                Some(&member),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let owner = app.sign_in("owner@acme.test").await;
        let uid = user_id(&app, "member@acme.test").await;
        let r = app
            .call_json("members/remove", json!({"user_id": uid}), Some(&owner))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = app
            .call_json(
                "keys/list",
                json!({"tenant": acme, "search": "", "include_revoked": false, "before": null}),
                Some(&member),
            )
            .await;
        assert!(
            r.status == StatusCode::FORBIDDEN || r.status == StatusCode::CONFLICT,
            "{}: {}",
            r.status,
            r.body
        );
        assert!(!r.body.contains("key_"), "{}", r.body);
        // The consultant keeps their other tenant when removed from Acme.
        let consultant = app.sign_in("consultant@example.test").await;
        let cid = user_id(&app, "consultant@example.test").await;
        let r = app
            .call_json("members/remove", json!({"user_id": cid}), Some(&owner))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let s = app.call("session", &[], Some(&consultant)).await;
        assert!(s.body.contains("Starter Studio"), "{}", s.body);
        app
    })
    .await;
}

#[tokio::test]
async fn changing_and_resetting_a_password_end_the_other_sessions() {
    on_every_engine(|app| async move {
        let here = app.sign_in("member@acme.test").await;
        let there = app.sign_in("member@acme.test").await;
        let wrong = app
            .call_json(
                "account/change_password",
                json!({"current_password": "nope", "new_password": "a brand new passphrase"}),
                Some(&here),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.body.contains("current_password"), "{}", wrong.body);
        let weak = app
            .call_json(
                "account/change_password",
                json!({"current_password": PASSWORD, "new_password": "member@acme.test"}),
                Some(&here),
            )
            .await;
        assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
        let ok = app
            .call_json(
                "account/change_password",
                json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
                Some(&here),
            )
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert!(app
            .call("session", &[], Some(&here))
            .await
            .body
            .contains("member@acme.test"));
        assert!(
            !app.call("session", &[], Some(&there))
                .await
                .body
                .contains("member@acme.test"),
            "the other session ended"
        );
        let r = app
            .call(
                "sign_in",
                &[
                    ("email", "member@acme.test"),
                    ("password", "a brand new passphrase"),
                ],
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);

        // The operator's reset link: once, and every session ends.
        let token = store::auth::password::issue_reset(&app.state.db, "member@acme.test")
            .await
            .unwrap();
        let t = token.expose().to_owned();
        let stored = app
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM password_resets WHERE token_hash = '{t}'"
            ))
            .await;
        assert_eq!(stored, 0, "only the hash is stored");
        let r = app
            .call_json(
                "account/reset_password",
                json!({"token": t, "new_password": "reset passphrase here"}),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(!app
            .call("session", &[], Some(&here))
            .await
            .body
            .contains("member@acme.test"));
        let r = app
            .call_json(
                "account/reset_password",
                json!({"token": t, "new_password": "second reset passphrase"}),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        let r = app
            .call(
                "sign_in",
                &[
                    ("email", "member@acme.test"),
                    ("password", "reset passphrase here"),
                ],
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        app
    })
    .await;
}

#[tokio::test]
async fn the_operator_prints_a_reset_link_that_works_once() {
    on_every_engine(|app| async move {
        let out = run_latchkey(
            &app.url,
            &[
                "user",
                "reset-password",
                "--email",
                "viewer@acme.test",
                "--public-url",
                "https://keys.example.com",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let said = String::from_utf8(out.stdout).unwrap();
        let link = said
            .lines()
            .find(|l| l.starts_with("https://keys.example.com/reset#lkr_"))
            .unwrap();
        let token = link.split('#').nth(1).unwrap();
        let r = app
            .call_json(
                "account/reset_password",
                json!({"token": token, "new_password": "viewer resets it now"}),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = app
            .call_json(
                "account/reset_password",
                json!({"token": token, "new_password": "and again, no luck"}),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        let issued = app
            .scalar_i64(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'user.password_reset_issued'",
            )
            .await;
        assert_eq!(issued, 1);
        app
    })
    .await;
}

#[tokio::test]
async fn guessing_one_time_links_spends_the_sign_in_budget_of_the_address() {
    for engine in engines() {
        let app = TestApp::with_settings(&engine, |s| s.sign_in_per_ip_per_minute = 3).await;
        let guesses = [
            ("invite/lookup", json!({"token": "lki_guess1"})),
            (
                "invite/accept_new",
                json!({"token": "lki_guess2", "name": "M", "password": "a long enough passphrase"}),
            ),
            (
                "account/reset_password",
                json!({"token": "lkr_guess3", "new_password": "a long enough passphrase"}),
            ),
        ];
        for (endpoint, body) in &guesses {
            let r = app.call_json(endpoint, body.clone(), None).await;
            assert!(
                r.status == StatusCode::NOT_FOUND || r.status == StatusCode::CONFLICT,
                "{endpoint}: {} {}",
                r.status,
                r.body
            );
        }
        for (endpoint, body) in &guesses {
            let r = app.call_json(endpoint, body.clone(), None).await;
            assert_eq!(
                r.status,
                StatusCode::TOO_MANY_REQUESTS,
                "{endpoint} past the budget: {}",
                r.body
            );
            assert!(r.headers.get("retry-after").is_some());
        }
        app.close().await;
    }
}
