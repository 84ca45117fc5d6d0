//! Webhooks: an organization's owners register HTTPS endpoints; every change to its invitations
//! and memberships becomes an event, queued in the outbox in the transaction of the change (one
//! row per subscribed endpoint) and delivered by the worker, signed as Standard Webhooks does
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `id.timestamp.body`, secret `whsec_<base64 key>`). See docs/webhooks.md.

use std::time::Duration as StdDuration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;
use sqlx::{Any, Executor};

use super::credentials::BriefCache;
use super::outbox::Sealed;
use super::roles::Permission;
use super::{Actor, Core, CoreError, CoreResult, user_status};
use crate::store::{self, webhooks::EndpointRow};

/// The events an endpoint can subscribe to: the audit actions of the same names.
pub const EVENTS: &[&str] = &[
    "invitation.created",
    "invitation.resent",
    "invitation.accepted",
    "invitation.rejected",
    "invitation.cancelled",
    "invitation.expired",
    "membership.added",
    "membership.updated",
    "membership.removed",
];

/// Sent only by "send a test event".
pub const TEST_EVENT: &str = "webhook.test";

pub const KIND_WEBHOOK: &str = "webhook";

/// What the outbox row of a delivery holds (encrypted): the endpoint is looked up at delivery
/// time, so a rotated secret or a changed URL applies to deliveries still waiting.
#[derive(Debug, Serialize, Deserialize)]
pub struct Delivery {
    pub endpoint_id: String,
    pub body: String,
}

/// A new endpoint's answer; the secret is shown only here (and on rotation).
pub struct CreatedEndpoint {
    pub row: EndpointRow,
    pub secret: String,
}

/// What may change on an endpoint.
#[derive(Debug, Default)]
pub struct EndpointChange<'a> {
    pub url: Option<&'a str>,
    pub events: Option<Vec<String>>,
    pub description: Option<&'a str>,
    pub enabled: Option<bool>,
}

/// Which endpoints of an organization want which events ((endpoint id, events) of the enabled
/// ones), cached for a second so that the transactions that cause events do not pay a query each;
/// changes through this process drop the organization's entry at once (other instances see them
/// within the second). Not bound to the write generation: every write would drop it.
pub type Directory = BriefCache<Vec<(String, String)>>;

pub fn directory() -> Directory {
    BriefCache::new(StdDuration::from_secs(1))
}

/// `whsec_` + base64 of 32 random bytes, as Standard Webhooks libraries expect.
fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::fill(&mut key);
    format!("whsec_{}", STANDARD.encode(key))
}

/// The `webhook-signature` value for a delivery: `v1,` + base64 HMAC-SHA256 under the key that
/// `secret` (`whsec_…`) encodes, over `id.timestamp.body`.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

fn check_url(url: &str) -> CoreResult<()> {
    let ok = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some());
    ok.map(drop)
        .ok_or_else(|| CoreError::invalid("url", "must be an absolute http:// or https:// URL"))
}

/// Subscribed events, space-separated; an empty list means all of them.
fn check_events(events: &[String]) -> CoreResult<String> {
    if let Some(bad) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        return Err(CoreError::invalid(
            "events",
            format!("unknown event {bad:?}; known: {}", EVENTS.join(", ")),
        ));
    }
    Ok(if events.is_empty() {
        EVENTS.join(" ")
    } else {
        events.join(" ")
    })
}

impl Core {
    /// The (endpoint id, events) of `org_id`'s enabled endpoints, from the directory or else
    /// read through `db` (the caller's transaction, or a reader: the directory is a second old
    /// at most anyway).
    pub(crate) async fn subscriptions<'e, E: Executor<'e, Database = Any>>(
        &self,
        db: E,
        org_id: &str,
    ) -> CoreResult<Vec<(String, String)>> {
        if let Some(s) = self.webhooks.get(org_id, 0) {
            return Ok(s);
        }
        let rows = store::webhooks::of_org(db, org_id).await?;
        let s: Vec<(String, String)> = rows
            .into_iter()
            .filter(|r| r.enabled == 1)
            .map(|r| (r.id, r.events))
            .collect();
        self.webhooks.put(org_id, s.clone(), 0);
        Ok(s)
    }

