//! `usher admin migrate-data`: copies a whole deployment from one database into an empty one
//! (SQLite → PostgreSQL, PostgreSQL → SQLite, or between two of a kind), then proves the copy by
//! row counts and checksums before committing it. See docs/migrate-data.md.
//!
//! - The source is read inside one transaction (a snapshot on both backends), so a writer that is
//!   still running cannot make tables disagree with each other; what it writes after the snapshot
//!   is not copied, which is why the guide says to stop writers first.
//! - The destination is written inside one transaction. Its checksums are computed inside that
//!   transaction, before the commit: a mismatch rolls everything back and the destination stays
//!   empty (with the schema migrated, which is still a valid destination for the next attempt).
//! - Values are copied verbatim, encrypted columns included: the new server needs the same master
//!   key, which lives outside the database.

use std::collections::BTreeSet;

use anyhow::{Context, bail};
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use super::{Backend, Db, DbOptions};

/// Every table that holds a deployment's data, parents before children, so each foreign key
/// points at a row that is already there (both backends check foreign keys on every insert).
/// A migration that adds a table must add it here or to [`TRANSIENT`]; a test compares the two
/// lists with the migrated schema of both backends.
pub const TABLES: &[&str] = &[
    "users",
    "organizations",
    "memberships",
    "projects",
    "teams",
    "project_members",
    "team_members",
    "project_teams",
    "invitations",
    "invitation_projects",
    "invitation_teams",
    "api_keys",
    "api_key_access_list",
    "sessions",
    "user_tokens",
    "outbox",
    "audit_events",
    "webhook_endpoints",
    "service_accounts",
    "service_account_secrets",
    "oauth_tokens",
];

/// Tables that are not copied. Short-lived state (anti-replay digests, rate-limit counters): a
/// fresh destination starts them empty, which costs at most one window of rate limiting and
/// lets a replayed request through only if it is replayed within its tolerance across the move.
/// `deployment` (the master-key check): the first server started on the destination records it
/// again, and `usher migrate` run on the destination beforehand must not make it "not empty".
/// They may not exist yet in an older schema.
pub const TRANSIENT: &[&str] = &["replay_guard", "rate_counters", "deployment"];

/// Rows per multi-row INSERT, and the most bind parameters one may carry: under SQLite's limit of
/// 32,766 variables and PostgreSQL's 65,535 parameters whatever the column count.
const ROWS_PER_INSERT: usize = 500;
const BINDS_PER_INSERT: usize = 30_000;

/// sqlx's bookkeeping table; never copied (the destination gets its own by migrating).
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Int,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    name: String,
    kind: Kind,
}

/// A table as one side's catalog describes it.
#[derive(Debug)]
struct Table {
    name: &'static str,
    columns: Vec<Column>,
    /// Primary-key columns in key order: the order rows are read in, so both sides hash them in
    /// the same order.
    key: Vec<Column>,
}

/// One value as read, with the kind of its column, so a NULL is bound with the right type (a
/// NULL sent as text into a BIGINT column is an error on PostgreSQL).
#[derive(Debug)]
enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
}

/// Rows and checksum of one table on both sides, after the copy.
#[derive(Debug, Clone)]
pub struct TableCheck {
    pub table: String,
    pub source_rows: u64,
    pub source_checksum: String,
    pub destination_rows: u64,
    pub destination_checksum: String,
}

impl TableCheck {
    pub fn ok(&self) -> bool {
        self.source_rows == self.destination_rows
            && self.source_checksum == self.destination_checksum
    }
}

#[derive(Debug, Clone)]
pub struct Report {
    pub tables: Vec<TableCheck>,
    /// Transient tables present in the source, deliberately left behind.
    pub skipped: Vec<String>,
    /// False when a check failed and the destination transaction was rolled back.
    pub committed: bool,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.tables.iter().all(TableCheck::ok)
    }
}

/// The usher tables of a database: every table but sqlx's bookkeeping and SQLite's own.
pub async fn schema_tables(db: &Db) -> anyhow::Result<BTreeSet<String>> {
    let mut tables = all_tables(db).await?;
    tables.remove(MIGRATIONS_TABLE);
    Ok(tables)
}

