//! Statements a write transaction runs later, together: on SQLite, every statement is a round
//! trip through the writer connection's thread, made while every other writer waits, so the
//! inserts nothing in the transaction reads again (audit events, outbox rows) travel with its
//! `COMMIT` as one multi-statement query (see [`super::WriteTx::defer`]).
//!
//! sqlx's SQLite driver binds `$N` by its absolute position among the query's arguments, across
//! all the statements of the query; each deferred statement is written with its own `$1…`, so
//! joining them renumbers its placeholders past those of the statements before it.

use serde::Deserialize;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyConnection, AssertSqlSafe, Executor, Row, ValueRef};

use super::json_rows::{FromJsonColumns, JsonRows};

/// A row a batch returned ([`super::Db::write_batch_keeping_actors`]): a JSON array of its
/// columns in order, each null, a number or text; read with [`rows_as`]. (The SQLite writer
/// runs batches on a connection of its own, not sqlx's, so its rows are not sqlx's either.)
pub type WrittenRow = serde_json::Value;

/// `rows` as `T`s (see [`FromJsonColumns`]).
pub fn rows_as<T: FromJsonColumns>(rows: Vec<WrittenRow>) -> Result<Vec<T>, sqlx::Error> {
    JsonRows::<T>::deserialize(WrittenRow::Array(rows))
        .map(|rows| rows.0)
        .map_err(|e| sqlx::Error::Decode(e.into()))
}

