//! Storage: one code path over SQLite (default, embedded) and PostgreSQL, through `sqlx::Any`
//! and portable SQL. Backend quirks live in this file only.
//!
//! SQLite runs in WAL mode with a pool of readers and writers that take turns on one mutex (so
//! they never fight over the lock): interactive transactions on sqlx's writer connection, and
//! batches on a thread and connection of their own ([`group_commit`]). On PostgreSQL every role
//! shares one pool.
//!
//! The SQLite writer is held by this module behind a mutex rather than in a pool of one: sqlx
//! pings every connection a pool takes back, which on SQLite is one more round trip through the
//! connection's thread after every write, made while the next writer waits (about one in six of
//! an invitation create's round trips; docs/benchmarks.md).

pub mod access_lists;
pub mod audit;
pub mod credentials;
pub mod deferred;
mod group_commit;
pub mod guards;
pub mod invitations;
pub mod json_rows;
pub mod named;
pub mod orgs;
pub mod outbox;
pub mod projects;
pub mod rows;
pub mod service_accounts;
pub mod teams;
pub mod transfer;
pub mod users;
pub mod webhooks;

use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use deferred::{Batch, Deferred, WrittenRow, written};
use group_commit::GroupCommit;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl FromStr for Backend {
    type Err = anyhow::Error;
    fn from_str(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!("unsupported database URL scheme (use sqlite:// or postgres://)")
        }
    }
}

/// The database handle every layer above shares.
#[derive(Clone, Debug)]
pub struct Db {
    pub backend: Backend,
    reader: AnyPool,
    writer: Writer,
    /// PostgreSQL: connections whose commits do not wait for the WAL flush, for state that may
    /// lose its last instant in a database crash ([`guards`]). SQLite: the writer.
    relaxed: Writer,
    /// Moves when a write transaction of this process begins and after it commits; caches of
    /// database state remember it and are stale once it has moved.
    generation: Arc<AtomicU64>,
    /// SQLite: a connection of its own for [`Db::checkpoint`], so that copying the write-ahead
    /// log into the database file holds neither the writer nor a reader. PostgreSQL: `None`.
    checkpointer: Option<Arc<Mutex<Option<AnyConnection>>>>,
}

#[derive(Debug, Clone)]
pub struct DbOptions {
    pub url: String,
    pub max_connections: u32,
    pub connect_timeout: Duration,
    /// PostgreSQL: longest a statement may run before the server cancels it. SQLite: longest a
    /// statement waits for the database lock.
    pub statement_timeout: Duration,
}

/// Errors of the store that callers act on; everything else is `Other`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint violated: {0}")]
    Unique(String),
    #[error(transparent)]
    Other(#[from] sqlx::Error),
}

impl StoreError {
    /// Classifies a sqlx error: unique violations carry the constraint (or index) name, which the
    /// migrations name identically on both backends.
    pub fn classify(e: sqlx::Error) -> StoreError {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            let name = db
                .constraint()
                .map(str::to_owned)
                .unwrap_or_else(|| db.message().to_owned());
            return StoreError::Unique(name);
        }
        StoreError::Other(e)
    }

    /// Whether `e` is a unique violation.
    pub fn is_unique(e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
    }
}

impl Db {
    pub async fn connect(opts: &DbOptions) -> anyhow::Result<Db> {
        install_default_drivers();
        let backend: Backend = opts.url.parse()?;
        match backend {
            Backend::Sqlite => {
                let conn = OwnedWriter {
                    state: Arc::new(Mutex::new(WriterState {
                        conn: Some(sqlite_writer(opts).await?),
                        in_transaction: false,
                    })),
                    acquire_timeout: opts.connect_timeout,
                };
                let batches = GroupCommit::start(
                    conn.clone(),
                    group_commit::Settings {
                        url: &sqlite_url(opts),
                        pragmas: &sqlite_pragmas(opts.statement_timeout),
                        busy_timeout: opts.statement_timeout,
                    },
                )?;
                let writer = Writer::Owned { conn, batches };
                let reader = sqlite_pool(opts, opts.max_connections.max(1)).await?;
                let checkpointer = Arc::new(Mutex::new(Some(sqlite_writer(opts).await?)));
                Ok(Db {
                    backend,
                    reader,
                    relaxed: writer.clone(),
                    writer,
                    generation: Arc::default(),
                    checkpointer: Some(checkpointer),
                })
            }
            Backend::Postgres => {
                let pool = postgres_pool(opts, opts.max_connections.max(2), &[]).await?;
                let relaxed = postgres_pool(
                    opts,
                    (opts.max_connections / 2).max(2),
                    &["SET synchronous_commit = off"],
                )
                .await?;
                Ok(Db {
                    backend,
                    reader: pool.clone(),
                    writer: Writer::Pool(pool),
                    relaxed: Writer::Pool(relaxed),
                    generation: Arc::default(),
                    checkpointer: None,
                })
            }
        }
    }