    /// The deliveries of `event` to every endpoint of `subscribed` that wants it, sealed for the
    /// outbox (which [`Core::audit`] writes them in).
    pub(crate) fn deliveries_of(
        &self,
        subscribed: &[(String, String)],
        org_id: &str,
        event: &str,
        event_id: &str,
        occurred_at: &str,
        data: serde_json::Value,
    ) -> CoreResult<Vec<Sealed>> {
        let wanted = subscribed
            .iter()
            .filter(|(_, events)| event == TEST_EVENT || events.split(' ').any(|e| e == event));
        let mut sealed = Vec::new();
        for (endpoint_id, _) in wanted {
            let body = json!({
                "id": event_id,
                "type": event,
                "occurredAt": occurred_at,
                "organizationId": org_id,
                "data": data,
            })
            .to_string();
            sealed.push(self.seal_delivery(org_id, endpoint_id, event, &body)?);
        }
        Ok(sealed)
    }

    fn seal_delivery(
        &self,
        org_id: &str,
        endpoint_id: &str,
        event: &str,
        body: &str,
    ) -> CoreResult<Sealed> {
        let id = self.new_id();
        let payload = serde_json::to_vec(&Delivery {
            endpoint_id: endpoint_id.to_owned(),
            body: body.to_owned(),
        })
        .map_err(anyhow::Error::from)?;
        let payload = self.crypto.encrypt(&id, &payload);
        Ok(Sealed {
            id,
            kind: KIND_WEBHOOK,
            purpose: event.to_owned(),
            org_id: Some(org_id.to_owned()),
            recipient: endpoint_id.to_owned(),
            payload,
        })
    }

