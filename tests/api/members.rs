//! Account members (#19–#23), removal and leaving, and the "me" endpoints (#5–#10).

use serde_json::json;

use crate::helpers::{Auth, TestApp};

#[tokio::test]
async fn every_member_lists_the_members_with_filters() {
    let app = TestApp::spawn().await;
    let (member, member_id) = app.join("m@example.com", "MEMBER").await;
    let path = format!("/users/v1/accounts/{}/members", app.owner.org_id);
    let list = app.get(&path, &member).await;
    let data = list.assert_ok()["data"].as_array().unwrap().clone();
    assert_eq!(data.len(), 2);
    let keys: Vec<&str> = data[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "memberId",
            "role",
            "name",
            "email",
            "status",
            "dateCreated",
            "dateUpdated"
        ]
    );
    assert_eq!(list.body["nextKey"], serde_json::Value::Null);
    let owners = app.get(&format!("{path}?role=OWNER"), &member).await;
    assert_eq!(owners.assert_ok()["data"].as_array().unwrap().len(), 1);
    let one = app
        .get(&format!("{path}?memberId={member_id}"), &member)
        .await;
    assert_eq!(one.assert_ok()["data"][0]["email"], "m@example.com");
    app.stop().await;
}

#[tokio::test]
async fn an_owner_changes_roles_but_a_member_only_their_own_name() {
    let app = TestApp::spawn().await;
    let (member, member_id) = app.join("m@example.com", "MEMBER").await;
    let path = format!(
        "/users/v1/accounts/{}/members/{member_id}",
        app.owner.org_id
    );
    let r = app
        .put(&path, &app.owner_key(), json!({"role": "DEVELOPER"}))
        .await;
    let body = r.assert_ok();
    let keys = crate::helpers::keys(body);
    assert_eq!(
        keys,
        ["memberId", "role", "name", "dateCreated", "dateUpdated"],
        "#21 leaves out email"
    );
    assert_eq!(body["role"], "DEVELOPER");

    let me = format!("/users/v1/accounts/{}/me", app.owner.org_id);
    app.put(&me, &member, json!({"role": "OWNER"}))
        .await
        .assert_error(403, "Forbidden");
    let owner_path = format!(
        "/users/v1/accounts/{}/members/{}",
        app.owner.org_id, app.owner.user_id
    );
    app.put(&owner_path, &member, json!({"name": "pwned"}))
        .await
        .assert_error(403, "Forbidden");
    let renamed = app.put(&me, &member, json!({"name": "Kim"})).await;
    assert_eq!(renamed.assert_ok()["name"], "Kim");
    let mine = app.get(&me, &member).await;
    assert_eq!(mine.assert_ok()["email"], "m@example.com");
    assert_eq!(mine.body["role"], "DEVELOPER");
    app.stop().await;
}

#[tokio::test]
async fn the_last_owner_can_be_neither_demoted_nor_removed_nor_leave() {
    let app = TestApp::spawn().await;
    let before = app.snapshot().await;
    let owner_path = format!(
        "/users/v1/accounts/{}/members/{}",
        app.owner.org_id, app.owner.user_id
    );
    app.put(&owner_path, &app.owner_key(), json!({"role": "MEMBER"}))
        .await
        .assert_error(409, "LastOwner");
    app.delete(&owner_path, &app.owner_key())
        .await
        .assert_error(409, "LastOwner");
    assert_eq!(app.snapshot().await, before);

    let (second, second_id) = app.join("second@example.com", "OWNER").await;
    app.put(&owner_path, &app.owner_key(), json!({"role": "MEMBER"}))
        .await
        .assert_ok();
    let second_path = format!(
        "/users/v1/accounts/{}/members/{second_id}",
        app.owner.org_id
    );
    app.delete(&second_path, &second)
        .await
        .assert_error(409, "LastOwner");
    app.stop().await;
}

