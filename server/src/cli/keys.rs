//! `latchkey key …`.

use super::{app_err, say, tenant_by_slug};
use server::config::KeyCommand;
use store::audit::Actor;

async fn set_enabled(db: &store::db::Db, id: &str, enabled: bool) -> anyhow::Result<()> {
    let tenant_id = store::keys::tenant_of(db, id).await.map_err(app_err)?;
    let k = store::keys::set_enabled(db, tenant_id, &Actor::operator(), id, enabled)
        .await
        .map_err(app_err)?;
    say(&format!(
        "{} ({}) is {}",
        k.id,
        latchkey_domain::text::escape_unsafe(&k.name),
        k.status.label()
    ));
    Ok(())
}

/// The operator's key commands: same validation, plan limits and audit events as the UI.
pub async fn key_command(global: &server::config::Global, cmd: KeyCommand) -> anyhow::Result<()> {
    use latchkey_domain::views::NewKey;
    use store::keys;
    let db = server::connect_keyed(global).await?;
    match cmd {
        KeyCommand::Create {
            tenant,
            name,
            description,
            mode,
            scopes,
            allow,
            expires_on,
        } => {
            latchkey_domain::cidr::check_entries(&allow)
                .map_err(|message| anyhow::anyhow!("--allow: {message}"))?;
            let (tenant_id, plan) = tenant_by_slug(&db, &tenant).await?;
            let pepper = server::pepper(global, &db).await?;
            let catalogue = server::scope_catalogue(global)?;
            let (key, secret) = keys::create(
                &db,
                &pepper,
                &catalogue,
                tenant_id,
                plan,
                &Actor::operator(),
                NewKey {
                    name,
                    description,
                    mode: Some(mode),
                    scopes,
                    allowlist: allow.join("\n"),
                    expires_on,
                    resources: Vec::new(),
                },
                None,
                None,
                &[],
            )
            .await
            .map_err(app_err)?;
            say(&format!(
                "created {} ({}, {} mode, scopes: {})\n\nSecret (shown once, store it now):\n{}",
                key.id,
                key.name,
                key.mode,
                key.scopes.join(" "),
                secret.expose()
            ));
            Ok(())
        }
        KeyCommand::List { tenant, all } => {
            let (tenant_id, _) = tenant_by_slug(&db, &tenant).await?;
            let mut before = None;
            loop {
                let query = keys::KeyQuery {
                    include_revoked: all,
                    before,
                    limit: 500,
                    ..Default::default()
                };
                let (page, next) = keys::list(&db, tenant_id, &query).await.map_err(app_err)?;
                // Names are typed by people: escape what a terminal would act on (escape
                // sequences, bidi overrides, tabs that would shift the columns).
                use latchkey_domain::text::escape_unsafe;
                for k in page {
                    say(&format!(
                        "{}\t{}\t{}\t{:?}\t{}\t{}",
                        k.id,
                        k.masked,
                        k.mode,
                        k.status,
                        escape_unsafe(&k.scopes.join(",")),
                        escape_unsafe(&k.name)
                    ));
                }
                match next {
                    Some(n) => before = Some(n),
                    None => break,
                }
            }
            Ok(())
        }
        KeyCommand::Revoke { id, reason } => {
            let tenant_id = keys::tenant_of(&db, &id).await.map_err(app_err)?;
            let k = keys::revoke(&db, tenant_id, &Actor::operator(), &id, &reason)
                .await
                .map_err(app_err)?;
            say(&format!("{} ({}) is {:?}", k.id, k.name, k.status));
            Ok(())
        }
        KeyCommand::Roll { id, overlap } => {
            let tenant_id = keys::tenant_of(&db, &id).await.map_err(app_err)?;
            let plan = store::tenants::plan_of(&db, tenant_id)
                .await
                .map_err(app_err)?;
            let pepper = server::pepper(global, &db).await?;
            let rolled = keys::roll(
                &db,
                &pepper,
                tenant_id,
                plan,
                &Actor::operator(),
                &id,
                overlap,
            )
            .await
            .map_err(app_err)?;
            let until = rolled
                .old
                .expires_at
                .map(latchkey_domain::time::format_ms)
                .unwrap_or_default();
            say(&format!(
                "rolled {} into {} ({}); the old key works until {until}\n\nSecret (shown once, store it now):\n{}",
                rolled.old.id,
                rolled.new.id,
                latchkey_domain::text::escape_unsafe(&rolled.new.name),
                rolled.secret.expose()
            ));
            Ok(())
        }
        KeyCommand::Disable { id } => set_enabled(&db, &id, false).await,
        KeyCommand::Enable { id } => set_enabled(&db, &id, true).await,
    }
}
