//! The outbox: rows written in the transaction that causes them, delivered by a worker.

use sqlx::{Any, AssertSqlSafe, Executor};

use super::rows::OutboxRow;

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    kind: &str,
    recipient: &str,
    payload_encrypted: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (id, kind, recipient, payload_encrypted, state, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, 'PENDING', 0, $5, $5)",
    )
    .bind(id)
    .bind(kind)
    .bind(recipient)
    .bind(payload_encrypted)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Claims up to `limit` due messages by pushing their next attempt `lease_until` into the
/// future: if this process dies mid-delivery the lease runs out and the message is retried
/// (at-least-once; the message id lets receivers deduplicate).
pub async fn claim_due<'e, E: Executor<'e, Database = Any>>(
    db: E,
    now: &str,
    lease_until: &str,
    limit: i64,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE outbox SET next_attempt_at = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox WHERE state = 'PENDING' AND next_attempt_at <= $1 \
                      ORDER BY next_attempt_at, id LIMIT $3) \
         RETURNING id, kind, recipient, payload_encrypted, attempts",
    )
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Records successful deliveries, in one statement however many there are.
pub async fn mark_sent<'e, E: Executor<'e, Database = Any>>(
    db: E,
    ids: &[&str],
    now: &str,
) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    // Only placeholders are generated; the ids themselves are bound.
    let placeholders: Vec<String> = (2..ids.len() + 2).map(|n| format!("${n}")).collect();
    let sql = format!(
        "UPDATE outbox SET state = 'SENT', sent_at = $1, last_error = NULL WHERE id IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(now);
    for id in ids {
        query = query.bind(*id);
    }
    query.execute(db).await?;
    Ok(())
}

/// Records a failed attempt: retried at `retry_at`, or PARKED when `retry_at` is `None`.
pub async fn mark_failed<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    error: &str,
    retry_at: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET last_error = $2, next_attempt_at = COALESCE($3, next_attempt_at), \
         state = CASE WHEN $3 IS NULL THEN 'PARKED' ELSE 'PENDING' END WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(retry_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn count_by_state<'e, E: Executor<'e, Database = Any>>(
    db: E,
    state: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = $1")
        .bind(state)
        .fetch_one(db)
        .await
}