async fn all_tables(db: &Db) -> anyhow::Result<BTreeSet<String>> {
    let sql = match db.backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        }
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
    };
    let names: Vec<String> = sqlx::query_scalar(sql).fetch_all(db.read()).await?;
    Ok(names.into_iter().collect())
}

/// Tables of a schema that neither [`TABLES`] nor [`TRANSIENT`] names: data this binary would
/// silently leave behind.
pub fn unlisted(tables: &BTreeSet<String>) -> Vec<String> {
    tables
        .iter()
        .filter(|t| !TABLES.contains(&t.as_str()) && !TRANSIENT.contains(&t.as_str()))
        .cloned()
        .collect()
}

/// The newest migration this binary embeds for `backend`.
pub fn latest_version(backend: Backend) -> i64 {
    let migrator = match backend {
        Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("migrations/postgres"),
    };
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Row count and checksum of every table of [`TABLES`], as `migrate-data` reports them: two
/// databases with equal results hold the same data, whichever backends they are on.
pub async fn table_checksums(db: &Db) -> anyhow::Result<Vec<(String, u64, String)>> {
    let mut conn = db.read().acquire().await?;
    let mut out = Vec::with_capacity(TABLES.len());
    for &name in TABLES {
        let table = describe(&mut conn, db.backend, name).await?;
        let (rows, sum) = checksum(&mut conn, db.backend, &table).await?;
        out.push((name.to_owned(), rows, sum));
    }
    Ok(out)
}

/// Copies every non-transient table of `from` into `to`, which must hold no usher rows, and
/// verifies the copy. Refusals (source not at this binary's schema version, destination not
/// empty) are errors and change nothing; a failed verification is a report with
/// `committed: false`.
pub async fn migrate_data(from: &DbOptions, to: &DbOptions) -> anyhow::Result<Report> {
    if from.url == to.url {
        bail!("--from and --to name the same database");
    }
    let source = Db::connect(&DbOptions {
        url: existing_sqlite(&from.url),
        ..from.clone()
    })
    .await
    .context("opening the source database")?;
    let destination = Db::connect(to)
        .await
        .context("opening the destination database")?;
    let result = run(&source, &destination).await;
    source.close().await;
    destination.close().await;
    result
}

/// A SQLite source must already exist: without a mode, the store opens SQLite files read-write
/// and creates them, which would turn a mistyped path into an empty "source".
fn existing_sqlite(url: &str) -> String {
    if url.starts_with("sqlite:") && !url.contains('?') {
        format!("{url}?mode=rw")
    } else {
        url.to_owned()
    }
}

async fn run(source: &Db, destination: &Db) -> anyhow::Result<Report> {
    let source_tables = check_source(source).await?;
    // Checked before migrating, so a refused destination is left exactly as it was.
    let existing = schema_tables(destination).await?;
    let present: Vec<&'static str> = TABLES
        .iter()
        .copied()
        .filter(|t| existing.contains(*t))
        .collect();
    {
        let mut conn = destination.read().acquire().await?;
        refuse_unless_empty(&mut conn, &present).await?;
    }
    destination
        .migrate()
        .await
        .context("migrating the destination database")?;

    let mut src = match source.backend {
        // The first read of a deferred transaction starts a snapshot that lasts until it ends
        // (WAL mode), so every table is read as of one moment.
        Backend::Sqlite => source.read().begin().await?,
        Backend::Postgres => {
            source
                .read()
                .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?
        }
    };
    let mut dst = destination.begin().await?;
    // Again inside the transaction: a server started on the destination meanwhile (which creates
    // a first owner on an empty database) must not end up merged with the copy.
    refuse_unless_empty(&mut dst, TABLES).await?;

    let mut tables = Vec::with_capacity(TABLES.len());
    for &name in TABLES {
        let table = describe(&mut src, source.backend, name).await?;
        let target = describe(&mut dst, destination.backend, name).await?;
        if table.columns != target.columns {
            bail!(
                "table {name} has different columns in the source ({}) and the destination ({})",
                column_list(&table.columns),
                column_list(&target.columns)
            );
        }
        copy_table(&mut src, &mut dst, source.backend, &table)
            .await
            .with_context(|| format!("copying table {name}"))?;
        tables.push((table, target));
    }

    let mut checks = Vec::with_capacity(tables.len());
    for (table, target) in &tables {
        let (source_rows, source_checksum) = checksum(&mut src, source.backend, table).await?;
        let (destination_rows, destination_checksum) =
            checksum(&mut dst, destination.backend, target).await?;
        checks.push(TableCheck {
            table: table.name.to_owned(),
            source_rows,
            source_checksum,
            destination_rows,
            destination_checksum,
        });
    }
    src.rollback().await?;

    let committed = checks.iter().all(TableCheck::ok);
    if committed {
        dst.commit().await.context("committing the destination")?;
    } else {
        dst.rollback().await?;
    }
    let skipped = TRANSIENT
        .iter()
        .filter(|t| source_tables.contains(**t))
        .map(|t| (*t).to_owned())
        .collect();
    Ok(Report {
        tables: checks,
        skipped,
        committed,
    })
}

/// The source must be an usher database at exactly this binary's schema version (older: run
/// `usher migrate` on it first; newer: use the newer binary), with no table this binary does not
/// know. Returns its tables.
async fn check_source(source: &Db) -> anyhow::Result<BTreeSet<String>> {
    let mut tables = all_tables(source).await?;
    let applied: Option<i64> = if tables.remove(MIGRATIONS_TABLE) {
        sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT MAX(version) FROM {MIGRATIONS_TABLE} WHERE success"
        )))
        .fetch_one(source.read())
        .await?
    } else {
        None
    };
    let latest = latest_version(source.backend);
    match applied {
        None => bail!(
            "the source is not a migrated usher database (no {MIGRATIONS_TABLE} entries); nothing was copied"
        ),
        Some(v) if v < latest => bail!(
            "the source is at schema version {v}, this usher at {latest}: run `usher migrate` on the source first (with writers stopped); nothing was copied"
        ),
        Some(v) if v > latest => bail!(
            "the source is at schema version {v}, newer than this usher ({latest}): use the usher release that wrote it; nothing was copied"
        ),
        Some(_) => {}
    }
    let failed: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {MIGRATIONS_TABLE} WHERE NOT success"
    )))
    .fetch_one(source.read())
    .await?;
    if failed > 0 {
        bail!("the source has a failed migration recorded; repair it before copying");
    }
    let unknown = unlisted(&tables);
    if !unknown.is_empty() {
        bail!(
            "the source has tables this usher does not know ({}); nothing was copied",
            unknown.join(", ")
        );
    }
    Ok(tables)
}

