//! The outbox as people see it: send limits on invitation e-mails, and what owners and operators
//! may look at and re-queue. Delivery itself is `crate::delivery`.

use time::Duration;

use super::clock::{format_ts, parse_ts};
use super::mail::PURPOSE_INVITATION;
use super::roles::Permission;
use super::{Actor, Core, CoreError, CoreResult, user_status};
use crate::store::{self, WriteTx, deferred::Deferred, outbox::MessageRow, outbox::Sends};

/// A message rendered and encrypted for the outbox, ready to be written in a transaction: the
/// work is done before the transaction, so the single writer is held for the statement only.
#[derive(Clone)]
pub struct Sealed {
    pub(super) id: String,
    pub(super) kind: &'static str,
    /// `invitation`, `verification`, `password_reset`, or a webhook's event.
    pub(super) purpose: String,
    pub(super) org_id: Option<String>,
    pub(super) recipient: String,
    pub(super) payload: String,
}

/// How many messages a list shows at most.
const LIST_LIMIT: i64 = 500;

pub const STATES: &[&str] = &["PENDING", "SENT", "PARKED"];

impl Core {
    /// Queues `messages` in the caller's transaction, in one statement run with its commit.
    pub async fn queue(&self, tx: &mut WriteTx, messages: &[Sealed]) -> CoreResult<()> {
        if let Some(insert) = self.outbox_insert(messages) {
            tx.defer(insert).await?;
        }
        Ok(())
    }

    /// The one statement that queues `messages` (`None` for none).
    pub(crate) fn outbox_insert(&self, messages: &[Sealed]) -> Option<Deferred> {
        let now = self.now_ts();
        let rows: Vec<_> = messages
            .iter()
            .map(|m| store::outbox::NewMessage {
                id: &m.id,
                kind: m.kind,
                purpose: &m.purpose,
                org_id: m.org_id.as_deref(),
                recipient: &m.recipient,
                payload_encrypted: &m.payload,
                now: &now,
            })
            .collect();
        store::outbox::insert_all(&rows)
    }

    /// Refuses another invitation e-mail to `recipient` (normalized) or from `org_id` when a
    /// limit of [`super::SendLimits`] is reached, saying when to try again.
    pub(crate) async fn check_send_limits(&self, org_id: &str, recipient: &str) -> CoreResult<()> {
        let limits = &self.settings.send_limits;
        if limits.per_recipient == 0 && limits.per_org_per_day == 0 {
            return Ok(());
        }
        let now = self.clock.now();
        let day = Duration::days(1);
        let (to, by) = store::outbox::sends(
            self.db.read(),
            PURPOSE_INVITATION,
            recipient,
            &format_ts(now - limits.recipient_window),
            i64::from(limits.per_recipient),
            org_id,
            &format_ts(now - day),
            i64::from(limits.per_org_per_day),
        )
        .await?;
        refuse_beyond(&to, limits.per_recipient, limits.recipient_window, now)?;
        refuse_beyond(&by, limits.per_org_per_day, day, now)
    }

    /// An owner's view of the organization's messages, newest first (never their content).
    pub async fn org_messages(
        &self,
        actor: &Actor,
        org_id: &str,
        state: Option<&str>,
    ) -> CoreResult<Vec<MessageRow>> {
        self.require_outbox_access(actor, org_id).await?;
        let state = valid_state(state)?;
        Ok(store::outbox::list(self.db.read(), Some(org_id), state, LIST_LIMIT).await?)
    }

    /// An owner puts a parked message of the organization back in the queue.
    pub async fn retry_org_message(&self, actor: &Actor, org_id: &str, id: &str) -> CoreResult<()> {
        self.require_outbox_access(actor, org_id).await?;
        if !super::ids::is_id(id) {
            return Err(CoreError::NotFound);
        }
        self.requeue(Some(id), Some(org_id), &actor.audit_label())
            .await
            .map(drop)
    }

    async fn require_outbox_access(&self, actor: &Actor, org_id: &str) -> CoreResult<()> {
        actor.require_status(&[user_status::ACTIVE])?;
        self.access(actor, org_id)
            .await?
            .require(Permission::ManageInvitations)
    }

    /// The operator's view (`usher admin outbox list`): every organization's messages.
    pub async fn admin_messages(&self, state: Option<&str>) -> CoreResult<Vec<MessageRow>> {
        let state = valid_state(state)?;
        Ok(store::outbox::list(self.db.read(), None, state, LIST_LIMIT).await?)
    }

    /// The operator re-queues one parked message, or all of them (`id` `None`). Returns how many.
    pub async fn admin_retry(&self, id: Option<&str>) -> CoreResult<u64> {
        self.requeue(id, None, "admin").await
    }

    /// Re-queues parked messages (see [`store::outbox::requeue`]) with an audit event. A named
    /// message that is unknown, another organization's or not parked is "not found".
    async fn requeue(&self, id: Option<&str>, org_id: Option<&str>, by: &str) -> CoreResult<u64> {
        let mut tx = self.db.begin().await?;
        let n = store::outbox::requeue(&mut *tx, id, org_id, &self.now_ts()).await?;
        if n == 0 {
            return match id {
                Some(_) => Err(CoreError::NotFound),
                None => Ok(0),
            };
        }
        self.audit(
            &mut tx,
            Some(by),
            org_id,
            "outbox.requeued",
            ("outbox", id.unwrap_or("*")),
            serde_json::json!({"messages": n}),
        )
        .await?;
        tx.commit().await?;
        self.outbox_wakeup.notify_one();
        Ok(n)
    }
}

fn valid_state(state: Option<&str>) -> CoreResult<Option<&str>> {
    match state {
        Some(s) if !STATES.contains(&s) => Err(CoreError::invalid(
            "state",
            "must be PENDING, SENT or PARKED",
        )),
        other => Ok(other),
    }
}

/// `Err(RateLimited)` once `sends` has reached `limit` (0: no limit): a slot frees when the
/// oldest send in the window leaves it.
fn refuse_beyond(
    sends: &Sends,
    limit: u32,
    window: Duration,
    now: time::OffsetDateTime,
) -> CoreResult<()> {
    if limit == 0 || sends.n < i64::from(limit) {
        return Ok(());
    }
    let frees_at = sends
        .oldest
        .as_deref()
        .and_then(parse_ts)
        .map_or(now + window, |oldest| oldest + window);
    let secs = (frees_at - now).whole_seconds().max(1);
    Err(CoreError::RateLimited {
        retry_after_secs: secs as u64,
    })
}
