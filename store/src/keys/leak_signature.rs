//! GitHub's secret-scanning signature on a leak report: ECDSA P-256 with SHA-256 over the raw
//! body, DER-encoded and base64'd in `Github-Public-Key-Signature`, checked against the public
//! keys the operator configured (`--leak-report-key`, PEM files from GitHub's key endpoint).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;

/// The configured report-signing public keys; empty: reports are taken unsigned only.
#[derive(Debug, Clone, Default)]
pub struct ReportKeys(Vec<VerifyingKey>);

impl ReportKeys {
    /// Parses PEM public keys (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pems<'a>(pems: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        pems.into_iter()
            .map(|pem| {
                VerifyingKey::from_public_key_pem(pem.trim())
                    .map_err(|e| format!("not a P-256 public key in PEM form: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `signature_b64` is a valid signature of `body` by any configured key.
    pub fn verify(&self, body: &[u8], signature_b64: &str) -> bool {
        let Ok(der) = STANDARD.decode(signature_b64.trim()) else {
            return false;
        };
        let Ok(sig) = Signature::from_der(&der) else {
            return false;
        };
        self.0.iter().any(|k| k.verify(body, &sig).is_ok())
    }
}
