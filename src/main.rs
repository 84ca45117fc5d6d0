//! `usher`: parses the command line, loads configuration, and hands over to the library.

use anyhow::Context;
use clap::Parser;
use serde_json::json;

use usher::cli::{Admin, Cli, Command, Outbox};
use usher::config::Config;
use usher::core::credentials::Bootstrapped;
use usher::core::roles::Role;

/// mimalloc instead of glibc's allocator: the request path allocates many small, short-lived
/// buffers (rows, JSON), where glibc spent a third of the CPU (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    usher::install_tls_provider();
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref(), &cli.overrides())?;
    usher::telemetry::init(config.log_format, &config.log_level);
    match cli.command {
        Command::Serve { .. } => serve(&config).await,
        Command::Migrate => {
            usher::app::open_core(&config).await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Openapi { output } => {
            let doc = usher::faces::openapi().to_pretty_json()?;
            match output {
                Some(p) => {
                    std::fs::write(&p, doc).with_context(|| format!("writing {}", p.display()))?
                }
                None => println!("{doc}"),
            }
            Ok(())
        }
        Command::Admin(a) => admin(&config, a).await,
    }
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    // Signal handlers are registered before the port opens, so no SIGTERM is ever missed.
    let stop = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let running = usher::app::start(config, listener).await?;
    if let Some(b) = usher::app::first_run(&running.state.core, config).await? {
        print_first_run(config, &b)?;
    }
    tracing::info!(listen = %running.addr, database = %usher::config::mask_url_password(&config.database_url()), "usher is listening");
    stop.await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM; the handlers are registered when this is called.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let ctrl_c = tokio::signal::ctrl_c();
    Ok(async move {
        #[cfg(unix)]
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
    })
}

fn bootstrap_json(b: &Bootstrapped) -> serde_json::Value {
    json!({
        "userId": b.user_id, "email": b.email, "password": b.password,
        "organizationId": b.org_id, "apiKey": b.api_key, "apiSecret": b.api_secret,
    })
}

fn print_first_run(config: &Config, b: &Bootstrapped) -> anyhow::Result<()> {
    let file = config.data_dir.join("initial-credentials.json");
    usher::app::write_private(
        &file,
        serde_json::to_string_pretty(&bootstrap_json(b))?.as_bytes(),
    )?;
    let base = config.public_url();
    println!(
        r#"
usher: first start on an empty database — created an owner, an organization and an API key.

  e-mail        {email}
  password      {password}
  organization  {org}
  API key       {key}
  API secret    {secret}

Shown once; also saved to {file} (readable by you only — delete it once stored).
Data folder {data}: database, master.key (mode 0600), mail/ (outgoing e-mail as .eml files).

First call (SOLAPI HMAC signature; needs openssl and curl):

  KEY={key} SECRET={secret}
  DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ); SALT=$(openssl rand -hex 16)
  SIG=$(printf '%s' "$DATE$SALT" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.* //')
  curl -s {base}/users/v1/member -H "Authorization: HMAC-SHA256 apiKey=$KEY, date=$DATE, salt=$SALT, signature=$SIG"

API browser: {base}/docs
"#,
        email = b.email,
        password = b.password,
        org = b.org_id,
        key = b.api_key,
        secret = b.api_secret,
        file = file.display(),
        data = config.data_dir.display(),
    );
    Ok(())
}

async fn admin(config: &Config, cmd: Admin) -> anyhow::Result<()> {
    if let Admin::Config = cmd {
        print!("{}", config.masked_toml()?);
        return Ok(());
    }
    // Before opening the configured database: that would migrate it, and it may be the source,
    // which migrate-data never changes.
    if let Admin::MigrateData { from, to, json } = cmd {
        return migrate_data(config, from, to, json).await;
    }
    let core = usher::app::open_core(config).await?;
    let result = run_admin(&core, cmd).await;
    core.db.close().await;
    result
}