/// sqlx's rows as [`WrittenRow`]s: usher's statements return integers and text.
pub(super) fn written(rows: Vec<AnyRow>) -> Result<Vec<WrittenRow>, sqlx::Error> {
    rows.iter()
        .map(|row| {
            let columns = (0..row.len())
                .map(|i| {
                    let raw = row.try_get_raw(i)?;
                    Ok(if raw.is_null() {
                        WrittenRow::Null
                    } else if raw.type_info().kind().is_integer() {
                        WrittenRow::from(row.try_get::<i64, _>(i)?)
                    } else {
                        WrittenRow::from(row.try_get::<String, _>(i)?)
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            Ok(WrittenRow::Array(columns))
        })
        .collect()
}

/// A value bound to a deferred statement (what usher's statements bind: text and integers).
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(Option<String>),
    Int(Option<i64>),
}

impl From<&str> for Param {
    fn from(v: &str) -> Param {
        Param::Text(Some(v.to_owned()))
    }
}

impl From<Option<&str>> for Param {
    fn from(v: Option<&str>) -> Param {
        Param::Text(v.map(str::to_owned))
    }
}

impl From<i64> for Param {
    fn from(v: i64) -> Param {
        Param::Int(Some(v))
    }
}

/// One statement and its values, written with placeholders `$1…$n` of its own.
#[derive(Debug, Clone)]
pub struct Deferred {
    sql: String,
    params: Vec<Param>,
}

impl Deferred {
    pub fn new(sql: impl Into<String>) -> Deferred {
        Deferred {
            sql: sql.into(),
            params: Vec::new(),
        }
    }

    pub fn bind(mut self, value: impl Into<Param>) -> Deferred {
        self.params.push(value.into());
        self
    }

    /// The SQL and the values, in the order of their placeholders' numbers.
    pub fn into_parts(self) -> (String, Vec<Param>) {
        (self.sql, self.params)
    }

    /// Runs this statement now and returns its rows.
    pub async fn fetch_all(self, conn: &mut AnyConnection) -> Result<Vec<AnyRow>, sqlx::Error> {
        Batch::from(vec![self]).fetch_all(conn).await
    }
}

/// Statements joined into one query, in order (SQLite only: PostgreSQL prepares one statement
/// per query; there, see [`Batch::into_one_statement`]).
#[derive(Debug, Default)]
pub struct Batch(Vec<Deferred>);

impl From<Vec<Deferred>> for Batch {
    fn from(statements: Vec<Deferred>) -> Batch {
        Batch(statements)
    }
}

impl Batch {
    pub fn push(&mut self, statement: Deferred) {
        self.0.push(statement);
    }

    pub fn extend(&mut self, statements: impl IntoIterator<Item = Deferred>) {
        self.0.extend(statements);
    }

    pub fn into_statements(self) -> Vec<Deferred> {
        self.0
    }

    /// The first statement and the batch of the others (`None` for an empty batch).
    pub fn split_first(mut self) -> Option<(Deferred, Batch)> {
        if self.0.is_empty() {
            return None;
        }
        let first = self.0.remove(0);
        Some((first, self))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every statement's SQL, its placeholders moved past those of the statements before it,
    /// and every value in order.
    fn renumbered(self) -> (Vec<String>, Vec<Param>) {
        let mut pieces = Vec::with_capacity(self.0.len());
        let mut params = Vec::new();
        for statement in self.0 {
            pieces.push(renumbered(&statement.sql, params.len()));
            params.extend(statement.params);
        }
        (pieces, params)
    }

    /// The joined SQL (statements separated by `;`) and every value in order.
    pub fn joined(self) -> Result<(String, AnyArguments), sqlx::Error> {
        use sqlx::Arguments;
        let (pieces, params) = self.renumbered();
        let mut args = AnyArguments::default();
        for p in params {
            let added = match p {
                Param::Text(v) => args.add(v),
                Param::Int(v) => args.add(v),
            };
            added.map_err(sqlx::Error::Encode)?;
        }
        Ok((pieces.join("; "), args))
    }

    /// The statements as one, `WITH s1 AS (…), s2 AS (…) last`, when they are two or more
    /// inserts, none an upsert (`DO UPDATE`), of which only the last returns rows; otherwise the
    /// batch back. For PostgreSQL,
    /// which runs one statement per query: one statement is atomic by itself, so it needs no
    /// `BEGIN` and `COMMIT`, and costs one round trip instead of one per statement plus two.
    /// Only inserts, because the parts of one statement share a snapshot and must not change the
    /// same rows; an insert changes only the rows it adds, and constraints (foreign keys
    /// between the parts included) are checked at the end of the whole statement. Not upserts:
    /// two parts upserting one key fail the statement ("cannot affect row a second time"), where
    /// statement by statement the second would update the first's row.
    pub fn into_one_statement(self) -> Result<Deferred, Batch> {
        let foldable = self.0.len() > 1
            && self.0.iter().enumerate().all(|(i, s)| {
                let sql = s.sql.trim_start().to_ascii_uppercase();
                sql.starts_with("INSERT ")
                    && !sql.contains("DO UPDATE")
                    && (i + 1 == self.0.len() || !sql.contains("RETURNING"))
            });
        if !foldable {
            return Err(self);
        }
        let (mut pieces, params) = self.renumbered();
        let last = pieces.pop().unwrap_or_default();
        let parts: Vec<String> = pieces
            .iter()
            .enumerate()
            .map(|(i, sql)| format!("s{} AS ({sql})", i + 1))
            .collect();
        Ok(Deferred {
            sql: format!("WITH {} {last}", parts.join(", ")),
            params,
        })
    }

    /// Runs every statement, in order, as one query. A statement that fails stops the ones after
    /// it; in a transaction, what ran before stays for the transaction's rollback to undo.
    pub async fn execute(self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        if self.is_empty() {
            return Ok(());
        }
        let (sql, args) = self.joined()?;
        conn.execute(sqlx::query_with(AssertSqlSafe(sql), args))
            .await?;
        Ok(())
    }

    /// [`Batch::execute`], returning the rows of every statement.
    pub async fn fetch_all(self, conn: &mut AnyConnection) -> Result<Vec<AnyRow>, sqlx::Error> {
        let (sql, args) = self.joined()?;
        conn.fetch_all(sqlx::query_with(AssertSqlSafe(sql), args))
            .await
    }
}

/// `sql` with every placeholder `$k` outside quoted text and identifiers written `$(k+by)`.
fn renumbered(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut k = 0usize;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    k = k * 10 + d as usize;
                    chars.next();
                }
                out.push_str(&(k + by).to_string());
            }
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_move_past_the_earlier_statements_values() {
        assert_eq!(
            renumbered("INSERT INTO t VALUES ($1, $2, $1, $10)", 3),
            "INSERT INTO t VALUES ($4, $5, $4, $13)"
        );
        assert_eq!(renumbered("SELECT $1", 0), "SELECT $1");
    }

    #[test]
    fn quoted_dollars_are_left_alone() {
        assert_eq!(
            renumbered("SELECT json_extract(x, '$.a$1'), \"$2\", $2 FROM t", 5),
            "SELECT json_extract(x, '$.a$1'), \"$2\", $7 FROM t"
        );
        // An escaped quote ('') closes and reopens the literal: still inside it.
        assert_eq!(
            renumbered("SELECT 'it''s $1', $1", 1),
            "SELECT 'it''s $1', $2"
        );
    }

    #[test]
    fn a_batch_joins_statements_and_their_values_in_order() {
        let mut batch = Batch::default();
        batch.push(
            Deferred::new("INSERT INTO a VALUES ($1, $2)")
                .bind("x")
                .bind(1),
        );
        batch.push(Deferred::new("INSERT INTO b VALUES ($1)").bind(None::<&str>));
        batch.push(Deferred::new("COMMIT"));
        let (sql, args) = batch.joined().unwrap();
        assert_eq!(
            sql,
            "INSERT INTO a VALUES ($1, $2); INSERT INTO b VALUES ($3); COMMIT"
        );
        assert_eq!(sqlx::Arguments::len(&args), 3);
    }

    #[test]
    fn inserts_fold_into_one_statement_whose_last_part_returns_the_rows() {
        let batch = Batch::from(vec![
            Deferred::new("INSERT INTO a VALUES ($1, $2)")
                .bind("x")
                .bind(1),
            Deferred::new("INSERT INTO b VALUES ($1)").bind("y"),
            Deferred::new("INSERT INTO c VALUES ($1) RETURNING id").bind("z"),
        ]);
        let one = batch.into_one_statement().unwrap();
        assert_eq!(
            one.sql,
            "WITH s1 AS (INSERT INTO a VALUES ($1, $2)), s2 AS (INSERT INTO b VALUES ($3)) \
             INSERT INTO c VALUES ($4) RETURNING id"
        );
        assert_eq!(one.params.len(), 4);
    }

    #[test]
    fn updates_upserts_or_rows_returned_early_keep_the_batch_apart() {
        let update_first = Batch::from(vec![
            Deferred::new("UPDATE a SET x = 1"),
            Deferred::new("INSERT INTO b VALUES (1)"),
        ]);
        assert!(update_first.into_one_statement().is_err());
        let returning_first = Batch::from(vec![
            Deferred::new("INSERT INTO a VALUES (1) RETURNING id"),
            Deferred::new("INSERT INTO b VALUES (1)"),
        ]);
        assert!(returning_first.into_one_statement().is_err());
        let upsert = Batch::from(vec![
            Deferred::new("INSERT INTO a VALUES (1)"),
            Deferred::new("INSERT INTO b VALUES (1) ON CONFLICT (k) DO UPDATE SET v = excluded.v"),
        ]);
        assert!(upsert.into_one_statement().is_err());
        let alone = Batch::from(vec![Deferred::new("INSERT INTO a VALUES (1)")]);
        assert!(alone.into_one_statement().is_err());
    }
}
