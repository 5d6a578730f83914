//! CSV export of a filtered log, streamed: a thousand rows at a time by keyset, so memory stays
//! flat however long the log. RFC 4180 quoting is the `csv` crate's; every cell also goes through
//! `inert_cell` so a key named `=HYPERLINK(…)` stays text in a spreadsheet.

use super::list::{scope, AuditEventRow, AuditFilter, Scope};
use crate::db::Db;
use futures_util::stream::{self, Stream};
use latchkey_domain::audit::inert_cell;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::time::iso_ms;
use latchkey_domain::views::AuditEntry;

/// The export's columns, in order.
pub const HEADER: [&str; 11] = [
    "id",
    "time_utc",
    "actor",
    "action",
    "target_type",
    "target_id",
    "target_name",
    "client_ip",
    "summary",
    "details",
    "hash",
];

const BATCH: i64 = 1000;

fn cells(r: AuditEventRow) -> [String; 11] {
    let hash = r.hash.clone().unwrap_or_default();
    let details = r.details.clone();
    let e = AuditEntry::from(r);
    [
        e.id.to_string(),
        iso_ms(e.at),
        e.actor,
        e.action,
        e.target_type.unwrap_or_default(),
        e.target_id.unwrap_or_default(),
        e.target_name.unwrap_or_default(),
        e.client_ip.unwrap_or_default(),
        e.summary,
        details,
        hash,
    ]
}

/// One chunk of CSV: `rows` (and the header first, when asked).
pub fn to_csv(rows: Vec<AuditEventRow>, header: bool) -> AppResult<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(rows.len() * 400 + 128));
    if header {
        w.write_record(HEADER).map_err(AppError::internal)?;
    }
    for r in rows {
        let c = cells(r);
        w.write_record(c.iter().map(|cell| inert_cell(cell).into_owned()))
            .map_err(AppError::internal)?;
    }
    w.into_inner().map_err(AppError::internal)
}

enum Step {
    Start,
    Next { scope: Scope, before: Option<i64> },
    Done,
}

/// The tenant's events matching `filter`, newest first, as CSV chunks (the header in the first).
/// Rows written after the export starts are not in it: it walks down from where it began.
pub fn csv_stream(
    db: Db,
    tenant_id: i64,
    filter: AuditFilter,
) -> impl Stream<Item = AppResult<Vec<u8>>> + Send + 'static {
    stream::try_unfold(Step::Start, move |step| {
        let db = db.clone();
        let filter = filter.clone();
        async move {
            match step {
                Step::Done => Ok(None),
                Step::Start => match scope(&db, tenant_id, &filter).await? {
                    None => Ok(Some((to_csv(Vec::new(), true)?, Step::Done))),
                    Some(scope) => {
                        let (rows, next) = batch(&db, &scope, None).await?;
                        let step = next.map_or(Step::Done, |b| Step::Next {
                            scope,
                            before: Some(b),
                        });
                        Ok(Some((to_csv(rows, true)?, step)))
                    }
                },
                Step::Next { scope, before } => {
                    let (rows, next) = batch(&db, &scope, before).await?;
                    let step = next.map_or(Step::Done, |b| Step::Next {
                        scope,
                        before: Some(b),
                    });
                    Ok(Some((to_csv(rows, false)?, step)))
                }
            }
        }
    })
}

async fn batch(
    db: &Db,
    scope: &Scope,
    before: Option<i64>,
) -> AppResult<(Vec<AuditEventRow>, Option<i64>)> {
    let rows = scope
        .fetch(db, before.map(|b| (" AND id < ?", b)), true, BATCH)
        .await?;
    let next = (rows.len() == usize::try_from(BATCH).unwrap_or(0))
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    Ok((rows, next))
}
