//! The API key format (SPEC §3): `lk_live_` or `lk_test_`, 32 base62 characters from a CSPRNG
//! (~190 bits), then 6 base62 characters of CRC32 over the random part.
//!
//! The checksum lets the server (and secret scanners) reject typos and junk before any lookup.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const RANDOM_LEN: usize = 32;
pub const CHECKSUM_LEN: usize = 6;
/// Prefix (`lk_live_` / `lk_test_`) + random + checksum.
pub const KEY_LEN: usize = 8 + RANDOM_LEN + CHECKSUM_LEN;

/// Live keys touch real data; test keys a sandbox. The mode is part of the key itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Live,
    Test,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Test => "test",
        }
    }

    pub fn prefix(self) -> &'static str {
        match self {
            Mode::Live => "lk_live_",
            Mode::Test => "lk_test_",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = KeyFormatError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "live" => Ok(Mode::Live),
            "test" => Ok(Mode::Test),
            _ => Err(KeyFormatError::Prefix),
        }
    }
}

/// Why a presented string is not a well-formed key. Callers answer all of these alike
/// (`invalid_api_key`); the detail is for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormatError {
    #[error("wrong length")]
    Length,
    #[error("unknown prefix")]
    Prefix,
    #[error("character outside base62")]
    Alphabet,
    #[error("checksum mismatch")]
    Checksum,
}

fn is_base62(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// CRC32 of the random part, as exactly six base62 digits (62^6 > 2^32, so it always fits).
pub fn checksum(random: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut n = u64::from(crc32fast::hash(random));
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        // `n % 62` is below 62, so the index is always in range.
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// Equality whose time depends only on the length, not on where the first difference is
/// (`subtle`, the usual crate for it, rather than a hand-written fold the optimiser may shortcut).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// A key whose shape and checksum are right. Says nothing about whether it exists.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ParsedKey<'a> {
    pub mode: Mode,
    pub full: &'a str,
}

impl fmt::Debug for ParsedKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a secret, even in a debug dump.
        write!(f, "ParsedKey({}, {})", self.mode, mask(self.full))
    }
}

/// Checks length, prefix, alphabet and checksum. Cheap: no allocation, no storage.
pub fn parse(key: &str) -> Result<ParsedKey<'_>, KeyFormatError> {
    let bytes = key.as_bytes();
    if bytes.len() != KEY_LEN {
        return Err(KeyFormatError::Length);
    }
    let mode = match &bytes[..8] {
        b"lk_live_" => Mode::Live,
        b"lk_test_" => Mode::Test,
        _ => return Err(KeyFormatError::Prefix),
    };
    let body = &bytes[8..];
    if !body.iter().copied().all(is_base62) {
        return Err(KeyFormatError::Alphabet);
    }
    let (random, sum) = body.split_at(RANDOM_LEN);
    if checksum(random) != sum {
        return Err(KeyFormatError::Checksum);
    }
    Ok(ParsedKey { mode, full: key })
}

/// The display form, e.g. `lk_live_Ab3x…9fQ2`: enough to recognise a key, useless to an attacker.
pub fn mask(key: &str) -> String {
    if key.len() < 16 || !key.is_ascii() {
        return "…".to_owned();
    }
    format!("{}…{}", &key[..12], &key[key.len() - 4..])
}

/// A plaintext secret. Deliberately neither `Serialize` nor a readable `Debug`: it leaves the
/// server once, through the one DTO that carries it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask(&self.0)
    }

    /// Wraps a secret this crate just generated (operator tokens share the type).
    #[cfg(feature = "secrets")]
    pub(crate) fn from_generated(s: String) -> Self {
        Secret(s)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.masked())
    }
}

#[cfg(feature = "secrets")]
mod secrets {
    use super::*;
    use hmac::{Hmac, Mac};
    use rand::{distributions::Alphanumeric, rngs::OsRng, Rng};
    use sha2::Sha256;

    /// Which digest scheme produced a stored hash, so it can change without a flag day.
    pub const HASH_VERSION: i64 = 1;

    /// Draws `len` base62 characters from the OS CSPRNG. `Alphanumeric` is exactly the
    /// 62-character alphabet and samples it without modulo bias.
    pub fn random_base62(len: usize) -> String {
        OsRng
            .sample_iter(&Alphanumeric)
            .take(len)
            .map(char::from)
            .collect()
    }

    /// A brand-new key of the given mode.
    pub fn generate(mode: Mode) -> Secret {
        let random = random_base62(RANDOM_LEN);
        let sum = checksum(random.as_bytes());
        let mut s = String::with_capacity(KEY_LEN);
        s.push_str(mode.prefix());
        s.push_str(&random);
        // `checksum` only yields base62 ASCII.
        s.extend(sum.iter().map(|&b| char::from(b)));
        Secret(s)
    }

    /// The server-wide secret mixed into every digest, so a stolen table alone is useless.
    #[derive(Clone)]
    pub struct Pepper(Vec<u8>);

    impl Pepper {
        pub fn new(bytes: Vec<u8>) -> Option<Self> {
            (bytes.len() >= 32).then_some(Self(bytes))
        }
    }

