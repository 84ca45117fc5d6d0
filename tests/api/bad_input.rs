//! Bad input gets a clear error in the caller's dialect and changes nothing.

use serde_json::json;

use crate::helpers::{Auth, PASSWORD, TestApp};

#[tokio::test]
async fn malformed_bodies_are_validation_errors_that_change_nothing() {
    let app = TestApp::spawn().await;
    let before = app.snapshot().await;
    let key = app.owner_key();
    let url = format!("{}/users/v1/invitations", app.base);
    for raw in [
        "{",
        "not json",
        "[]",
        "{\"email\": 5, \"role\": \"MEMBER\"}",
        "{\"role\": \"MEMBER\"}",
    ] {
        let r = app
            .client
            .post(&url)
            .header(
                "Authorization",
                app.sign(&app.owner.api_key, &app.owner.api_secret),
            )
            .header("Content-Type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{raw}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["errorCode"], "ValidationError", "{raw}");
    }
    for body in [
        json!({"email": "a@example.com", "role": "ADMIN"}),
        json!({"email": "not-an-email", "role": "MEMBER"}),
        json!({"email": "a@example.com", "role": "MEMBER", "extra": true}),
        json!({"email": "a@example.com", "role": 3}),
    ] {
        app.post("/users/v1/invitations", &key, body)
            .await
            .assert_error(400, "ValidationError");
    }
    assert_eq!(app.snapshot().await, before);
    app.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = TestApp::spawn().await;
    let before = app.snapshot().await;
    let big = "x".repeat(70 * 1024);
    let r = app
        .post(
            "/users/v1/invitations",
            &app.owner_key(),
            json!({"email": "a@example.com", "role": big}),
        )
        .await;
    r.assert_error(413, "PayloadTooLarge");
    assert_eq!(app.snapshot().await, before);
    app.stop().await;
}

#[tokio::test]
async fn passwords_follow_the_policy_and_must_match_their_confirmation() {
    let app = TestApp::spawn().await;
    let (_, token) = app.invite("pw@example.com", "MEMBER").await;
    let before = app.snapshot().await;
    let path = format!("/users/v1/signup/invitations/{token}");
    let long = "a".repeat(129);
    for (pw, confirm, why) in [
        ("short", "short", "too short"),
        ("password123", "password123", "common"),
        (long.as_str(), long.as_str(), "too long"),
        (PASSWORD, "correct horse batterx", "mismatch"),
    ] {
        let r = app
            .post(
                &path,
                &Auth::None,
                json!({"password": pw, "passwordConfirmation": confirm}),
            )
            .await;
        r.assert_error(400, "ValidationError");
        assert!(
            r.body["errorMessage"]
                .as_str()
                .unwrap()
                .contains("password"),
            "{why}: {:?}",
            r.body
        );
    }
    app.post(&path, &Auth::None, json!({"password": PASSWORD}))
        .await
        .assert_error(400, "ValidationError");
    assert_eq!(app.snapshot().await, before);
    app.stop().await;
}

#[tokio::test]
async fn unknown_and_foreign_ids_are_not_found_and_change_nothing() {
    let app = TestApp::spawn().await;
    let other = app.other_org("other@example.com").await;
    let (foreign_invitation, _) = {
        let r = app
            .post(
                "/users/v1/invitations",
                &Auth::key(&other),
                json!({"email": "theirs@example.com", "role": "MEMBER"}),
            )
            .await;
        (
            r.assert_ok()["invitationId"].as_str().unwrap().to_owned(),
            (),
        )
    };
    let before = app.snapshot().await;
    let key = app.owner_key();
    app.delete(&format!("/users/v1/invitations/{foreign_invitation}"), &key)
        .await
        .assert_error(404, "ResourceNotFound");
    app.delete("/users/v1/invitations/000000000000000000000000", &key)
        .await
        .assert_error(404, "ResourceNotFound");
    app.delete("/users/v1/invitations/not-an-id", &key)
        .await
        .assert_error(404, "ResourceNotFound");
    app.get(&format!("/users/v1/invitations/{foreign_invitation}"), &key)
        .await
        .assert_error(404, "ResourceNotFound");
    app.get(
        &format!("/users/v1/invitations/{foreign_invitation}"),
        &Auth::None,
    )
    .await
    .assert_error(404, "ResourceNotFound");
    app.get(&format!("/users/v1/accounts/{}", other.org_id), &key)
        .await
        .assert_error(404, "ResourceNotFound");
    app.get(
        &format!("/users/v1/accounts/{}/invitations", other.org_id),
        &key,
    )
    .await
    .assert_error(404, "ResourceNotFound");
    app.get(
        &format!("/users/v1/accounts/{}/members", other.org_id),
        &key,
    )
    .await
    .assert_error(404, "ResourceNotFound");
    let m = format!(
        "/users/v1/accounts/{}/members/{}",
        app.owner.org_id, other.user_id
    );
    app.get(&m, &key)
        .await
        .assert_error(404, "ResourceNotFound");
    app.put(&m, &key, json!({"role": "MEMBER"}))
        .await
        .assert_error(404, "ResourceNotFound");
    app.delete(&m, &key)
        .await
        .assert_error(404, "ResourceNotFound");
    app.get(
        "/users/v1/invitations/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &Auth::None,
    )
    .await
    .assert_error(404, "ResourceNotFound");
    assert_eq!(app.snapshot().await, before);
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_token_and_a_wrong_token_answer_identically() {
    let app = TestApp::spawn().await;
    let (_, token) = app.invite("real@example.com", "MEMBER").await;
    let mut wrong = token.clone().into_bytes();
    wrong[10] = if wrong[10] == b'A' { b'B' } else { b'A' };
    let wrong = String::from_utf8(wrong).unwrap();
    let a = app
        .get(&format!("/users/v1/invitations/{wrong}"), &Auth::None)
        .await;
    let b = app
        .get(
            "/users/v1/invitations/0000000000000000000000000000000000000000000",
            &Auth::None,
        )
        .await;
    assert_eq!((a.status, &a.body), (b.status, &b.body));
    app.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_in_the_solapi_dialect() {
    let app = TestApp::spawn().await;
    app.get("/users/v1/no-such-thing", &Auth::None)
        .await
        .assert_error(404, "ResourceNotFound");
    let r = app
        .call(
            reqwest::Method::PATCH,
            "/users/v1/invitations",
            &app.owner_key(),
            Some(json!({})),
        )
        .await;
    r.assert_error(405, "MethodNotAllowed");
    app.stop().await;
}
