//! SQLite: the batches of [`super::Db::write_batch_keeping_actors`] (invitation creates, the
//! outbox's claims) and [`super::Db::write_batch_if_found`] (invitation cancels) run on a thread
//! of their own, on a connection of its own, as many in one transaction as are waiting (group
//! commit).
//!
//! Why not sqlx's connection: sqlx runs each SQLite connection on a thread of its own, and
//! every query, every statement's result and every row is a hand-off between that thread and
//! the task that waits for it, made while the writer is held and every other writer waits.
//! Profiled under load, the writer's thread spent about two thirds of its samples being switched
//! in and out, and a group of eleven creates held the writer for 3 ms (docs/benchmarks.md).
//! Here the thread that takes the batches runs them itself, through rusqlite, with nothing in
//! between.
//!
//! Why groups: a transaction of many batches is one acquisition of the writer and one commit
//! (the pages the batches share, an index's last leaf, are written to the log once). Each batch
//! runs inside a savepoint of its own, so one that fails (a unique violation) is undone alone
//! and answered as it would have been by itself, and the others go on. Nobody is answered before
//! the group's `COMMIT` has returned; if it fails, every batch of the group is answered with the
//! failure and nothing of the group was written.
//!
//! The two writer connections take turns: this thread holds the writer's mutex (the one that
//! interactive transactions on sqlx's connection take) for each group.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::deferred::{Batch, Deferred, Param};
use super::{Checkpointed, OwnedWriter, Proceed};

/// Batches per transaction at most: the writer is held for the whole group, and interactive
/// transactions queued meanwhile wait for it.
const MAX_GROUP: usize = 64;

type Answer = Result<Vec<Value>, sqlx::Error>;

/// What the writer's thread is handed.
enum Work {
    Batch(Job),
    /// A rewind of the write-ahead log ([`GroupCommit::rewind`]).
    Rewind(oneshot::Sender<Result<Checkpointed, sqlx::Error>>),
}

struct Job {
    batch: Batch,
    proceed: Proceed,
    queued: Instant,
    done: oneshot::Sender<Answer>,
}

/// Hands batches to the writer's thread; the thread ends when the last handle is dropped.
#[derive(Clone, Debug)]
pub(super) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Work>,
}

/// How the group's connection is opened and set (as sqlx's connections are).
pub(super) struct Settings<'a> {
    /// The database's `sqlite:` URL.
    pub url: &'a str,
    /// The `PRAGMA`s every connection of usher runs.
    pub pragmas: &'a [String],
    /// How long a statement waits for another process's write lock.
    pub busy_timeout: Duration,
}

impl GroupCommit {
    pub(super) fn start(
        writer: OwnedWriter,
        settings: Settings<'_>,
    ) -> anyhow::Result<GroupCommit> {
        let conn = Connection::open_with_flags(
            file_uri(settings.url),
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        for pragma in settings.pragmas {
            conn.execute_batch(pragma)?;
        }
        conn.set_prepared_statement_cache_capacity(128);
        let (jobs, queue) = mpsc::unbounded_channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        let busy_timeout = settings.busy_timeout;
        std::thread::Builder::new()
            .name("usher-sqlite-writes".to_owned())
            .spawn(move || runtime.block_on(run(writer, conn, busy_timeout, queue)))?;
        Ok(GroupCommit { jobs })
    }

    /// Runs `batch` as one transaction, or as part of one (see the module's notes), and returns
    /// its rows. A request that goes away before its batch has started takes the batch with it.
    pub(super) async fn write(&self, batch: Batch, proceed: Proceed) -> Answer {
        let (done, answer) = oneshot::channel();
        let job = Job {
            batch,
            proceed,
            queued: Instant::now(),
            done,
        };
        self.jobs
            .send(Work::Batch(job))
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }

    /// Copies what is left of the write-ahead log into the database file between two groups,
    /// with the writer held, and waits up to [`WAIT_FOR_READERS`] for readers of older
    /// snapshots, so that the next group writes the log from its start (a `RESTART`
    /// checkpoint; see [`super::Db::checkpoint`] for why). Here, not by a task that takes the
    /// writer's mutex and checkpoints on a connection of its own: that held the writer also
    /// while the task and sqlx's thread waited to be scheduled on a busy runtime, and the p99
    /// of every write phase was 3–10 ms higher (docs/benchmarks.md).
    pub(super) async fn rewind(&self) -> Result<Checkpointed, sqlx::Error> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Work::Rewind(done))
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

/// Longest a rewind waits for readers on older snapshots, with the writer held; past it, the
/// log is left to a later rewind.
const WAIT_FOR_READERS: Duration = Duration::from_millis(20);

/// Between two looks at the readers during a rewind. SQLite's own busy handler sleeps 1, 2, 5,
/// then 10 ms; a reader's query takes well under one.
const READER_POLL: Duration = Duration::from_micros(200);

/// The rewind's busy handler: a short sleep, until [`WAIT_FOR_READERS`] has passed.
fn wait_for_readers(attempts: i32) -> bool {
    std::thread::sleep(READER_POLL);
    u128::from(attempts.unsigned_abs()) < WAIT_FOR_READERS.as_micros() / READER_POLL.as_micros()
}

/// [`GroupCommit::rewind`] on the writer's thread, which holds the writer.
fn rewind(conn: &Connection, busy_timeout: Duration) -> Result<Checkpointed, sqlx::Error> {
    let started = Instant::now();
    conn.busy_handler(Some(wait_for_readers)).map_err(as_sqlx)?;
    let outcome = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |row| {
        Ok((row.get::<_, i64>(0)?, row.get(1)?, row.get(2)?))
    });
    // Statements wait for another process's write lock as long as everywhere else again.
    conn.busy_timeout(busy_timeout).map_err(as_sqlx)?;
    let (busy, log_frames, copied_frames) = outcome.map_err(as_sqlx)?;
    metrics::histogram!("usher_sqlite_wal_rewind_seconds").record(started.elapsed());
    Ok(Checkpointed {
        log_frames,
        copied_frames,
        rewound: busy == 0 && copied_frames == log_frames,
    })
}

