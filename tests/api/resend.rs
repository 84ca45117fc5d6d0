//! Resending an invitation (`POST /usher/v1/invitations/{id}/resend`): the token rotates, the
//! expiry starts again, a new e-mail goes out; only owners may, and only while it is pending.

use serde_json::json;
use time::Duration;

use crate::helpers::{Auth, Resp, TestApp, new_password};

async fn resend(app: &TestApp, id: &str, auth: &Auth) -> Resp {
    app.post(
        &format!("/usher/v1/invitations/{id}/resend"),
        auth,
        json!({}),
    )
    .await
}

#[tokio::test]
async fn a_resend_rotates_the_token_so_only_the_newest_link_works() {
    let app = TestApp::spawn().await;
    let (id, first) = app.invite("again@example.com", "MEMBER").await;
    let resent = resend(&app, &id, &app.owner_key()).await;
    assert_eq!(resent.assert_ok()["invitationId"], id.as_str());
    let tokens = app
        .tokens_from_mail("again@example.com", "/invitations/", 2)
        .await;
    let second = tokens
        .iter()
        .find(|t| **t != first)
        .expect("a second e-mail with a new token")
        .clone();

    app.get(&format!("/users/v1/invitations/{first}"), &Auth::None)
        .await
        .assert_error(404, "ResourceNotFound");
    app.post(
        &format!("/users/v1/signup/invitations/{first}"),
        &Auth::None,
        new_password(),
    )
    .await
    .assert_error(404, "ResourceNotFound");
    app.post(
        &format!("/users/v1/signup/invitations/{second}"),
        &Auth::None,
        new_password(),
    )
    .await
    .assert_ok();
    assert_eq!(
        app.audit_actions(&id).await,
        [
            "invitation.created",
            "invitation.resent",
            "invitation.accepted"
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_resend_starts_the_expiry_again() {
    let app = TestApp::spawn().await;
    let (id, _) = app.invite("slow@example.com", "MEMBER").await;
    let first_expiry = app.core().ts_in(Duration::days(30));
    app.advance_clock(Duration::days(20));
    let resent = resend(&app, &id, &app.owner_key()).await;
    let r = resent.assert_ok();
    assert_eq!(r["state"], "PENDING");
    let new_expiry = r["expiresAt"].as_str().unwrap().to_owned();
    assert!(
        new_expiry > first_expiry,
        "{new_expiry} after {first_expiry}"
    );
    // Past the first expiry, the resent invitation is still pending.
    app.advance_clock(Duration::days(20));
    app.get(&format!("/users/v1/invitations/{id}"), &app.owner_key())
        .await
        .assert_ok();
    app.stop().await;
}

#[tokio::test]
async fn only_owners_resend_and_only_pending_invitations() {
    let app = TestApp::spawn().await;
    let (member, _) = app.join("mem@example.com", "MEMBER").await;
    let (id, _) = app.invite("target@example.com", "MEMBER").await;
    resend(&app, &id, &member)
        .await
        .assert_error(403, "Forbidden");
    let outsider = Auth::key(&app.other_org("outsider@example.com").await);
    for (id, auth) in [
        (id.as_str(), &outsider),
        ("000000000000000000000000", &app.owner_key()),
        ("not-an-id", &app.owner_key()),
    ] {
        resend(&app, id, auth)
            .await
            .assert_error(404, "ResourceNotFound");
    }
    resend(&app, &id, &Auth::None)
        .await
        .assert_error(401, "Unauthorized");

    app.delete(&format!("/users/v1/invitations/{id}"), &app.owner_key())
        .await
        .assert_ok();
    let before = app.snapshot().await;
    resend(&app, &id, &app.owner_key())
        .await
        .assert_error(409, "InvitationCancelled");
    assert_eq!(
        app.snapshot().await,
        before,
        "a refused resend changes nothing"
    );

    let (late, _) = app.invite("late@example.com", "MEMBER").await;
    app.advance_clock(Duration::days(30) + Duration::seconds(1));
    resend(&app, &late, &app.owner_key())
        .await
        .assert_error(410, "InvitationExpired");
    app.stop().await;
}
