//! Per-key request counters by UTC hour and HTTP status (`key_usage_hourly`): the usage writer
//! adds every identified request to a [`Tally`], logged or not, and writes it with its batch,
//! one upsert per key, hour and status. Charts read these rows, never the request log.

use crate::db::{values_rows, Engine};
use std::collections::BTreeMap;

pub const HOUR_MS: i64 = 3_600_000;

/// The start of the UTC hour holding `at_ms`.
pub fn hour_of(at_ms: i64) -> i64 {
    at_ms - at_ms.rem_euclid(HOUR_MS)
}

/// Requests counted since the last write, by (key row, hour, status), with each key's tenant.
/// Ordered, so every writer locks counter rows in the same order (no deadlock between replicas).
#[derive(Debug, Default)]
pub struct Tally {
    counts: BTreeMap<(i64, i64, u16), (i64, u64)>,
}

/// Counter rows per upsert statement (5 parameters each).
const ROWS_PER_UPSERT: usize = 100;

impl Tally {
    pub fn add(&mut self, tenant_id: i64, key_row_id: i64, at_ms: i64, status: u16, n: u64) {
        let entry = self
            .counts
            .entry((key_row_id, hour_of(at_ms), status))
            .or_insert((tenant_id, 0));
        entry.1 += n;
    }

    /// Adds everything `other` counted.
    pub fn merge(&mut self, other: Tally) {
        for ((key, hour, status), (tenant, n)) in other.counts {
            self.counts
                .entry((key, hour, status))
                .or_insert((tenant, 0))
                .1 += n;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Adds the counts to storage inside the batch's transaction.
    pub async fn write(
        self,
        engine: Engine,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ) -> Result<(), sqlx::Error> {
        let rows: Vec<_> = self.counts.into_iter().collect();
        for chunk in rows.chunks(ROWS_PER_UPSERT) {
            let mut sql = String::from(
                "INSERT INTO key_usage_hourly (key_id, hour, status, tenant_id, count) VALUES ",
            );
            sql.push_str(&values_rows(engine, chunk.len(), 5));
            sql.push_str(
                " ON CONFLICT (key_id, hour, status) \
                 DO UPDATE SET count = key_usage_hourly.count + excluded.count",
            );
            let mut q = sqlx::query(&sql);
            for ((key, hour, status), (tenant, count)) in chunk {
                q = q
                    .bind(*key)
                    .bind(*hour)
                    .bind(i64::from(*status))
                    .bind(*tenant)
                    .bind(i64::try_from(*count).unwrap_or(i64::MAX));
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_start_on_the_hour_before_and_after_1970() {
        assert_eq!(hour_of(0), 0);
        assert_eq!(hour_of(HOUR_MS - 1), 0);
        assert_eq!(hour_of(HOUR_MS), HOUR_MS);
        assert_eq!(hour_of(-1), -HOUR_MS);
    }

    #[test]
    fn adds_up_by_key_hour_and_status() {
        let mut t = Tally::default();
        t.add(1, 7, 10, 200, 1);
        t.add(1, 7, 20, 200, 2);
        t.add(1, 7, HOUR_MS + 5, 200, 1);
        t.add(1, 7, 30, 429, 4);
        assert_eq!(t.counts.get(&(7, 0, 200)), Some(&(1, 3)));
        assert_eq!(t.counts.get(&(7, HOUR_MS, 200)), Some(&(1, 1)));
        assert_eq!(t.counts.get(&(7, 0, 429)), Some(&(1, 4)));
        assert_eq!(t.counts.len(), 3);
    }
}
