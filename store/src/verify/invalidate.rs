//! What the verifier forgets, and when it may trust what it remembers: drops after this
//! process's own writes, announcements heard from storage ([`super::push`]), and the listening
//! state that decides whether the caches are used at all.

use super::push::{self, ListenState};
use super::Verifier;
use latchkey_domain::keys::Digest;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Verifier {
    /// Drops a key from the cache after a write to it (revoke, edit). Call after commit.
    pub async fn forget_key(&self, tenant_id: i64, public_id: &str) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        let digest = sqlx::query_scalar::<_, String>(
            "SELECT digest FROM api_keys WHERE tenant_id = $1 AND public_id = $2",
        )
        .bind(tenant_id)
        .bind(public_id)
        .fetch_optional(&self.db.pool)
        .await;
        match digest {
            Ok(Some(hex)) => {
                if let Some(d) = Digest::from_hex(&hex) {
                    self.keys.invalidate(&d);
                }
            }
            Ok(None) => {}
            Err(e) => {
                // Cannot find the digest: forget every key rather than risk serving a stale one.
                tracing::error!(error = %e, "cache invalidation lookup failed; clearing key cache");
                self.keys.invalidate_all();
            }
        }
    }

    /// Drops a tenant (its plan) from the cache after a plan change. Call after commit.
    pub fn forget_tenant(&self, tenant_id: i64) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.tenants.invalidate(&tenant_id);
    }

    /// Whether cached entries may answer: caching is on and this process hears every change.
    pub(super) fn cache_trusted(&self) -> bool {
        self.caching && self.listening.load(Ordering::Acquire)
    }

    /// How this process hears about changes made elsewhere.
    pub fn listen_state(&self) -> ListenState {
        if self.listening.load(Ordering::Acquire) {
            ListenState::Listening
        } else {
            ListenState::Connecting
        }
    }

    pub(super) fn set_listening(&self, state: ListenState) {
        let on = state == ListenState::Listening;
        self.listening.store(on, Ordering::Release);
        metrics::gauge!("latchkey_invalidation_listening").set(if on { 1.0 } else { 0.0 });
    }

    /// Waits (up to `timeout`) until this process hears invalidations; says whether it does.
    pub async fn wait_listening(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.listen_state() != ListenState::Listening {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// Forgets everything cached (changes may have been missed).
    pub(super) fn resync(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.keys.invalidate_all();
        self.unknown.invalidate_all();
        self.tenants.invalidate_all();
    }

    /// Applies one announcement heard from storage.
    pub(super) fn apply_payload(&self, payload: &str) {
        metrics::counter!("latchkey_invalidations_received_total").increment(1);
        match push::parse_or_all(payload) {
            Some(push::Target::Key(digest)) => {
                self.epoch.fetch_add(1, Ordering::SeqCst);
                self.keys.invalidate(&digest);
            }
            Some(push::Target::Tenant(id)) => self.forget_tenant(id),
            None => self.resync(),
        }
    }
}