    /// Applies the embedded migrations of this backend (idempotent).
    ///
    /// On PostgreSQL sqlx holds an advisory lock while it migrates. On SQLite it takes none, so
    /// two processes starting at once (a server and `usher bootstrap`) can both decide a
    /// migration is due; the one that loses finds the table already there and its migration's
    /// transaction rolls back. It then tries again, and finds the migration applied.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self.backend {
            Backend::Sqlite => {
                let migrator = sqlx::migrate!("migrations/sqlite");
                let mut attempt = 0;
                loop {
                    let outcome = migrator.run(&mut *self.write().await?).await;
                    let Err(e) = outcome else { break };
                    attempt += 1;
                    if attempt == 5 {
                        return Err(e.into());
                    }
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
            }
            Backend::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run(&mut *self.write().await?)
                    .await?
            }
        }
        Ok(())
    }

    /// Pool for reads that need no transaction.
    pub fn read(&self) -> &AnyPool {
        &self.reader
    }

    /// The writer, for self-contained write statements (each atomic on its own). Waits at most
    /// the connect timeout for a writer that is busy (as a pool's acquire does).
    pub async fn write(&self) -> Result<WriteConn, sqlx::Error> {
        self.writer.acquire().await
    }

    /// For single statements on short-lived shared state ([`guards`]); see `relaxed`.
    pub async fn relaxed(&self) -> Result<WriteConn, sqlx::Error> {
        self.relaxed.acquire().await
    }

    /// Starts a write transaction. On SQLite, `BEGIN IMMEDIATE` would be ideal, but the single
    /// writer connection already serializes writers, so a deferred transaction cannot deadlock.
    pub async fn begin(&self) -> Result<WriteTx, sqlx::Error> {
        let tx = self.writer.begin().await?;
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(WriteTx::new(tx, Some(self.generation.clone())))
    }

    /// [`Db::begin`] for a transaction that changes only invitations, their audit events and
    /// the outbox: nothing a cached actor is made of (users, keys, memberships, organizations,
    /// access lists), so it leaves the write generation alone. Without this, every invitation
    /// created or cancelled sent the next request of every key back to the database.
    pub async fn begin_keeping_actors(&self) -> Result<WriteTx, sqlx::Error> {
        Ok(WriteTx::new(self.writer.begin().await?, None))
    }

    /// Runs `statements` as one transaction that, like [`Db::begin_keeping_actors`], leaves
    /// cached actors alone, and returns the rows of every statement. On SQLite it runs on the
    /// writer's own thread, with the other batches waiting then, each in a savepoint of one
    /// transaction ([`group_commit`]); on PostgreSQL as one statement where it can. A failing
    /// statement stops the rest, and the batch is rolled back.
    pub async fn write_batch_keeping_actors(
        &self,
        statements: Batch,
    ) -> Result<Vec<WrittenRow>, sqlx::Error> {
        self.writer.write_batch(statements, Proceed::Always).await
    }

    /// [`Db::write_batch_keeping_actors`] for a batch whose first statement finds what the rest
    /// is about (an `UPDATE … RETURNING` of a row in the state it expects): if that returns no
    /// rows, nothing is written and no rows are returned.
    pub async fn write_batch_if_found(
        &self,
        statements: Batch,
    ) -> Result<Vec<WrittenRow>, sqlx::Error> {
        self.writer
            .write_batch(statements, Proceed::IfFirstReturnsRows)
            .await
    }

    /// The write generation (see [`WriteTx`]). Equal values at two moments mean that this process
    /// committed no write transaction in between.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// SQL returning the rows of `select` as one JSON array of rows, each an array of the
    /// `columns` in that order (one row, one text column; read with [`json_rows`]). `select`
    /// must name every output column that `columns` lists; only TEXT and NULL values are
    /// expected. The array's order is not guaranteed (an ordered aggregate costs SQLite a sort it
    /// has already done for the subquery's `LIMIT`): callers sort.
    pub fn json_array_sql<'a>(
        &self,
        select: &str,
        columns: impl Iterator<Item = &'a str>,
    ) -> String {
        let fields: Vec<String> = columns.map(|c| format!("r.{c}")).collect();
        let fields = fields.join(", ");
        match self.backend {
            Backend::Sqlite => format!(
                "SELECT COALESCE(json_group_array(json_array({fields})), '[]') FROM ({select}) AS r"
            ),
            Backend::Postgres => format!(
                "SELECT COALESCE(json_agg(json_build_array({fields})), '[]')::text FROM ({select}) AS r"
            ),
        }
    }

    /// The row-locking clause that lets concurrent claimers pass each other (PostgreSQL). SQLite
    /// has one writer, so claims cannot overlap there.
    pub fn skip_locked(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        }
    }

    /// Whether the database answers a query within `within` (a stalled server must not stall
    /// the caller: load balancers probe readiness with short timeouts).
    pub async fn ping(&self, within: Duration) -> bool {
        let query = sqlx::query("SELECT 1").execute(&self.reader);
        matches!(tokio::time::timeout(within, query).await, Ok(Ok(_)))
    }

    /// SQLite: copies what the write-ahead log holds into the database file, on the
    /// checkpointer's own connection, and keeps the log short. Run by the server every
    /// [`CHECKPOINT_EVERY`], so the copy and its `fsync`s happen beside the writer, not inside
    /// the commit that crosses `wal_autocheckpoint`, which held the writer (and every request
    /// queued for it) for tens of milliseconds: the p99 of every write (docs/benchmarks.md). The
    /// writer's own threshold stays as the backstop for processes that run no server.
    ///
    /// A `PASSIVE` checkpoint waits for nobody, but it cannot rewind the log: SQLite starts the
    /// log from its beginning only when a write begins with every frame copied, and under steady
    /// writes the next commit always comes first. The log then grew by about 50 MB in five
    /// seconds of invitation creates, and every commit past `wal_autocheckpoint` ran a
    /// checkpoint of its own, with its `fsync`s, inside the writer. So once the log holds
    /// [`REWIND_AFTER_FRAMES`], passive rounds copy it until only what the last round let in is
    /// left, and then the writer's thread, between two groups, copies that remainder (a few
    /// hundred frames) with the writer held ([`group_commit::GroupCommit::rewind`]): the next
    /// commit writes the log from its start, over pages the disk has already allocated.
    /// PostgreSQL: nothing.
    pub async fn checkpoint(&self) -> Result<Checkpointed, sqlx::Error> {
        let (Some(conn), Writer::Owned { batches, .. }) = (&self.checkpointer, &self.writer) else {
            return Ok(Checkpointed::default());
        };
        let mut conn = conn.lock().await;
        let Some(conn) = conn.as_mut() else {
            return Ok(Checkpointed::default());
        };
        let mut done = passive_checkpoint(conn).await?;
        if done.log_frames < REWIND_AFTER_FRAMES {
            return Ok(done);
        }
        // A round copies the log as it was when the round began; what was written meanwhile is
        // the next round's. Once a round finds little new, the writer need not wait for more.
        for _ in 0..CATCH_UP_ROUNDS {
            let round = passive_checkpoint(conn).await?;
            let written_meanwhile = round.log_frames - done.log_frames;
            done = round;
            if written_meanwhile <= REWIND_LEFT_FRAMES {
                break;
            }
        }
        batches.rewind().await
    }

    pub async fn close(&self) {
        if let Some(conn) = &self.checkpointer
            && let Some(conn) = conn.lock().await.take()
        {
            let _ = conn.close().await;
        }
        self.writer.close().await;
        self.reader.close().await;
        self.relaxed.close().await;
    }
}

