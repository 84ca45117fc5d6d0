//! Start-up: data folder and master key, database and migrations, the first owner on an empty
//! database, the outbox worker, and the HTTP server with graceful shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::auth::{Authenticator, HmacWindow};
use crate::config::Config;
use crate::core::{Core, Settings, clock::Clock, credentials::Bootstrapped, crypto, password};
use crate::delivery::Worker;
use crate::faces::{AppState, limits::Limits};
use crate::store::Db;

const DEFAULT_AGREEMENT: &str = "<h1>usher 이용 약관 (Terms of use)</h1><p>This usher deployment has not configured its \
terms yet. Operators set them with the <code>agreement_html</code> setting.</p>";

/// Creates a file readable and writable by its owner only.
pub fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents)?;
    Ok(())
}

fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating data folder {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// The master key: from configuration, else `<data_dir>/master.key`, generated on first use.
fn master_key(config: &Config) -> anyhow::Result<[u8; crypto::MASTER_KEY_LEN]> {
    if let Some(k) = &config.master_key {
        return crypto::decode_master_key(k).context("master_key must be base64 of 32 bytes");
    }
    let path = config.data_dir.join("master.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)?;
        return crypto::decode_master_key(&text)
            .with_context(|| format!("{} is not a valid master key", path.display()));
    }
    let key = crypto::generate_master_key();
    write_private(
        &path,
        format!("{}\n", crypto::encode_master_key(&key)).as_bytes(),
    )?;
    Ok(key)
}

/// Instances sharing a database must share the master key (API-key secrets, webhook secrets and
/// queued mail are encrypted under it). The first start records a value encrypted under its key;
/// a start with another key stops here, before it could fail on every secret it reads.
async fn check_master_key(db: &Db, crypto: &crypto::Crypto) -> anyhow::Result<()> {
    const CONTEXT: &str = "deployment.master_key_check";
    let mine = crypto.encrypt(CONTEXT, b"usher");
    let recorded =
        crate::store::guards::deployment_fact(&mut *db.write().await?, "master_key_check", &mine)
            .await
            .context("reading the master key check")?;
    anyhow::ensure!(
        crypto.decrypt(CONTEXT, &recorded).is_ok(),
        "the master key is not the one this database was set up with: every instance on one \
         database must use the same master_key (or the same <data_dir>/master.key)"
    );
    Ok(())
}

/// Opens the database (migrating it) and builds the core: what `serve` and `admin` share.
pub async fn open_core(config: &Config) -> anyhow::Result<Arc<Core>> {
    prepare_data_dir(&config.data_dir)?;
    let key = master_key(config)?;
    let db = Db::connect(&config.db_options(config.database_url()))
        .await
        .with_context(|| {
            format!(
                "opening database {}",
                crate::config::mask_url_password(&config.database_url())
            )
        })?;
    db.migrate().await.context("applying migrations")?;
    check_master_key(&db, &crypto::Crypto::new(&key)).await?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    Ok(Arc::new(Core {
        db,
        clock: Arc::new(Clock::default()),
        crypto: crypto::Crypto::new(&key),
        hasher: password::Hasher::new(config.hash_concurrency.unwrap_or(cores)),
        settings: Settings {
            invitation_ttl: time::Duration::seconds(config.invitation_ttl_secs),
            session_ttl: time::Duration::seconds(config.session_ttl_secs),
            token_ttl: time::Duration::seconds(config.token_ttl_secs),
            password_policy: password::Policy {
                min_chars: config.password_min_chars,
                max_chars: config.password_max_chars,
            },
            signup_open: config.signup_open,
            send_limits: crate::core::SendLimits {
                per_recipient: config.invitation_sends_per_recipient,
                recipient_window: time::Duration::seconds(config.invitation_sends_window_secs),
                per_org_per_day: config.invitation_sends_per_org_per_day,
            },
            links: config.mail_links(),
            mail_language: config.mail_language()?,
            agreement_html: config
                .agreement_html
                .clone()
                .unwrap_or_else(|| DEFAULT_AGREEMENT.to_owned()),
        },
        webhooks: crate::core::webhooks::directory(),
        outbox_wakeup: Arc::new(Notify::new()),
    }))
}

/// A running server: its address and state (tests reach the clock and the database through it).
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, drains requests in flight, stops the worker, closes the database.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        self.state.core.db.close().await;
    }
}

