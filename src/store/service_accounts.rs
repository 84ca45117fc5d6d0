//! Service accounts, their secrets (digests only) and the access tokens issued to them.

use sqlx::{Any, Executor};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServiceAccountRow {
    pub client_id: String,
    pub org_id: String,
    pub name: String,
    pub description: String,
    pub roles: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SecretRow {
    pub id: String,
    pub client_id: String,
    pub masked: String,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    a: &ServiceAccountRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO service_accounts (client_id, org_id, name, description, roles, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&a.client_id)
    .bind(&a.org_id)
    .bind(&a.name)
    .bind(&a.description)
    .bind(&a.roles)
    .bind(&a.created_at)
    .execute(db)
    .await?;
    Ok(())
}

const ACCOUNT_COLUMNS: &str = "client_id, org_id, name, description, roles, created_at, updated_at";

pub async fn of_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<ServiceAccountRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM service_accounts WHERE org_id = $1 ORDER BY created_at, client_id"
    )))
    .bind(org_id)
    .fetch_all(db)
    .await
}

pub async fn by_client_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    client_id: &str,
) -> Result<Option<ServiceAccountRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM service_accounts WHERE client_id = $1"
    )))
    .bind(client_id)
    .fetch_optional(db)
    .await
}

pub async fn update<'e, E: Executor<'e, Database = Any>>(
    db: E,
    a: &ServiceAccountRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE service_accounts SET name = $2, description = $3, roles = $4, updated_at = $5 \
         WHERE client_id = $1",
    )
    .bind(&a.client_id)
    .bind(&a.name)
    .bind(&a.description)
    .bind(&a.roles)
    .bind(&a.updated_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete<'e, E: Executor<'e, Database = Any>>(
    db: E,
    client_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM service_accounts WHERE client_id = $1")
        .bind(client_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_secret<'e, E: Executor<'e, Database = Any>>(
    db: E,
    s: &SecretRow,
    digest: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO service_account_secrets (id, client_id, secret_digest, masked, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&s.id)
    .bind(&s.client_id)
    .bind(digest)
    .bind(&s.masked)
    .bind(&s.created_at)
    .bind(&s.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

const SECRET_COLUMNS: &str = "id, client_id, masked, created_at, expires_at, last_used_at";

/// The secrets of the accounts of an organization, oldest first.
pub async fn secrets_of_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<SecretRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM service_account_secrets s JOIN service_accounts a ON a.client_id = s.client_id \
         WHERE a.org_id = $1 ORDER BY s.created_at, s.id",
        SECRET_COLUMNS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
    .bind(org_id)
    .fetch_all(db)
    .await
}

pub async fn delete_secret<'e, E: Executor<'e, Database = Any>>(
    db: E,
    client_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM service_account_secrets WHERE client_id = $1 AND id = $2")
        .bind(client_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a live secret of `client_id` used; false for an unknown, expired or other account's
/// secret.
pub async fn use_secret<'e, E: Executor<'e, Database = Any>>(
    db: E,
    client_id: &str,
    digest: &str,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE service_account_secrets SET last_used_at = $3 \
         WHERE secret_digest = $1 AND client_id = $2 AND expires_at > $3",
    )
    .bind(digest)
    .bind(client_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_token<'e, E: Executor<'e, Database = Any>>(
    db: E,
    digest: &str,
    client_id: &str,
    now: &str,
    expires_at: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_tokens (token_digest, client_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(digest)
    .bind(client_id)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The account a live access token was issued to.
pub async fn token_account<'e, E: Executor<'e, Database = Any>>(
    db: E,
    digest: &str,
    now: &str,
) -> Result<Option<ServiceAccountRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM oauth_tokens t JOIN service_accounts a ON a.client_id = t.client_id \
         WHERE t.token_digest = $1 AND t.expires_at > $2",
        ACCOUNT_COLUMNS
            .split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
    .bind(digest)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn delete_token<'e, E: Executor<'e, Database = Any>>(
    db: E,
    digest: &str,
    client_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM oauth_tokens WHERE token_digest = $1 AND client_id = $2")
        .bind(digest)
        .bind(client_id)
        .execute(db)
        .await?;
    Ok(())
}