/// Where writes go: SQLite's one writer connection, or a PostgreSQL pool.
#[derive(Clone, Debug)]
enum Writer {
    /// The connection, and the thread that runs batches on it ([`group_commit`]).
    Owned {
        conn: OwnedWriter,
        batches: GroupCommit,
    },
    Pool(AnyPool),
}

#[derive(Clone, Debug)]
struct OwnedWriter {
    state: Arc<Mutex<WriterState>>,
    acquire_timeout: Duration,
}

#[derive(Debug)]
struct WriterState {
    /// `None` once closed.
    conn: Option<AnyConnection>,
    /// A transaction was begun and neither committed nor rolled back: its holder was dropped
    /// (a cancelled request) or its commit did not come back. The next holder rolls it back.
    in_transaction: bool,
}

impl OwnedWriter {
    /// Waits its turn for the connection (at most the acquire timeout, as a pool's acquire
    /// does), and rolls back what an earlier holder left open.
    async fn acquire(&self) -> Result<Held, sqlx::Error> {
        let lock = self.state.clone().lock_owned();
        let mut guard = tokio::time::timeout(self.acquire_timeout, lock)
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?;
        let state = &mut *guard;
        let conn = state.conn.as_mut().ok_or(sqlx::Error::PoolClosed)?;
        if state.in_transaction {
            // Fails only if the transaction did end (a commit whose answer was lost).
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            state.in_transaction = false;
        }
        Ok(Held(Some(guard)))
    }
}

