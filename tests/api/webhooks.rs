//! Webhooks delivered to a real HTTP receiver started by the test: signed as documented, in the
//! order of the changes, retried on errors and timeouts, parked after the last attempt, and never
//! in the way of the change that caused them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Hit {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

impl Hit {
    fn event(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// Verifies the signature as a receiver would, from the documentation alone.
    fn signed_with(&self, secret: &str) -> bool {
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.{}", self.id, self.timestamp, self.body).as_bytes());
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        self.signature.split(' ').any(|s| s == expected)
    }
}

/// How the receiver answers: the next statuses in turn (then 200), after an optional delay.
#[derive(Default)]
struct Script {
    statuses: Vec<u16>,
    delay: Duration,
}

#[derive(Clone, Default)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    /// Starts on a random port; returns it with its URL.
    async fn start() -> (Receiver, String) {
        let r = Receiver::default();
        let state = r.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let state = state.clone();
                async move { state.answer(headers, body).await }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (r, url)
    }

    async fn answer(&self, headers: HeaderMap, body: String) -> StatusCode {
        let header = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let (status, delay) = {
            let mut s = self.script.lock().unwrap();
            let status = if s.statuses.is_empty() {
                200
            } else {
                s.statuses.remove(0)
            };
            (status, s.delay)
        };
        // Recorded before the delay: a client that gives up drops this handler mid-sleep.
        self.hits.lock().unwrap().push(Hit {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            body,
        });
        tokio::time::sleep(delay).await;
        StatusCode::from_u16(status).unwrap()
    }