async fn run_admin(core: &usher::core::Core, cmd: Admin) -> anyhow::Result<()> {
    let fail = |e: usher::core::CoreError| anyhow::anyhow!("{e}");
    match cmd {
        Admin::Config | Admin::MigrateData { .. } => {
            unreachable!("handled before opening the database")
        }
        Admin::Bootstrap {
            email,
            password,
            org_name,
            json,
        } => {
            let b = core
                .bootstrap(&email, password.as_deref(), org_name.as_deref())
                .await
                .map_err(fail)?;
            if json {
                println!("{}", bootstrap_json(&b));
            } else {
                println!(
                    "user {} ({})\npassword {}\norganization {}\nAPI key {}\nAPI secret {}",
                    b.user_id, b.email, b.password, b.org_id, b.api_key, b.api_secret
                );
            }
        }
        Admin::CreateUser {
            email,
            name,
            password,
            json,
        } => {
            let (u, pw) = core
                .admin_create_user(&email, name.as_deref(), password.as_deref())
                .await
                .map_err(fail)?;
            if json {
                println!(
                    "{}",
                    json!({"userId": u.id, "email": u.email, "password": pw})
                );
            } else {
                println!("user {} ({})\npassword {pw}", u.id, u.email);
            }
        }
        Admin::CreateOrg { name, owner_email } => {
            let id = core
                .admin_create_org(&name, &owner_email)
                .await
                .map_err(fail)?;
            println!("{id}");
        }
        Admin::AddMember { org, email, role } => {
            let role = match role.as_str() {
                "OWNER" => Role::Owner,
                "DEVELOPER" => Role::Developer,
                "MEMBER" => Role::Member,
                other => anyhow::bail!("unknown role {other}: use OWNER, DEVELOPER or MEMBER"),
            };
            core.admin_add_member(&org, &email, role)
                .await
                .map_err(fail)?;
            println!("added {email} to {org} as {}", role.as_str());
        }
        Admin::CreateApiKey {
            org,
            email,
            description,
            json,
        } => {
            let k = core
                .admin_create_api_key(&org, &email, &description)
                .await
                .map_err(fail)?;
            if json {
                println!(
                    "{}",
                    json!({"apiKey": k.row.id, "apiSecret": k.secret, "organizationId": k.row.org_id})
                );
            } else {
                println!("API key {}\nAPI secret {}", k.row.id, k.secret);
            }
        }
        Admin::Outbox(Outbox::List { state, json }) => {
            for m in core.admin_messages(state.as_deref()).await.map_err(fail)? {
                if json {
                    println!(
                        "{}",
                        json!({"messageId": m.id, "kind": m.kind, "purpose": m.purpose,
                            "organizationId": m.org_id, "recipient": m.recipient, "state": m.state,
                            "attempts": m.attempts, "nextAttemptAt": m.next_attempt_at,
                            "lastError": m.last_error, "dateCreated": m.created_at, "dateSent": m.sent_at})
                    );
                } else {
                    println!(
                        "{}  {:<7} {:<15} {:<40} attempts {}  {}",
                        m.id,
                        m.state,
                        m.purpose,
                        m.recipient,
                        m.attempts,
                        m.last_error.as_deref().unwrap_or("")
                    );
                }
            }
        }
        Admin::Outbox(Outbox::Retry { id, .. }) => {
            let n = core.admin_retry(id.as_deref()).await.map_err(fail)?;
            println!("re-queued {n} message(s)");
        }
    }
    Ok(())
}

/// `usher admin migrate-data`: copies, prints the verification table (or JSON) and fails unless
/// every table matched and the copy was committed.
async fn migrate_data(
    config: &Config,
    from: Option<String>,
    to: String,
    json: bool,
) -> anyhow::Result<()> {
    use usher::config::mask_url_password;
    use usher::store::transfer;
    let from = from.unwrap_or_else(|| config.database_url());
    let report = transfer::migrate_data(
        &config.db_options(from.clone()),
        &config.db_options(to.clone()),
    )
    .await?;
    let (from, to) = (mask_url_password(&from), mask_url_password(&to));
    if json {
        let tables: Vec<_> = report
            .tables
            .iter()
            .map(|t| {
                json!({"table": t.table, "rows": t.source_rows, "checksum": t.source_checksum,
                    "destinationRows": t.destination_rows,
                    "destinationChecksum": t.destination_checksum, "ok": t.ok()})
            })
            .collect();
        println!(
            "{}",
            json!({"from": from, "to": to, "tables": tables, "notCopied": report.skipped,
                "ok": report.ok(), "committed": report.committed})
        );
    } else {
        println!("{:<20} {:>9}  {:<64}  ok", "table", "rows", "checksum");
        for t in &report.tables {
            if t.ok() {
                println!(
                    "{:<20} {:>9}  {:<64}  ok",
                    t.table, t.source_rows, t.source_checksum
                );
            } else {
                println!(
                    "{:<20} {:>9}  {:<64}  MISMATCH: destination {} rows, {}",
                    t.table,
                    t.source_rows,
                    t.source_checksum,
                    t.destination_rows,
                    t.destination_checksum
                );
            }
        }
        if !report.skipped.is_empty() {
            println!("not copied (transient): {}", report.skipped.join(", "));
        }
    }
    if !report.committed {
        anyhow::bail!("verification failed: the copy into {to} was rolled back, nothing was kept");
    }
    eprintln!(
        "copied {from} into {to}. Run the server on it with this deployment's master key \
         ({}/master.key or master_key): encrypted API-key secrets, webhook secrets and queued \
         messages were copied as they are.",
        config.data_dir.display()
    );
    Ok(())
}