/// How far a batch goes (see [`Db::write_batch_if_found`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proceed {
    Always,
    IfFirstReturnsRows,
}

impl Writer {
    async fn acquire(&self) -> Result<WriteConn, sqlx::Error> {
        match self {
            Writer::Pool(pool) => Ok(WriteConn::Pooled(pool.acquire().await?)),
            Writer::Owned { conn, .. } => Ok(WriteConn::Owned(conn.acquire().await?)),
        }
    }

    async fn begin(&self) -> Result<TxConn, sqlx::Error> {
        match self {
            Writer::Pool(pool) => Ok(TxConn::Pooled(pool.begin().await?)),
            Writer::Owned { conn, .. } => {
                let mut held = conn.acquire().await?;
                sqlx::query("BEGIN").execute(&mut *held).await?;
                held.state().in_transaction = true;
                Ok(TxConn::Owned(held))
            }
        }
    }

    async fn write_batch(
        &self,
        statements: Batch,
        proceed: Proceed,
    ) -> Result<Vec<WrittenRow>, sqlx::Error> {
        match self {
            Writer::Pool(pool) => {
                let (first, rest) = match proceed {
                    Proceed::Always => (None, statements),
                    Proceed::IfFirstReturnsRows => match statements.split_first() {
                        Some((first, rest)) => (Some(first), rest),
                        None => return Ok(Vec::new()),
                    },
                };
                // PostgreSQL prepares one statement per query; one statement is atomic alone.
                let mut rest = match rest.into_one_statement() {
                    Ok(one) => vec![one],
                    Err(statements) => statements.into_statements(),
                };
                if first.is_none() && rest.len() == 1 {
                    let one = rest.remove(0);
                    return written(one.fetch_all(&mut *pool.acquire().await?).await?);
                }
                let mut tx = pool.begin().await?;
                let mut rows = Vec::new();
                if let Some(first) = first {
                    rows = first.fetch_all(&mut tx).await?;
                    if rows.is_empty() {
                        tx.rollback().await?;
                        return Ok(Vec::new());
                    }
                }
                for statement in rest {
                    rows.extend(statement.fetch_all(&mut tx).await?);
                }
                tx.commit().await?;
                written(rows)
            }
            Writer::Owned { batches, .. } => batches.write(statements, proceed).await,
        }
    }

    async fn close(&self) {
        match self {
            Writer::Pool(pool) => pool.close().await,
            Writer::Owned { conn, .. } => {
                if let Some(conn) = conn.state.lock().await.conn.take() {
                    let _ = conn.close().await;
                }
            }
        }
    }
}

/// The SQLite writer while one caller holds it.
pub struct Held(Option<OwnedMutexGuard<WriterState>>);

impl Held {
    fn state(&mut self) -> &mut WriterState {
        self.0.as_mut().expect("held until dropped")
    }

    /// Runs `batch`, then commits or rolls back, in one query. If that fails, or never returns
    /// (a cancelled request), the transaction counts as open and is rolled back: SQLite leaves
    /// it open after a failed `COMMIT`, and after one that did commit the `ROLLBACK` finds
    /// nothing to undo.
    async fn end(mut self, mut batch: Batch, statement: &'static str) -> Result<(), sqlx::Error> {
        batch.push(Deferred::new(statement));
        batch.execute(&mut self).await?;
        self.state().in_transaction = false;
        Ok(())
    }
}

