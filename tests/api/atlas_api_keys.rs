//! Programmatic API keys made through the Atlas face: the private key shown once, roles of the
//! key's own, and one key for both dialects (Digest here, HMAC in SOLAPI).

use reqwest::Method;
use serde_json::{Value, json};

use crate::atlas::Atlas;
use crate::helpers::{Auth, TestApp, keys};

fn api_keys(app: &TestApp) -> String {
    format!("/api/atlas/v2/orgs/{}/apiKeys", app.owner.org_id)
}

async fn create(app: &TestApp, roles: &[&str]) -> Value {
    let r = Atlas::owner(app)
        .call(
            Method::POST,
            &api_keys(app),
            Some(json!({"desc": "terraform", "roles": roles})),
        )
        .await;
    assert_eq!(r.status, 200, "200, not 201: {}", r.text);
    r.json()
}

fn as_key<'a>(app: &'a TestApp, k: &Value) -> Atlas<'a> {
    Atlas::with_key(
        app,
        k["publicKey"].as_str().unwrap(),
        k["privateKey"].as_str().unwrap(),
    )
}

#[tokio::test]
async fn a_new_key_shows_its_private_key_once_and_works_in_both_dialects() {
    let app = TestApp::spawn().await;
    let k = create(&app, &["ORG_OWNER"]).await;
    assert_eq!(keys(&k), ["desc", "id", "privateKey", "publicKey", "roles"]);
    let public = k["publicKey"].as_str().unwrap();
    assert!(
        public.len() == 8 && public.bytes().all(|b| b.is_ascii_lowercase()),
        "{public}"
    );
    let private = k["privateKey"].as_str().unwrap();
    let groups: Vec<usize> = private.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "a UUID: {private}");
    assert_eq!(
        k["roles"],
        json!([{"orgId": app.owner.org_id, "roleName": "ORG_OWNER"}])
    );

    let one = format!("{}/{}", api_keys(&app), k["id"].as_str().unwrap());
    let again = Atlas::owner(&app).get(&one).await.json();
    assert_eq!(
        again["privateKey"],
        format!("********-****-****-{}", &private[24..])
    );
    let listed = Atlas::owner(&app).get(&api_keys(&app)).await.json();
    assert_eq!(
        listed["totalCount"], 1,
        "only the organization's programmatic keys: {listed}"
    );

    let invites = format!("/api/atlas/v2/orgs/{}/invites", app.owner.org_id);
    let made = as_key(&app, &k)
        .call(
            Method::POST,
            &invites,
            Some(json!({"username": "by-key@example.com", "roles": ["ORG_MEMBER"]})),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.text);
    let solapi = app
        .get(
            &format!("/users/v1/accounts/{}/invitations", app.owner.org_id),
            &Auth::Key(public.into(), private.into()),
        )
        .await;
    assert_eq!(
        solapi.assert_ok()[0]["email"],
        "by-key@example.com",
        "the same key signs SOLAPI HMAC"
    );
}

#[tokio::test]
async fn a_keys_roles_decide_and_a_deleted_key_stops_at_once() {
    let app = TestApp::spawn().await;
    let k = create(&app, &["ORG_MEMBER"]).await;
    let one = format!("{}/{}", api_keys(&app), k["id"].as_str().unwrap());
    let invites = format!("/api/atlas/v2/orgs/{}/invites", app.owner.org_id);
    let invite = json!({"username": "x@example.com", "roles": ["ORG_MEMBER"]});
    as_key(&app, &k)
        .call(Method::POST, &invites, Some(invite.clone()))
        .await
        .assert_error(401, "USER_UNAUTHORIZED");
    let promoted = Atlas::owner(&app)
        .call(
            Method::PATCH,
            &one,
            Some(json!({"roles": ["ORG_OWNER"], "desc": "promoted"})),
        )
        .await
        .json();
    assert_eq!(promoted["desc"], "promoted");
    assert_eq!(
        as_key(&app, &k)
            .call(Method::POST, &invites, Some(invite))
            .await
            .status,
        200
    );

    assert_eq!(
        Atlas::owner(&app)
            .call(Method::DELETE, &one, None)
            .await
            .status,
        204
    );
    let gone = as_key(&app, &k).get(&invites).await;
    assert_eq!(
        gone.status, 401,
        "a deleted key answers the challenge again"
    );
    Atlas::owner(&app)
        .get(&one)
        .await
        .assert_error(404, "RESOURCE_NOT_FOUND");
}

