//! Tokens reported exposed (`/v1/leaks`) are looked up as presented keys are: a digest seen
//! before to match nothing is answered from the unknown-digest cache, and a client whose
//! lookups keep missing is stopped by the same failure gate before storage.

use super::{KeyRecord, Verifier, VerifyError};
use crate::throttle::client_key;
use latchkey_domain::keys::{self, Digest};
use std::net::IpAddr;
use std::sync::Arc;

impl Verifier {
    /// The stored key a reported token names. `Ok(None)` for anything else: junk (no hashing),
    /// a digest already known to match nothing (no storage read), or a miss, which counts
    /// against `client`'s failure budget. `Err` (rate limited) once that budget is spent and
    /// the token is not cached; `Err` (unavailable) when storage fails.
    pub async fn find_reported(
        &self,
        token: &str,
        client: Option<IpAddr>,
    ) -> Result<Option<Arc<KeyRecord>>, VerifyError> {
        let Ok(parsed) = keys::parse(token) else {
            return Ok(None);
        };
        let digest = Digest::of(&self.pepper, parsed.full);
        let client = client_key(client);
        let found = self.key_by_digest(&digest, client).await?;
        if found.is_none() {
            let _ = self.failed.failed(client);
        }
        Ok(found)
    }
}