impl Drop for Held {
    /// A transaction left open by a dropped holder is rolled back at once where a runtime runs
    /// (so it does not keep SQLite's write lock from other processes until the next write),
    /// else by the next holder.
    fn drop(&mut self) {
        if let Some(mut guard) = self.0.take()
            && guard.in_transaction
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                if let Some(conn) = guard.conn.as_mut()
                    && sqlx::query("ROLLBACK").execute(&mut *conn).await.is_ok()
                {
                    guard.in_transaction = false;
                }
            });
        }
    }
}

impl Deref for Held {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        let state = self.0.as_ref().expect("held until dropped");
        state.conn.as_ref().expect("checked open when acquired")
    }
}

impl DerefMut for Held {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.state()
            .conn
            .as_mut()
            .expect("checked open when acquired")
    }
}

/// A connection for writes, held until dropped (see [`Db::write`]).
pub enum WriteConn {
    Owned(Held),
    Pooled(PoolConnection<Any>),
}

impl Deref for WriteConn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            WriteConn::Owned(held) => held,
            WriteConn::Pooled(conn) => conn,
        }
    }
}

impl DerefMut for WriteConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            WriteConn::Owned(held) => held,
            WriteConn::Pooled(conn) => conn,
        }
    }
}

enum TxConn {
    Owned(Held),
    Pooled(Transaction<'static, Any>),
}

/// A write transaction. It moves the database's generation when it begins and again once it has
/// committed, so that a value read from the database and cached under an earlier generation is
/// never served after the commit returned, even if the read ran while the transaction was open.
pub struct WriteTx {
    tx: TxConn,
    /// `None`: the transaction keeps cached actors (see [`Db::begin_keeping_actors`]).
    generation: Option<Arc<AtomicU64>>,
    /// SQLite: the statements [`WriteTx::defer`] keeps for the commit.
    deferred: Batch,
}

impl WriteTx {
    fn new(tx: TxConn, generation: Option<Arc<AtomicU64>>) -> WriteTx {
        WriteTx {
            tx,
            generation,
            deferred: Batch::default(),
        }
    }

    /// Makes `statement` part of this transaction. On SQLite it runs at the commit, in the same
    /// query as the `COMMIT` (one round trip through the writer's thread instead of one each),
    /// so it must be a statement nothing later in the transaction depends on (an insert of a new
    /// row that the transaction does not read back), and its failure surfaces as the commit's.
    /// On PostgreSQL it runs now.
    pub async fn defer(&mut self, statement: Deferred) -> Result<(), sqlx::Error> {
        match &mut self.tx {
            TxConn::Owned(_) => {
                self.deferred.push(statement);
                Ok(())
            }
            TxConn::Pooled(tx) => Batch::from(vec![statement]).execute(tx).await,
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let done = match self.tx {
            TxConn::Owned(held) => held.end(self.deferred, "COMMIT").await,
            TxConn::Pooled(tx) => tx.commit().await,
        };
        if let Some(g) = &self.generation {
            g.fetch_add(1, Ordering::SeqCst);
        }
        done
    }

    /// Rolls back; deferred statements never run.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.tx {
            TxConn::Owned(held) => held.end(Batch::default(), "ROLLBACK").await,
            TxConn::Pooled(tx) => tx.rollback().await,
        }
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match &self.tx {
            TxConn::Owned(held) => held,
            TxConn::Pooled(tx) => tx,
        }
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match &mut self.tx {
            TxConn::Owned(held) => held,
            TxConn::Pooled(tx) => tx,
        }
    }
}

/// Write-ahead log pages after which a commit copies the log into the database file (SQLite's
/// default: 1,000). The copy and its two `fsync`s happen inside that commit, holding the one
/// writer, so in a server [`Db::checkpoint`] rewinds the log well before this; it is the
/// backstop for processes that run none (and for a server whose checkpoints fail). Above
/// [`REWIND_AFTER_FRAMES`] with room for what the log gains while a rewind's rounds run.
const WRITER_CHECKPOINT_PAGES: u32 = 20_000;

