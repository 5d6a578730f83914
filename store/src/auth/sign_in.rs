//! Signing in: throttled, constant-cost for unknown emails, and bounded under a flood.

use super::{create_session, end_session, first_tenant_of, validate_email, SessionPolicy};
use crate::audit::{self, Actor, AuditAction, Event};
use crate::db::Db;
use crate::throttle::{client_key, Bounded, ClientBudget};
use crate::verify::shared::SharedLimiter;
use crate::verify::RateInfo;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::verify::Rejection;
use sha2::{Digest as _, Sha256};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long a client that failed a sign-in stays "a client that failed recently".
pub const FAILED_CLIENT_SECS: u64 = 15 * 60;

/// The sign-in form's process-wide state, every part bounded under a flood: attempts per
/// client address (IPv6 by /64), failures per email (keyed by a fixed-size hash, never the
/// text), the clients that failed recently, and a dummy hash verified against when an email is
/// unknown, so both failures cost the same time.
///
/// The per-email lock applies only to clients that failed recently: a stranger guessing an
/// owner's password cannot keep the owner, signing in correctly from elsewhere, out.
pub struct SignIn {
    /// With `--rate-limit-store redis://…`, every budget and the recently-failed set live in
    /// Redis, shared by all replicas; the local ones answer while Redis does not.
    shared: Option<Arc<SharedLimiter>>,
    per_email: u32,
    per_ip: u32,
    by_ip: ClientBudget,
    failures_by_email: Bounded<[u8; 16]>,
    failed_clients: moka::sync::Cache<u128, ()>,
    dummy_password_hash: String,
}

/// Most keys each sign-in throttle keeps after upkeep.
const SIGN_IN_CAP: usize = 100_000;

impl SignIn {
    pub fn new(per_email: u32, per_ip: u32) -> Self {
        Self {
            shared: None,
            per_email,
            per_ip,
            by_ip: ClientBudget::per_minute(per_ip, SIGN_IN_CAP),
            failures_by_email: Bounded::per_minute(per_email, SIGN_IN_CAP),
            failed_clients: moka::sync::Cache::builder()
                .max_capacity(SIGN_IN_CAP as u64)
                .time_to_live(Duration::from_secs(FAILED_CLIENT_SECS))
                .build(),
            dummy_password_hash: super::dummy_password_hash(),
        }
    }

    /// Shares the budgets through Redis (the verifier's store).
    pub fn with_shared(mut self, shared: Option<Arc<SharedLimiter>>) -> Self {
        self.shared = shared;
        self
    }

    /// One attempt from the client's budget.
    async fn spend_ip(&self, client: u128) -> AppResult<()> {
        if let Some(shared) = &self.shared {
            if let Ok(answer) = shared
                .take(&format!("sign-in-ip:{client:032x}"), self.per_ip)
                .await
            {
                return shared_verdict(answer);
            }
        }
        throttled(self.by_ip.check(&client))
    }

    /// One failure from the email's budget.
    async fn spend_email(&self, email: &[u8; 16]) -> AppResult<()> {
        if let Some(shared) = &self.shared {
            let bucket = format!("sign-in-email:{}", hex::encode(email));
            if let Ok(answer) = shared.take(&bucket, self.per_email).await {
                return shared_verdict(answer);
            }
        }
        throttled(self.failures_by_email.check(email))
    }

    async fn failed_recently(&self, client: u128) -> bool {
        if let Some(shared) = &self.shared {
            if let Ok(yes) = shared
                .marked(&format!("sign-in-failed:{client:032x}"))
                .await
            {
                return yes || self.failed_clients.contains_key(&client);
            }
        }
        self.failed_clients.contains_key(&client)
    }

    async fn remember_failure(&self, client: u128) {
        if let Some(shared) = &self.shared {
            let bucket = format!("sign-in-failed:{client:032x}");
            let _ = shared
                .mark(&bucket, Duration::from_secs(FAILED_CLIENT_SECS))
                .await;
        }
        // Kept here too: if Redis goes away, this replica still knows.
        self.failed_clients.insert(client, ());
    }

    /// Upkeep (the server runs it every minute): prune and bound every throttle.
    pub fn housekeeping(&self) {
        self.by_ip.housekeeping();
        self.failures_by_email.housekeeping();
        self.failed_clients.run_pending_tasks();
    }