async fn refuse_unless_empty(conn: &mut AnyConnection, tables: &[&str]) -> anyhow::Result<()> {
    let mut filled = Vec::new();
    for table in tables {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {}",
            quote(table)
        )))
        .fetch_one(&mut *conn)
        .await?;
        if n > 0 {
            filled.push(format!("{table}: {n} rows"));
        }
    }
    if !filled.is_empty() {
        bail!(
            "the destination is not empty ({}); migrate-data only copies into a database without usher data, and changed nothing",
            filled.join(", ")
        );
    }
    Ok(())
}

/// Columns (in catalog order) and primary key of `name` from the catalog of `backend`.
async fn describe(
    conn: &mut AnyConnection,
    backend: Backend,
    name: &'static str,
) -> anyhow::Result<Table> {
    let (columns, key_names): (Vec<(String, String)>, Vec<String>) = match backend {
        Backend::Sqlite => {
            let rows: Vec<(String, String, i64)> =
                sqlx::query_as("SELECT name, type, pk FROM pragma_table_info($1) ORDER BY cid")
                    .bind(name)
                    .fetch_all(&mut *conn)
                    .await?;
            let mut key: Vec<(i64, String)> = rows
                .iter()
                .filter(|r| r.2 > 0)
                .map(|r| (r.2, r.0.clone()))
                .collect();
            key.sort();
            (
                rows.into_iter().map(|(n, t, _)| (n, t)).collect(),
                key.into_iter().map(|(_, n)| n).collect(),
            )
        }
        Backend::Postgres => {
            let columns = sqlx::query_as(
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(name)
            .fetch_all(&mut *conn)
            .await?;
            let key = sqlx::query_scalar(
                "SELECT k.column_name::text FROM information_schema.table_constraints c \
                 JOIN information_schema.key_column_usage k \
                   ON k.constraint_schema = c.constraint_schema AND k.constraint_name = c.constraint_name \
                 WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema() \
                   AND c.table_name = $1 ORDER BY k.ordinal_position",
            )
            .bind(name)
            .fetch_all(&mut *conn)
            .await?;
            (columns, key)
        }
    };
    if columns.is_empty() {
        bail!("table {name} is missing");
    }
    let columns = columns
        .into_iter()
        .map(|(column, declared)| {
            let kind = kind_of(&declared).with_context(|| {
                format!(
                    "column {name}.{column} has type {declared:?}, which migrate-data cannot copy"
                )
            })?;
            Ok(Column { name: column, kind })
        })
        .collect::<anyhow::Result<Vec<Column>>>()?;
    // A total order is what makes the checksums of both sides comparable.
    if key_names.is_empty() {
        bail!("table {name} has no primary key");
    }
    let key = key_names
        .iter()
        .map(|k| {
            columns
                .iter()
                .find(|c| &c.name == k)
                .cloned()
                .with_context(|| format!("primary-key column {name}.{k} is not a column"))
        })
        .collect::<anyhow::Result<Vec<Column>>>()?;
    Ok(Table { name, columns, key })
}

/// The kind of a declared column type. usher's schema uses only TEXT and integers (booleans are
/// INTEGER 0/1, timestamps TEXT), so anything else is refused rather than guessed at.
fn kind_of(declared: &str) -> Option<Kind> {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        Some(Kind::Int)
    } else if t == "TEXT" || t.contains("CHAR") {
        Some(Kind::Text)
    } else {
        None
    }
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

fn column_list(columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every row of `table`, in primary-key order. PostgreSQL sorts text by the database's collation
/// (often a locale), SQLite bytewise: `COLLATE "C"` makes PostgreSQL sort bytewise too.
fn select_sql(backend: Backend, table: &Table) -> String {
    let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
    let order: Vec<String> = table
        .key
        .iter()
        .map(|c| match (backend, c.kind) {
            (Backend::Postgres, Kind::Text) => format!("{} COLLATE \"C\"", quote(&c.name)),
            _ => quote(&c.name),
        })
        .collect();
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        columns.join(", "),
        quote(table.name),
        order.join(", ")
    )
}

fn decode(row: &AnyRow, table: &Table) -> anyhow::Result<Vec<Cell>> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let cell = match c.kind {
                Kind::Text => row.try_get(i).map(Cell::Text),
                Kind::Int => row.try_get(i).map(Cell::Int),
            };
            cell.with_context(|| format!("reading {}.{}", table.name, c.name))
        })
        .collect()
}