/// Write-ahead log frames (pages) after which [`Db::checkpoint`] rewinds the log: 32 MB at
/// SQLite's 4 KB pages, about a quarter of a second of invitation creates. Against 4,096, in
/// five A/B pairs: half as many rewinds, Atlas create p99 22.2 ms against 25.8 at the median,
/// Atlas delete 17.3 against 21.9 (docs/benchmarks.md).
const REWIND_AFTER_FRAMES: i64 = 8_192;

/// Frames written during the last passive round before a rewind, at most (after
/// [`CATCH_UP_ROUNDS`] rounds: under writes faster than the copy, whatever it was). The rewind
/// copies those and what was written since, with the writer held: about 10 µs a frame here.
const REWIND_LEFT_FRAMES: i64 = 256;

/// Passive rounds before a rewind, at most: each copies what was written during the one before.
const CATCH_UP_ROUNDS: usize = 8;

/// What a checkpoint of SQLite's write-ahead log found and did (`PRAGMA wal_checkpoint`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Checkpointed {
    /// Frames in the log.
    pub log_frames: i64,
    /// Frames of the log copied into the database file.
    pub copied_frames: i64,
    /// The writer was held and every frame copied: the next write starts the log over.
    pub rewound: bool,
}

/// A `PASSIVE` checkpoint on `conn`: it copies what no reader of an older snapshot still needs,
/// and waits for nobody.
async fn passive_checkpoint(conn: &mut AnyConnection) -> sqlx::Result<Checkpointed> {
    let (_busy, log_frames, copied_frames): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(conn)
            .await?;
    Ok(Checkpointed {
        log_frames,
        copied_frames,
        rewound: false,
    })
}

/// How often a server checkpoints SQLite's write-ahead log in the background ([`Db::checkpoint`]).
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

fn sqlite_url(opts: &DbOptions) -> String {
    if opts.url.contains('?') {
        opts.url.clone()
    } else {
        format!("{}?mode=rwc", opts.url)
    }
}

/// What every SQLite connection of usher is set to.
async fn sqlite_settings(
    conn: &mut AnyConnection,
    statement_timeout: Duration,
) -> sqlx::Result<()> {
    for pragma in sqlite_pragmas(statement_timeout) {
        sqlx::query(sqlx::AssertSqlSafe(pragma))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The settings of [`sqlite_settings`], as statements.
fn sqlite_pragmas(statement_timeout: Duration) -> Vec<String> {
    // WAL: readers never block the writer; NORMAL sync is durable across process crashes in WAL
    // mode (only an OS crash can lose the last commits).
    vec![
        "PRAGMA journal_mode = WAL".to_owned(),
        "PRAGMA synchronous = NORMAL".to_owned(),
        "PRAGMA foreign_keys = ON".to_owned(),
        format!("PRAGMA busy_timeout = {}", statement_timeout.as_millis()),
        format!("PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES}"),
    ]
}

/// The one SQLite connection that writes (see the module's notes).
async fn sqlite_writer(opts: &DbOptions) -> anyhow::Result<AnyConnection> {
    let connect = AnyConnection::connect(&sqlite_url(opts));
    let mut conn = tokio::time::timeout(opts.connect_timeout, connect)
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)??;
    sqlite_settings(&mut conn, opts.statement_timeout).await?;
    Ok(conn)
}

async fn sqlite_pool(opts: &DbOptions, max: u32) -> anyhow::Result<AnyPool> {
    let statement_timeout = opts.statement_timeout;
    let pool = AnyPoolOptions::new()
        .max_connections(max)
        // Every reader is opened now, from the server's runtime, and kept: sqlx runs each on a
        // thread started by whoever opens it, and a thread inherits its creator's CPU priority.
        // Opened later by the outbox worker (which runs at a lower one), a reader would answer
        // requests at the worker's priority.
        .min_connections(max)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(opts.connect_timeout)
        // A connection to a local file does not break the way a socket does, and sqlx's ping
        // before each acquire is a round trip through the connection's worker thread: on a busy
        // runtime, each such hand-off waits for a worker (docs/benchmarks.md).
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move { sqlite_settings(conn, statement_timeout).await })
        })
        .connect(&sqlite_url(opts))
        .await?;
    Ok(pool)
}

