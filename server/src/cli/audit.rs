//! `latchkey audit export | verify | anchor | prune`.

use super::{app_err, say, tenant_by_slug};
use anyhow::Context;
use futures_util::StreamExt;
use latchkey_domain::audit::AuditAction;
use latchkey_domain::views::AuditQuery;
use server::config::AuditCommand;
use store::audit::anchor::{self, Anchor};
use store::audit::chain::{verify_all, ChainReport};
use store::audit::retention::{self, Retention};
use store::audit::{export::csv_stream, record_now, Actor, AuditFilter, Event};
use tokio::io::AsyncWriteExt;

pub async fn audit_command(
    global: &server::config::Global,
    cmd: AuditCommand,
) -> anyhow::Result<()> {
    // Every audit command reads or writes links, which need the key the pepper gives.
    let db = server::connect_keyed(global).await?;
    match cmd {
        AuditCommand::Export {
            tenant,
            key,
            actor,
            action,
            from,
            to,
        } => {
            let (tenant_id, _) = tenant_by_slug(&db, &tenant).await?;
            let query = AuditQuery {
                key,
                actor,
                action,
                from,
                to,
            };
            let filter = AuditFilter::from_query(&query).map_err(app_err)?;
            let described = server::audit_export::describe(&query);
            let details = serde_json::json!({ "filter": described, "via": "cli" });
            let event = Event::tenant(tenant_id, AuditAction::AuditExported, details);
            record_now(&db, &Actor::operator(), event)
                .await
                .map_err(app_err)?;
            let mut out = tokio::io::stdout();
            let mut chunks = Box::pin(csv_stream(db.clone(), tenant_id, filter));
            while let Some(chunk) = chunks.next().await {
                out.write_all(&chunk.map_err(app_err)?).await?;
            }
            out.flush().await?;
            Ok(())
        }
        AuditCommand::Verify { tenant, against } => {
            let tenant_id = match tenant {
                Some(slug) => Some(tenant_by_slug(&db, &slug).await?.0),
                None => None,
            };
            let reports = verify_all(&db, tenant_id).await.map_err(app_err)?;
            let mut broken = 0;
            for r in &reports {
                say(&line(r));
                broken += usize::from(r.broken.is_some());
            }
            if let Some(file) = against {
                broken += check_anchors(&db, &file, tenant_id).await?;
            }
            if broken > 0 {
                anyhow::bail!("{broken} audit chain(s) broken");
            }
            Ok(())
        }
        AuditCommand::Anchor { out } => {
            let anchors = anchor::take(&db).await.map_err(app_err)?;
            let lines: String = anchors.iter().map(|a| a.to_line() + "\n").collect();
            match out {
                Some(file) => {
                    use std::io::Write;
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&file)
                        .with_context(|| format!("opening {}", file.display()))?;
                    f.write_all(lines.as_bytes())?;
                    f.sync_all()?;
                    say(&format!(
                        "anchored {} chain(s) in {}",
                        anchors.len(),
                        file.display()
                    ));
                }
                None if anchors.is_empty() => {}
                None => say(lines.trim_end()),
            }
            Ok(())
        }
        AuditCommand::Prune {
            older_than_days,
            system_max_events,
        } => {
            let r = Retention {
                keep_for: older_than_days
                    .map(|d| std::time::Duration::from_secs(u64::from(d) * 86_400)),
                system_rows: system_max_events.max(1),
            };
            let done = retention::run(&db, r).await.map_err(app_err)?;
            for p in &done {
                say(&format!(
                    "{}: removed {} events through place {}",
                    chain_name(p.chain),
                    p.removed,
                    p.through_seq
                ));
            }
            if done.is_empty() {
                say("nothing to prune");
            }
            Ok(())
        }
    }
}

/// Checks every anchor in `file` (one tenant's, with `--tenant`); returns how many failed.
async fn check_anchors(
    db: &store::db::Db,
    file: &std::path::Path,
    tenant_id: Option<i64>,
) -> anyhow::Result<usize> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut anchors =
        anchor::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    if tenant_id.is_some() {
        anchors.retain(|a: &Anchor| a.tenant_id == tenant_id);
    }
    let bad = anchor::check(db, &anchors).await.map_err(app_err)?;
    for m in &bad {
        let name = chain_name(
            m.anchor
                .tenant_id
                .unwrap_or(store::audit::chain::SYSTEM_CHAIN),
        );
        say(&format!(
            "{name}: BROKEN against the anchor at place {}: {}",
            m.anchor.seq, m.reason
        ));
    }
    say(&format!(
        "{} anchor(s) checked against {}, {} broken",
        anchors.len(),
        file.display(),
        bad.len()
    ));
    Ok(bad.len())
}

fn chain_name(chain: i64) -> String {
    if chain == store::audit::chain::SYSTEM_CHAIN {
        "tenant-less log".to_owned()
    } else {
        format!("tenant {chain}")
    }
}

fn line(r: &ChainReport) -> String {
    let name = chain_name(r.tenant_id.unwrap_or(store::audit::chain::SYSTEM_CHAIN));
    let mut s = format!("{name}: {} events verified", r.verified);
    if r.legacy > 0 {
        s.push_str(&format!(
            " ({} from before keyed links, under the old rule)",
            r.legacy
        ));
    }
    if r.unsealed > 0 {
        s.push_str(&format!(
            ", {} older events carry no hash (before the chain)",
            r.unsealed
        ));
    }
    if let Some(p) = r.pruned_through {
        s.push_str(&format!(", pruned through place {p}"));
    }
    match &r.broken {
        Some(b) => format!("{s}\nBROKEN at {b}"),
        None => format!("{s}, intact"),
    }
}
