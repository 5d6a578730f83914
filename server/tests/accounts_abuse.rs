//! Accounts under abuse (issue 23, items 3 and 7b–7f), on both engines: every password hash
//! through one bounded gate, a budget on guessing the current password, reset links spent by a
//! password change, invitations only as good as their inviter, a way back in for a person who
//! belongs to nothing, a daily cap on invitations, and unverified accounts kept to one tenant.
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

async fn invite(app: &TestApp, cookie: &str, email: &str, role: &str) -> Resp {
    let body = json!({"email": email, "role": role});
    app.call_json("members/invite", body, Some(cookie)).await
}

fn token_of(r: &Resp) -> String {
    let path = r.json()["link_path"].as_str().unwrap().to_owned();
    path.strip_prefix("/invite#").unwrap().to_owned()
}

async fn accept_new(app: &TestApp, token: &str, name: &str) -> Resp {
    let body = json!({"token": token, "name": name, "password": "a long enough passphrase"});
    app.call_json("invite/accept_new", body, None).await
}

async fn change_password(app: &TestApp, cookie: &str, current: &str, new: &str) -> Resp {
    let form = [("current_password", current), ("new_password", new)];
    app.call("account/change_password", &form, Some(cookie))
        .await
}

async fn state_of(app: &TestApp, token: &str) -> Value {
    let r = app
        .call_json("invite/lookup", json!({"token": token}), None)
        .await;
    r.json()["invitation"]["state"].clone()
}

// Item 3: 512 concurrent changes were 10 GiB of argon2 memory. Now at most N hashes run at
// once; the rest wait in a short queue or are answered 429 straight away.
#[tokio::test]
async fn sixty_four_concurrent_password_changes_run_at_most_n_hashes_and_the_rest_get_429() {
    on_every_engine(|app| async move {
        let viewer = app.sign_in("viewer@acme.test").await;
        let calls = (0..64).map(|_| change_password(&app, &viewer, PASSWORD, PASSWORD));
        let answers = futures_util::future::join_all(calls).await;
        let refused = answers
            .iter()
            .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
            .count();
        for r in &answers {
            assert!(
                r.status == StatusCode::OK || r.status == StatusCode::TOO_MANY_REQUESTS,
                "{}: {}",
                r.status,
                r.body
            );
        }
        assert!(refused > 0, "none of 64 refused");
        assert!(refused < 64, "someone was answered");
        let turns = store::auth::hashing_turns();
        let peak = app.state.db.hasher.peak_in_flight();
        assert!(peak <= turns, "{peak} hashes at once, turns {turns}");
        assert_eq!(app.state.db.hasher.in_flight(), 0);
        // Once the flood is over the viewer changes their password as usual.
        let ok = change_password(&app, &viewer, PASSWORD, "a brand new passphrase").await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        app
    })
    .await;
}

#[tokio::test]
async fn the_sixth_wrong_current_password_is_429_even_with_the_right_one() {
    on_every_engine(|app| async move {
        let member = app.sign_in("member@acme.test").await;
        for guess in 0..5 {
            let wrong = format!("wrong guess number {guess}");
            let r = change_password(&app, &member, &wrong, "a brand new passphrase").await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        }
        let r = change_password(&app, &member, PASSWORD, "a brand new passphrase").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
        assert!(r.headers.contains_key("retry-after"));
        // Another person's budget is their own.
        let viewer = app.sign_in("viewer@acme.test").await;
        let r = change_password(&app, &viewer, PASSWORD, "a brand new passphrase").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // Once the window has passed, the right password works again.
        app.state
            .db
            .clock
            .advance(std::time::Duration::from_secs(15 * 60 + 1));
        let r = change_password(&app, &member, PASSWORD, "a brand new passphrase").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        app
    })
    .await;
}

// 7b: a reset link issued before a password change (or another reset) is dead afterwards.
#[tokio::test]
async fn a_password_change_or_reset_spends_every_other_reset_link() {
    on_every_engine(|app| async move {
        let db = &app.state.db;
        let issue = || store::auth::password::issue_reset(db, "member@acme.test");
        let (first, second) = (issue().await.unwrap(), issue().await.unwrap());
        let reset = |token: String, new: &'static str| {
            let body = json!({"token": token, "new_password": new});
            app.call_json("account/reset_password", body, None)
        };
        let r = reset(first.expose().to_owned(), "reset passphrase here").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = reset(second.expose().to_owned(), "the other link's passphrase").await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

        let outstanding = issue().await.unwrap();
        let here = app
            .call(
                "sign_in",
                &[
                    ("email", "member@acme.test"),
                    ("password", "reset passphrase here"),
                ],
                None,
            )
            .await;
        assert_eq!(here.status, StatusCode::OK, "{}", here.body);
        let cookie = here.headers["set-cookie"].to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let r = change_password(&app, &cookie, "reset passphrase here", "changed passphrase").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = reset(outstanding.expose().to_owned(), "stolen link passphrase").await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        app
    })
    .await;
}