    /// A one-time link (invitation, password reset) tried from `ip`: it spends the same
    /// per-address budget as signing in, so guessing links costs what guessing passwords does.
    pub async fn link_attempt(&self, ip: IpAddr) -> AppResult<()> {
        self.spend_ip(client_key(Some(ip))).await
    }

    /// (clients, emails, clients that failed recently) held now: for tests and metrics.
    pub fn sizes(&self) -> (usize, usize, u64) {
        self.failed_clients.run_pending_tasks();
        (
            self.by_ip.len(),
            self.failures_by_email.len(),
            self.failed_clients.entry_count(),
        )
    }
}

/// A fixed-size key for an email: the limiter never holds what a stranger typed.
fn email_key(email: &str) -> [u8; 16] {
    let digest = Sha256::digest(email.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

fn throttled(r: Result<(), u64>) -> AppResult<()> {
    r.map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })
}

fn shared_verdict(answer: Result<RateInfo, Rejection>) -> AppResult<()> {
    match answer {
        Ok(_) => Ok(()),
        Err(Rejection::RateLimited { retry_after_secs }) => {
            Err(AppError::RateLimited { retry_after_secs })
        }
        // The GCRA answers nothing else; were it to, refusing is the safe side.
        Err(_) => Err(AppError::RateLimited {
            retry_after_secs: 60,
        }),
    }
}

/// Signs in and returns the new session's cookie token. An unknown email and a wrong password
/// get the same answer in about the same time; attempts are throttled per client address, and
/// failures per email for clients that failed recently. A session the browser presented
/// (`replaces`) ends once the new one exists: a session id planted before sign-in (fixation)
/// never becomes a signed-in one.
#[allow(clippy::too_many_arguments)]
pub async fn sign_in(
    db: &Db,
    gate: &SignIn,
    policy: SessionPolicy,
    email: &str,
    password: String,
    ip: IpAddr,
    replaces: Option<&str>,
) -> AppResult<String> {
    // Length and shape first: nothing a stranger sends is kept before this passes.
    let email = validate_email(email)?;
    let client = client_key(Some(ip));
    gate.spend_ip(client).await?;
    let email_key = email_key(&email);
    let failed_before = gate.failed_recently(client).await;
    if failed_before {
        gate.spend_email(&email_key).await?;
    }

    #[derive(sqlx::FromRow)]
    struct Login {
        id: i64,
        password_hash: String,
    }
    let row = sqlx::query_as::<_, Login>("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(&db.pool)
        .await?;
    let (user_id, phc) = match row {
        Some(r) => (Some(r.id), r.password_hash),
        None => (None, gate.dummy_password_hash.clone()),
    };
    // Through the one hashing gate: a flood from many addresses must not queue hashes, and
    // their memory, without bound (measured before the gate: 7.8 GiB RSS after 60 s).
    let ok = db.hasher.verify(password, phc).await?;
    let Some(user_id) = user_id.filter(|_| ok) else {
        if !failed_before {
            // A first failure spends from the email's budget too, without being refused by it.
            let _ = gate.spend_email(&email_key).await;
        }
        gate.remember_failure(client).await;
        tracing::info!(%ip, "sign-in failed");
        // Against no tenant (the email may be anyone's), by the email's hash, never the password.
        let details =
            serde_json::json!({ "email_sha256": hex::encode(Sha256::digest(email.as_bytes())) });
        let failed = Event {
            tenant_id: None,
            action: AuditAction::SignInFailed,
            target_type: None,
            target_id: None,
            details,
        };
        audit::record_now(db, &Actor::anonymous(ip), failed).await?;
        return Err(AppError::field(
            "password",
            "That email and password don't match an account.",
        ));
    };
    let tenant_id = first_tenant_of(db, user_id).await?;
    sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2")
        .bind(db.clock.now_ms())
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    let token = create_session(db, user_id, tenant_id, policy).await?;
    if let Some(old) = replaces {
        end_session(db, old).await?;
    }
    let event = Event::user(
        tenant_id,
        AuditAction::SignedIn,
        user_id,
        serde_json::json!({ "method": "password" }),
    );
    audit::record_now(db, &Actor::user(user_id, &email, &email, Some(ip)), event).await?;
    tracing::info!(user_id, %ip, "signed in");
    Ok(token)
}
