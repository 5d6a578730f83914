//! The keys list at 1,000 and 100,000 keys in one tenant, on SQLite and on PostgreSQL (when
//! `LATCHKEY_BENCH_POSTGRES_URL` names a server): the first page, a deep page, a name search
//! that few keys match (through the trigram index), one that a tenth match, and a two-letter
//! one (too short for trigrams: the newest-first scan fills the page). Medians through the real
//! router's server function, as the page calls it.

use crate::{bulk_tenant, deep_cursor, ms, on_both_engines, say, settings, time_list};
use anyhow::Result;
use std::path::Path;
use store::AppState;

pub async fn run(work: &Path, site_root: &Path) -> Result<()> {
    say("Keys list server function (owner session, first page of 50, through the router; medians)");
    say("                     first page  deep page  search \"key 4242\"  search \"key 9\"  search \"42\"");
    on_both_engines(work, "keys-list.db", |url, label| async move {
        one(&url, label, site_root).await
    })
    .await
}

async fn one(url: &str, label: &str, site_root: &Path) -> Result<()> {
    let (db, pepper) = crate::seeded(url).await?;
    let state = AppState::new(db.clone(), settings(), pepper);
    let options = leptos::config::LeptosOptions::builder()
        .output_name("latchkey")
        .site_root(site_root.display().to_string())
        .build();
    let router = server::router(state.clone(), options);
    for (n, slug) in [(1_000u32, "bulk-1k"), (100_000, "bulk-100k")] {
        let (cookie, tenant) = bulk_tenant(&state, &router, slug, n).await?;
        // PostgreSQL plans from statistics; a real database has them, a bulk load must ask.
        if label == "PostgreSQL" {
            sqlx::query("ANALYZE").execute(&db.pool).await?;
        }
        let page = (cookie.as_str(), tenant);
        let first = time_list(&router, page, "", None, 30).await?;
        let deep_before = deep_cursor(&db, tenant, n).await?;
        let deep = time_list(&router, page, "", Some(deep_before), 30).await?;
        let rare = time_list(&router, page, "key 4242", None, 30).await?;
        let tenth = time_list(&router, page, "key 9", None, 30).await?;
        let short = time_list(&router, page, "42", None, 30).await?;
        say(&format!(
            "  {label:<10} {n:>7} keys {:>9} {:>10} {:>18} {:>15} {:>11}",
            ms(first),
            ms(deep),
            ms(rare),
            ms(tenth),
            ms(short)
        ));
    }
    state.verifier.usage.flush().await;
    db.pool.close().await;
    Ok(())
}