/// `sqlite://path?query` (or `sqlite:path`) as the `file:` URI SQLite opens.
fn file_uri(url: &str) -> String {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = path.replace('%', "%25").replace('#', "%23");
    if query.is_empty() {
        format!("file:{path}")
    } else {
        format!("file:{path}?{query}")
    }
}

async fn run(
    writer: OwnedWriter,
    conn: Connection,
    busy_timeout: Duration,
    mut queue: mpsc::UnboundedReceiver<Work>,
) {
    while let Some(first) = queue.recv().await {
        let held = writer.acquire().await;
        // Whatever arrived while the writer was busy joins the group; a rewind follows it.
        let (mut group, mut rewinds) = (Vec::new(), Vec::new());
        let mut next = Some(first);
        while let Some(work) = next {
            match work {
                Work::Batch(job) => group.push(job),
                Work::Rewind(done) => rewinds.push(done),
            }
            next = if group.len() < MAX_GROUP {
                queue.try_recv().ok()
            } else {
                None
            };
        }
        let group = waiting(group, writer.acquire_timeout);
        match held {
            Ok(_held) => {
                if !group.is_empty() {
                    metrics::counter!("usher_sqlite_write_batches_total")
                        .increment(group.len() as u64);
                    metrics::counter!("usher_sqlite_write_commits_total").increment(1);
                    for (done, answer) in run_group(&conn, group) {
                        let _ = done.send(answer);
                    }
                }
                for done in rewinds {
                    let _ = done.send(rewind(&conn, busy_timeout));
                }
            }
            Err(e) => {
                for done in rewinds {
                    let _ = done.send(Err(failed_with(&e)));
                }
                answer_all(group, &e);
            }
        }
    }
}

/// The jobs whose requests still wait for them: a request that has gone away is not run, and
/// one queued for longer than a writer may be waited for is answered as a pool answers then.
fn waiting(group: Vec<Job>, acquire_timeout: Duration) -> Vec<Job> {
    let (late, waiting): (Vec<Job>, Vec<Job>) = group
        .into_iter()
        .filter(|job| !job.done.is_closed())
        .partition(|job| job.queued.elapsed() > acquire_timeout);
    answer_all(late, &sqlx::Error::PoolTimedOut);
    waiting
}

type Answered = Vec<(oneshot::Sender<Answer>, Answer)>;

