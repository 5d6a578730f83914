//! Storage: one `sqlx::Any` pool whose SQL runs unchanged on SQLite and PostgreSQL. Only the
//! DDL differs, so each engine has its own migrations folder, embedded in the binary.

use latchkey_domain::error::{AppError, AppResult};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The pool plus which engine it talks to (for the few places DDL-level behaviour differs), and
/// the clock every rule about time reads (expiry, overlaps), so tests move time instead of
/// sleeping.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub engine: Engine,
    pub clock: Clock,
    /// Where the pool connects, for the PostgreSQL listener (its own connection).
    pub url: Option<DbUrl>,
    /// The one bounded gate every password hash passes (shared by every clone).
    pub hasher: crate::auth::Hasher,
}

/// A database URL, which may hold a password: never printed.
#[derive(Clone)]
pub struct DbUrl(std::sync::Arc<str>);

impl DbUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbUrl(..)")
    }
}

/// The wall clock, plus an offset that only tests move. Shared by every clone of a `Db`.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        now_ms().saturating_add(self.offset_ms.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Moves this clock (and every reader of it) forward.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms
            .fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Engine {
    pub fn of_url(url: &str) -> Result<Self, sqlx::Error> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Engine::Postgres)
        } else {
            Err(sqlx::Error::Configuration(
                "DATABASE_URL must start with sqlite: or postgres:".into(),
            ))
        }
    }
}

impl Db {
    /// Connects; for SQLite creates the file and turns on WAL, foreign keys and a busy timeout.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let engine = Engine::of_url(url)?;
        let url = match engine {
            Engine::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let opts = AnyConnectOptions::from_str(&url)?;
        let db_url = DbUrl(url.as_str().into());
        let pool = AnyPoolOptions::new()
            .max_connections(match engine {
                Engine::Sqlite => 8,
                Engine::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        Ok(Self {
            pool,
            engine,
            clock: Clock::default(),
            url: Some(db_url),
            hasher: crate::auth::Hasher::default(),
        })
    }

    /// Applies the embedded migrations up to and including `last` only: for tests that upgrade a
    /// database holding rows written before a later migration.
    pub async fn migrate_through(&self, last: i64) -> Result<(), sqlx::migrate::MigrateError> {
        let all = match self.engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        let mut some = Migrator {
            migrations: std::borrow::Cow::Owned(
                all.migrations
                    .iter()
                    .filter(|m| m.version <= last)
                    .cloned()
                    .collect(),
            ),
            ..Migrator::DEFAULT
        };
        some.set_ignore_missing(true);
        some.run(&self.pool).await
    }

    /// Applies the embedded migrations for this engine.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.engine {
            Engine::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await,
            Engine::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await,
        }
    }
}

impl Db {
    /// A trivial query, for the readiness check.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}

/// The `VALUES` list of a multi-row insert: `rows` tuples of `columns` placeholders each. The
/// one place the SQL differs by engine: SQLite binds a named parameter (`$1`) by scanning every
/// name in the statement, so a 900-parameter insert bound by name cost ~30% of the server's CPU
/// under load (measured with perf); anonymous `?` parameters bind by position.
pub fn values_rows(engine: Engine, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            match engine {
                Engine::Sqlite => sql.push('?'),
                Engine::Postgres => sql.push_str(&format!("${}", r * columns + c + 1)),
            }
        }
        sql.push(')');
    }
    sql
}

/// Whether `s` can be (part of) a stored text. PostgreSQL text never holds NUL and refuses it as
/// a parameter (an error, not an empty answer), so a lookup or filter with one matches nothing:
/// callers answer that without asking storage, alike on both engines.
pub fn storable(s: &str) -> bool {
    !s.contains('\0')
}

/// The tenant's row of `table` whose public id is `public_id` (keys, webhook endpoints); none,
/// or another tenant's, is "not found".
pub async fn by_public_id<T>(
    db: &Db,
    table: &str,
    columns: &str,
    tenant_id: i64,
    public_id: &str,
) -> AppResult<T>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    if !storable(public_id) {
        return Err(AppError::NotFound);
    }
    sqlx::query_as::<_, T>(&format!(
        "SELECT {columns} FROM {table} WHERE tenant_id = $1 AND public_id = $2"
    ))
    .bind(tenant_id)
    .bind(public_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(AppError::NotFound)
}

/// Milliseconds since the Unix epoch: the one time representation in storage (portable).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// True when the error is a unique-constraint violation.
fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            matches!(d.kind(), sqlx::error::ErrorKind::UniqueViolation)
                || d.code()
                    .is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
        }
        _ => false,
    }
}

/// Maps a unique-constraint violation to a field-level error in one line at each insert:
/// `.on_unique("email", "A user with this email already exists.")?`.
pub trait OnUnique<T> {
    fn on_unique(self, field: &str, message: impl Into<String>) -> AppResult<T>;
}

impl<T> OnUnique<T> for Result<T, sqlx::Error> {
    fn on_unique(self, field: &str, message: impl Into<String>) -> AppResult<T> {
        self.map_err(|e| {
            if is_unique_violation(&e) {
                AppError::field(field, message)
            } else {
                AppError::from(e)
            }
        })
    }
}

/// A row with a keyset position (its `id`), for paging newest first.
pub trait Keyed {
    fn keyset_id(&self) -> i64;
}

/// One keyset page from `rows` fetched newest first with `LIMIT limit + 1`: at most `limit`
/// converted rows, and the last row's id as the cursor for the next page when there is one.
pub fn keyset_page<R: Keyed, T>(
    mut rows: Vec<R>,
    limit: i64,
    convert: impl Fn(R) -> AppResult<T>,
) -> AppResult<(Vec<T>, Option<i64>)> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = rows.last().filter(|_| more).map(Keyed::keyset_id);
    let items = rows
        .into_iter()
        .map(convert)
        .collect::<AppResult<Vec<T>>>()?;
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row(i64);
    impl Keyed for Row {
        fn keyset_id(&self) -> i64 {
            self.0
        }
    }

    #[test]
    fn keyset_page_cuts_and_points_at_the_next() {
        let page = |n: i64, limit| {
            keyset_page((0..n).rev().map(Row).collect(), limit, |r| Ok(r.0)).expect("page")
        };
        assert_eq!(page(3, 2), (vec![2, 1], Some(1)));
        assert_eq!(page(2, 2), (vec![1, 0], None));
        assert_eq!(page(0, 2), (vec![], None));
    }

    #[test]
    fn values_rows_numbers_postgres_and_leaves_sqlite_positional() {
        assert_eq!(values_rows(Engine::Sqlite, 2, 3), "(?, ?, ?),(?, ?, ?)");
        assert_eq!(
            values_rows(Engine::Postgres, 2, 3),
            "($1, $2, $3),($4, $5, $6)"
        );
    }
}
