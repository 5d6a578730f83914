//! Following `GET /v1/changes`: every event empties what it names from the cache before it
//! counts as a sign of life; `Last-Event-ID` resumes after a drop. A stream silent for twice
//! the lease is taken for dead (a black-holed connection never says it closed) and replaced.

use crate::stats::bump;
use crate::Inner;
use futures_util::StreamExt;
use reqwest_eventsource::{retry, Event, EventSource};
use serde::Deserialize;
use std::sync::Weak;
use std::time::Duration;

const FIRST_RETRY: Duration = Duration::from_millis(50);
const MAX_RETRY: Duration = Duration::from_secs(2);

#[derive(Deserialize)]
struct KeyChange {
    key_id: String,
}

#[derive(Deserialize)]
struct TenantChange {
    tenant: String,
}

pub(crate) async fn run(inner: Weak<Inner>) {
    let mut backoff = FIRST_RETRY;
    loop {
        let Some(i) = inner.upgrade() else { return };
        let mut req = i
            .remote
            .http
            .get(format!("{}/v1/changes", i.remote.base))
            .bearer_auth(&i.remote.token);
        if let Some(id) = i.last_event_id() {
            req = req.header("Last-Event-ID", id);
        }
        let silence = i.lease * 2;
        drop(i);
        let mut es = match EventSource::new(req) {
            Ok(es) => es,
            Err(e) => {
                tracing::error!(error = %e, "cannot build the change stream request");
                return;
            }
        };
        es.set_retry_policy(Box::new(retry::Never));
        let (why, heard) = follow(&mut es, &inner, silence).await;
        es.close();
        let Some(i) = inner.upgrade() else { return };
        i.set_connected(false);
        drop(i);
        if heard {
            backoff = FIRST_RETRY;
        }
        tracing::warn!(reason = %why, retry_in_ms = backoff.as_millis() as u64, "change stream lost; cached allows stop at the lease");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_RETRY);
    }
}

/// Applies events until the stream fails or falls silent; says why, and whether it heard any.
async fn follow(es: &mut EventSource, inner: &Weak<Inner>, silence: Duration) -> (String, bool) {
    let mut heard = false;
    loop {
        let next = tokio::time::timeout(silence, es.next()).await;
        let Some(i) = inner.upgrade() else {
            return ("verifier dropped".into(), heard);
        };
        match next {
            Err(_) => return ("silent past twice the lease".into(), heard),
            Ok(None) => return ("stream ended".into(), heard),
            Ok(Some(Err(e))) => return (e.to_string(), heard),
            Ok(Some(Ok(Event::Open))) => {
                bump(
                    &i.counters.stream_connects,
                    "latchkey_client_stream_connects_total",
                );
                i.set_connected(true);
            }
            Ok(Some(Ok(Event::Message(m)))) => {
                heard = true;
                apply(&i, &m.event, &m.data);
                if !m.id.is_empty() {
                    i.set_last_event_id(m.id);
                }
            }
        }
    }
}

/// One event: forget what it names, then count it as a sign of life (in that order, so no
/// cached allow outlives the change it heard about).
fn apply(i: &Inner, event: &str, data: &str) {
    match event {
        "heartbeat" => {}
        "key" => match serde_json::from_str::<KeyChange>(data) {
            Ok(c) => {
                i.cache.forget_key(&c.key_id);
                bump(&i.counters.changes, "latchkey_client_changes_total");
            }
            Err(_) => i.cache.clear(),
        },
        "tenant" => match serde_json::from_str::<TenantChange>(data) {
            Ok(c) => {
                i.cache.forget_tenant(&c.tenant);
                bump(&i.counters.changes, "latchkey_client_changes_total");
            }
            Err(_) => i.cache.clear(),
        },
        "reset" => {
            i.cache.clear();
            bump(&i.counters.resets, "latchkey_client_resets_total");
        }
        // Unknown to this version: cannot tell what it spoils, so everything goes.
        _ => i.cache.clear(),
    }
    i.beat();
}