/// Runs `group` as one transaction and returns every job's answer.
fn run_group(conn: &Connection, group: Vec<Job>) -> Answered {
    let mut answered: Answered = Vec::with_capacity(group.len());
    // Immediate: the write lock is taken now, or the statement timeout waits for it (another
    // process writing), rather than at the first write, where it could fail halfway.
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        let e = as_sqlx(e);
        answered.extend(
            group
                .into_iter()
                .map(|job| (job.done, Err(failed_with(&e)))),
        );
        return answered;
    }
    let mut jobs = group.into_iter();
    while let Some(job) = jobs.next() {
        match savepoint(conn, job.batch, job.proceed) {
            Ok(rows) => answered.push((job.done, Ok(rows))),
            Err(e) if !conn.is_autocommit() && undo_savepoint(conn).is_ok() => {
                answered.push((job.done, Err(as_sqlx(e))));
            }
            Err(e) => {
                // SQLite ended the whole transaction (it does on a full disk or an I/O error), so
                // nothing the group ran is written; what it had not run yet runs as a group of
                // its own.
                let _ = exec(conn, "ROLLBACK");
                let e = as_sqlx(e);
                for (_, earlier) in &mut answered {
                    *earlier = Err(failed_with(&e));
                }
                answered.push((job.done, Err(e)));
                answered.extend(run_group(conn, jobs.collect()));
                return answered;
            }
        }
    }
    if let Err(e) = exec(conn, "COMMIT") {
        let _ = exec(conn, "ROLLBACK");
        let e = as_sqlx(e);
        for (_, answer) in &mut answered {
            *answer = Err(failed_with(&e));
        }
    }
    answered
}

/// One batch inside a savepoint of its own. On failure the savepoint is left for the caller to
/// undo ([`undo_savepoint`]).
fn savepoint(conn: &Connection, batch: Batch, proceed: Proceed) -> rusqlite::Result<Vec<Value>> {
    exec(conn, "SAVEPOINT batch")?;
    let mut rows = Vec::new();
    for (i, statement) in batch.into_statements().into_iter().enumerate() {
        rows.extend(run_statement(conn, statement)?);
        if i == 0 && rows.is_empty() && proceed == Proceed::IfFirstReturnsRows {
            // The first statement found nothing and so changed nothing.
            break;
        }
    }
    exec(conn, "RELEASE batch")?;
    Ok(rows)
}

fn undo_savepoint(conn: &Connection) -> rusqlite::Result<()> {
    exec(conn, "ROLLBACK TO batch")?;
    exec(conn, "RELEASE batch")
}

/// Runs a statement that takes no values and returns no rows (prepared once).
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.raw_execute().map(|_| ())
}

/// Runs one statement (prepared once per connection) and returns its rows, each a JSON array of
/// its columns.
fn run_statement(conn: &Connection, statement: Deferred) -> rusqlite::Result<Vec<Value>> {
    let (sql, params) = statement.into_parts();
    let mut prepared = conn.prepare_cached(&sql)?;
    // usher writes `$N` for the N-th value; SQLite numbers named parameters in the order they
    // first appear, so each is bound by its name.
    for index in 1..=prepared.parameter_count() {
        let value = prepared
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| params.get(n.wrapping_sub(1)))
            .ok_or_else(|| {
                rusqlite::Error::InvalidParameterName(format!("parameter {index} of {sql}"))
            })?;
        match value {
            Param::Text(v) => prepared.raw_bind_parameter(index, v)?,
            Param::Int(v) => prepared.raw_bind_parameter(index, v)?,
        }
    }
    let width = prepared.column_count();
    let mut rows = Vec::new();
    let mut raw = prepared.raw_query();
    while let Some(row) = raw.next()? {
        let columns = (0..width)
            .map(|i| {
                Ok(match row.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::from(n),
                    ValueRef::Real(x) => Value::from(x),
                    ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(_) => {
                        return Err(rusqlite::Error::InvalidColumnType(
                            i,
                            "blob".to_owned(),
                            rusqlite::types::Type::Blob,
                        ));
                    }
                })
            })
            .collect::<rusqlite::Result<Vec<Value>>>()?;
        rows.push(Value::Array(columns));
    }
    Ok(rows)
}

fn answer_all(group: Vec<Job>, e: &sqlx::Error) {
    for job in group {
        let _ = job.done.send(Err(failed_with(e)));
    }
}

/// An error like `e` for a batch that failed because of it (sqlx's errors cannot be cloned). A
/// pool's errors stay themselves, which callers answer as "unavailable".
fn failed_with(e: &sqlx::Error) -> sqlx::Error {
    match e {
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        other => sqlx::Error::Protocol(format!("the transaction of this write failed: {other}")),
    }
}

