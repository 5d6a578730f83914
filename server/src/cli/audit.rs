//! `latchkey audit export | verify | prune`.

use super::{app_err, say, tenant_by_slug};
use futures_util::StreamExt;
use latchkey_domain::audit::AuditAction;
use latchkey_domain::views::AuditQuery;
use server::config::AuditCommand;
use store::audit::chain::{verify_all, ChainReport};
use store::audit::retention::{self, Retention};
use store::audit::{export::csv_stream, record_now, Actor, AuditFilter, Event};
use tokio::io::AsyncWriteExt;

pub async fn audit_command(
    global: &server::config::Global,
    cmd: AuditCommand,
) -> anyhow::Result<()> {
    let db = server::connect(global).await?;
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
        AuditCommand::Verify { tenant } => {
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
            if broken > 0 {
                anyhow::bail!("{broken} audit chain(s) broken");
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