    async fn require_webhook_access(&self, actor: &Actor, org_id: &str) -> CoreResult<()> {
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ManageOrganization)?;
        access.require_active_org()
    }

    pub async fn create_endpoint(
        &self,
        actor: &Actor,
        org_id: &str,
        url: &str,
        events: &[String],
        description: &str,
    ) -> CoreResult<CreatedEndpoint> {
        self.require_webhook_access(actor, org_id).await?;
        check_url(url)?;
        let events = check_events(events)?;
        let secret = new_secret();
        let id = self.new_id();
        let now = self.now_ts();
        let row = EndpointRow {
            secret_encrypted: self.crypto.encrypt(&id, secret.as_bytes()),
            id,
            org_id: org_id.to_owned(),
            url: url.to_owned(),
            events,
            description: description.to_owned(),
            enabled: 1,
            created_at: now.clone(),
            updated_at: now,
        };
        let mut tx = self.db.begin().await?;
        store::webhooks::insert(&mut *tx, &row).await?;
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "webhook.created",
            ("webhook", &row.id),
            json!({"url": row.url, "events": row.events}),
        )
        .await?;
        tx.commit().await?;
        self.webhooks.forget(org_id);
        Ok(CreatedEndpoint { row, secret })
    }

    pub async fn list_endpoints(
        &self,
        actor: &Actor,
        org_id: &str,
    ) -> CoreResult<Vec<EndpointRow>> {
        self.require_webhook_access(actor, org_id).await?;
        Ok(store::webhooks::of_org(self.db.read(), org_id).await?)
    }

    pub async fn update_endpoint(
        &self,
        actor: &Actor,
        org_id: &str,
        id: &str,
        change: EndpointChange<'_>,
    ) -> CoreResult<EndpointRow> {
        self.change_endpoint(actor, org_id, id, change, None).await
    }

    /// A new secret; deliveries still waiting are signed with it.
    pub async fn rotate_endpoint_secret(
        &self,
        actor: &Actor,
        org_id: &str,
        id: &str,
    ) -> CoreResult<CreatedEndpoint> {
        let secret = new_secret();
        let row = self
            .change_endpoint(actor, org_id, id, EndpointChange::default(), Some(&secret))
            .await?;
        Ok(CreatedEndpoint { row, secret })
    }

    async fn change_endpoint(
        &self,
        actor: &Actor,
        org_id: &str,
        id: &str,
        change: EndpointChange<'_>,
        secret: Option<&str>,
    ) -> CoreResult<EndpointRow> {
        self.require_webhook_access(actor, org_id).await?;
        if let Some(url) = change.url {
            check_url(url)?;
        }
        let events = change.events.as_deref().map(check_events).transpose()?;
        let sealed = secret.map(|s| self.crypto.encrypt(id, s.as_bytes()));
        let mut tx = self.db.begin().await?;
        let row = store::webhooks::update(
            &mut *tx,
            org_id,
            id,
            change.url,
            events.as_deref(),
            change.description,
            change.enabled.map(i64::from),
            sealed.as_deref(),
            &self.now_ts(),
        )
        .await?
        .ok_or(CoreError::NotFound)?;
        let action = if secret.is_some() {
            "webhook.secret_rotated"
        } else {
            "webhook.updated"
        };
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            action,
            ("webhook", id),
            json!({"url": row.url, "events": row.events, "enabled": row.enabled == 1}),
        )
        .await?;
        tx.commit().await?;
        self.webhooks.forget(org_id);
        Ok(row)
    }

    pub async fn delete_endpoint(&self, actor: &Actor, org_id: &str, id: &str) -> CoreResult<()> {
        self.require_webhook_access(actor, org_id).await?;
        let mut tx = self.db.begin().await?;
        if store::webhooks::delete(&mut *tx, org_id, id).await? == 0 {
            return Err(CoreError::NotFound);
        }
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "webhook.deleted",
            ("webhook", id),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        self.webhooks.forget(org_id);
        Ok(())
    }

    /// Queues a `webhook.test` event to one endpoint (enabled or not); returns the event id.
    pub async fn send_test_event(
        &self,
        actor: &Actor,
        org_id: &str,
        id: &str,
    ) -> CoreResult<String> {
        self.require_webhook_access(actor, org_id).await?;
        let endpoint = store::webhooks::by_id(self.db.read(), id)
            .await?
            .filter(|e| e.org_id == org_id)
            .ok_or(CoreError::NotFound)?;
        let event_id = self.new_id();
        let body = json!({
            "id": event_id,
            "type": TEST_EVENT,
            "occurredAt": self.now_ts(),
            "organizationId": org_id,
            "data": {"object": "webhook", "id": endpoint.id},
        })
        .to_string();
        let delivery = self.seal_delivery(org_id, &endpoint.id, TEST_EVENT, &body)?;
        let mut tx = self.db.begin().await?;
        self.queue(&mut tx, &[delivery]).await?;
        tx.commit().await?;
        self.outbox_wakeup.notify_one();
        Ok(event_id)
    }

    /// The endpoint of a delivery with its secret, for the worker (`None`: deleted since).
    pub async fn endpoint_for_delivery(
        &self,
        id: &str,
    ) -> CoreResult<Option<(EndpointRow, String)>> {
        let Some(row) = store::webhooks::by_id(self.db.read(), id).await? else {
            return Ok(None);
        };
        let secret = self
            .crypto
            .decrypt(&row.id, &row.secret_encrypted)
            .map_err(anyhow::Error::from)?;
        let secret = String::from_utf8(secret).map_err(anyhow::Error::from)?;
        Ok(Some((row, secret)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification.
        let sig = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            sig.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn events_are_checked_and_default_to_all() {
        assert_eq!(check_events(&[]).unwrap(), EVENTS.join(" "));
        assert!(check_events(&["invitation.exploded".into()]).is_err());
        assert!(check_url("ftp://x").is_err() && check_url("https://hooks.example.com/u").is_ok());
    }
}