#[tokio::test]
async fn an_owner_removes_a_member_and_a_member_leaves() {
    let app = TestApp::spawn().await;
    let (_, removed_id) = app.join("removed@example.com", "MEMBER").await;
    let (leaver, leaver_id) = app.join("leaver@example.com", "DEVELOPER").await;
    let (other, _) = app.join("other@example.com", "MEMBER").await;
    let base = format!("/users/v1/accounts/{}/members", app.owner.org_id);
    app.delete(&format!("{base}/{removed_id}"), &other)
        .await
        .assert_error(403, "Forbidden");
    app.delete(&format!("{base}/{removed_id}"), &app.owner_key())
        .await
        .assert_ok();
    app.delete(&format!("{base}/{leaver_id}"), &leaver)
        .await
        .assert_ok();
    app.get(&format!("/users/v1/accounts/{}", app.owner.org_id), &leaver)
        .await
        .assert_error(404, "ResourceNotFound");
    let left = app.get(&base, &app.owner_key()).await;
    assert_eq!(left.assert_ok()["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.audit_actions(&removed_id).await.last().unwrap(),
        "membership.removed"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_member_reads_and_updates_their_profile() {
    let app = TestApp::spawn().await;
    let key = app.owner_key();
    let me = app.get("/users/v1/member", &key).await;
    let keys: Vec<String> = me
        .assert_ok()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        keys,
        [
            "name",
            "phoneNumber",
            "extraPhoneNumbers",
            "status",
            "selectedAccountId",
            "betaMicroservices",
            "appId",
            "memberId",
            "email",
            "loginSessions",
            "dateCreated",
            "dateUpdated"
        ]
    );
    let r = app
        .put("/users/v1/member", &key, json!({"name": "Boss"}))
        .await;
    assert_eq!(r.assert_ok()["name"], "Boss");
    let r = app
        .put(
            "/users/v1/member/phone-number",
            &key,
            json!({"phoneNumber": "010-1234-5678"}),
        )
        .await;
    assert_eq!(r.assert_ok()["phoneNumber"], "01012345678");
    let r = app
        .put(
            "/users/v1/member/phone-number/extra",
            &key,
            json!({"phoneNumber": "01099998888"}),
        )
        .await;
    assert_eq!(r.assert_ok()["extraPhoneNumbers"], json!(["01099998888"]));
    app.put(
        "/users/v1/member/phone-number",
        &key,
        json!({"phoneNumber": "call me"}),
    )
    .await
    .assert_error(400, "ValidationError");
    app.put("/users/v1/member/activate", &key, json!({}))
        .await
        .assert_error(409, "InvalidStatus");

    let session = app.login("owner@example.com", &app.owner.password).await;
    let with_sessions = app.get("/users/v1/member", &session).await;
    assert_eq!(
        with_sessions.assert_ok()["loginSessions"][0]["idAddress"],
        "127.0.0.1"
    );
    app.stop().await;
}

#[tokio::test]
async fn changing_the_email_requires_verifying_the_new_address() {
    let app = TestApp::spawn().await;
    let key = app.owner_key();
    let other = app.other_org("taken@example.com").await;
    let _ = other;
    app.put(
        "/users/v1/member/email",
        &key,
        json!({"email": "taken@example.com"}),
    )
    .await
    .assert_error(409, "DuplicatedEmail");
    let r = app
        .put(
            "/users/v1/member/email",
            &key,
            json!({"email": "boss@example.com"}),
        )
        .await;
    assert_eq!(r.assert_ok()["status"], "UNVERIFIED");
    app.post(
        "/users/v1/invitations",
        &key,
        json!({"email": "x@example.com", "role": "MEMBER"}),
    )
    .await
    .assert_error(403, "Forbidden");
    let token = app
        .token_from_mail("boss@example.com", "/verify-email/")
        .await;
    app.post(
        "/usher/v1/email-verifications",
        &Auth::None,
        json!({"token": token}),
    )
    .await
    .assert_ok();
    app.post(
        "/users/v1/invitations",
        &key,
        json!({"email": "x@example.com", "role": "MEMBER"}),
    )
    .await
    .assert_ok();
    app.stop().await;
}

#[tokio::test]
async fn a_password_reset_works_once_and_answers_the_same_for_unknown_addresses() {
    let app = TestApp::spawn().await;
    let known = app
        .post(
            "/users/v1/member/password/reset",
            &Auth::None,
            json!({"email": "owner@example.com"}),
        )
        .await;
    let unknown = app
        .post(
            "/users/v1/member/password/reset",
            &Auth::None,
            json!({"email": "nobody@example.com"}),
        )
        .await;
    for r in [&known, &unknown] {
        let keys: Vec<&str> = r
            .assert_ok()
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["_id", "email", "dateCreated", "dateUpdated", "hashId"]
        );
        assert_eq!(
            r.body["hashId"],
            serde_json::Value::Null,
            "the secret is never in the response"
        );
    }
    let session = app.login("owner@example.com", &app.owner.password).await;
    let token = app
        .token_from_mail("owner@example.com", "/password-reset/")
        .await;
    let body = json!({"password": "a brand new passphrase", "passwordConfirmation": "a brand new passphrase"});
    app.put(
        &format!("/users/v1/member/password/reset/{token}"),
        &Auth::None,
        body.clone(),
    )
    .await
    .assert_ok();
    app.put(
        &format!("/users/v1/member/password/reset/{token}"),
        &Auth::None,
        body,
    )
    .await
    .assert_error(404, "ResourceNotFound");
    app.get("/users/v1/member", &session)
        .await
        .assert_error(401, "Unauthorized");
    app.login("owner@example.com", "a brand new passphrase")
        .await;
    app.stop().await;
}