/// rusqlite's error as sqlx's SQLite driver reports the same failure, so that callers tell a
/// unique violation from anything else as they do for every other statement.
fn as_sqlx(e: rusqlite::Error) -> sqlx::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            sqlx::Error::Database(Box::new(WriteError {
                code: code.extended_code,
                message: message.unwrap_or_else(|| code.to_string()),
            }))
        }
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

/// A failed statement of the group's connection, as a database error of sqlx.
#[derive(Debug)]
struct WriteError {
    /// SQLite's extended result code.
    code: i32,
    message: String,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for WriteError {}

impl sqlx::error::DatabaseError for WriteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        use sqlx::error::ErrorKind;
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{StoreError, sqlite_db_for_tests};
    use super::*;

    fn insert(name: &str) -> Batch {
        Batch::from(vec![
            Deferred::new("INSERT INTO t (name) VALUES ($1)").bind(name),
            Deferred::new("INSERT INTO log (name) VALUES ($1)").bind(name),
        ])
    }

    #[tokio::test]
    async fn a_failing_batch_in_a_group_is_undone_alone_and_the_others_commit() {
        let (_dir, db) = sqlite_db_for_tests().await;
        let mut conn = db.write().await.unwrap();
        Batch::from(vec![
            Deferred::new("CREATE TABLE t (name TEXT PRIMARY KEY)"),
            Deferred::new("CREATE TABLE log (name TEXT NOT NULL)"),
            Deferred::new("INSERT INTO t (name) VALUES ('taken')"),
        ])
        .execute(&mut conn)
        .await
        .unwrap();
        // While the writer is held, the three batches queue up and then run as one group.
        let writes = ["a", "taken", "b"].map(|name| {
            let db = db.clone();
            tokio::spawn(async move { db.write_batch_keeping_actors(insert(name)).await })
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(conn);
        let mut answers = Vec::new();
        for write in writes {
            answers.push(write.await.unwrap());
        }
        assert!(answers[0].is_ok() && answers[2].is_ok(), "{answers:?}");
        let e = answers[1].as_ref().unwrap_err();
        assert!(StoreError::is_unique(e), "{e}");
        let logged: Vec<(String,)> = sqlx::query_as("SELECT name FROM log ORDER BY name")
            .fetch_all(db.read())
            .await
            .unwrap();
        assert_eq!(logged, vec![("a".to_owned(),), ("b".to_owned(),)]);
        let names: Vec<(String,)> = sqlx::query_as("SELECT name FROM t ORDER BY name")
            .fetch_all(db.read())
            .await
            .unwrap();
        assert_eq!(names.len(), 3, "taken, a and b: {names:?}");
    }

    #[tokio::test]
    async fn a_conditional_batch_whose_first_statement_finds_nothing_writes_nothing() {
        let (_dir, db) = sqlite_db_for_tests().await;
        Deferred::new("CREATE TABLE t (name TEXT PRIMARY KEY, n INTEGER NOT NULL)")
            .fetch_all(&mut db.write().await.unwrap())
            .await
            .unwrap();
        let bump = |name: &str| {
            Batch::from(vec![
                Deferred::new("UPDATE t SET n = n + 1 WHERE name = $1 RETURNING name, n")
                    .bind(name),
                Deferred::new("INSERT INTO t (name, n) VALUES ($1, 0)").bind("side effect"),
            ])
        };
        assert!(
            db.write_batch_if_found(bump("missing"))
                .await
                .unwrap()
                .is_empty()
        );
        Deferred::new("INSERT INTO t (name, n) VALUES ('x', 1)")
            .fetch_all(&mut db.write().await.unwrap())
            .await
            .unwrap();
        let rows = db.write_batch_if_found(bump("x")).await.unwrap();
        assert_eq!(rows, vec![serde_json::json!(["x", 2])]);
        let count: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM t")
            .fetch_one(db.read())
            .await
            .unwrap();
        assert_eq!(count.0, 2, "only the second batch wrote its side effect");
    }

    #[test]
    fn a_sqlite_url_becomes_the_file_uri_sqlite_opens() {
        assert_eq!(
            file_uri("sqlite:///d/u.db?mode=rwc"),
            "file:/d/u.db?mode=rwc"
        );
        assert_eq!(file_uri("sqlite://./data/u.db"), "file:./data/u.db");
        assert_eq!(file_uri("sqlite:/d/a#b%c.db"), "file:/d/a%23b%25c.db");
    }
}
