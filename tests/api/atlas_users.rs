//! MongoDB Cloud Users of an organization through the Atlas face: members and pending invitees
//! in one paginated list, and a pending user that is the same record as its invitation in the
//! legacy Atlas API and in the SOLAPI face.

use reqwest::Method;
use serde_json::{Value, json};

use crate::atlas::Atlas;
use crate::helpers::{PASSWORD, TestApp, keys};

const V2025: &str = "application/vnd.atlas.2025-02-19+json";

fn current(app: &TestApp) -> Atlas<'_> {
    let mut a = Atlas::owner(app);
    a.accept = Some(V2025.into());
    a
}

fn users(app: &TestApp) -> String {
    format!("/api/atlas/v2/orgs/{}/users", app.owner.org_id)
}

async fn invite(app: &TestApp, email: &str, roles: &[&str]) -> Value {
    let r = current(app)
        .call(
            Method::POST,
            &users(app),
            Some(json!({"username": email, "roles": {"orgRoles": roles}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

#[tokio::test]
async fn members_and_pending_invitees_share_one_paginated_list() {
    let app = TestApp::spawn().await;
    app.join("pat.smith@example.com", "MEMBER").await;
    let pending = invite(&app, "new@example.com", &["ORG_READ_ONLY"]).await;
    let atlas = current(&app);
    let r = atlas.get(&users(&app)).await;
    assert_eq!(
        r.header("content-type"),
        "application/vnd.atlas.2025-02-19+json;charset=utf-8"
    );
    assert_eq!(r.header("deprecation"), "", "2025-02-19 is current");
    let body = r.json();
    assert_eq!(keys(&body), ["links", "results", "totalCount"]);
    assert_eq!(
        body["links"],
        json!([{"href": format!("{}{}?includeCount=true&pageNum=1&itemsPerPage=100", app.base, users(&app)), "rel": "self"}])
    );
    assert_eq!(body["totalCount"], 3);
    let results = body["results"].as_array().unwrap();
    let statuses: Vec<&str> = results
        .iter()
        .map(|u| u["orgMembershipStatus"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["ACTIVE", "ACTIVE", "PENDING"], "members first");
    let pat = &results[1];
    assert_eq!(
        keys(pat),
        [
            "createdAt",
            "firstName",
            "id",
            "lastName",
            "mobileNumber",
            "orgMembershipStatus",
            "roles",
            "teamIds",
            "username"
        ]
    );
    assert_eq!(pat["mobileNumber"], Value::Null, "written out as null");
    assert_eq!(
        pat["roles"],
        json!({"groupRoleAssignments": [], "orgRoles": ["ORG_MEMBER"]})
    );
    assert_eq!(results[2], pending);
    assert_eq!(
        keys(&pending),
        [
            "id",
            "invitationCreatedAt",
            "invitationExpiresAt",
            "inviterUsername",
            "orgMembershipStatus",
            "roles",
            "teamIds",
            "username"
        ]
    );

    let page2 = atlas
        .get(&format!("{}?itemsPerPage=1&pageNum=2", users(&app)))
        .await
        .json();
    let rels: Vec<&str> = page2["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    assert_eq!(rels, ["self", "next", "previous"]);
    assert_eq!(page2["results"][0]["username"], "pat.smith@example.com");
    let uncounted = atlas
        .get(&format!("{}?includeCount=false", users(&app)))
        .await
        .json();
    assert!(uncounted.get("totalCount").is_none());
    let only_pending = atlas
        .get(&format!("{}?orgMembershipStatuses=PENDING", users(&app)))
        .await
        .json();
    assert_eq!(only_pending["results"], json!([pending]));
    let by_name = atlas
        .get(&format!("{}?username=PAT.SMITH%40example.com", users(&app)))
        .await
        .json();
    assert_eq!(by_name["totalCount"], 1);
    for bad in [
        "itemsPerPage=501",
        "pageNum=0",
        "orgMembershipStatuses=GONE",
        "orgMembershipStatus=ACTIVE&orgMembershipStatuses=PENDING",
    ] {
        atlas
            .get(&format!("{}?{bad}", users(&app)))
            .await
            .assert_error(400, "INVALID_QUERY_PARAMETER");
    }

    let legacy = Atlas::owner(&app).get(&users(&app)).await;
    assert_eq!(
        legacy.header("deprecation"),
        "Wed, 19 Feb 2025 00:00:00 GMT"
    );
    let legacy = legacy.json();
    assert_eq!(
        legacy["totalCount"], 2,
        "2023-01-01 lists active users only"
    );
    let owner = &legacy["results"][0];
    assert_eq!(owner["emailAddress"], "owner@example.com");
    assert_eq!(
        owner["roles"],
        json!([{"orgId": app.owner.org_id, "roleName": "ORG_OWNER"}])
    );
}

#[tokio::test]
async fn only_the_newest_invitation_of_an_address_is_listed_and_cancelled_ones_are_not() {
    let app = TestApp::spawn().await;
    let atlas = current(&app);
    let expired = invite(&app, "lapsed@example.com", &["ORG_MEMBER"]).await;
    app.advance_clock(time::Duration::days(31));
    let renewed = invite(&app, "lapsed@example.com", &["ORG_MEMBER"]).await;
    assert_ne!(
        renewed["id"], expired["id"],
        "an expired invitation is replaced"
    );
    for _ in 0..3 {
        let old = invite(&app, "again@example.com", &["ORG_MEMBER"]).await;
        let gone = atlas
            .call(
                Method::DELETE,
                &format!("{}/{}", users(&app), old["id"].as_str().unwrap()),
                None,
            )
            .await;
        assert_eq!(gone.status, 204, "{}", gone.text);
    }
    let newest = invite(&app, "again@example.com", &["ORG_READ_ONLY"]).await;
    let cancelled = invite(&app, "cancelled@example.com", &["ORG_MEMBER"]).await;
    let id = cancelled["id"].as_str().unwrap();
    let gone = atlas
        .call(Method::DELETE, &format!("{}/{id}", users(&app)), None)
        .await;
    assert_eq!(gone.status, 204, "{}", gone.text);

    let every = "orgMembershipStatuses=PENDING&orgMembershipStatuses=ACTIVE\
        &orgMembershipStatuses=INVITATION_EXPIRED&orgMembershipStatuses=INVITATION_REJECTED";
    let body = atlas.get(&format!("{}?{every}", users(&app))).await.json();
    assert_eq!(body["totalCount"], 3, "the owner and two invitees: {body}");
    assert_eq!(
        body["results"][1], renewed,
        "not the expired one it replaced"
    );
    assert_eq!(
        body["results"][2], newest,
        "not the cancelled ones before it"
    );
}

#[tokio::test]
async fn a_pending_user_is_its_invitation_in_every_api() {
    let app = TestApp::spawn().await;
    let atlas = current(&app);
    let user = invite(&app, "new@example.com", &["ORG_MEMBER"]).await;
    let id = user["id"].as_str().unwrap();
    let legacy = Atlas::owner(&app)
        .get(&format!(
            "/api/atlas/v2/orgs/{}/invites/{id}",
            app.owner.org_id
        ))
        .await;
    assert_eq!(
        legacy.json()["username"],
        "new@example.com",
        "same id in the legacy API"
    );
    let solapi = app
        .get(
            &format!("/users/v1/accounts/{}/invitations", app.owner.org_id),
            &app.owner_key(),
        )
        .await;
    assert_eq!(solapi.assert_ok()[0]["invitationId"], id);
    for (username, org_roles, status, code) in [
        (
            "new@example.com",
            json!(["ORG_MEMBER"]),
            409,
            "USER_ALREADY_EXISTS",
        ),
        (
            "owner@example.com",
            json!(["ORG_MEMBER"]),
            409,
            "USER_ALREADY_EXISTS",
        ),
        ("x@example.com", json!([]), 400, "INVALID_ATTRIBUTE"),
    ] {
        let body = json!({"username": username, "roles": {"orgRoles": org_roles}});
        atlas
            .call(Method::POST, &users(&app), Some(body))
            .await
            .assert_error(status, code);
    }
    app.advance_clock(time::Duration::days(31));
    let expired = atlas
        .get(&format!(
            "{}?orgMembershipStatuses=INVITATION_EXPIRED",
            users(&app)
        ))
        .await
        .json();
    assert_eq!(expired["results"][0]["id"], id);
    assert_eq!(
        expired["results"][0]["orgMembershipStatus"],
        "INVITATION_EXPIRED"
    );
    let again = invite(&app, "new@example.com", &["ORG_READ_ONLY"]).await;
    assert_ne!(
        again["id"], id,
        "an expired user is replaced by a new invitation"
    );
    let expired = atlas
        .get(&format!(
            "{}?orgMembershipStatuses=INVITATION_EXPIRED",
            users(&app)
        ))
        .await
        .json();
    assert_eq!(expired["totalCount"], 0);
}

#[tokio::test]
async fn roles_change_by_patch_add_and_remove_and_users_are_removed() {
    let app = TestApp::spawn().await;
    let atlas = current(&app);
    let pending = invite(&app, "new@example.com", &["ORG_MEMBER"]).await;
    let one = format!("{}/{}", users(&app), pending["id"].as_str().unwrap());
    let patched = atlas
        .call(
            Method::PATCH,
            &one,
            Some(json!({"roles": {"orgRoles": ["ORG_READ_ONLY"]}})),
        )
        .await
        .json();
    assert_eq!(patched["roles"]["orgRoles"], json!(["ORG_READ_ONLY"]));
    let added = atlas
        .call(
            Method::POST,
            &format!("{one}:addRole"),
            Some(json!({"orgRole": "ORG_BILLING_ADMIN"})),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.text);
    assert_eq!(
        added.json()["roles"]["orgRoles"],
        json!(["ORG_BILLING_ADMIN", "ORG_READ_ONLY"])
    );
    let removed = atlas
        .call(
            Method::POST,
            &format!("{one}:removeRole"),
            Some(json!({"orgRole": "ORG_READ_ONLY"})),
        )
        .await
        .json();
    assert_eq!(removed["roles"]["orgRoles"], json!(["ORG_BILLING_ADMIN"]));
    atlas
        .call(
            Method::POST,
            &format!("{one}:removeRole"),
            Some(json!({"orgRole": "ORG_BILLING_ADMIN"})),
        )
        .await
        .assert_error(400, "INVALID_ATTRIBUTE");
    let deleted = atlas.call(Method::DELETE, &one, None).await;
    assert_eq!(deleted.status, 204);
    atlas.get(&one).await.assert_error(404, "USER_NOT_FOUND");

    let (_, member_id) = app.join("pat@example.com", "MEMBER").await;
    let member = format!("{}/{member_id}", users(&app));
    let added = atlas
        .call(
            Method::POST,
            &format!("{member}:addRole"),
            Some(json!({"orgRole": "ORG_GROUP_CREATOR"})),
        )
        .await
        .json();
    assert_eq!(
        added["roles"]["orgRoles"],
        json!(["ORG_MEMBER", "ORG_GROUP_CREATOR"])
    );
    let put = Atlas::owner(&app)
        .call(
            Method::PUT,
            &format!("{member}/roles"),
            Some(json!({"orgRoles": ["ORG_READ_ONLY"]})),
        )
        .await;
    assert_eq!(put.json(), json!({"orgRoles": ["ORG_READ_ONLY"]}));
    assert_eq!(atlas.call(Method::DELETE, &member, None).await.status, 204);
    let (status, _) = (
        app.get(
            &format!(
                "/users/v1/accounts/{}/members/{member_id}",
                app.owner.org_id
            ),
            &app.owner_key(),
        )
        .await
        .status,
        (),
    );
    assert_eq!(status, 404, "removed from the organization");
    let owner = format!("{}/{}", users(&app), app.owner.user_id);
    atlas
        .call(Method::DELETE, &owner, None)
        .await
        .assert_error(403, "CANNOT_DEMOTE_LAST_ORG_OWNER");
}

#[tokio::test]
async fn a_user_invited_through_atlas_and_accepted_through_solapi_is_active_in_atlas() {
    let app = TestApp::spawn().await;
    let pending = invite(&app, "joiner@example.com", &["ORG_MEMBER"]).await;
    let token = app
        .token_from_mail("joiner@example.com", "/invitations/")
        .await;
    let body = json!({"password": PASSWORD, "passwordConfirmation": PASSWORD});
    app.post(
        &format!("/users/v1/signup/invitations/{token}"),
        &crate::helpers::Auth::None,
        body,
    )
    .await
    .assert_ok();
    let list = current(&app)
        .get(&format!("{}?username=joiner%40example.com", users(&app)))
        .await
        .json();
    let joined = &list["results"][0];
    assert_eq!(joined["orgMembershipStatus"], "ACTIVE");
    assert_ne!(
        joined["id"], pending["id"],
        "an active user has their own id"
    );
    assert_eq!(
        list["totalCount"], 1,
        "the accepted invitation is not listed as well"
    );
}

#[tokio::test]
async fn members_read_the_users_and_only_owners_change_them() {
    let app = TestApp::spawn().await;
    let mut dev = Atlas::developer(&app).await;
    dev.accept = Some(V2025.into());
    assert_eq!(dev.get(&users(&app)).await.status, 200);
    dev.call(
        Method::POST,
        &users(&app),
        Some(json!({"username": "x@example.com", "roles": {"orgRoles": ["ORG_MEMBER"]}})),
    )
    .await
    .assert_error(401, "USER_UNAUTHORIZED");
}
