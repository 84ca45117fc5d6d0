//! Accounts (#13–#18).

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_member_creates_an_account_lists_and_switches_to_it() {
    let app = TestApp::spawn().await;
    let session = app.login("owner@example.com", &app.owner.password).await;
    let created = app.post("/users/v1/accounts", &session, json!({})).await;
    let acc = created.assert_ok();
    let keys = crate::helpers::keys(acc);
    assert_eq!(
        keys,
        [
            "status",
            "accountId",
            "name",
            "members",
            "dateCreated",
            "dateUpdated"
        ]
    );
    assert_eq!(
        acc["name"], "owner님의 계정",
        "SOLAPI's default account name"
    );
    assert_eq!(acc["members"][0]["role"], "OWNER");
    let new_id = acc["accountId"].as_str().unwrap().to_owned();

    let page = app.get("/users/v1/accounts/?limit=1", &session).await;
    let p = page.assert_ok();
    assert_eq!(p["limit"], 1);
    assert_eq!(p["accountList"].as_array().unwrap().len(), 1);
    let next = p["nextKey"].as_str().expect("a second page").to_owned();
    let page2 = app
        .get(
            &format!("/users/v1/accounts?limit=1&startKey={next}"),
            &session,
        )
        .await;
    assert_eq!(
        page2.assert_ok()["accountList"].as_array().unwrap().len(),
        1
    );
    assert_eq!(page2.body["nextKey"], serde_json::Value::Null);
    assert_eq!(page2.body["accountList"][0]["myRole"], "OWNER");

    app.post(
        &format!("/users/v1/accounts/{new_id}/switch"),
        &session,
        json!({}),
    )
    .await
    .assert_ok();
    assert_eq!(
        app.get("/users/v1/member", &session).await.assert_ok()["selectedAccountId"],
        new_id.as_str()
    );
    let inv = app
        .post(
            "/users/v1/invitations",
            &session,
            json!({"email": "x@example.com", "role": "MEMBER"}),
        )
        .await;
    assert_eq!(
        inv.assert_ok()["accountId"],
        new_id.as_str(),
        "the session's selected account is the target"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_api_key_sees_only_its_own_account() {
    let app = TestApp::spawn().await;
    let session = app.login("owner@example.com", &app.owner.password).await;
    app.post("/users/v1/accounts", &session, json!({"name": "Second"}))
        .await
        .assert_ok();
    let list = app.get("/users/v1/accounts/", &app.owner_key()).await;
    let items = list.assert_ok()["accountList"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["accountId"], app.owner.org_id.as_str());
    app.stop().await;
}

#[tokio::test]
async fn only_an_owner_renames_the_account() {
    let app = TestApp::spawn().await;
    let (dev, _) = app.join("dev@example.com", "DEVELOPER").await;
    let path = format!("/users/v1/accounts/{}", app.owner.org_id);
    app.put(&path, &dev, json!({"name": "Hijacked"}))
        .await
        .assert_error(403, "Forbidden");
    let r = app
        .put(&path, &app.owner_key(), json!({"name": "Acme Korea"}))
        .await;
    assert_eq!(r.assert_ok()["name"], "Acme Korea");
    assert_eq!(app.get(&path, &dev).await.assert_ok()["name"], "Acme Korea");
    app.put(&format!("{path}/activate"), &app.owner_key(), json!({}))
        .await
        .assert_error(409, "InvalidStatus");
    app.stop().await;
}
