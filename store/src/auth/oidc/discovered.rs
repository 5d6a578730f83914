//! The cached discovery: the provider's metadata and signing keys, when they were fetched,
//! and when Latchkey last asked (it asks at most once per [`REDISCOVERY_GAP`]).

use openidconnect::core::CoreProviderMetadata;
use std::time::{Duration, Instant};

/// How long a discovery (metadata and signing keys) is used before asking again.
pub(super) const DISCOVERY_TTL: Duration = Duration::from_secs(10 * 60);
/// The least time between two discovery attempts, whatever happens meanwhile.
pub(super) const REDISCOVERY_GAP: Duration = Duration::from_secs(30);

/// The cached discovery.
#[derive(Default)]
pub(super) struct Discovered {
    pub metadata: Option<CoreProviderMetadata>,
    pub fetched_at: Option<Instant>,
    /// A signature did not verify with these keys: ask again once the gap allows.
    pub stale: bool,
    pub attempted_at: Option<Instant>,
}

impl Discovered {
    pub fn fresh(&self) -> Option<CoreProviderMetadata> {
        let young = self
            .fetched_at
            .is_some_and(|at| at.elapsed() < DISCOVERY_TTL);
        self.metadata.clone().filter(|_| young && !self.stale)
    }

    pub fn may_ask(&self) -> bool {
        self.attempted_at
            .is_none_or(|at| at.elapsed() >= REDISCOVERY_GAP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_an_attempt_latchkey_waits_the_gap_before_asking_again() {
        let mut d = Discovered::default();
        assert!(d.may_ask() && d.fresh().is_none());
        d.attempted_at = Some(Instant::now());
        assert!(!d.may_ask());
        d.attempted_at = Instant::now().checked_sub(REDISCOVERY_GAP);
        assert!(d.may_ask());
    }
}
