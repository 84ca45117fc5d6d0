//! The core: organizations, users, memberships, invitations, credentials. Every rule, every
//! invariant and every transaction lives here; the core never knows which dialect called it.

pub mod access_lists;
pub mod accounts;
pub mod clock;
pub mod credentials;
pub mod crypto;
pub mod email;
pub mod error;
pub mod ids;
pub mod invitations;
pub mod mail;
pub mod outbox;
pub mod password;
pub mod projects;
pub mod roles;
pub mod service_accounts;
pub mod teams;
pub mod users;
pub mod webhooks;

use std::sync::Arc;

use time::Duration;
use tokio::sync::Notify;

use crate::store::{self, Db, WriteTx, deferred::Deferred, rows::UserRow};
pub use error::{Conflict, CoreError, CoreResult, Ended};
use roles::{Permission, Roles};

/// Tunables of the rules (from configuration).
#[derive(Debug, Clone)]
pub struct Settings {
    pub invitation_ttl: Duration,
    pub session_ttl: Duration,
    pub token_ttl: Duration,
    pub password_policy: password::Policy,
    /// Open sign-up (SOLAPI #1, #2). Off by default: invitation-only.
    pub signup_open: bool,
    /// Where the links in e-mails point.
    pub links: mail::Links,
    /// The language of e-mails when the organization has none.
    pub mail_language: mail::Language,
    pub agreement_html: String,
    pub send_limits: SendLimits,
}

/// Limits on invitation e-mails (0: none). Counted from the outbox on the read pool before the
/// write, so requests racing for the last slot may overshoot by their number: a brake on abuse,
/// not an exact quota.
#[derive(Debug, Clone)]
pub struct SendLimits {
    pub per_recipient: u32,
    pub recipient_window: Duration,
    pub per_org_per_day: u32,
}

/// Everything the rules need, shared by all requests.
pub struct Core {
    pub db: Db,
    pub clock: Arc<clock::Clock>,
    pub crypto: crypto::Crypto,
    pub hasher: password::Hasher,
    pub settings: Settings,
    /// Wakes the outbox worker after a commit that queued mail.
    pub outbox_wakeup: Arc<Notify>,
    /// Which endpoints want which events, per organization (briefly cached).
    pub webhooks: webhooks::Directory,
}

/// The statuses a person can be in (SOLAPI member status).
pub mod user_status {
    pub const UNVERIFIED: &str = "UNVERIFIED";
    pub const ACTIVE: &str = "ACTIVE";
    pub const INACTIVE: &str = "INACTIVE";
    /// Who may read (SOLAPI's 회원 상태 column of the read endpoints): everyone but dormant members.
    pub const MAY_READ: &[&str] = &[ACTIVE, UNVERIFIED];
}

/// Who is calling, as the auth layer established it.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The person acting; `None` for an organization's own API key.
    pub user: Option<UserRow>,
    /// Set when acting through an API key: the key restricts the caller to its organization.
    pub key: Option<KeyScope>,
    /// The caller's access to the key's organization, resolved with the credential in the same
    /// query (saves a round trip on every key-authenticated request; see `credentials::ActorCache`).
    pub resolved: Option<Access>,
}

#[derive(Debug, Clone)]
pub struct KeyScope {
    pub key_id: String,
    pub org_id: String,
    /// Roles of an organization-owned key (empty for a key that acts as its user).
    pub roles: Roles,
    /// The networks requests with this key may come from; empty: any.
    pub access_list: Vec<ipnet::IpNet>,
}

impl KeyScope {
    /// Whether a request from `ip` may use this credential (its IP access list).
    pub fn admits(&self, ip: std::net::IpAddr) -> bool {
        let ip = match ip {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
            v4 => v4,
        };
        self.access_list.is_empty() || self.access_list.iter().any(|n| n.contains(&ip))
    }
}

impl Actor {
    /// The person, or `Forbidden` for credentials that are not a person (organization keys).
    pub fn person(&self) -> CoreResult<&UserRow> {
        self.user.as_ref().ok_or(CoreError::Forbidden(
            "this operation needs a person's credential",
        ))
    }

    /// The caller's current organization: the key's, or the session user's selected one.
    pub fn current_org(&self) -> Option<&str> {
        match (&self.key, &self.user) {
            (Some(k), _) => Some(&k.org_id),
            (None, Some(u)) => u.selected_org_id.as_deref(),
            (None, None) => None,
        }
    }

    pub fn audit_label(&self) -> String {
        match (&self.key, &self.user) {
            (Some(k), _) => format!("key:{}", k.key_id),
            (None, Some(u)) => format!("user:{}", u.id),
            (None, None) => "anonymous".into(),
        }
    }

    /// SOLAPI's 회원 상태 column: the member statuses an operation accepts. Organization keys
    /// have no member status and pass.
    pub fn require_status(&self, allowed: &[&str]) -> CoreResult<()> {
        match &self.user {
            Some(u) if !allowed.contains(&u.status.as_str()) => {
                Err(CoreError::Forbidden("member status does not allow this"))
            }
            _ => Ok(()),
        }
    }
}

/// What the caller may do in one organization.
#[derive(Debug, Clone)]
pub struct Access {
    pub org_id: String,
    pub roles: Roles,
    pub org_status: String,
    pub org_name: String,
    /// Language of the organization's e-mails; `None`: the server's default.
    pub org_language: Option<String>,
}

impl Access {
    pub fn require(&self, p: Permission) -> CoreResult<()> {
        if self.roles.allows(p) {
            Ok(())
        } else {
            Err(CoreError::Forbidden("role does not allow this"))
        }
    }