// 7c: an invitation sent by someone who may no longer grant its role is refused at accept,
// also when their role changed by a path that withdraws nothing (the operator's CLI).
#[tokio::test]
async fn accepting_rechecks_that_the_inviter_may_still_grant_the_role() {
    on_every_engine(|app| async move {
        let acme = app.tenant_id("acme").await;
        let admin = app.sign_in("admin@acme.test").await;
        let r = invite(&app, &admin, "newcomer@example.test", "admin").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let token = token_of(&r);
        let admin_id = user_id(&app, "admin@acme.test").await;
        let operator = store::audit::Actor::operator();
        use latchkey_domain::Role;
        store::tenants::add_member(&app.state.db, acme, admin_id, Role::Viewer, &operator)
            .await
            .unwrap();
        let r = accept_new(&app, &token, "Newcomer").await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        let db = &app.state.db;
        assert!(store::auth::user_id_by_email(db, "newcomer@example.test")
            .await
            .unwrap()
            .is_none());
        app
    })
    .await;
}

#[tokio::test]
async fn demoting_or_removing_an_inviter_withdraws_their_pending_invitations() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        let consultant = app.sign_in("consultant@example.test").await;
        let admin = app.sign_in("admin@acme.test").await;
        let by_consultant = token_of(&invite(&app, &consultant, "c1@example.test", "admin").await);
        let by_admin = token_of(&invite(&app, &admin, "a1@example.test", "viewer").await);
        let by_owner = token_of(&invite(&app, &owner, "o1@example.test", "viewer").await);

        let cid = user_id(&app, "consultant@example.test").await;
        let body = json!({"user_id": cid, "role": "member"});
        let r = app
            .call_json("members/change_role", body, Some(&owner))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(state_of(&app, &by_consultant).await, "revoked");

        let aid = user_id(&app, "admin@acme.test").await;
        let r = app
            .call_json("members/remove", json!({"user_id": aid}), Some(&owner))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(state_of(&app, &by_admin).await, "revoked");
        assert_eq!(state_of(&app, &by_owner).await, "pending");
        for token in [&by_consultant, &by_admin] {
            let r = accept_new(&app, token, "Late").await;
            assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        }
        let r = accept_new(&app, &by_owner, "Welcome").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        app
    })
    .await;
}

// 7d: signed in but a member of nothing, a person can still follow an invitation in.
#[tokio::test]
async fn a_person_whose_only_membership_was_removed_joins_through_a_new_invitation() {
    on_every_engine(|app| async move {
        let viewer = app.sign_in("viewer@acme.test").await;
        let owner = app.sign_in("owner@acme.test").await;
        let vid = user_id(&app, "viewer@acme.test").await;
        let r = app
            .call_json("members/remove", json!({"user_id": vid}), Some(&owner))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let starter_owner = app.sign_in("owner@starter.test").await;
        let token = token_of(&invite(&app, &starter_owner, "viewer@acme.test", "member").await);
        let look = app
            .call_json("invite/lookup", json!({"token": token}), Some(&viewer))
            .await;
        assert_eq!(
            look.json()["signed_in_as"],
            "viewer@acme.test",
            "{}",
            look.body
        );
        let r = app
            .call_json("invite/accept", json!({"token": token}), Some(&viewer))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let s = app.call("session", &[], Some(&viewer)).await;
        assert!(s.body.contains("Starter Studio"), "{}", s.body);
        app
    })
    .await;
}

// 7e: each invitation may mail a stranger, so a tenant sends at most 50 a day.
#[tokio::test]
async fn invitations_are_capped_per_tenant_per_day() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        for i in 0..50 {
            let r = invite(&app, &owner, &format!("p{i}@example.test"), "viewer").await;
            assert_eq!(r.status, StatusCode::OK, "{i}: {}", r.body);
        }
        let r = invite(&app, &owner, "one-more@example.test", "viewer").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("Too many invitations today"), "{}", r.body);
        // Another tenant has its own day.
        let starter = app.sign_in("owner@starter.test").await;
        let r = invite(&app, &starter, "one-more@example.test", "viewer").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        app.state
            .db
            .clock
            .advance(std::time::Duration::from_secs(86_400 + 1));
        let r = invite(&app, &owner, "tomorrow@example.test", "viewer").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        app
    })
    .await;
}

// 7f: with no SMTP the link is shown to the inviter, who could make an account for any address;
// such an account stays unverified and cannot be brought into another organisation.
#[tokio::test]
async fn an_account_made_through_a_shown_link_is_unverified_and_stays_in_one_organisation() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        let r = invite(&app, &owner, "ceo@bigcorp.example", "viewer").await;
        assert!(r.json()["link_path"].is_string(), "shown: {}", r.body);
        let r = accept_new(&app, &token_of(&r), "Not The CEO").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let uid = user_id(&app, "ceo@bigcorp.example").await;
        let verified = sqlx::query_scalar::<_, Option<i64>>(
            "SELECT email_verified_at FROM users WHERE id = $1",
        )
        .bind(uid)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
        assert!(verified.is_none(), "unverified");

        let starter = app.sign_in("owner@starter.test").await;
        let r = invite(&app, &starter, "ceo@bigcorp.example", "admin").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("hasn't confirmed its email"), "{}", r.body);
        let tenant = app.tenant_id("starter-studio").await;
        let operator = store::audit::Actor::operator();
        let role = latchkey_domain::Role::Viewer;
        let added = store::tenants::add_member(&app.state.db, tenant, uid, role, &operator).await;
        assert!(added.is_err(), "{added:?}");
        // Demo and operator-made accounts count as verified.
        let r = invite(&app, &starter, "viewer@acme.test", "viewer").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        app
    })
    .await;
}
