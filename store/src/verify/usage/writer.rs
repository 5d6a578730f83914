//! The usage writer: one task that drains the queue on its interval (or when a batch's worth
//! has arrived, or on `flush`) and writes each batch in one transaction: request-log rows, the
//! hourly counters, then each key's last-used time.

use super::{summaries, Unlogged, UsageConfig, UsageEvent, UsageStats};
use crate::db::{now_ms, values_rows, Db};
use crate::verify::tally::{Tally, HOUR_MS};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// Rows per INSERT statement (9 parameters each, far below both engines' limits).
const ROWS_PER_INSERT: usize = 100;

/// The writer's ends of the queue.
pub(super) struct Inbox {
    pub(super) queue: mpsc::Receiver<UsageEvent>,
    pub(super) flushes: mpsc::Receiver<oneshot::Sender<()>>,
    pub(super) batch_ready: Arc<tokio::sync::Notify>,
    pub(super) overflow: Arc<Mutex<Tally>>,
}

pub(super) async fn run(
    db: Db,
    mut inbox: Inbox,
    config: UsageConfig,
    stats: Arc<UsageStats>,
    unlogged: Arc<Mutex<HashMap<i64, Unlogged>>>,
) {
    let mut pending: Vec<UsageEvent> = Vec::with_capacity(config.batch_max);
    let mut tally = Tally::default();
    let mut summary_tick = tokio::time::interval(config.summary_every);
    summary_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Not `interval`: its first tick is immediate, which would write whatever arrived before
    // the task first ran, ahead of the interval (seen as a flaky test under load).
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + config.flush_interval,
        config.flush_interval,
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut prune_tick = tokio::time::interval(config.prune_every);
    prune_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            ack = inbox.flushes.recv() => {
                drain(&db, &mut inbox.queue, &mut pending, &mut tally, &config, &stats).await;
                pending.extend(summaries(&unlogged, &mut tally));
                tally.merge(take_overflow(&inbox.overflow));
                write(&db, &mut pending, &mut tally, &stats).await;
                match ack {
                    Some(ack) => {
                        let _ = ack.send(());
                    }
                    // The `Usage` is gone: everything is written; stop.
                    None => return,
                }
            }
            _ = inbox.batch_ready.notified() => {
                drain(&db, &mut inbox.queue, &mut pending, &mut tally, &config, &stats).await;
            }
            _ = tick.tick() => {
                drain(&db, &mut inbox.queue, &mut pending, &mut tally, &config, &stats).await;
                tally.merge(take_overflow(&inbox.overflow));
                write(&db, &mut pending, &mut tally, &stats).await;
            }
            _ = summary_tick.tick() => {
                pending.extend(summaries(&unlogged, &mut tally));
            }
            _ = prune_tick.tick() => {
                let cutoff = now_ms() - i64::try_from(config.retention.as_millis()).unwrap_or(i64::MAX);
                match prune(&db, cutoff).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(rows = n, "pruned old request-log rows"),
                    Err(e) => tracing::error!(error = %e, "pruning the request log failed"),
                }
            }
        }
    }
}

/// Empties the counts of requests dropped by a full queue.
fn take_overflow(overflow: &Mutex<Tally>) -> Tally {
    overflow
        .lock()
        .map(|mut t| std::mem::take(&mut *t))
        .unwrap_or_default()
}

/// Moves what is queued into `pending`, writing each full batch on the way.
async fn drain(
    db: &Db,
    queue: &mut mpsc::Receiver<UsageEvent>,
    pending: &mut Vec<UsageEvent>,
    tally: &mut Tally,
    config: &UsageConfig,
    stats: &UsageStats,
) {
    while let Ok(e) = queue.try_recv() {
        stats.queued_bytes.fetch_sub(e.bytes(), Ordering::Relaxed);
        stats.queued_events.fetch_sub(1, Ordering::Relaxed);
        tally.add(e.tenant_id, e.key_row_id, e.at_ms, e.status, 1);
        pending.push(e);
        if pending.len() >= config.batch_max {
            write(db, pending, tally, stats).await;
        }
    }
}

/// Writes one batch in one transaction: the request-log rows, the hourly counters, then each
/// key's last-used time.
async fn write(db: &Db, pending: &mut Vec<UsageEvent>, tally: &mut Tally, stats: &UsageStats) {
    if pending.is_empty() && tally.is_empty() {
        return;
    }
    let batch = std::mem::take(pending);
    match write_batch(db, &batch, std::mem::take(tally)).await {
        Ok(()) => {
            stats.flushes.fetch_add(1, Ordering::Relaxed);
            stats
                .rows_written
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
        Err(e) => {
            // Usage is best effort: losing a batch must not take verification down with it.
            stats
                .failed_rows
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            tracing::error!(error = %e, rows = batch.len(), "writing the request log failed");
        }
    }
}

/// Also how the demo's sample usage is written, so it lands exactly as real traffic would.
pub(crate) async fn write_batch(
    db: &Db,
    batch: &[UsageEvent],
    tally: Tally,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    for chunk in batch.chunks(ROWS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO request_logs (tenant_id, key_id, created_at, method, path, status, \
             client_ip, latency_us, request_id) VALUES ",
        );
        sql.push_str(&values_rows(db.engine, chunk.len(), 9));
        let mut q = sqlx::query(&sql);
        for e in chunk {
            q = q
                .bind(e.tenant_id)
                .bind(e.key_row_id)
                .bind(e.at_ms)
                .bind(e.method.clone())
                .bind(e.path.clone())
                .bind(i64::from(e.status))
                .bind(e.client_ip.map(|ip| ip.to_string()))
                .bind(i64::try_from(e.latency_us).unwrap_or(i64::MAX))
                .bind(e.request_id.clone());
        }
        q.execute(&mut *tx).await?;
    }
    tally.write(db.engine, &mut tx).await?;
    // In key order: two replicas flushing at once then lock rows in the same order on
    // PostgreSQL and cannot deadlock (which would abort a batch).
    let mut last_used: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    for e in batch.iter().filter(|e| !e.refused) {
        let at = last_used.entry(e.key_row_id).or_insert(e.at_ms);
        *at = (*at).max(e.at_ms);
    }
    for (key_id, at) in last_used {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $1 \
             WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)",
        )
        .bind(at)
        .bind(key_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Deletes request-log rows older than `cutoff_ms`, and hourly counters of hours that ended
/// before it; returns how many request-log rows.
pub async fn prune(db: &Db, cutoff_ms: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM key_usage_hourly WHERE hour <= $1")
        .bind(cutoff_ms.saturating_sub(HOUR_MS))
        .execute(&db.pool)
        .await?;
    Ok(
        sqlx::query("DELETE FROM request_logs WHERE created_at < $1")
            .bind(cutoff_ms)
            .execute(&db.pool)
            .await?
            .rows_affected(),
    )
}