#[tokio::test]
async fn bad_requests_and_non_owners_are_refused() {
    let app = TestApp::spawn().await;
    let owner = Atlas::owner(&app);
    for (body, code) in [
        (json!({"roles": ["ORG_MEMBER"]}), "MISSING_ATTRIBUTE"),
        (json!({"desc": "x"}), "MISSING_ATTRIBUTE"),
        (
            json!({"desc": "x", "roles": ["GROUP_OWNER"]}),
            "INVALID_ROLE_FOR_ORG",
        ),
        (
            json!({"desc": "", "roles": ["ORG_MEMBER"]}),
            "INVALID_ATTRIBUTE",
        ),
        (
            json!({"desc": "x", "roles": ["ORG_MEMBER"], "privateKey": "mine"}),
            "INVALID_ATTRIBUTE",
        ),
    ] {
        owner
            .call(Method::POST, &api_keys(&app), Some(body))
            .await
            .assert_error(400, code);
    }
    let dev = Atlas::developer(&app).await;
    assert_eq!(dev.get(&api_keys(&app)).await.status, 200, "members read");
    dev.call(
        Method::POST,
        &api_keys(&app),
        Some(json!({"desc": "x", "roles": ["ORG_MEMBER"]})),
    )
    .await
    .assert_error(401, "USER_UNAUTHORIZED");
}

#[tokio::test]
async fn an_access_list_admits_a_key_only_from_its_networks_in_both_dialects() {
    let app = TestApp::spawn().await;
    let k = create(&app, &["ORG_OWNER"]).await;
    let id = k["id"].as_str().unwrap();
    let key = as_key(&app, &k);
    let hmac = Auth::Key(
        k["publicKey"].as_str().unwrap().into(),
        k["privateKey"].as_str().unwrap().into(),
    );
    let members = format!("/users/v1/accounts/{}/members", app.owner.org_id);
    let list = format!("{}/{id}/accessList", api_keys(&app));
    let owner = Atlas::owner(&app);
    let empty = owner.get(&list).await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_eq!(empty.json()["totalCount"], 0);
    assert_eq!(
        key.get(&api_keys(&app)).await.status,
        200,
        "no list: anywhere"
    );

    // One address elsewhere: the key stops working here, in both dialects.
    let r = owner
        .call(
            Method::POST,
            &list,
            Some(json!([{"ipAddress": "192.0.2.1"}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let page = r.json();
    assert_eq!(page["totalCount"], 1, "the whole list comes back");
    let entry = &page["results"][0];
    assert_eq!(
        keys(entry),
        ["cidrBlock", "count", "created", "ipAddress", "links"]
    );
    assert_eq!(entry["cidrBlock"], "192.0.2.1/32");
    assert_eq!(entry["ipAddress"], "192.0.2.1");
    key.get(&api_keys(&app))
        .await
        .assert_error(403, "IP_ADDRESS_NOT_ON_ACCESS_LIST");
    app.get(&members, &hmac)
        .await
        .assert_error(403, "IPNotAllowed");

    // A network that holds this machine lets it back in.
    let r = owner
        .call(
            Method::POST,
            &list,
            Some(json!([{"cidrBlock": "127.0.0.1/8"}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["totalCount"], 2);
    assert_eq!(key.get(&api_keys(&app)).await.status, 200);
    app.get(&members, &hmac).await.assert_ok();
    let one = key.get(&format!("{list}/127.0.0.0%2F8")).await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(
        one.json()["cidrBlock"],
        "127.0.0.0/8",
        "taken by its prefix"
    );
    assert!(one.json().get("ipAddress").is_none());

    // Bad entries and unknown ones.
    for body in [
        json!([{"ipAddress": "300.1.1.1"}]),
        json!([{"cidrBlock": "10.0.0.0/33"}]),
    ] {
        owner
            .call(Method::POST, &list, Some(body))
            .await
            .assert_error(400, "INVALID_IP_ADDRESS_OR_CIDR_NOTATION");
    }
    owner
        .call(
            Method::POST,
            &list,
            Some(json!([{"ipAddress": "10.0.0.1", "cidrBlock": "10.0.0.0/8"}])),
        )
        .await
        .assert_error(400, "INVALID_ATTRIBUTE");
    owner
        .get(&format!("{list}/10.9.9.9"))
        .await
        .assert_error(404, "RESOURCE_NOT_FOUND");
    owner
        .get(&format!("{list}/not-an-address"))
        .await
        .assert_error(400, "INVALID_IP_ADDRESS_OR_CIDR_NOTATION");
    let reader = create(&app, &["ORG_READ_ONLY"]).await;
    let reader = as_key(&app, &reader);
    assert_eq!(reader.get(&list).await.status, 200, "members read the list");
    reader
        .call(
            Method::POST,
            &list,
            Some(json!([{"ipAddress": "10.0.0.1"}])),
        )
        .await
        .assert_error(401, "USER_UNAUTHORIZED");

    // Removing the entries opens the key to anywhere again.
    for entry in ["192.0.2.1", "127.0.0.0%2F8"] {
        let r = owner
            .call(Method::DELETE, &format!("{list}/{entry}"), None)
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
    }
    owner
        .call(Method::DELETE, &format!("{list}/192.0.2.1"), None)
        .await
        .assert_error(404, "RESOURCE_NOT_FOUND");
    assert_eq!(owner.get(&list).await.json()["totalCount"], 0);
    app.get(&members, &hmac).await.assert_ok();
}
