//! Webhook endpoints per organisation: add (the signing secret shown once), change, roll the
//! secret with an overlap, remove, send a test event; plus the outbox every key change writes
//! into (`outbox`), the worker that delivers it (`deliver`) and the scan for time-based events
//! (`scan`). Every query is scoped by tenant.

mod claim;
pub mod deliver;
pub mod outbox;
pub mod reach;
mod record;
pub mod safety;
pub mod scan;
mod validate;

use crate::audit::{record, Actor, AuditAction, Event};
use crate::db::{by_public_id, Db};
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::keys::{random_base62, Pepper};
use latchkey_domain::webhooks::{
    signing_secret, AttemptView, EndpointView, EventType, ATTEMPTS_KEPT, MAX_ENDPOINTS,
    SECRET_OVERLAP_MS,
};

pub use deliver::{Dispatcher, DispatcherConfig};

/// A signing secret: shown once when an endpoint is added or its secret rolled. Never
/// serialised by the store; the page's answer carries it as a plain string once.
pub struct SigningSecret(String);

impl SigningSecret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(…)")
    }
}

/// What adding or changing an endpoint asks for.
#[derive(Debug, Clone)]
pub struct EndpointInput {
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct EndpointRow {
    id: i64,
    public_id: String,
    url: String,
    description: String,
    events: String,
    created_at: i64,
    created_by_name: String,
    previous_until: Option<i64>,
}

const ENDPOINT_COLUMNS: &str =
    "id, public_id, url, description, events, created_at, created_by_name, previous_until";

#[derive(Debug, sqlx::FromRow)]
struct AttemptRow {
    at: i64,
    event_id: String,
    event_type: String,
    status_code: Option<i64>,
    latency_ms: i64,
    error: Option<String>,
    next_retry_at: Option<i64>,
}

impl From<AttemptRow> for AttemptView {
    fn from(r: AttemptRow) -> Self {
        AttemptView {
            at: r.at,
            event_id: r.event_id,
            event_type: r.event_type,
            status_code: r.status_code.and_then(|c| u16::try_from(c).ok()),
            latency_ms: r.latency_ms,
            error: r.error,
            next_retry_at: r.next_retry_at,
        }
    }
}

impl EndpointRow {
    fn view(self, now: i64, attempts: Vec<AttemptView>) -> EndpointView {
        EndpointView {
            id: self.public_id,
            url: self.url,
            description: self.description,
            events: self.events.split_whitespace().map(str::to_owned).collect(),
            created_at: self.created_at,
            created_by: self.created_by_name,
            previous_secret_until: self.previous_until.filter(|u| *u > now),
            attempts,
        }
    }
}

async fn fetch(db: &Db, tenant_id: i64, public_id: &str) -> AppResult<EndpointRow> {
    by_public_id(
        db,
        "webhook_endpoints",
        ENDPOINT_COLUMNS,
        tenant_id,
        public_id,
    )
    .await
}

/// The organisation's endpoints, oldest first, each with its last attempts, newest first.
pub async fn list(db: &Db, tenant_id: i64) -> AppResult<Vec<EndpointView>> {
    let rows = sqlx::query_as::<_, EndpointRow>(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY id"
    ))
    .bind(tenant_id)
    .fetch_all(&db.pool)
    .await?;
    let now = db.clock.now_ms();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let attempts = attempts(db, row.id).await?;
        out.push(row.view(now, attempts));
    }
    Ok(out)
}

