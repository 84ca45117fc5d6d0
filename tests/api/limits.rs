//! Send limits on invitation e-mails: per recipient per window, per organization per day. Beyond
//! them the answer is 429 with `Retry-After`, nothing is written, and the limit lifts with time.

use serde_json::json;
use time::Duration;

use crate::helpers::{Resp, TestApp};

async fn invite(app: &TestApp, email: &str) -> Resp {
    app.post(
        "/users/v1/invitations",
        &app.owner_key(),
        json!({"email": email, "role": "MEMBER"}),
    )
    .await
}

fn retry_after(r: &Resp) -> i64 {
    r.headers["retry-after"].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn one_address_gets_at_most_the_limit_of_invitation_mails_per_window() {
    let app = TestApp::spawn_with(|c| {
        c.invitation_sends_per_recipient = 3;
        c.invitation_sends_window_secs = 600;
    })
    .await;
    let id = invite(&app, "Spam@Example.com").await.assert_ok()["invitationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let resend = format!("/usher/v1/invitations/{id}/resend");
    app.advance_clock(Duration::seconds(100));
    app.post(&resend, &app.owner_key(), json!({}))
        .await
        .assert_ok();
    app.post(&resend, &app.owner_key(), json!({}))
        .await
        .assert_ok();

    let before = app.snapshot().await;
    let refused = app.post(&resend, &app.owner_key(), json!({})).await;
    refused.assert_error(429, "TooManyRequests");
    // The first of the three leaves the window 600 s after it was sent, 100 s ago.
    assert!((499..=500).contains(&retry_after(&refused)), "{refused:?}");
    // The address counts however it is spelled, through a new invitation too.
    app.delete(&format!("/users/v1/invitations/{id}"), &app.owner_key())
        .await
        .assert_ok();
    let after_cancel = app.snapshot().await;
    invite(&app, "spam@example.COM")
        .await
        .assert_error(429, "TooManyRequests");
    assert_eq!(
        app.snapshot().await,
        after_cancel,
        "a refused send writes nothing"
    );
    assert_ne!(before, after_cancel);
    // Other addresses are not affected.
    invite(&app, "someone.else@example.com").await.assert_ok();

    app.advance_clock(Duration::seconds(501));
    invite(&app, "spam@example.com").await.assert_ok();
    app.stop().await;
}

#[tokio::test]
async fn an_organization_sends_at_most_its_daily_limit() {
    let app = TestApp::spawn_with(|c| c.invitation_sends_per_org_per_day = 2).await;
    invite(&app, "a@example.com").await.assert_ok();
    invite(&app, "b@example.com").await.assert_ok();
    let refused = invite(&app, "c@example.com").await;
    refused.assert_error(429, "TooManyRequests");
    let secs = retry_after(&refused);
    assert!((86_390..=86_400).contains(&secs), "{secs}");
    // Another organization has its own allowance.
    let other = app.other_org("other@example.com").await;
    app.post(
        "/users/v1/invitations",
        &crate::helpers::Auth::key(&other),
        json!({"email": "c@example.com", "role": "MEMBER"}),
    )
    .await
    .assert_ok();

    app.advance_clock(Duration::days(1));
    invite(&app, "c@example.com").await.assert_ok();
    app.stop().await;
}
