//! IP access lists of API keys.

use sqlx::{Any, Executor};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccessEntryRow {
    pub key_id: String,
    pub cidr: String,
    pub ip_address: Option<String>,
    pub created_at: String,
}

pub async fn of_key<'e, E: Executor<'e, Database = Any>>(
    db: E,
    key_id: &str,
) -> Result<Vec<AccessEntryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT key_id, cidr, ip_address, created_at FROM api_key_access_list WHERE key_id = $1 ORDER BY created_at, cidr",
    )
    .bind(key_id)
    .fetch_all(db)
    .await
}

/// Adds an entry; false if the key had it already.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    e: &AccessEntryRow,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO api_key_access_list (key_id, cidr, ip_address, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key_id, cidr) DO NOTHING",
    )
    .bind(&e.key_id)
    .bind(&e.cidr)
    .bind(&e.ip_address)
    .bind(&e.created_at)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn delete<'e, E: Executor<'e, Database = Any>>(
    db: E,
    key_id: &str,
    cidr: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM api_key_access_list WHERE key_id = $1 AND cidr = $2")
        .bind(key_id)
        .bind(cidr)
        .execute(db)
        .await?;
    Ok(r.rows_affected() == 1)
}
