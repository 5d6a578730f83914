//! `latchkey`: parse the command line, set up logging, run the command.

use clap::Parser;
use cli::{app_err, say, tenant_by_slug};
use latchkey_domain::error::AppError;
use server::config::{Cli, Command, LogFormat, MemberCommand, TenantCommand, UserCommand};
use std::process::ExitCode;
use store::audit::{record_now, Actor, AuditAction, Event};
use store::members::Manager::Operator;
use tracing_subscriber::EnvFilter;

mod cli;

// Requests allocate many small, short-lived buffers (headers, JSON, request-log rows) across
// threads; mimalloc's per-thread free lists cost less CPU there than glibc's malloc (see the
// note of the multi-replica issue for the measurement).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

async fn run(cli: Cli) -> anyhow::Result<()> {
    let global = cli.global;
    match cli.command {
        Command::Serve(args) => {
            let _sqlite_claim = server::claim_sqlite(&global)?;
            let options = server::leptos_options(&args);
            server::site::check(std::path::Path::new(&*options.site_root))?;
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
                options,
                args.addr,
                args.http_limits(),
                args.metrics_addr,
            )
            .await
        }
        Command::Migrate => {
            server::connect(&global).await?;
            say("migrations applied");
            Ok(())
        }
        Command::Tenant(TenantCommand::Create { slug, name, plan }) => {
            let db = server::connect_keyed(&global).await?;
            let id = store::tenants::create_tenant(&db, &slug, &name, plan)
                .await
                .map_err(app_err)?;
            let details = serde_json::json!({ "slug": slug, "name": name, "plan": plan.as_str() });
            let event = Event::tenant(id, AuditAction::TenantCreated, details);
            record_now(&db, &Actor::operator(), event)
                .await
                .map_err(app_err)?;
            let t = store::operator::tenants::by_id(&db, id)
                .await
                .map_err(app_err)?;
            say(&format!("created tenant {} ({slug}, {plan})", t.public_id));
            Ok(())
        }
        Command::User(UserCommand::Create {
            email,
            name,
            password,
        }) => {
            let db = server::connect_keyed(&global).await?;
            let id = store::auth::create_user(&db, &email, &name, &password)
                .await
                .map_err(app_err)?;
            let details = serde_json::json!({ "email": email, "name": name });
            let event = Event::user(None, AuditAction::UserCreated, id, details);
            record_now(&db, &Actor::operator(), event)
                .await
                .map_err(app_err)?;
            say(&format!("created user {id} ({email})"));
            Ok(())
        }
        Command::User(UserCommand::ResetPassword { email, public_url }) => {
            let db = server::connect_keyed(&global).await?;
            let token = store::auth::password::issue_reset(&db, &email)
                .await
                .map_err(|e| match e {
                    AppError::NotFound => anyhow::anyhow!("no user with email {email:?}"),
                    other => app_err(other),
                })?;
            say(&format!(
                "Reset link for {email} (works once, for {} hours; shown only now):\n{public_url}/reset#{}",
                store::auth::password::RESET_HOURS,
                token.expose()
            ));
            Ok(())
        }
        Command::Tenant(TenantCommand::Put {
            external_id,
            name,
            plan,
            max_keys,
            rate_per_minute,
            metadata,
            suspended,
        }) => {
            cli::operator::tenant_put(
                &global,
                external_id,
                name,
                plan,
                max_keys,
                rate_per_minute,
                metadata,
                suspended,
            )
            .await
        }
        Command::Tenant(TenantCommand::Show { tenant }) => {
            cli::operator::tenant_show(&global, &tenant).await
        }
        Command::Tenant(TenantCommand::List) => cli::operator::tenant_list(&global).await,
        Command::Tenant(TenantCommand::Delete { tenant }) => {
            cli::operator::tenant_delete(&global, &tenant).await
        }
        Command::Member(MemberCommand::Put {
            tenant,
            external_id,
            email,
            name,
            role,
        }) => {
            let input = store::operator::members::MemberInput { email, name, role };
            cli::operator::member_put(&global, &tenant, &external_id, input).await
        }
        Command::OperatorToken(cmd) => cli::operator::token_command(&global, cmd).await,
        Command::Requirement(cmd) => cli::operator::requirement_command(&global, cmd).await,
        Command::Resource(cmd) => cli::operator::resource_command(&global, cmd).await,
        Command::Member(cmd) => {
            let db = server::connect_keyed(&global).await?;
            let (MemberCommand::Add { tenant, email, .. }
            | MemberCommand::Remove { tenant, email }
            | MemberCommand::Put { tenant, email, .. }) = &cmd;
            let (tenant_id, _) = tenant_by_slug(&db, tenant).await?;
            let user_id = store::auth::user_id_by_email(&db, email)
                .await
                .map_err(app_err)?
                .ok_or_else(|| anyhow::anyhow!("no user with email {email:?}"))?;
            let done = match &cmd {
                MemberCommand::Add { role, .. } => {
                    store::tenants::add_member(&db, tenant_id, user_id, *role, &Actor::operator())
                        .await
                        .map(|()| format!("{email} is now {role} of {tenant}"))
                }
                MemberCommand::Put { .. } => Ok("handled above".to_owned()),
                MemberCommand::Remove { .. } => {
                    store::members::remove(&db, tenant_id, Operator, &Actor::operator(), user_id)
                        .await
                        .map(|()| format!("{email} is no longer a member of {tenant}"))
                }
            };
            say(&done.map_err(app_err)?);
            Ok(())
        }
        Command::Key(cmd) => cli::keys::key_command(&global, cmd).await,
        Command::Audit(cmd) => cli::audit::audit_command(&global, cmd).await,
    }
}