/// One endpoint's last attempts, newest first.
async fn attempts(db: &Db, endpoint_id: i64) -> AppResult<Vec<AttemptView>> {
    Ok(sqlx::query_as::<_, AttemptRow>(
        "SELECT at, event_id, event_type, status_code, latency_ms, error, next_retry_at \
         FROM webhook_attempts WHERE endpoint_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(endpoint_id)
    .bind(ATTEMPTS_KEPT)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(AttemptView::from)
    .collect())
}

/// Adds an endpoint; its signing secret is returned once. `config` says whether addresses
/// inside the server's network are allowed (`--webhook-allow-private`).
pub async fn create(
    db: &Db,
    pepper: &Pepper,
    config: &DispatcherConfig,
    tenant_id: i64,
    actor: &Actor,
    input: EndpointInput,
) -> AppResult<(EndpointView, SigningSecret)> {
    let checked = validate::input(&input, config.allow_private)?;
    let now = db.clock.now_ms();
    let public_id = format!("whe_{}", random_base62(16));
    let nonce = random_base62(32);
    let mut tx = db.pool.begin().await?;
    // Locks the tenant's row (an update that changes nothing still takes it on both engines),
    // which serialises concurrent adds, so the cap below holds.
    sqlx::query("UPDATE tenants SET key_seq = key_seq WHERE id = $1")
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_endpoints WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_one(&mut *tx)
            .await?;
    if count >= MAX_ENDPOINTS {
        return Err(AppError::Conflict(format!(
            "An organisation can have at most {MAX_ENDPOINTS} webhook endpoints. Remove one first."
        )));
    }
    let row = sqlx::query_as::<_, EndpointRow>(&format!(
        "INSERT INTO webhook_endpoints (public_id, tenant_id, url, description, events, \
         secret_nonce, created_at, created_by_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         RETURNING {ENDPOINT_COLUMNS}"
    ))
    .bind(&public_id)
    .bind(tenant_id)
    .bind(&checked.url)
    .bind(&checked.description)
    .bind(checked.events.join(" "))
    .bind(&nonce)
    .bind(now)
    .bind(&actor.display)
    .fetch_one(&mut *tx)
    .await?;
    record(
        &mut tx,
        now,
        actor,
        endpoint_event(tenant_id, AuditAction::WebhookCreated, &row),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(tenant_id, endpoint = %public_id, "webhook endpoint added");
    Ok((
        row.view(now, Vec::new()),
        SigningSecret(signing_secret(pepper, &nonce)),
    ))
}

fn endpoint_event(tenant_id: i64, action: AuditAction, row: &EndpointRow) -> Event {
    Event {
        tenant_id: Some(tenant_id),
        action,
        target_type: Some("webhook"),
        target_id: Some(row.public_id.clone()),
        // Scheme and host only: a receiver's path or query may hold its own secret.
        details: serde_json::json!({
            "url": reach::origin(&row.url),
            "description": row.description,
            "events": row.events.split_whitespace().collect::<Vec<_>>(),
        }),
    }
}

/// Changes an endpoint's address, description and events.
pub async fn update(
    db: &Db,
    config: &DispatcherConfig,
    tenant_id: i64,
    actor: &Actor,
    public_id: &str,
    input: EndpointInput,
) -> AppResult<EndpointView> {
    let checked = validate::input(&input, config.allow_private)?;
    let old = fetch(db, tenant_id, public_id).await?;
    let events = checked.events.join(" ");
    if old.url == checked.url && old.description == checked.description && old.events == events {
        let attempts = attempts(db, old.id).await?;
        return Ok(old.view(db.clock.now_ms(), attempts));
    }
    let mut tx = db.pool.begin().await?;
    let row = sqlx::query_as::<_, EndpointRow>(&format!(
        "UPDATE webhook_endpoints SET url = $1, description = $2, events = $3 \
         WHERE tenant_id = $4 AND public_id = $5 RETURNING {ENDPOINT_COLUMNS}"
    ))
    .bind(&checked.url)
    .bind(&checked.description)
    .bind(&events)
    .bind(tenant_id)
    .bind(public_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let now = db.clock.now_ms();
    record(
        &mut tx,
        now,
        actor,
        endpoint_event(tenant_id, AuditAction::WebhookUpdated, &row),
    )
    .await?;
    tx.commit().await?;
    let attempts = attempts(db, row.id).await?;
    Ok(row.view(now, attempts))
}

/// Replaces the signing secret; the old one keeps signing (a second signature) for 24 hours,
/// so receivers can switch without losing events.
pub async fn roll_secret(
    db: &Db,
    pepper: &Pepper,
    tenant_id: i64,
    actor: &Actor,
    public_id: &str,
) -> AppResult<(EndpointView, SigningSecret)> {
    let now = db.clock.now_ms();
    let old = fetch(db, tenant_id, public_id).await?;
    // A second roll inside the overlap would cut off the secret receivers were promised for
    // 24 hours; removing and adding the endpoint starts over at once if that is what is needed.
    if let Some(until) = old.previous_until.filter(|u| *u > now) {
        return Err(AppError::Conflict(format!(
            "The previous secret still signs until {}. Roll again after that, or remove and \
             add the endpoint to replace every secret now.",
            latchkey_domain::time::format_ms(until)
        )));
    }
    let nonce = random_base62(32);
    let mut tx = db.pool.begin().await?;
    // Conditional on no overlap having started meanwhile: of two rolls at once, one wins.
    let row = sqlx::query_as::<_, EndpointRow>(&format!(
        "UPDATE webhook_endpoints SET previous_nonce = secret_nonce, previous_until = $1, \
         secret_nonce = $2 WHERE tenant_id = $3 AND public_id = $4 \
         AND (previous_until IS NULL OR previous_until <= $5) RETURNING {ENDPOINT_COLUMNS}"
    ))
    .bind(now + SECRET_OVERLAP_MS)
    .bind(&nonce)
    .bind(tenant_id)
    .bind(public_id)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Conflict("This endpoint's secret was just rolled.".into()))?;
    record(
        &mut tx,
        now,
        actor,
        endpoint_event(tenant_id, AuditAction::WebhookSecretRolled, &row),
    )
    .await?;
    tx.commit().await?;
    let attempts = attempts(db, row.id).await?;
    Ok((
        row.view(now, attempts),
        SigningSecret(signing_secret(pepper, &nonce)),
    ))
}

/// Removes an endpoint with its pending deliveries and log.
pub async fn remove(db: &Db, tenant_id: i64, actor: &Actor, public_id: &str) -> AppResult<()> {
    let row = fetch(db, tenant_id, public_id).await?;
    let mut tx = db.pool.begin().await?;
    // Its deliveries and attempts go with it.
    for sql in [
        "DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2",
        "DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2",
        "DELETE FROM webhook_attempts WHERE endpoint_id = $2 AND $1 = $1",
    ] {
        sqlx::query(sql)
            .bind(tenant_id)
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
    }
    record(
        &mut tx,
        db.clock.now_ms(),
        actor,
        endpoint_event(tenant_id, AuditAction::WebhookRemoved, &row),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Queues a `webhook.test` event for one endpoint (whatever it subscribes to), audited;
/// returns its id. Unthrottled: the page goes through [`Dispatcher::send_test`].
pub async fn send_test(
    db: &Db,
    tenant_id: i64,
    actor: &Actor,
    public_id: &str,
) -> AppResult<String> {
    let row = fetch(db, tenant_id, public_id).await?;
    queue_test(db, tenant_id, actor, &row).await
}

impl Dispatcher {
    /// "Send test event": at most a few a minute per endpoint (each one is a request to the
    /// receiver, and a loop of them would crowd the worker), then [`send_test`], then wakes
    /// the worker.
    pub async fn send_test(
        &self,
        tenant_id: i64,
        actor: &Actor,
        public_id: &str,
    ) -> AppResult<String> {
        let row = fetch(&self.db, tenant_id, public_id).await?;
        self.test_sends
            .check(&row.id)
            .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;
        let id = queue_test(&self.db, tenant_id, actor, &row).await?;
        self.wake();
        Ok(id)
    }
}

async fn queue_test(
    db: &Db,
    tenant_id: i64,
    actor: &Actor,
    row: &EndpointRow,
) -> AppResult<String> {
    let now = db.clock.now_ms();
    let mut tx = db.pool.begin().await?;
    let id = outbox::enqueue_to(
        &mut tx,
        now,
        tenant_id,
        &[row.id],
        EventType::Test,
        serde_json::json!({
            "endpoint": row.public_id,
            "actor": actor.audit_name,
            "message": "A test event sent from Latchkey's Webhooks page.",
        }),
    )
    .await?;
    record(
        &mut tx,
        now,
        actor,
        Event {
            tenant_id: Some(tenant_id),
            action: AuditAction::WebhookTestSent,
            target_type: Some("webhook"),
            target_id: Some(row.public_id.clone()),
            details: serde_json::json!({ "url": reach::origin(&row.url), "event": id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
