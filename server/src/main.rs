//! `latchkey`: parse the command line, set up logging, run the command.

use clap::Parser;
use latchkey_domain::error::AppError;
use server::config::{
    Cli, Command, KeyCommand, LogFormat, MemberCommand, TenantCommand, UserCommand,
};
use std::io::Write;
use std::process::ExitCode;
use store::audit::Actor;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_new(&cli.global.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.global.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Operator output (results, the demo banner) goes to stdout; logs go to stderr.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

fn app_err(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation(errs) => anyhow::anyhow!(
            "{}",
            errs.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let global = cli.global;
    match cli.command {
        Command::Serve(args) => {
            let state = server::build_state(&global, &args).await?;
            if args.demo {
                let mut banner = format!(
                    "\nLatchkey is running at http://{}\n\nDemo sign-ins (password for all: {}):\n",
                    args.addr,
                    store::demo::DEMO_PASSWORD
                );
                for l in store::demo::DEMO_LOGINS {
                    banner.push_str(&format!("  {:<26} {}\n", l.email, l.what));
                }
                say(&banner);
            }
            server::serve(
                state,
                server::leptos_options(&args),
                args.addr,
                args.http_limits(),
            )
            .await
        }
        Command::Migrate => {
            server::connect(&global).await?;
            say("migrations applied");
            Ok(())
        }
        Command::Tenant(TenantCommand::Create { slug, name, plan }) => {
            let db = server::connect(&global).await?;
            let id = store::tenants::create_tenant(&db, &slug, &name, plan)
                .await
                .map_err(app_err)?;
            say(&format!("created tenant {id} ({slug}, {plan})"));
            Ok(())
        }
        Command::User(UserCommand::Create {
            email,
            name,
            password,
        }) => {
            let db = server::connect(&global).await?;
            let id = store::auth::create_user(&db, &email, &name, &password)
                .await
                .map_err(app_err)?;
            say(&format!("created user {id} ({email})"));
            Ok(())
        }
        Command::Member(MemberCommand::Add {
            tenant,
            email,
            role,
        }) => {
            let db = server::connect(&global).await?;
            let (tenant_id, _) = tenant_by_slug(&db, &tenant).await?;
            let user_id = store::auth::user_id_by_email(&db, &email)
                .await
                .map_err(app_err)?
                .ok_or_else(|| anyhow::anyhow!("no user with email {email:?}"))?;
            store::tenants::add_member(&db, tenant_id, user_id, role, &Actor::operator())
                .await
                .map_err(app_err)?;
            say(&format!("{email} is now {role} of {tenant}"));
            Ok(())
        }
        Command::Key(cmd) => key_command(&global, cmd).await,
    }
}

async fn tenant_by_slug(
    db: &store::db::Db,
    slug: &str,
) -> anyhow::Result<(i64, latchkey_domain::Plan)> {
    store::tenants::by_slug(db, slug)
        .await
        .map_err(app_err)?
        .ok_or_else(|| anyhow::anyhow!("no tenant with slug {slug:?}"))
}

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
async fn key_command(global: &server::config::Global, cmd: KeyCommand) -> anyhow::Result<()> {
    use latchkey_domain::views::NewKey;
    use store::keys;
    let db = server::connect(global).await?;
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
            let (tenant_id, plan) = tenant_by_slug(&db, &tenant).await?;
            let pepper = store::pepper::load_or_create(global.pepper.as_deref(), &global.data_dir)?;
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
                },
                None,
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
            let pepper = store::pepper::load_or_create(global.pepper.as_deref(), &global.data_dir)?;
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