/// A PostgreSQL pool whose connections carry the statement timeout and `settings`. Connections
/// broken by a server restart are found when released (sqlx pings every connection it takes
/// back) and replaced, so the pool recovers by itself once the server is back. Not also on
/// acquire: that would be a third round trip per statement.
async fn postgres_pool(opts: &DbOptions, max: u32, settings: &[&str]) -> anyhow::Result<AnyPool> {
    let mut statements = vec![
        format!(
            "SET statement_timeout = {}",
            opts.statement_timeout.as_millis()
        ),
        // Every statement of usher is keyed by ids and run thousands of times: planning it for
        // each execution's parameters (PostgreSQL's choice for the first five and often after)
        // cost more than running it, about 0.3 ms of the list's 0.6 (docs/benchmarks.md).
        "SET plan_cache_mode = force_generic_plan".to_owned(),
    ];
    statements.extend(settings.iter().map(|s| (*s).to_owned()));
    let pool = AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(opts.connect_timeout)
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            let statements = statements.clone();
            Box::pin(async move {
                for s in statements {
                    sqlx::query(sqlx::AssertSqlSafe(s))
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        })
        .connect(&opts.url)
        .await?;
    Ok(pool)
}

/// A SQLite database in a folder of its own (deleted with the folder), for the store's tests.
#[cfg(test)]
pub(crate) async fn sqlite_db_for_tests() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&DbOptions {
        url: format!("sqlite://{}", dir.path().join("usher.db").display()),
        max_connections: 2,
        connect_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    (dir, db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_checkpoint_copies_the_write_ahead_log_into_the_database_file() {
        let (dir, db) = sqlite_db_for_tests().await;
        let file = dir.path().join("usher.db");
        db.migrate().await.unwrap();
        // Far below the writer's own threshold: everything written so far is in the log only.
        let before = std::fs::metadata(&file).unwrap().len();
        db.checkpoint().await.unwrap();
        let after = std::fs::metadata(&file).unwrap().len();
        assert!(
            after > before,
            "the database file grew from {before} to {after} bytes"
        );
        db.close().await;
    }

    /// Fills the log through the group writer with `rows` rows of about one page each.
    async fn write_pages(db: &Db, rows: usize) {
        for _ in 0..rows {
            let insert = Deferred::new("INSERT INTO filler (body) VALUES (randomblob(3000))");
            db.write_batch_keeping_actors(Batch::from(vec![insert]))
                .await
                .unwrap();
        }
    }

    async fn db_with_filler() -> (tempfile::TempDir, Db) {
        let (dir, db) = sqlite_db_for_tests().await;
        sqlx::query("CREATE TABLE filler (body BLOB)")
            .execute(&mut *db.write().await.unwrap())
            .await
            .unwrap();
        (dir, db)
    }

    #[tokio::test]
    async fn a_log_past_the_rewind_threshold_is_copied_and_started_over() {
        let (_dir, db) = db_with_filler().await;
        // One transaction of a page a row: past the rewind threshold, below the writer's own
        // (a commit of one row writes about three pages), so only the checkpoint copies it.
        let mut tx = db.begin().await.unwrap();
        for _ in 0..REWIND_AFTER_FRAMES + 100 {
            sqlx::query("INSERT INTO filler (body) VALUES (randomblob(3000))")
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let rewind = db.checkpoint().await.unwrap();
        assert!(rewind.rewound, "{rewind:?}");
        assert!(rewind.log_frames >= REWIND_AFTER_FRAMES, "{rewind:?}");
        write_pages(&db, 1).await;
        let after = db.checkpoint().await.unwrap();
        assert!(
            after.log_frames < 10,
            "the next write started the log over: {after:?}"
        );
        db.close().await;
    }

    #[tokio::test]
    async fn under_steady_writes_checkpoints_keep_the_log_short() {
        let (_dir, db) = db_with_filler().await;
        let writes = tokio::spawn({
            let db = db.clone();
            async move { write_pages(&db, 2 * REWIND_AFTER_FRAMES as usize).await }
        });
        let (mut longest, mut rewinds) = (0, 0);
        while !writes.is_finished() {
            let done = db.checkpoint().await.unwrap();
            longest = longest.max(done.log_frames);
            rewinds += usize::from(done.rewound);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        writes.await.unwrap();
        assert!(rewinds >= 1, "the log was rewound while written");
        assert!(
            longest < 2 * REWIND_AFTER_FRAMES,
            "the log grew to {longest} frames"
        );
        db.close().await;
    }
}
