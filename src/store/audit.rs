//! Audit events: one row per state change, written in the changing transaction.

use sqlx::{Any, Executor};

use super::deferred::Deferred;

pub struct Event<'a> {
    pub id: &'a str,
    pub org_id: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: &'a str,
    pub details: &'a str,
    pub now: &'a str,
}

/// The event's insert, for the changing transaction to run with its commit
/// ([`super::WriteTx::defer`]): nothing reads an audit event in the transaction that writes it.
pub fn insert(e: &Event<'_>) -> Deferred {
    Deferred::new(
        "INSERT INTO audit_events (id, org_id, actor, action, target_type, target_id, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.id)
    .bind(e.org_id)
    .bind(e.actor)
    .bind(e.action)
    .bind(e.target_type)
    .bind(e.target_id)
    .bind(e.details)
    .bind(e.now)
}

/// Actions recorded for a target, oldest first (tests and the admin CLI read them).
pub async fn actions_for<'e, E: Executor<'e, Database = Any>>(
    db: E,
    target_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT action FROM audit_events WHERE target_id = $1 ORDER BY created_at, id",
    )
    .bind(target_id)
    .fetch_all(db)
    .await
}