/// Records overdue invitations as EXPIRED every `every`, starting at once.
async fn sweep(core: Arc<Core>, every: std::time::Duration, mut stop: watch::Receiver<bool>) {
    loop {
        match core.sweep_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "expired invitations recorded"),
            Err(e) => tracing::warn!(error = %e, "expiry sweep failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

/// SQLite: checkpoints the write-ahead log beside the writer ([`Db::checkpoint`]).
async fn checkpoints(core: Arc<Core>, mut stop: watch::Receiver<bool>) {
    if core.db.backend != crate::store::Backend::Sqlite {
        return;
    }
    loop {
        tokio::select! {
            _ = tokio::time::sleep(crate::store::CHECKPOINT_EVERY) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = core.db.checkpoint().await {
            tracing::warn!(error = %e, "checkpoint failed");
        }
    }
}

/// Every minute: forgets idle in-memory rate-limit entries and purges expired shared state
/// (replay guard, counters, sessions, e-mailed tokens) in small batches, so that no statement
/// holds locks long. Every instance purges; on one database they merely share the work.
async fn housekeeping(core: Arc<Core>, limits: Arc<Limits>, mut stop: watch::Receiver<bool>) {
    const BATCH: i64 = 1_000;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = stop.changed() => return,
        }
        limits.shrink();
        loop {
            match core.purge_expired(BATCH).await {
                Ok(n) if n < BATCH as u64 => break,
                Ok(_) => tokio::task::yield_now().await,
                Err(e) => {
                    tracing::warn!(error = %e, "purging expired state failed");
                    break;
                }
            }
        }
    }
}

/// Starts everything on `listener`; returns once the server accepts connections.
pub async fn start(config: &Config, listener: TcpListener) -> anyhow::Result<Running> {
    let core = open_core(config).await?;
    let window = HmacWindow {
        past: time::Duration::minutes(15),
        future: time::Duration::seconds(config.hmac_future_tolerance_secs),
    };
    let state = AppState {
        core: core.clone(),
        auth: Arc::new(Authenticator::new(core.clone(), window)),
        limits: Arc::new(Limits::new(&core.db, config.auth_rate_per_minute)),
        metrics: crate::telemetry::metrics_handle(),
        trusted_proxy_hops: config.trusted_proxy_hops,
        secure_cookies: config.public_url().starts_with("https://"),
        digest_algorithm: config.digest_algorithm()?,
    };
    let (tx, rx) = watch::channel(false);
    let worker = Worker::new(
        core.clone(),
        &config.mail_transport()?,
        &config.mail_from,
        time::Duration::seconds(config.outbox_lease_secs),
        std::time::Duration::from_secs(config.webhook_timeout_secs),
    )?;
    let mut tasks = Vec::new();
    if config.outbox_worker {
        tasks.push(match core.db.backend {
            crate::store::Backend::Sqlite => worker.spawn_niced(config.outbox_nice, rx.clone())?,
            crate::store::Backend::Postgres => tokio::spawn(worker.run(rx.clone())),
        });
    }

    tasks.push(tokio::spawn(housekeeping(
        core.clone(),
        state.limits.clone(),
        rx.clone(),
    )));
    tasks.push(tokio::spawn(checkpoints(core.clone(), rx.clone())));
    tasks.push(tokio::spawn(sweep(
        core.clone(),
        std::time::Duration::from_secs(config.sweep_interval_secs),
        rx.clone(),
    )));

    let addr = listener.local_addr()?;
    let app = crate::faces::router(state.clone(), config.max_body_bytes);
    let mut server_rx = rx;
    tasks.push(tokio::spawn(async move {
        let shutdown = async move {
            let _ = server_rx.wait_for(|stop| *stop).await;
        };
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, service)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "server failed");
        }
    }));
    Ok(Running {
        addr,
        state,
        shutdown: tx,
        tasks,
    })
}

/// On an empty database: creates the first owner, organization and API key, and returns them
/// (the caller prints them once and stores them in a file only its owner can read).
/// Several instances starting at once on one empty database all see it empty; one creates the
/// owner and the others' attempts fail on the unique e-mail, which is not an error for them.
pub async fn first_run(core: &Core, config: &Config) -> anyhow::Result<Option<Bootstrapped>> {
    if core.user_count().await? > 0 {
        return Ok(None);
    }
    match core.bootstrap(&config.first_owner_email, None, None).await {
        Ok(b) => Ok(Some(b)),
        Err(_) if core.user_count().await? > 0 => Ok(None),
        Err(e) => Err(e.into()),
    }
}