    fn answer_with(&self, statuses: &[u16], delay: Duration) {
        *self.script.lock().unwrap() = Script {
            statuses: statuses.to_vec(),
            delay,
        };
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Waits for at least `n` requests (retries move the server's clock and wake its worker).
    async fn wait_for(&self, app: &TestApp, n: usize) -> Vec<Hit> {
        for _ in 0..300 {
            let hits = self.hits();
            if hits.len() >= n {
                return hits;
            }
            app.advance_clock(time::Duration::minutes(10));
            app.core().outbox_wakeup.notify_one();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("fewer than {n} webhook requests arrived: {:?}", self.hits());
    }
}

fn types(hits: &[Hit]) -> Vec<String> {
    hits.iter()
        .map(|h| h.event()["type"].as_str().unwrap().to_owned())
        .collect()
}

/// Registers an endpoint as the owner; returns (id, secret).
async fn register(app: &TestApp, url: &str, events: Value) -> (String, String) {
    let path = format!("/usher/v1/accounts/{}/webhooks", app.owner.org_id);
    let r = app
        .post(
            &path,
            &app.owner_key(),
            json!({"url": url, "events": events}),
        )
        .await;
    let w = r.assert_ok();
    (
        w["webhookId"].as_str().unwrap().to_owned(),
        w["secret"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn invitation_events_arrive_signed_and_in_the_order_of_the_changes() {
    let app = TestApp::spawn().await;
    let (receiver, url) = Receiver::start().await;
    let (_, secret) = register(&app, &url, json!([])).await;
    let (id, _) = app.invite("hooked@example.com", "MEMBER").await;
    app.delete(&format!("/users/v1/invitations/{id}"), &app.owner_key())
        .await
        .assert_ok();

    let hits = receiver.wait_for(&app, 2).await;
    assert_eq!(types(&hits), ["invitation.created", "invitation.cancelled"]);
    for h in &hits {
        assert!(h.signed_with(&secret), "{h:?}");
        assert!(!h.signed_with("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
        let e = h.event();
        assert_eq!(e["organizationId"], app.owner.org_id.as_str());
        assert_eq!(
            (&e["data"]["object"], &e["data"]["id"]),
            (&json!("invitation"), &json!(id))
        );
        assert!(e["occurredAt"].as_str().unwrap().ends_with('Z'));
    }
    // The secret is shown once: never in the list.
    let listed = app
        .get(
            &format!("/usher/v1/accounts/{}/webhooks", app.owner.org_id),
            &app.owner_key(),
        )
        .await;
    let text = serde_json::to_string(listed.assert_ok()).unwrap();
    assert!(
        !text.contains(&secret) && !text.contains("secret"),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn membership_events_follow_sign_up_role_change_and_removal_for_subscribed_events_only() {
    let app = TestApp::spawn().await;
    let (receiver, url) = Receiver::start().await;
    register(
        &app,
        &url,
        json!([
            "membership.added",
            "membership.updated",
            "membership.removed"
        ]),
    )
    .await;
    let (_, member_id) = app.join("joiner@example.com", "MEMBER").await;
    let member = format!(
        "/users/v1/accounts/{}/members/{member_id}",
        app.owner.org_id
    );
    app.put(&member, &app.owner_key(), json!({"role": "DEVELOPER"}))
        .await
        .assert_ok();
    app.delete(&member, &app.owner_key()).await.assert_ok();
    let hits = receiver.wait_for(&app, 3).await;
    assert_eq!(
        types(&hits),
        [
            "membership.added",
            "membership.updated",
            "membership.removed"
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_then_parked_and_never_blocks_the_change() {
    let app = TestApp::spawn().await;
    let (receiver, url) = Receiver::start().await;
    register(&app, &url, json!(["invitation.created"])).await;

    // Two errors, then success: delivered on the third attempt, with the same webhook-id.
    receiver.answer_with(&[500, 503], Duration::ZERO);
    app.invite("retry@example.com", "MEMBER").await;
    let hits = receiver.wait_for(&app, 3).await;
    assert!(hits.iter().all(|h| h.id == hits[0].id), "{hits:?}");

    // Always failing: the invitation is still made at once, and the delivery ends PARKED.
    receiver.answer_with(&[500; 20], Duration::ZERO);
    let r = app
        .post(
            "/users/v1/invitations",
            &app.owner_key(),
            json!({"email": "doomed@example.com", "role": "MEMBER"}),
        )
        .await;
    r.assert_ok();
    let org = app.owner.org_id.clone();
    let mut parked = Vec::new();
    for _ in 0..300 {
        let r = app
            .get(
                &format!("/usher/v1/accounts/{org}/outbox?state=PARKED"),
                &app.owner_key(),
            )
            .await;
        parked = r.assert_ok().as_array().unwrap().clone();
        if !parked.is_empty() {
            break;
        }
        app.advance_clock(time::Duration::minutes(10));
        app.core().outbox_wakeup.notify_one();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert_eq!(parked[0]["kind"], "webhook");
    assert_eq!(parked[0]["purpose"], "invitation.created");
    assert_eq!(parked[0]["attempts"], usher::delivery::MAX_ATTEMPTS);
    assert!(
        parked[0]["lastError"]
            .as_str()
            .unwrap()
            .contains("HTTP 500")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_slow_endpoint_times_out_and_is_retried() {
    let app = TestApp::spawn_with(|c| c.webhook_timeout_secs = 1).await;
    let (receiver, url) = Receiver::start().await;
    register(&app, &url, json!(["invitation.created"])).await;
    receiver.answer_with(&[], Duration::from_secs(3));
    app.invite("slowpoke@example.com", "MEMBER").await;
    let first = receiver.wait_for(&app, 1).await;
    let row = app.wait_outbox(&first[0].id, |r| r.2.is_some()).await;
    assert_eq!(row.0, "PENDING", "retried after the timeout: {row:?}");
    let error = row.2.unwrap_or_default();
    assert!(
        !error.contains(&url),
        "errors are stored and logged without the URL: {error}"
    );
    receiver.answer_with(&[], Duration::ZERO);
    let hits = receiver.wait_for(&app, 2).await;
    let sent = app.wait_outbox(&hits[0].id, |r| r.0 == "SENT").await;
    assert_eq!(sent.0, "SENT");
    app.stop().await;
}

#[tokio::test]
async fn swept_expiry_is_an_event_too() {
    let app = TestApp::spawn_with(|c| c.sweep_interval_secs = 1).await;
    let (receiver, url) = Receiver::start().await;
    register(&app, &url, json!(["invitation.expired"])).await;
    app.invite("late@example.com", "MEMBER").await;
    app.advance_clock(time::Duration::days(31));
    let hits = receiver.wait_for(&app, 1).await;
    assert_eq!(types(&hits), ["invitation.expired"]);
    app.stop().await;
}

#[tokio::test]
async fn owners_manage_endpoints_rotate_secrets_disable_them_and_send_test_events() {
    let app = TestApp::spawn().await;
    let (receiver, url) = Receiver::start().await;
    let org = app.owner.org_id.clone();
    let (id, old) = register(&app, &url, json!([])).await;
    let hook = format!("/usher/v1/accounts/{org}/webhooks/{id}");

    // A test event, signed with the rotated secret only.
    let rotated = app
        .post(&format!("{hook}/secret"), &app.owner_key(), json!({}))
        .await;
    let new = rotated.assert_ok()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    let test = app
        .post(&format!("{hook}/test"), &app.owner_key(), json!({}))
        .await;
    let event_id = test.assert_ok()["eventId"].as_str().unwrap().to_owned();
    let hits = receiver.wait_for(&app, 1).await;
    assert_eq!(hits[0].event()["id"], event_id.as_str());
    assert_eq!(types(&hits), ["webhook.test"]);
    assert!(hits[0].signed_with(&new) && !hits[0].signed_with(&old));

    // Disabled: nothing is sent for new changes.
    let off = app
        .put(&hook, &app.owner_key(), json!({"enabled": false}))
        .await;
    assert_eq!(off.assert_ok()["enabled"], false);
    app.invite("quiet@example.com", "MEMBER").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.core().outbox_wakeup.notify_one();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.hits().len(), 1, "a disabled endpoint gets nothing");
    // Nothing is even queued for it (the delivery-time check would hide a queued one).
    let outbox = app
        .get(
            &format!("/usher/v1/accounts/{org}/outbox"),
            &app.owner_key(),
        )
        .await;
    let webhooks: Vec<&Value> = outbox
        .assert_ok()
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "webhook")
        .collect();
    assert_eq!(webhooks.len(), 1, "only the test event: {webhooks:?}");
    assert_eq!(webhooks[0]["purpose"], "webhook.test");

    // Bad input changes nothing; members and other organizations may not manage endpoints.
    let list = format!("/usher/v1/accounts/{org}/webhooks");
    let before = app.snapshot().await;
    for body in [
        json!({"url": "ftp://files.example.com"}),
        json!({"url": url, "events": ["invitation.exploded"]}),
        json!({"url": url, "secret": "mine"}),
        json!({}),
    ] {
        app.post(&list, &app.owner_key(), body)
            .await
            .assert_error(400, "ValidationError");
    }
    assert_eq!(app.snapshot().await, before);
    let (member, _) = app.join("mem@example.com", "MEMBER").await;
    app.get(&list, &member).await.assert_error(403, "Forbidden");
    let outsider = Auth::key(&app.other_org("out@example.com").await);
    app.get(&list, &outsider)
        .await
        .assert_error(404, "ResourceNotFound");
    app.delete(&hook, &outsider)
        .await
        .assert_error(404, "ResourceNotFound");

    assert_eq!(app.delete(&hook, &app.owner_key()).await.status, 204);
    assert_eq!(
        app.get(&list, &app.owner_key()).await.body,
        json!([]),
        "deleted"
    );
    app.stop().await;
}
