//! The server pepper for API key digests: from config, or generated once into the data
//! directory (mode 0600) and reused. Losing it makes every stored key unverifiable.

use crate::db::Db;
use anyhow::{anyhow, Context};
use latchkey_domain::keys::{random_base62, Digest, Pepper};
use std::io::Write;
use std::path::Path;

pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Pepper> {
    if let Some(hex_text) = configured {
        let bytes = hex::decode(hex_text.trim()).context("LATCHKEY_PEPPER must be hex")?;
        return Pepper::new(bytes)
            .ok_or_else(|| anyhow!("LATCHKEY_PEPPER must be at least 32 bytes (64 hex digits)"));
    }
    let path = data_dir.join("pepper");
    if let Ok(text) = std::fs::read_to_string(&path) {
        refuse_if_shared(&path)?;
        return Pepper::new(text.trim().as_bytes().to_vec())
            .ok_or_else(|| anyhow!("the pepper file {} is too short", path.display()));
    }
    create_private_dir(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    // 64 base62 characters ≈ 381 bits, kept as text so operators can back it up easily.
    let fresh = random_base62(64);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(fresh.as_bytes())?;
    f.sync_all()?;
    tracing::warn!(
        path = %path.display(),
        "generated a new API key pepper; back it up: without it no stored key verifies"
    );
    Pepper::new(fresh.into_bytes()).ok_or_else(|| anyhow!("pepper generation failed"))
}

/// What the pepper's check value is the digest of (never a key: it has no `lk_` prefix).
const CHECK_INPUT: &str = "latchkey pepper check v1";

/// Refuses a pepper that differs from the one this database's keys were stored with: a replica
/// (or CLI) started with another pepper would answer every real key `invalid_api_key` and mint
/// keys no other replica accepts. The first process on a database records the check value.
/// Once accepted, it also loads the audit chain's key (`audit::seal`).
pub async fn check_against_storage(db: &Db, pepper: &Pepper) -> anyhow::Result<()> {
    let mine = Digest::of(pepper, CHECK_INPUT);
    sqlx::query(
        "INSERT INTO server_meta (name, value) VALUES ('pepper_check', $1) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(mine.to_hex())
    .execute(&db.pool)
    .await?;
    let stored: String =
        sqlx::query_scalar("SELECT value FROM server_meta WHERE name = 'pepper_check'")
            .fetch_one(&db.pool)
            .await?;
    if Digest::from_hex(&stored).is_some_and(|d| d.ct_eq(&mine)) {
        // The database's pepper: the audit chain's key derives from it (never the reverse).
        crate::audit::seal::install(pepper);
        crate::audit::seal::adopt_legacy(db)
            .await
            .map_err(|e| anyhow!("sealing the audit chain's older events: {e}"))?;
        return Ok(());
    }
    anyhow::bail!(
        "this pepper is not the one the database's API keys were stored with: every key would \
         fail to verify. Give every replica (and the CLI) the same pepper: the same \
         LATCHKEY_PEPPER, or a copy of the first server's <data-dir>/pepper"
    )
}

/// Creates `dir` (and missing parents) readable by the owner only: it holds the pepper and the
/// SQLite database. An existing directory is left as the operator set it.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Refuses a pepper file that group or others may read: anyone who can read it can mint digests.
fn refuse_if_shared(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("reading the mode of {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "the pepper file {} is readable by group or others (mode {:o}); \
                 run `chmod 600 {}` and start again",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("lk-pepper-{}", random_base62(8)));
        let a = load_or_create(None, &dir).expect("created");
        let text = std::fs::read_to_string(dir.join("pepper")).expect("file");
        let b = load_or_create(None, &dir).expect("reused");
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_eq!(
            std::fs::read_to_string(dir.join("pepper")).expect("file"),
            text
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("pepper"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "the data directory is private");
        }
        assert!(load_or_create(Some("abcd"), &dir).is_err());
        assert!(load_or_create(Some(&"ab".repeat(32)), &dir).is_ok());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_pepper_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("lk-pepper-{}", random_base62(8)));
        load_or_create(None, &dir).expect("created");
        let path = dir.join("pepper");
        for mode in [0o644, 0o640, 0o604, 0o660] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
            let err = load_or_create(None, &dir).expect_err("refused").to_string();
            assert!(err.contains(&path.display().to_string()), "{err}");
            assert!(err.contains("chmod 600"), "{err}");
        }
        // Owner-only modes (read-only included) are fine.
        for mode in [0o600, 0o400] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
            load_or_create(None, &dir).expect("accepted");
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