async fn copy_table(
    src: &mut AnyConnection,
    dst: &mut AnyConnection,
    backend: Backend,
    table: &Table,
) -> anyhow::Result<()> {
    let per_insert = ROWS_PER_INSERT.min(BINDS_PER_INSERT / table.columns.len());
    let sql = select_sql(backend, table);
    let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(src);
    let mut batch = Vec::with_capacity(per_insert);
    while let Some(row) = rows.try_next().await? {
        batch.push(decode(&row, table)?);
        if batch.len() == per_insert {
            insert(dst, table, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        insert(dst, table, batch).await?;
    }
    Ok(())
}

async fn insert(
    dst: &mut AnyConnection,
    table: &Table,
    rows: Vec<Vec<Cell>>,
) -> anyhow::Result<()> {
    let width = table.columns.len();
    let tuples: Vec<String> = (0..rows.len())
        .map(|r| {
            let params: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES {}",
        quote(table.name),
        columns.join(", "),
        tuples.join(", ")
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for cell in rows.into_iter().flatten() {
        query = match cell {
            Cell::Text(v) => query.bind(v),
            Cell::Int(v) => query.bind(v),
        };
    }
    query.execute(dst).await?;
    Ok(())
}

/// Row count and SHA-256 (hex) of `table` read in primary-key order. The hash starts with the
/// table and column names and encodes every value canonically (see [`hash_cell`]), so it does
/// not depend on the backend: the same rows give the same checksum on SQLite and PostgreSQL.
async fn checksum(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &Table,
) -> anyhow::Result<(u64, String)> {
    let mut hash = Sha256::new();
    hash_text(&mut hash, table.name);
    for c in &table.columns {
        hash_text(&mut hash, &c.name);
    }
    let mut count = 0u64;
    let sql = select_sql(backend, table);
    let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(conn);
    while let Some(row) = rows.try_next().await? {
        count += 1;
        for cell in decode(&row, table)? {
            hash_cell(&mut hash, &cell);
        }
    }
    Ok((count, hex::encode(hash.finalize())))
}

/// A type tag, then for text its length and bytes, for an integer its 8 bytes big-endian: no two
/// different sequences of values encode alike, and NULL (`N`) differs from the empty text.
fn hash_cell(hash: &mut Sha256, cell: &Cell) {
    match cell {
        Cell::Text(Some(s)) => hash_text(hash, s),
        Cell::Int(Some(i)) => {
            hash.update(b"I");
            hash.update(i.to_be_bytes());
        }
        Cell::Text(None) | Cell::Int(None) => hash.update(b"N"),
    }
}

fn hash_text(hash: &mut Sha256, s: &str) {
    hash.update(b"T");
    hash.update((s.len() as u64).to_be_bytes());
    hash.update(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(cells: &[Cell]) -> String {
        let mut h = Sha256::new();
        for c in cells {
            hash_cell(&mut h, c);
        }
        hex::encode(h.finalize())
    }

    #[test]
    fn the_checksum_encoding_tells_null_empty_and_boundaries_apart() {
        let null = digest(&[Cell::Text(None)]);
        let empty = digest(&[Cell::Text(Some(String::new()))]);
        assert_ne!(null, empty);
        // Concatenation must not collide: ("ab", "") vs ("a", "b").
        let ab = digest(&[Cell::Text(Some("ab".into())), Cell::Text(Some("".into()))]);
        let a_b = digest(&[Cell::Text(Some("a".into())), Cell::Text(Some("b".into()))]);
        assert_ne!(ab, a_b);
        // The integer 1 is not the text "1", and a NULL integer is a NULL.
        assert_ne!(
            digest(&[Cell::Int(Some(1))]),
            digest(&[Cell::Text(Some("1".into()))])
        );
        assert_eq!(digest(&[Cell::Int(None)]), null);
    }

    #[test]
    fn declared_types_map_to_text_or_integer_and_nothing_else() {
        for t in ["INTEGER", "BIGINT", "integer", "bigint", "smallint"] {
            assert_eq!(kind_of(t), Some(Kind::Int), "{t}");
        }
        for t in ["TEXT", "text", "character varying"] {
            assert_eq!(kind_of(t), Some(Kind::Text), "{t}");
        }
        for t in ["REAL", "BLOB", "bytea", "boolean", "double precision"] {
            assert_eq!(kind_of(t), None, "{t}");
        }
    }

    #[test]
    fn postgres_reads_text_keys_in_bytewise_order() {
        let key = Column {
            name: "id".into(),
            kind: Kind::Text,
        };
        let table = Table {
            name: "users",
            columns: vec![
                key.clone(),
                Column {
                    name: "n".into(),
                    kind: Kind::Int,
                },
            ],
            key: vec![key],
        };
        assert_eq!(
            select_sql(Backend::Postgres, &table),
            r#"SELECT "id", "n" FROM "users" ORDER BY "id" COLLATE "C""#
        );
        assert_eq!(
            select_sql(Backend::Sqlite, &table),
            r#"SELECT "id", "n" FROM "users" ORDER BY "id""#
        );
    }

    #[test]
    fn a_sqlite_source_is_never_created() {
        assert_eq!(
            existing_sqlite("sqlite:///d/u.db"),
            "sqlite:///d/u.db?mode=rw"
        );
        assert_eq!(
            existing_sqlite("sqlite:///d/u.db?mode=ro"),
            "sqlite:///d/u.db?mode=ro"
        );
        assert_eq!(existing_sqlite("postgres://h/db"), "postgres://h/db");
    }
}
