//! Webhook endpoints of organizations.

use sqlx::{Any, Executor};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EndpointRow {
    pub id: String,
    pub org_id: String,
    pub url: String,
    pub events: String,
    pub description: String,
    pub enabled: i64,
    pub secret_encrypted: String,
    pub created_at: String,
    pub updated_at: String,
}

macro_rules! endpoint_columns {
    () => {
        "id, org_id, url, events, description, enabled, secret_encrypted, created_at, updated_at"
    };
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    e: &EndpointRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(concat!(
        "INSERT INTO webhook_endpoints (",
        endpoint_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
    ))
    .bind(&e.id)
    .bind(&e.org_id)
    .bind(&e.url)
    .bind(&e.events)
    .bind(&e.description)
    .bind(e.enabled)
    .bind(&e.secret_encrypted)
    .bind(&e.created_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn of_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<EndpointRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        endpoint_columns!(),
        " FROM webhook_endpoints WHERE org_id = $1 ORDER BY created_at, id"
    ))
    .bind(org_id)
    .fetch_all(db)
    .await
}

pub async fn by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<Option<EndpointRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        endpoint_columns!(),
        " FROM webhook_endpoints WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Changes what is given; returns the row, or `None` if the organization has no such endpoint.
#[allow(clippy::too_many_arguments)]
pub async fn update<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    id: &str,
    url: Option<&str>,
    events: Option<&str>,
    description: Option<&str>,
    enabled: Option<i64>,
    secret_encrypted: Option<&str>,
    now: &str,
) -> Result<Option<EndpointRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE webhook_endpoints SET url = COALESCE($3, url), events = COALESCE($4, events), \
         description = COALESCE($5, description), enabled = COALESCE($6, enabled), \
         secret_encrypted = COALESCE($7, secret_encrypted), updated_at = $8 \
         WHERE org_id = $1 AND id = $2 RETURNING ",
        endpoint_columns!()
    ))
    .bind(org_id)
    .bind(id)
    .bind(url)
    .bind(events)
    .bind(description)
    .bind(enabled)
    .bind(secret_encrypted)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn delete<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    id: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}
