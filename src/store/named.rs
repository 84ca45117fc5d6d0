//! What projects and teams have in common: an organization's named things (id, organization,
//! name unique in it, timestamps), kept in tables of the same shape.

use sqlx::{Any, AssertSqlSafe, Executor};

/// A project or a team.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NamedRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

/// Which table: the only values ever put into this module's SQL.
#[derive(Debug, Clone, Copy)]
pub enum Named {
    Projects,
    Teams,
}

impl Named {
    fn table(self) -> &'static str {
        match self {
            Named::Projects => "projects",
            Named::Teams => "teams",
        }
    }
}

const COLUMNS: &str = "id, org_id, name, created_at, updated_at";

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    kind: Named,
    r: &NamedRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {} ({COLUMNS}) VALUES ($1, $2, $3, $4, $4)",
        kind.table()
    )))
    .bind(&r.id)
    .bind(&r.org_id)
    .bind(&r.name)
    .bind(&r.created_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    kind: Named,
    id: &str,
) -> Result<Option<NamedRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM {} WHERE id = $1",
        kind.table()
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Those of an organization, oldest first.
pub async fn of_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    kind: Named,
    org_id: &str,
) -> Result<Vec<NamedRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM {} WHERE org_id = $1 ORDER BY created_at, id",
        kind.table()
    )))
    .bind(org_id)
    .fetch_all(db)
    .await
}

pub async fn rename<'e, E: Executor<'e, Database = Any>>(
    db: E,
    kind: Named,
    id: &str,
    name: &str,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(AssertSqlSafe(format!(
        "UPDATE {} SET name = $2, updated_at = $3 WHERE id = $1",
        kind.table()
    )))
    .bind(id)
    .bind(name)
    .bind(now)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes one, with everything that hangs from it (the foreign keys cascade).
pub async fn delete<'e, E: Executor<'e, Database = Any>>(
    db: E,
    kind: Named,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(AssertSqlSafe(format!(
        "DELETE FROM {} WHERE id = $1",
        kind.table()
    )))
    .bind(id)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}
