//! Usage of keys answered from the cache, batched to `POST /v1/usage` so Latchkey's last used,
//! chart and request log stay true. Bounded: past the queue's size the oldest event is dropped
//! and counted.

use crate::remote::UsageItem;
use crate::stats::bump;
use crate::Inner;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Duration;

pub(crate) struct Queue {
    items: Mutex<VecDeque<UsageItem>>,
    cap: usize,
}

impl Queue {
    pub fn new(cap: usize) -> Self {
        Queue {
            items: Mutex::new(VecDeque::new()),
            cap: cap.max(1),
        }
    }

    /// Adds an event; says whether the oldest had to go to make room.
    pub fn push(&self, item: UsageItem) -> bool {
        let Ok(mut q) = self.items.lock() else {
            return true;
        };
        q.push_back(item);
        if q.len() > self.cap {
            q.pop_front();
            return true;
        }
        false
    }

    /// Up to `n` of the oldest events.
    pub fn take(&self, n: usize) -> Vec<UsageItem> {
        let Ok(mut q) = self.items.lock() else {
            return Vec::new();
        };
        let n = n.min(q.len());
        q.drain(..n).collect()
    }

    /// Puts a batch that could not be posted back in front; says how many were dropped to fit.
    pub fn put_back(&self, batch: Vec<UsageItem>) -> usize {
        let Ok(mut q) = self.items.lock() else {
            return batch.len();
        };
        for item in batch.into_iter().rev() {
            q.push_front(item);
        }
        let mut dropped = 0;
        while q.len() > self.cap {
            q.pop_front();
            dropped += 1;
        }
        dropped
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.items.lock().map_or(0, |q| q.len())
    }
}

/// Posts the queue every `every` until the verifier is dropped.
pub(crate) async fn flush_every(inner: std::sync::Weak<Inner>, every: Duration, batch: usize) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(i) = inner.upgrade() else { return };
        if let Err(e) = flush_once(&i, batch).await {
            tracing::warn!(error = %e, "posting usage to Latchkey failed; kept for the next try");
        }
    }
}

/// Posts everything queued, `batch` (at most 150) a post; a failed post goes back in front.
pub(crate) async fn flush_once(i: &Inner, batch: usize) -> Result<(), String> {
    let Some(queue) = &i.usage else { return Ok(()) };
    loop {
        let items = queue.take(batch.min(remote_batch_max()));
        if items.is_empty() {
            return Ok(());
        }
        let n = items.len() as u64;
        if let Err(e) = i.remote.post_usage(&items).await {
            for _ in 0..queue.put_back(items) {
                bump(
                    &i.counters.usage_dropped,
                    "latchkey_client_usage_dropped_total",
                );
            }
            return Err(e);
        }
        i.counters.usage_posted.fetch_add(n, Ordering::Relaxed);
        metrics::counter!("latchkey_client_usage_posted_total").increment(n);
    }
}

/// Events per post: with paths clipped to 256 bytes, well within `/v1/usage`'s 64 KiB.
const fn remote_batch_max() -> usize {
    150
}

/// The head of a path, as Latchkey keeps it (256 bytes).
pub(crate) fn clip(path: &str) -> &str {
    let mut end = path.len().min(256);
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    &path[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: i64) -> UsageItem {
        UsageItem {
            key_id: "key_x".into(),
            status: 200,
            method: "GET".into(),
            path: "/".into(),
            at_ms: n,
        }
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_stays_bounded() {
        let q = Queue::new(3);
        assert!(!q.push(item(1)));
        assert!(!q.push(item(2)));
        assert!(!q.push(item(3)));
        assert!(q.push(item(4)), "the oldest went");
        for n in 5..10_000 {
            q.push(item(n));
        }
        assert_eq!(q.len(), 3);
        let batch = q.take(2);
        assert_eq!(
            batch.iter().map(|i| i.at_ms).collect::<Vec<_>>(),
            [9997, 9998]
        );
        q.push(item(10_000));
        q.push(item(10_001));
        assert_eq!(q.put_back(batch), 2, "no room: the oldest go again");
        assert_eq!(q.len(), 3);
    }
}
