//! `latchkey operator-token …`, `tenant put|show|list|delete`, `member put`, `requirement …`
//! and `resource …`: the same store functions as `/v1/admin`, audited as `operator`. Other
//! processes hear every change through the database's triggers, as with the API.

use super::{app_err, say};
use server::config::{Global, OperatorTokenCommand, RequirementCommand, ResourceCommand};
use store::operator::tenants::{OperatorTenant, TenantInput};
use store::operator::{Call, Ops};

fn ops<'a>(db: &'a store::db::Db, global: &'a Global) -> Ops<'a> {
    Ops {
        db,
        verifier: None,
        resource_types: &global.resource_types,
    }
}

fn show(t: &OperatorTenant) -> String {
    let text = latchkey_domain::text::escape_unsafe;
    format!(
        "{} ({}) external_id={} slug={} plan={} status={} max_keys={} rate_per_minute={} metadata={}",
        t.public_id,
        text(&t.name),
        t.external_id.as_deref().unwrap_or("-"),
        t.slug,
        t.plan,
        t.status.as_str(),
        t.max_keys.map_or("plan".into(), |n| n.to_string()),
        t.rate_per_minute.map_or("plan".into(), |n| n.to_string()),
        serde_json::Value::Object(t.metadata.clone()),
    )
}

/// The tenant a command names: external id, `org_…` id or slug.
pub async fn tenant(db: &store::db::Db, name: &str) -> anyhow::Result<OperatorTenant> {
    store::operator::tenants::by_any_id(db, name)
        .await
        .map_err(|e| match e {
            latchkey_domain::error::AppError::NotFound => anyhow::anyhow!("no tenant {name:?}"),
            other => app_err(other),
        })
}