    impl fmt::Debug for Pepper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Pepper(…)")
        }
    }

    /// HMAC-SHA-256(pepper, full key): what storage holds and looks keys up by.
    #[derive(Clone, PartialEq, Eq, Hash)]
    pub struct Digest([u8; 32]);

    impl Digest {
        pub fn of(pepper: &Pepper, key: &str) -> Self {
            // HMAC accepts keys of any length, so this cannot fail.
            let mut mac = match Hmac::<Sha256>::new_from_slice(&pepper.0) {
                Ok(m) => m,
                Err(_) => unreachable!("HMAC takes any key length"),
            };
            mac.update(key.as_bytes());
            Self(mac.finalize().into_bytes().into())
        }

        pub fn to_hex(&self) -> String {
            hex::encode(self.0)
        }

        /// The raw 32 bytes (e.g. as a derived signing key).
        pub fn as_bytes(&self) -> &[u8; 32] {
            &self.0
        }

        /// Constant-time equality, for comparing against a stored digest.
        pub fn ct_eq(&self, other: &Digest) -> bool {
            constant_time_eq(&self.0, &other.0)
        }

        pub fn from_hex(s: &str) -> Option<Self> {
            let mut out = [0u8; 32];
            hex::decode_to_slice(s, &mut out).ok()?;
            Some(Self(out))
        }
    }

    impl fmt::Debug for Digest {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "Digest({}…)", &self.to_hex()[..8])
        }
    }
}

#[cfg(feature = "secrets")]
pub use secrets::{generate, random_base62, Digest, Pepper, HASH_VERSION};

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed, valid-looking key built from a known random part (tests only).
    fn sample(mode: Mode, random: &str) -> String {
        let sum = checksum(random.as_bytes());
        format!(
            "{}{}{}",
            mode.prefix(),
            random,
            std::str::from_utf8(&sum).expect("base62")
        )
    }

    const R: &str = "Ab3xQ9fQ2zzYY00aaBBccDDeeFFggHHi";

    #[test]
    fn a_well_formed_key_parses() {
        let k = sample(Mode::Live, R);
        assert_eq!(k.len(), KEY_LEN);
        let p = parse(&k).expect("valid");
        assert_eq!(p.mode, Mode::Live);
        assert_eq!(
            parse(&sample(Mode::Test, R)).map(|p| p.mode),
            Ok(Mode::Test)
        );
    }

    #[test]
    fn every_single_character_change_is_rejected() {
        for mode in [Mode::Live, Mode::Test] {
            let k = sample(mode, R);
            for i in 0..k.len() {
                for c in BASE62.iter().chain(b"_-+/= \0\xff".iter()) {
                    let mut b = k.as_bytes().to_vec();
                    if b[i] == *c {
                        continue;
                    }
                    b[i] = *c;
                    let changed = String::from_utf8_lossy(&b).into_owned();
                    assert!(parse(&changed).is_err(), "accepted {changed:?} (pos {i})");
                }
            }
        }
    }

    #[test]
    fn junk_is_rejected_for_the_right_reason() {
        assert_eq!(parse(""), Err(KeyFormatError::Length));
        assert_eq!(parse("lk_live_short"), Err(KeyFormatError::Length));
        let k = sample(Mode::Live, R);
        assert_eq!(parse(&format!("{k}x")), Err(KeyFormatError::Length));
        assert_eq!(
            parse(&k.replacen("lk_live_", "sk_live_", 1)),
            Err(KeyFormatError::Prefix)
        );
        let mut bad = k.clone().into_bytes();
        bad[10] = b'!';
        assert_eq!(
            parse(std::str::from_utf8(&bad).expect("ascii")),
            Err(KeyFormatError::Alphabet)
        );
        // Multi-byte UTF-8 of the right byte length must not panic.
        let uni = format!("lk_live_{}", "é".repeat(19));
        assert_eq!(uni.len(), KEY_LEN);
        assert!(parse(&uni).is_err());
    }

    #[test]
    fn checksum_is_six_base62_digits() {
        assert_eq!(&checksum(b""), b"000000");
        // CRC32 of "123456789" is 0xCBF43926 = 3421780262.
        let mut n: u64 = 0;
        for &c in checksum(b"123456789").iter() {
            let d = BASE62.iter().position(|&x| x == c).expect("base62") as u64;
            n = n * 62 + d;
        }
        assert_eq!(n, 0xCBF4_3926);
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn masking_hides_the_middle() {
        let k = sample(Mode::Live, R);
        let m = mask(&k);
        assert!(m.starts_with("lk_live_Ab3x"));
        assert!(m.ends_with(&k[k.len() - 4..]));
        assert!(m.len() < 24);
        assert_eq!(mask("short"), "…");
    }

    #[cfg(feature = "secrets")]
    #[test]
    fn generated_keys_round_trip_and_differ() {
        let a = generate(Mode::Live);
        let b = generate(Mode::Live);
        assert_ne!(a, b);
        assert_eq!(parse(a.expose()).map(|p| p.mode), Ok(Mode::Live));
        assert_eq!(
            parse(generate(Mode::Test).expose()).map(|p| p.mode),
            Ok(Mode::Test)
        );
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[cfg(feature = "secrets")]
    #[test]
    fn digests_depend_on_pepper_and_key() {
        let p1 = Pepper::new(vec![1; 32]).expect("long enough");
        let p2 = Pepper::new(vec![2; 32]).expect("long enough");
        assert!(Pepper::new(vec![0; 8]).is_none());
        let k = sample(Mode::Live, R);
        let d = Digest::of(&p1, &k);
        assert!(d.ct_eq(&Digest::of(&p1, &k)));
        assert!(!d.ct_eq(&Digest::of(&p2, &k)));
        assert!(!d.ct_eq(&Digest::of(&p1, &sample(Mode::Test, R))));
        assert_eq!(Digest::from_hex(&d.to_hex()), Some(d.clone()));
        assert_eq!(d.to_hex().len(), 64);
    }
}
