//! The database at start: connect and migrate (keeping SQLite files private), and claim a
//! SQLite file for one server process.

use crate::config;

/// The database file of a `sqlite://path?opts` or `sqlite:path` URL; none for PostgreSQL or an
/// in-memory database.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|p| !p.is_empty() && !p.starts_with(":memory:"))
        .map(std::path::PathBuf::from)
}

/// Claims a SQLite database for this server: a second `serve` on the same file is refused
/// (SQLite is the single-node default; replicas run on PostgreSQL). Hold the returned lock for
/// as long as the server runs; the OS releases it when the process ends, however it ends.
/// The CLI takes no lock: it is meant to run beside the server.
pub fn claim_sqlite(global: &config::Global) -> anyhow::Result<Option<std::fs::File>> {
    use anyhow::Context;
    let Some(file) = sqlite_file(&global.database_url()) else {
        return Ok(None);
    };
    let mut lock_path = file.clone().into_os_string();
    lock_path.push(".server-lock");
    let lock_path = std::path::PathBuf::from(lock_path);
    if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        store::pepper::create_private_dir(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => Ok(Some(lock)),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another Latchkey server is already serving {}; SQLite serves one server process \
             (the CLI may run beside it). For several replicas use PostgreSQL \
             (--database-url postgres://…)",
            file.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", lock_path.display()))
        }
    }
}

/// Connects to the configured database and applies migrations. A SQLite data directory is
/// created 0700 and the database files are kept 0600: they hold key digests and sessions.
pub async fn connect(global: &config::Global) -> anyhow::Result<store::db::Db> {
    use anyhow::Context;
    let url = global.database_url();
    let sqlite_file = sqlite_file(&url);
    if url.starts_with("sqlite:") {
        store::pepper::create_private_dir(&global.data_dir)
            .with_context(|| format!("creating {}", global.data_dir.display()))?;
    }
    #[cfg(unix)]
    if let Some(file) = &sqlite_file {
        use std::os::unix::fs::OpenOptionsExt;
        // Created empty (a valid SQLite file) and private before SQLite opens it, so it is
        // never readable by others, not even for a moment.
        if !file.exists() {
            // A failure here (say, a missing parent) is reported by the connect below.
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(file);
        }
    }
    #[cfg(not(unix))]
    let _ = &sqlite_file;
    let db = store::db::Db::connect(&url)
        .await
        .context("connecting to the database")?;
    db.migrate().await.context("applying migrations")?;
    #[cfg(unix)]
    if let Some(file) = &sqlite_file {
        use std::os::unix::fs::PermissionsExt;
        let mut wal = file.clone().into_os_string();
        wal.push("-wal");
        let mut shm = file.clone().into_os_string();
        shm.push("-shm");
        for f in [file.clone(), wal.into(), shm.into()] {
            if f.exists() {
                std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("making {} private (0600)", f.display()))?;
            }
        }
    }
    Ok(db)
}