pub async fn token_command(global: &Global, cmd: OperatorTokenCommand) -> anyhow::Result<()> {
    let db = server::connect_keyed(global).await?;
    match cmd {
        OperatorTokenCommand::Create { name, scopes } => {
            let pepper = server::pepper(global, &db).await?;
            let (token, secret) = store::operator::tokens::create(&db, &pepper, &name, &scopes)
                .await
                .map_err(app_err)?;
            // The secret first, alone on its line, so scripts can take it with `head -1`.
            say(secret.expose());
            say(&format!(
                "Operator token {} ({}) with scopes: {}. Shown only now.",
                token.name, token.public_id, token.scopes
            ));
        }
        OperatorTokenCommand::List => {
            for t in store::operator::tokens::list(&db).await.map_err(app_err)? {
                say(&format!(
                    "{} {} {} scopes={} {}",
                    t.public_id,
                    t.name,
                    t.masked,
                    t.scopes,
                    if t.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    }
                ));
            }
        }
        OperatorTokenCommand::Revoke { name } => {
            let t = store::operator::tokens::revoke(&db, &name)
                .await
                .map_err(|e| match e {
                    latchkey_domain::error::AppError::NotFound => {
                        anyhow::anyhow!("no operator token {name:?}")
                    }
                    other => app_err(other),
                })?;
            say(&format!(
                "revoked operator token {} ({})",
                t.name, t.public_id
            ));
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn tenant_put(
    global: &Global,
    external_id: String,
    name: String,
    plan: latchkey_domain::Plan,
    max_keys: Option<u32>,
    rate_per_minute: Option<u32>,
    metadata: Option<String>,
    suspended: bool,
) -> anyhow::Result<()> {
    let db = server::connect_keyed(global).await?;
    let metadata = match metadata.as_deref().map(serde_json::from_str) {
        None => Default::default(),
        Some(Ok(serde_json::Value::Object(m))) => m,
        Some(_) => anyhow::bail!("--metadata must be a JSON object"),
    };
    let input = TenantInput {
        name,
        plan,
        max_keys,
        rate_per_minute,
        metadata,
        status: if suspended {
            latchkey_domain::operator::TenantStatus::Suspended
        } else {
            latchkey_domain::operator::TenantStatus::Active
        },
    };
    let (t, created) =
        store::operator::tenants::upsert(ops(&db, global), &external_id, &input, &Call::cli())
            .await
            .map_err(app_err)?;
    say(&format!(
        "{} {}",
        if created { "created" } else { "updated" },
        show(&t)
    ));
    Ok(())
}

pub async fn tenant_show(global: &Global, name: &str) -> anyhow::Result<()> {
    let db = server::connect_keyed(global).await?;
    say(&show(&tenant(&db, name).await?));
    Ok(())
}

pub async fn tenant_list(global: &Global) -> anyhow::Result<()> {
    let db = server::connect_keyed(global).await?;
    let mut after = None;
    loop {
        let (items, next) = store::operator::tenants::list(&db, None, None, after, 100)
            .await
            .map_err(app_err)?;
        for t in &items {
            say(&show(t));
        }
        match next {
            Some(n) => after = Some(n),
            None => return Ok(()),
        }
    }
}

pub async fn tenant_delete(global: &Global, name: &str) -> anyhow::Result<()> {
    let db = server::connect_keyed(global).await?;
    let t = tenant(&db, name).await?;
    let revoked = store::operator::tenants::delete(ops(&db, global), &t, &Call::cli())
        .await
        .map_err(app_err)?;
    say(&format!("deleted {} ({revoked} keys revoked)", t.public_id));
    Ok(())
}

pub async fn member_put(
    global: &Global,
    tenant_name: &str,
    external_id: &str,
    input: store::operator::members::MemberInput,
) -> anyhow::Result<()> {
    let db = server::connect_keyed(global).await?;
    let t = tenant(&db, tenant_name).await?;
    let (m, added) =
        store::operator::members::upsert(ops(&db, global), t.id, external_id, &input, &Call::cli())
            .await
            .map_err(app_err)?;
    say(&format!(
        "{} {} ({}) as {} of {}",
        if added { "added" } else { "updated" },
        m.email,
        external_id,
        m.role,
        t.public_id
    ));
    Ok(())
}

pub async fn requirement_command(global: &Global, cmd: RequirementCommand) -> anyhow::Result<()> {
    use store::operator::requirements::{self, Met, Requirement};
    let db = server::connect_keyed(global).await?;
    let (RequirementCommand::Set { tenant: name, .. }
    | RequirementCommand::Remove { tenant: name, .. }
    | RequirementCommand::List { tenant: name }) = &cmd;
    let t = tenant(&db, name).await?;
    let mut list = requirements::list(&db.pool, t.id).await.map_err(app_err)?;
    let changed = match cmd {
        RequirementCommand::List { .. } => false,
        RequirementCommand::Set { id, label, met, .. } => {
            match list.iter_mut().find(|r| r.id == id) {
                Some(r) => {
                    r.met = Met(met);
                    if let Some(l) = label {
                        r.label = l;
                    }
                }
                None => list.push(Requirement {
                    label: label
                        .ok_or_else(|| anyhow::anyhow!("a new requirement needs --label"))?,
                    id,
                    met: Met(met),
                }),
            }
            true
        }
        RequirementCommand::Remove { id, .. } => {
            let before = list.len();
            list.retain(|r| r.id != id);
            anyhow::ensure!(list.len() < before, "no requirement {id:?}");
            true
        }
    };
    if changed {
        list = requirements::set(ops(&db, global), t.id, &list, &Call::cli())
            .await
            .map_err(app_err)?;
    }
    for r in &list {
        say(&format!(
            "{} [{}] {}",
            r.id,
            if r.met.0 { "met" } else { "pending" },
            latchkey_domain::text::escape_unsafe(&r.label)
        ));
    }
    Ok(())
}

pub async fn resource_command(global: &Global, cmd: ResourceCommand) -> anyhow::Result<()> {
    use store::operator::resources;
    let db = server::connect_keyed(global).await?;
    let (ResourceCommand::Put { tenant: name, .. }
    | ResourceCommand::Remove { tenant: name, .. }
    | ResourceCommand::List { tenant: name }) = &cmd;
    let t = tenant(&db, name).await?;
    let ops = ops(&db, global);
    match cmd {
        ResourceCommand::Put { kind, id, name, .. } => {
            let (r, added) = resources::put(ops, t.id, &kind, &id, &name, &Call::cli())
                .await
                .map_err(app_err)?;
            let verb = if added { "added" } else { "updated" };
            say(&format!("{verb} {}:{} ({})", r.kind, r.id, r.name));
        }
        ResourceCommand::Remove { kind, id, .. } => {
            let n = resources::remove(ops, t.id, &kind, &id, &Call::cli())
                .await
                .map_err(app_err)?;
            say(&format!("removed {kind}:{id} ({n} limited keys lost it)"));
        }
        ResourceCommand::List { .. } => {
            for r in resources::list(ops, t.id, None).await.map_err(app_err)? {
                say(&format!(
                    "{}:{} {}",
                    r.kind,
                    r.id,
                    latchkey_domain::text::escape_unsafe(&r.name)
                ));
            }
        }
    }
    Ok(())
}
