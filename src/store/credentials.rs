//! API keys.

use sqlx::{Any, Executor};

use super::rows::ApiKeyRow;

pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub user_id: Option<&'a str>,
    pub roles: &'a str,
    pub description: &'a str,
    pub secret_encrypted: &'a str,
    pub created_by: Option<&'a str>,
    pub now: &'a str,
    pub atlas_id: Option<&'a str>,
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    k: &NewApiKey<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_keys (id, org_id, user_id, roles, description, secret_encrypted, created_by, created_at, atlas_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(k.id)
    .bind(k.org_id)
    .bind(k.user_id)
    .bind(k.roles)
    .bind(k.description)
    .bind(k.secret_encrypted)
    .bind(k.created_by)
    .bind(k.now)
    .bind(k.atlas_id)
    .execute(db)
    .await?;
    Ok(())
}

macro_rules! key_columns {
    () => {
        "id, org_id, user_id, roles, description, secret_encrypted, created_at, last_used_at, atlas_id"
    };
}

pub async fn by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<Option<ApiKeyRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        key_columns!(),
        " FROM api_keys WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn of_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<ApiKeyRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        key_columns!(),
        " FROM api_keys WHERE org_id = $1 ORDER BY created_at, id"
    ))
    .bind(org_id)
    .fetch_all(db)
    .await
}

pub async fn delete<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    id: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM api_keys WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}

/// Deletes the keys a user holds in an organization (when the user leaves it). Returns their ids.
pub async fn delete_of_member<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    user_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM api_keys WHERE org_id = $1 AND user_id = $2 RETURNING id")
        .bind(org_id)
        .bind(user_id)
        .fetch_all(db)
        .await
}

/// Changes an Atlas key's description and roles.
pub async fn update_atlas_key<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    description: &str,
    roles: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE api_keys SET description = $2, roles = $3 WHERE id = $1")
        .bind(id)
        .bind(description)
        .bind(roles)
        .execute(db)
        .await?;
    Ok(())
}
