//! The outbox: rows written in the transaction that causes them, delivered by a worker.

use sqlx::{Any, Executor};

use super::deferred::{Deferred, rows_as};
use super::rows::OutboxRow;

/// A message to queue.
pub struct NewMessage<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    /// `invitation`, `verification`, `password_reset`: what send limits and operators look at.
    pub purpose: &'a str,
    /// The organization whose owners may see and re-queue it.
    pub org_id: Option<&'a str>,
    /// Normalized address (the one as typed is in the payload).
    pub recipient: &'a str,
    pub payload_encrypted: &'a str,
    pub now: &'a str,
}

/// The insert of `messages`, one statement for all: an invitation's e-mail and its event's
/// webhook deliveries cost the single SQLite writer no round trip of their own (the changing
/// transaction runs it with its commit, [`super::WriteTx::defer`]). `None` for no messages.
pub fn insert_all(messages: &[NewMessage<'_>]) -> Option<Deferred> {
    if messages.is_empty() {
        return None;
    }
    // Only placeholders are generated; every value is bound.
    let rows: Vec<String> = (0..messages.len())
        .map(|m| {
            let p = |k: usize| format!("${}", m * 7 + k);
            format!(
                "({}, {}, {}, {}, {}, {}, 'PENDING', 0, {}, {})",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6),
                p(7),
                p(7)
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO outbox (id, kind, purpose, org_id, recipient, payload_encrypted, state, attempts, \
         next_attempt_at, created_at) VALUES {}",
        rows.join(", ")
    );
    let mut insert = Deferred::new(sql);
    for m in messages {
        insert = insert
            .bind(m.id)
            .bind(m.kind)
            .bind(m.purpose)
            .bind(m.org_id)
            .bind(m.recipient)
            .bind(m.payload_encrypted)
            .bind(m.now);
    }
    Some(insert)
}

/// Messages of one purpose queued since a moment, and the oldest of them.
#[derive(Debug, Clone)]
pub struct Sends {
    pub n: i64,
    pub oldest: Option<String>,
}

/// What was queued with `purpose` to `recipient` since `recipient_since`, and for organization
/// `org_id` since `org_since`: one query for both send limits. Each count stops at its `cap`
/// (the limit; 0 skips it), so a check costs the same however busy the organization is. The
/// oldest is `ORDER BY … LIMIT 1`, not `MIN(…)`: PostgreSQL's generic plan aggregated every row
/// of the day for `MIN` (27 ms at 20,000 sends), where the first index entry suffices.
#[allow(clippy::too_many_arguments)]
pub async fn sends<'e, E: Executor<'e, Database = Any>>(
    db: E,
    purpose: &str,
    recipient: &str,
    recipient_since: &str,
    recipient_cap: i64,
    org_id: &str,
    org_since: &str,
    org_cap: i64,
) -> Result<(Sends, Sends), sqlx::Error> {
    let (to_n, to_oldest, by_n, by_oldest): (i64, Option<String>, i64, Option<String>) =
        sqlx::query_as(
            "SELECT \
             (SELECT COUNT(*) FROM (SELECT 1 FROM outbox \
                WHERE recipient = $2 AND purpose = $1 AND created_at > $3 LIMIT $4) AS r), \
             (SELECT created_at FROM outbox WHERE recipient = $2 AND purpose = $1 AND created_at > $3 \
                ORDER BY created_at LIMIT 1), \
             (SELECT COUNT(*) FROM (SELECT 1 FROM outbox \
                WHERE org_id = $5 AND purpose = $1 AND created_at > $6 LIMIT $7) AS o), \
             (SELECT created_at FROM outbox WHERE org_id = $5 AND purpose = $1 AND created_at > $6 \
                ORDER BY created_at LIMIT 1)",
        )
        .bind(purpose)
        .bind(recipient)
        .bind(recipient_since)
        .bind(recipient_cap)
        .bind(org_id)
        .bind(org_since)
        .bind(org_cap)
        .fetch_one(db)
        .await?;
    Ok((
        Sends {
            n: to_n,
            oldest: to_oldest,
        },
        Sends {
            n: by_n,
            oldest: by_oldest,
        },
    ))
}

/// A message as operators and owners see it (never its payload).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: String,
    pub kind: String,
    pub purpose: String,
    pub org_id: Option<String>,
    pub recipient: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// Newest first, at most `limit`; optionally of one organization and in one state.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: Option<&str>,
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, kind, purpose, org_id, recipient, state, attempts, next_attempt_at, last_error, \
         created_at, sent_at FROM outbox WHERE ($1 IS NULL OR org_id = $1) AND ($2 IS NULL OR state = $2) \
         ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(org_id)
    .bind(state)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Puts PARKED messages back in the queue, due now, with a fresh attempt count (the last error is
/// kept until the next attempt). `id` `None` means every parked message; `org_id` restricts it to
/// one organization's. Returns how many.
pub async fn requeue<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: Option<&str>,
    org_id: Option<&str>,
    now: &str,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE outbox SET state = 'PENDING', attempts = 0, next_attempt_at = $3 \
         WHERE state = 'PARKED' AND ($1 IS NULL OR id = $1) AND ($2 IS NULL OR org_id = $2)",
    )
    .bind(id)
    .bind(org_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Claims up to `limit` due messages by pushing their next attempt `lease_until` into the
/// future: if this process dies mid-delivery the lease runs out and the message is retried
/// (at-least-once; the message id lets receivers deduplicate). Workers of several instances on
/// one PostgreSQL database skip each other's rows (`FOR UPDATE SKIP LOCKED`); without it, a
/// concurrent claim would wait for the first and then take the same rows again.
///
/// `sent` (delivered at `sent_at`, not yet recorded) is marked sent first, in the same
/// transaction: under load the worker records a full batch with the next claim, one round trip
/// through the single SQLite writer instead of two.
pub async fn claim_due(
    db: &super::Db,
    now: &str,
    lease_until: &str,
    limit: i64,
    sent: &[&str],
    sent_at: &str,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    let claim = Deferred::new(claim_sql(db))
        .bind(now)
        .bind(lease_until)
        .bind(limit);
    let statements: Vec<Deferred> = mark_sent_statement(sent, sent_at)
        .into_iter()
        .chain([claim])
        .collect();
    let rows = db.write_batch_keeping_actors(statements.into()).await?;
    let mut claimed: Vec<OutboxRow> = rows_as(rows)?;
    // `RETURNING` follows the update's plan, not the subquery's order (on PostgreSQL a hash join
    // returned a member's `removed` event before its `updated`): ids sort in creation order.
    claimed.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    Ok(claimed)
}

/// The claim of [`claim_due`]: `$1` now, `$2` the lease's end, `$3` how many. It walks the index
/// `outbox_due_in_order` in its order and stops at `$3` rows, whatever the backlog.
fn claim_sql(db: &super::Db) -> String {
    format!(
        "UPDATE outbox SET next_attempt_at = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox WHERE state = 'PENDING' AND next_attempt_at <= $1 \
                      ORDER BY next_attempt_at, id LIMIT $3 {}) \
         RETURNING id, kind, purpose, recipient, payload_encrypted, attempts",
        db.skip_locked()
    )
}

/// A delivery that failed: retried at `retry_at`, or PARKED when it is `None`.
pub struct Failed<'a> {
    pub id: &'a str,
    pub error: String,
    pub retry_at: Option<String>,
}

/// Records what one pass delivered (`sent`, at `sent_at`) and what failed, as one batch through
/// the writer's queue like the claims. The worker never holds the writer itself: it may run at a
/// lower CPU priority than requests, which would then wait for it to be scheduled.
pub async fn record(
    db: &super::Db,
    sent: &[&str],
    sent_at: &str,
    failed: &[Failed<'_>],
) -> Result<(), sqlx::Error> {
    let statements: Vec<Deferred> = mark_sent_statement(sent, sent_at)
        .into_iter()
        .chain(failed.iter().map(mark_failed_statement))
        .collect();
    if !statements.is_empty() {
        db.write_batch_keeping_actors(statements.into()).await?;
    }
    Ok(())
}

/// The statement that marks `ids` sent, one however many there are (`None` for no ids).
fn mark_sent_statement(ids: &[&str], now: &str) -> Option<Deferred> {
    if ids.is_empty() {
        return None;
    }
    // Only placeholders are generated; the ids themselves are bound.
    let placeholders: Vec<String> = (2..ids.len() + 2).map(|n| format!("${n}")).collect();
    let sql = format!(
        "UPDATE outbox SET state = 'SENT', sent_at = $1, last_error = NULL WHERE id IN ({})",
        placeholders.join(", ")
    );
    Some(
        ids.iter()
            .fold(Deferred::new(sql).bind(now), |s, id| s.bind(*id)),
    )
}

fn mark_failed_statement(failed: &Failed<'_>) -> Deferred {
    Deferred::new(
        "UPDATE outbox SET last_error = $2, next_attempt_at = COALESCE($3, next_attempt_at), \
         state = CASE WHEN $3 IS NULL THEN 'PARKED' ELSE 'PENDING' END WHERE id = $1",
    )
    .bind(failed.id)
    .bind(failed.error.as_str())
    .bind(failed.retry_at.as_deref())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Without `id` in the index, SQLite read every due message and sorted them all for each
    /// claim of 100 (a temporary B-tree in the plan): the cost of a claim grew with the backlog.
    #[tokio::test]
    async fn a_claim_reads_due_messages_in_index_order_without_sorting_the_backlog() {
        let (_dir, db) = super::super::sqlite_db_for_tests().await;
        db.migrate().await.unwrap();
        let explain = format!("EXPLAIN QUERY PLAN {}", claim_sql(&db));
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(explain))
            .bind("2026-12-07T00:00:00Z")
            .bind("2026-12-07T00:01:00Z")
            .bind(100_i64)
            .fetch_all(db.read())
            .await
            .unwrap();
        let steps: Vec<&str> = plan.iter().map(|(_, _, _, step)| step.as_str()).collect();
        assert!(
            steps
                .iter()
                .any(|s| s.contains("USING INDEX outbox_due_in_order")
                    || s.contains("USING COVERING INDEX outbox_due_in_order")),
            "{steps:?}"
        );
        assert!(
            !steps.iter().any(|s| s.contains("TEMP B-TREE")),
            "{steps:?}"
        );
    }
}
