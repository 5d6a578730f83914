//! Recording an attempt as soon as it ends: the delivery's new state (delivered, pending with
//! the next try, or failed after 24 hours), a row in the endpoint's log, the log pruned.

use super::claim::Claimed;
use super::Dispatcher;
use latchkey_domain::error::AppResult;
use latchkey_domain::webhooks::address::REFUSED_ATTEMPT;
use latchkey_domain::webhooks::{next_attempt_at, ATTEMPTS_KEPT};

/// What one attempt came to.
pub(super) struct Outcome {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: i64,
}

impl Outcome {
    /// An address inside the server's network: the log says so and nothing else (no status,
    /// no timing, no error kind), so it cannot be used to probe.
    pub(super) fn refused() -> Self {
        Outcome {
            status_code: None,
            error: Some(REFUSED_ATTEMPT.to_owned()),
            latency_ms: 0,
        }
    }
}

impl Dispatcher {
    /// Records one attempt in its own transaction: the delivery's new state, an attempt row,
    /// and the endpoint's log pruned to its last 100.
    pub(super) async fn record(&self, claim: &str, c: &Claimed, o: &Outcome) -> AppResult<()> {
        let now = self.db.clock.now_ms();
        let mut tx = self.db.pool.begin().await?;
        let Some(state) = self.record_one(&mut tx, now, claim, c, o).await? else {
            return Ok(());
        };
        sqlx::query(
            "DELETE FROM webhook_attempts WHERE endpoint_id = $1 AND id <= (\
             SELECT id FROM webhook_attempts WHERE endpoint_id = $1 \
             ORDER BY id DESC LIMIT 1 OFFSET $2)",
        )
        .bind(c.endpoint_id)
        .bind(ATTEMPTS_KEPT)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        metrics::counter!("latchkey_webhook_attempts_total", "outcome" => state).increment(1);
        tracing::info!(event = %c.event_id, kind = %c.event_type, state, status = ?o.status_code, "webhook attempt");
        Ok(())
    }

    /// One attempt's row and its delivery's new state; `None` when the claim is no longer
    /// this worker's (it lapsed and another worker took over, or the endpoint was removed).
    async fn record_one(
        &self,
        tx: &mut sqlx::AnyConnection,
        now: i64,
        claim: &str,
        c: &Claimed,
        o: &Outcome,
    ) -> AppResult<Option<&'static str>> {
        let delivered = o.status_code.is_some_and(|s| (200..300).contains(&s));
        let attempt = u32::try_from(c.attempts + 1).unwrap_or(u32::MAX);
        let retry_base = i64::try_from(self.config.retry_base.as_millis()).unwrap_or(5_000);
        let next = if delivered {
            None
        } else {
            let jitter = 0.5 + rand::random::<f64>();
            next_attempt_at(c.created_at, now, retry_base, attempt, jitter)
        };
        let state = match (delivered, next) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        let updated = sqlx::query(
            "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, \
             next_attempt_at = $2, locked_until = NULL, claim = NULL \
             WHERE id = $3 AND state = 'pending' AND claim = $4",
        )
        .bind(state)
        .bind(next.unwrap_or(now))
        .bind(c.id)
        .bind(claim)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO webhook_attempts (endpoint_id, delivery_id, event_id, event_type, at, \
             status_code, latency_ms, error, next_retry_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(c.endpoint_id)
        .bind(c.id)
        .bind(&c.event_id)
        .bind(&c.event_type)
        .bind(now)
        .bind(o.status_code.map(i64::from))
        .bind(o.latency_ms)
        .bind(&o.error)
        .bind(next)
        .execute(&mut *tx)
        .await?;
        Ok(Some(state))
    }
}