    /// SOLAPI's 계정 상태 column: writes need an ACTIVE organization.
    pub fn require_active_org(&self) -> CoreResult<()> {
        if self.org_status == "ACTIVE" {
            Ok(())
        } else {
            Err(CoreError::Forbidden("account is not active"))
        }
    }
}

impl Core {
    /// Deletes at most `batch` expired rows of each kind of short-lived state (see
    /// [`store::guards::purge_expired`]); how many went.
    pub async fn purge_expired(&self, batch: i64) -> CoreResult<u64> {
        let now = self.clock.now().unix_timestamp();
        let expired = store::guards::Expired {
            now,
            // Rate counters are read for the current and the previous minute.
            counters_before: now - 120,
            now_ts: &self.now_ts(),
        };
        Ok(store::guards::purge_expired(&mut *self.db.relaxed().await?, &expired, batch).await?)
    }

    pub fn now_ts(&self) -> String {
        self.clock.now_ts()
    }

    pub fn ts_in(&self, d: Duration) -> String {
        clock::format_ts(self.clock.now() + d)
    }

    pub fn new_id(&self) -> String {
        ids::new_id(self.clock.now())
    }

    /// The caller's access to `org_id`. Unknown organizations, organizations the caller is not a
    /// member of, and organizations other than an API key's own all answer `NotFound`.
    pub async fn access(&self, actor: &Actor, org_id: &str) -> CoreResult<Access> {
        if let Some(k) = &actor.key
            && k.org_id != org_id
        {
            return Err(CoreError::NotFound);
        }
        if let Some(a) = &actor.resolved
            && a.org_id == org_id
        {
            return Ok(a.clone());
        }
        match &actor.user {
            Some(u) => {
                let row = store::orgs::access(self.db.read(), org_id, &u.id)
                    .await?
                    .ok_or(CoreError::NotFound)?;
                Ok(Access {
                    org_id: org_id.to_owned(),
                    roles: Roles::from_stored(&row.roles),
                    org_status: row.org_status,
                    org_name: row.org_name,
                    org_language: row.org_language,
                })
            }
            None => {
                let key = actor.key.as_ref().ok_or(CoreError::NotFound)?;
                let org = store::orgs::by_id(self.db.read(), org_id)
                    .await?
                    .ok_or(CoreError::NotFound)?;
                Ok(Access {
                    org_id: org_id.to_owned(),
                    roles: key.roles.clone(),
                    org_status: org.status,
                    org_name: org.name,
                    org_language: org.language,
                })
            }
        }
    }

    /// Writes an audit event inside the caller's transaction.
    pub async fn audit(
        &self,
        tx: &mut WriteTx,
        actor: Option<&str>,
        org_id: Option<&str>,
        action: &str,
        target: (&str, &str),
        details: serde_json::Value,
    ) -> CoreResult<()> {
        let event = AuditEvent {
            actor,
            org_id,
            action,
            target,
            details,
        };
        self.audit_queuing(tx, event, None).await
    }

    /// [`Core::audit`], also queuing `mail`. The event's webhook deliveries and the e-mail go
    /// into the outbox in one statement, and on SQLite that and the event's insert run with the
    /// commit (see [`WriteTx::defer`]).
    pub(crate) async fn audit_queuing(
        &self,
        tx: &mut WriteTx,
        event: AuditEvent<'_>,
        mail: Option<outbox::Sealed>,
    ) -> CoreResult<()> {
        let subscribed = match event.org_id {
            Some(org_id) if webhooks::EVENTS.contains(&event.action) => {
                self.subscriptions(&mut **tx, org_id).await?
            }
            _ => Vec::new(),
        };
        let mut statements = Vec::new();
        let queued = self.audit_statements(event, mail, &subscribed, &mut statements)?;
        for statement in statements {
            tx.defer(statement).await?;
        }
        if queued {
            self.outbox_wakeup.notify_one();
        }
        Ok(())
    }

    /// The statements that record `event` and queue its webhook deliveries (to the endpoints of
    /// `subscribed`, see [`Core::subscriptions`]) and `mail`, appended to `statements`. True if
    /// they queue anything. The changes webhooks tell about are exactly these audit events, so
    /// they are queued here, with the audit event's id as the event id.
    pub(crate) fn audit_statements(
        &self,
        event: AuditEvent<'_>,
        mail: Option<outbox::Sealed>,
        subscribed: &[(String, String)],
        statements: &mut Vec<Deferred>,
    ) -> CoreResult<bool> {
        let id = self.new_id();
        let now = self.now_ts();
        let AuditEvent {
            actor,
            org_id,
            action,
            target,
            details,
        } = event;
        statements.push(store::audit::insert(&store::audit::Event {
            id: &id,
            org_id,
            actor,
            action,
            target_type: target.0,
            target_id: target.1,
            details: &details.to_string(),
            now: &now,
        }));
        let mut queued = match org_id {
            Some(org_id) if webhooks::EVENTS.contains(&action) => {
                let data =
                    serde_json::json!({"object": target.0, "id": target.1, "details": details});
                self.deliveries_of(subscribed, org_id, action, &id, &now, data)?
            }
            _ => Vec::new(),
        };
        queued.extend(mail);
        statements.extend(self.outbox_insert(&queued));
        Ok(!queued.is_empty())
    }
}

/// An audit event: who did what to which target, in which organization.
pub(crate) struct AuditEvent<'a> {
    pub actor: Option<&'a str>,
    pub org_id: Option<&'a str>,
    pub action: &'a str,
    /// (type, id)
    pub target: (&'a str, &'a str),
    pub details: serde_json::Value,
}
