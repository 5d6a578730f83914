//! The verdict cache: keyed by SHA-256 of the key (with the scope and resource asked), never
//! the key itself; bounded, with a hard time-to-live as a last backstop; emptied by the change
//! stream's events, key by key or tenant by tenant.

use crate::verdict::{Refusal, Verdict};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// After a change to a key or a tenant, answers about it are not cached for this long: another
/// replica asked in that window may not have heard the change yet.
const QUARANTINE: Duration = Duration::from_secs(1);

/// One cached answer.
pub(crate) struct Entry {
    pub outcome: Result<Arc<Verdict>, Refusal>,
    key_id: Option<Box<str>>,
    tenant: Option<Box<str>>,
}

impl Entry {
    pub fn allow(v: Arc<Verdict>) -> Self {
        Entry {
            key_id: Some(v.key_id.as_str().into()),
            tenant: Some(v.tenant.id.as_str().into()),
            outcome: Ok(v),
        }
    }

    pub fn deny(r: Refusal) -> Self {
        Entry {
            key_id: r.key_id.as_deref().map(Into::into),
            tenant: r.tenant.as_deref().map(Into::into),
            outcome: Err(r),
        }
    }
}

pub(crate) type Id = [u8; 32];

/// What a cached answer is about: the key, the scope and the resource asked.
pub(crate) fn id_of(key: &str, scope: Option<&str>, resource: Option<(&str, &str)>) -> Id {
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    // Separators and presence marks, so no two different questions share an id.
    match scope {
        Some(s) => {
            h.update([1]);
            h.update(s.as_bytes());
        }
        None => h.update([0]),
    }
    h.update([0xff]);
    if let Some((kind, id)) = resource {
        h.update([1]);
        h.update(kind.as_bytes());
        h.update([0xff]);
        h.update(id.as_bytes());
    }
    h.finalize().into()
}

pub(crate) struct Cache {
    entries: moka::sync::Cache<Id, Arc<Entry>>,
    /// Keys (`k:`) and tenants (`t:`) changed within [`QUARANTINE`].
    recent: moka::sync::Cache<String, ()>,
    /// Bumped by every change, so a fill that raced one is not kept.
    epoch: AtomicU64,
}

impl Cache {
    pub fn new(capacity: u64, ttl: Duration) -> Self {
        Cache {
            entries: moka::sync::Cache::builder()
                .max_capacity(capacity.max(1))
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build(),
            recent: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(QUARANTINE)
                .build(),
            epoch: AtomicU64::new(0),
        }
    }

    pub fn get(&self, id: &Id) -> Option<Arc<Entry>> {
        self.entries.get(id)
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Keeps an answer fetched when the epoch was `since`, unless a change came in between or
    /// its key or tenant changed a moment ago.
    pub fn fill(&self, id: Id, entry: Entry, since: u64) {
        let recent = entry
            .key_id
            .as_deref()
            .is_some_and(|k| self.recent.contains_key(&format!("k:{k}")))
            || entry
                .tenant
                .as_deref()
                .is_some_and(|t| self.recent.contains_key(&format!("t:{t}")));
        if recent || self.epoch() != since {
            return;
        }
        self.entries.insert(id, Arc::new(entry));
        // A change that landed while inserting: drop what may predate it.
        if self.epoch() != since {
            self.entries.invalidate(&id);
        }
    }

    pub fn forget_key(&self, key_id: &str) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.recent.insert(format!("k:{key_id}"), ());
        let key_id: Box<str> = key_id.into();
        self.forget_if(move |e| e.key_id.as_ref() == Some(&key_id));
    }

    pub fn forget_tenant(&self, tenant: &str) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.recent.insert(format!("t:{tenant}"), ());
        let tenant: Box<str> = tenant.into();
        // A refusal names no tenant (a suspended tenant's keys, say): those of known keys go too.
        self.forget_if(move |e| {
            e.tenant.as_ref() == Some(&tenant) || (e.outcome.is_err() && e.key_id.is_some())
        });
    }

    fn forget_if(&self, matches: impl Fn(&Entry) -> bool + Send + Sync + 'static) {
        if self
            .entries
            .invalidate_entries_if(move |_, e| matches(e))
            .is_err()
        {
            // Cannot register the predicate: forget everything rather than serve stale.
            self.entries.invalidate_all();
        }
    }

    pub fn clear(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate_all();
    }

    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{Code, Tenant};

    fn verdict(key: &str, tenant: &str) -> Arc<Verdict> {
        Arc::new(Verdict {
            key_id: key.into(),
            key_name: "k".into(),
            mode: "live".into(),
            scopes: vec!["a:b".into()],
            tenant: Tenant {
                id: tenant.into(),
                external_id: None,
                slug: "s".into(),
                name: "n".into(),
                plan: "professional".into(),
                metadata: Default::default(),
            },
            limit_per_minute: 10,
        })
    }

    #[test]
    fn questions_differ_by_key_scope_and_resource() {
        let ids = [
            id_of("k", None, None),
            id_of("k", Some(""), None),
            id_of("k", Some("a"), None),
            id_of("k2", Some("a"), None),
            id_of("k", Some("a"), Some(("t", "1"))),
            id_of("k", Some("a"), Some(("t1", ""))),
        ];
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn a_change_forgets_its_key_or_tenant_and_spoils_a_racing_fill() {
        let c = Cache::new(100, Duration::from_secs(60));
        let (a, b) = (id_of("a", None, None), id_of("b", None, None));
        c.fill(a, Entry::allow(verdict("key_a", "org_1")), c.epoch());
        c.fill(b, Entry::allow(verdict("key_b", "org_2")), c.epoch());
        assert!(c.get(&a).is_some() && c.get(&b).is_some());
        c.forget_key("key_a");
        assert!(c.get(&a).is_none(), "the changed key is gone");
        assert!(c.get(&b).is_some(), "the others stay");
        c.forget_tenant("org_2");
        assert!(c.get(&b).is_none());

        // A fill that began before a change is not kept.
        let since = c.epoch();
        c.forget_key("key_x");
        c.fill(b, Entry::allow(verdict("key_b", "org_2")), since);
        assert!(c.get(&b).is_none());
        // Nor one about a key changed a moment ago (another replica may not know yet).
        c.fill(a, Entry::allow(verdict("key_a", "org_1")), c.epoch());
        assert!(c.get(&a).is_none());
        // A denial of an unknown key is kept, and a reset clears everything.
        let deny = Refusal {
            code: Code::InvalidApiKey,
            message: String::new(),
            required_scope: None,
            retry_after_secs: None,
            key_id: None,
            tenant: None,
        };
        let u = id_of("u", None, None);
        c.fill(u, Entry::deny(deny), c.epoch());
        assert!(c.get(&u).is_some());
        c.clear();
        assert!(c.get(&u).is_none());
    }
}
