//! usher's own namespace: sessions and API keys.

use serde_json::json;

use crate::helpers::{Auth, TestApp};

#[tokio::test]
async fn wrong_email_and_wrong_password_answer_alike() {
    let app = TestApp::spawn().await;
    let a = app
        .post(
            "/usher/v1/sessions",
            &Auth::None,
            json!({"email": "owner@example.com", "password": "wrong password"}),
        )
        .await;
    let b = app
        .post(
            "/usher/v1/sessions",
            &Auth::None,
            json!({"email": "nobody@example.com", "password": "wrong password"}),
        )
        .await;
    a.assert_error(401, "InvalidCredentials");
    assert_eq!((a.status, &a.body), (b.status, &b.body));
    app.stop().await;
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let session = app.login("owner@example.com", &app.owner.password).await;
    app.get("/users/v1/member", &session).await.assert_ok();
    let r = app.delete("/usher/v1/sessions/current", &session).await;
    assert_eq!(r.status, 204);
    app.get("/users/v1/member", &session)
        .await
        .assert_error(401, "Unauthorized");
    let actions = app.audit_actions(&app.owner.user_id).await;
    assert!(
        actions.ends_with(&["session.created".to_owned(), "session.ended".to_owned()]),
        "{actions:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn owners_and_developers_manage_api_keys_and_a_revoked_key_stops_working() {
    let app = TestApp::spawn().await;
    let session = app.login("owner@example.com", &app.owner.password).await;
    let path = format!("/usher/v1/accounts/{}/api-keys", app.owner.org_id);
    let created = app
        .post(&path, &session, json!({"description": "ci"}))
        .await;
    let c = created.assert_ok().clone();
    let (key, secret) = (
        c["apiKey"].as_str().unwrap().to_owned(),
        c["apiSecret"].as_str().unwrap().to_owned(),
    );
    assert!(key.starts_with("NCS") && key.len() == 16);
    let listed = app.get(&path, &session).await;
    let text = serde_json::to_string(listed.assert_ok()).unwrap();
    assert!(
        text.contains(&key) && !text.contains(&secret),
        "secrets are shown once"
    );
    let new_key = Auth::Key(key.clone(), secret);
    app.get("/users/v1/member", &new_key).await.assert_ok();
    assert_eq!(
        app.delete(&format!("{path}/{key}"), &session).await.status,
        204
    );
    app.get("/users/v1/member", &new_key)
        .await
        .assert_error(403, "InvalidApiKey");
    app.delete(&format!("{path}/{key}"), &session)
        .await
        .assert_error(404, "ResourceNotFound");
    app.stop().await;
}

#[tokio::test]
async fn a_plain_member_cannot_create_api_keys() {
    let app = TestApp::spawn().await;
    let (member, _) = app.join("plain@example.com", "MEMBER").await;
    let path = format!("/usher/v1/accounts/{}/api-keys", app.owner.org_id);
    app.post(&path, &member, json!({}))
        .await
        .assert_error(403, "Forbidden");
    app.get(&path, &member).await.assert_error(403, "Forbidden");
    app.stop().await;
}
