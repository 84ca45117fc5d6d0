//! Projects, project invitations, project users and teams through the Atlas face: every
//! operation's success path and its documented errors, invitations that grant projects and
//! teams, and what accepting them does.

use reqwest::Method;
use serde_json::{Value, json};

use crate::atlas::{Answer, Atlas};
use crate::helpers::{Auth, TestApp, keys, new_password};

pub const V2023: &str = "application/vnd.atlas.2023-01-01+json";
pub const V2025: &str = "application/vnd.atlas.2025-02-19+json";

pub fn at<'a>(mut a: Atlas<'a>, accept: &str) -> Atlas<'a> {
    a.accept = Some(accept.into());
    a
}

/// The answer's body, once its status is the one expected.
#[track_caller]
pub fn expect(r: &Answer, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", r.text);
    if r.text.is_empty() {
        Value::Null
    } else {
        r.json()
    }
}

/// Creates a project as the owner; its id.
pub async fn project(app: &TestApp, name: &str) -> String {
    let r = Atlas::owner(app)
        .call(
            Method::POST,
            "/api/atlas/v2/groups",
            Some(json!({"name": name, "orgId": app.owner.org_id})),
        )
        .await;
    expect(&r, 201)["id"].as_str().unwrap().to_owned()
}

/// Creates a team of the organization as the owner; its id.
pub async fn team(app: &TestApp, name: &str, usernames: &[&str]) -> String {
    let r = Atlas::owner(app)
        .call(
            Method::POST,
            &format!("/api/atlas/v2/orgs/{}/teams", app.owner.org_id),
            Some(json!({"name": name, "usernames": usernames})),
        )
        .await;
    expect(&r, 201)["id"].as_str().unwrap().to_owned()
}

/// A member's own bearer session, as an Atlas client.
pub async fn member<'a>(app: &'a TestApp, email: &str, role: &str) -> (Atlas<'a>, String) {
    let (session, id) = app.join(email, role).await;
    let Auth::Bearer(token) = session else {
        unreachable!()
    };
    (Atlas::with_bearer(app, &token), id)
}

#[tokio::test]
async fn projects_are_created_listed_renamed_and_deleted_as_atlas_answers_them() {
    let app = TestApp::spawn().await;
    let org = &app.owner.org_id;
    let atlas = Atlas::owner(&app);
    let r = atlas
        .call(
            Method::POST,
            "/api/atlas/v2/groups",
            Some(json!({"name": "Payments", "orgId": org})),
        )
        .await;
    let created = expect(&r, 201);
    assert_eq!(
        r.header("content-type"),
        "application/vnd.atlas.2023-01-01+json;charset=utf-8"
    );
    assert_eq!(
        keys(&created),
        [
            "clusterCount",
            "created",
            "id",
            "links",
            "name",
            "orgId",
            "tags",
            "withDefaultAlertsSettings"
        ]
    );
    assert_eq!(created["orgId"], json!(org));
    assert!(created["created"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        created["created"].as_str().unwrap().len(),
        20,
        "whole seconds"
    );
    let id = created["id"].as_str().unwrap();

    // Listed everywhere, found by id and by name.
    let all = expect(&atlas.get("/api/atlas/v2/groups").await, 200);
    assert_eq!(all["totalCount"], 1);
    assert_eq!(all["results"][0], created);
    let of_org = expect(
        &atlas.get(&format!("/api/atlas/v2/orgs/{org}/groups")).await,
        200,
    );
    assert_eq!(of_org["results"][0], created);
    let one = expect(&atlas.get(&format!("/api/atlas/v2/groups/{id}")).await, 200);
    assert_eq!(one, created);
    let by_name = expect(
        &atlas.get("/api/atlas/v2/groups/byName/Payments").await,
        200,
    );
    assert_eq!(by_name, created);

    // Renamed; a taken name and a bad one are refused.
    let other = project(&app, "Ledger").await;
    let path = format!("/api/atlas/v2/groups/{id}");
    let renamed = atlas
        .call(Method::PATCH, &path, Some(json!({"name": "Billing"})))
        .await;
    assert_eq!(expect(&renamed, 200)["name"], "Billing");
    atlas
        .call(Method::PATCH, &path, Some(json!({"name": "Ledger"})))
        .await
        .assert_error(409, "GROUP_ALREADY_EXISTS");
    atlas
        .call(
            Method::POST,
            "/api/atlas/v2/groups",
            Some(json!({"name": "Ledger", "orgId": org})),
        )
        .await
        .assert_error(409, "GROUP_ALREADY_EXISTS");
    atlas
        .call(Method::PATCH, &path, Some(json!({"name": "no/slashes"})))
        .await
        .assert_error(400, "INVALID_ATTRIBUTE");
    atlas
        .call(
            Method::POST,
            "/api/atlas/v2/groups",
            Some(json!({"name": "X", "orgId": org, "color": "red"})),
        )
        .await
        .assert_error(400, "INVALID_ATTRIBUTE");
    atlas
        .call(
            Method::POST,
            "/api/atlas/v2/groups",
            Some(json!({"name": "X"})),
        )
        .await
        .assert_error(400, "MISSING_ATTRIBUTE");

    // Bad, unknown and other organizations' ids.
    atlas
        .get("/api/atlas/v2/groups/not-an-id")
        .await
        .assert_error(400, "INVALID_GROUP_ID");
    let unknown = "0123456789abcdef01234567";
    let e = atlas
        .get(&format!("/api/atlas/v2/groups/{unknown}"))
        .await
        .assert_error(404, "GROUP_NOT_FOUND");
    assert_eq!(e["parameters"], json!([unknown]));
    let stranger = app.other_org("stranger@example.com").await;
    let theirs = Atlas::with_key(&app, &stranger.api_key, &stranger.api_secret);
    theirs.get(&path).await.assert_error(404, "GROUP_NOT_FOUND");
    theirs
        .get("/api/atlas/v2/groups/byName/Billing")
        .await
        .assert_error(404, "GROUP_NAME_NOT_FOUND");
    let theirs_list = expect(&theirs.get("/api/atlas/v2/groups").await, 200);
    assert_eq!(
        theirs_list["totalCount"], 0,
        "nobody sees another's projects"
    );

    // Deleted: gone, and the name is free again.
    expect(&atlas.call(Method::DELETE, &path, None).await, 204);
    atlas.get(&path).await.assert_error(404, "GROUP_NOT_FOUND");
    atlas
        .call(Method::DELETE, &path, None)
        .await
        .assert_error(404, "GROUP_NOT_FOUND");
    let left = expect(&atlas.get("/api/atlas/v2/groups").await, 200);
    assert_eq!(left["results"][0]["id"], json!(other));
}

#[tokio::test]
async fn organizations_are_listed_read_and_renamed_by_their_members() {
    let app = TestApp::spawn().await;
    let org = &app.owner.org_id;
    let atlas = Atlas::owner(&app);
    let list = expect(&atlas.get("/api/atlas/v2/orgs").await, 200);
    assert_eq!(list["totalCount"], 1);
    let mine = &list["results"][0];
    assert_eq!(
        keys(mine),
        [
            "id",
            "isDeleted",
            "links",
            "name",
            "skipDefaultAlertsSettings"
        ]
    );
    assert_eq!(mine["id"], json!(org));
    let name = mine["name"].as_str().unwrap();
    let prefix = &name[..2].to_lowercase();
    let found = expect(
        &atlas
            .get(&format!("/api/atlas/v2/orgs?name={prefix}"))
            .await,
        200,
    );
    assert_eq!(found["totalCount"], 1, "a case-insensitive prefix");
    let none = expect(&atlas.get("/api/atlas/v2/orgs?name=zzz").await, 200);
    assert_eq!(none["totalCount"], 0);
    let one = expect(&atlas.get(&format!("/api/atlas/v2/orgs/{org}")).await, 200);
    assert_eq!(&one, mine);
    let renamed = atlas
        .call(
            Method::PATCH,
            &format!("/api/atlas/v2/orgs/{org}"),
            Some(json!({"name": "Acme(EU)"})),
        )
        .await;
    assert_eq!(expect(&renamed, 200)["name"], "Acme(EU)");
    atlas
        .call(
            Method::PATCH,
            &format!("/api/atlas/v2/orgs/{org}"),
            Some(json!({"name": "no spaces in Atlas names"})),
        )
        .await
        .assert_error(400, "INVALID_ATTRIBUTE");
    let (reader, _) = member(&app, "reader@example.com", "MEMBER").await;
    let read = expect(&reader.get(&format!("/api/atlas/v2/orgs/{org}")).await, 200);
    assert_eq!(read["name"], "Acme(EU)");
    reader
        .call(
            Method::PATCH,
            &format!("/api/atlas/v2/orgs/{org}"),
            Some(json!({"name": "Mine-now"})),
        )
        .await
        .assert_error(401, "USER_UNAUTHORIZED");
    atlas
        .get("/api/atlas/v2/orgs/0123456789abcdef01234567")
        .await
        .assert_error(404, "ORG_NOT_FOUND");
}

fn group_invites(id: &str) -> String {
    format!("/api/atlas/v2/groups/{id}/invites")
}

#[tokio::test]
async fn project_invitations_have_their_own_shape_and_stay_apart_from_organization_invitations() {
    let app = TestApp::spawn().await;
    let id = project(&app, "Payments").await;
    let atlas = Atlas::owner(&app);
    let r = atlas
        .call(
            Method::POST,
            &group_invites(&id),
            Some(json!({"username": "ann@example.com", "roles": ["GROUP_READ_ONLY"]})),
        )
        .await;
    let created = expect(&r, 200);
    assert_eq!(r.header("deprecation"), "Wed, 4 Oct 2023 00:00:00 GMT");
    assert_eq!(r.header("sunset"), "Thu, 1 Jul 2027 00:00:00 GMT");
    assert_eq!(
        keys(&created),
        [
            "createdAt",
            "expiresAt",
            "groupId",
            "groupName",
            "id",
            "inviterUsername",
            "roles",
            "username"
        ]
    );
    assert_eq!(created["groupId"], json!(id));
    assert_eq!(created["groupName"], "Payments");
    assert_eq!(created["roles"], json!(["GROUP_READ_ONLY"]));
    let invitation = created["id"].as_str().unwrap();

    // Listed (also by username), read, and its roles replaced by username or by id.
    let list = expect(&atlas.get(&group_invites(&id)).await, 200);
    assert_eq!(list, json!([created]));
    let by_name = expect(
        &atlas
            .get(&format!("{}?username=ANN@example.com", group_invites(&id)))
            .await,
        200,
    );
    assert_eq!(by_name, json!([created]));
    let one = format!("{}/{invitation}", group_invites(&id));
    assert_eq!(expect(&atlas.get(&one).await, 200), created);
    let both = json!(["GROUP_DATA_ACCESS_READ_ONLY", "GROUP_READ_ONLY"]);
    let r = atlas
        .call(
            Method::PATCH,
            &group_invites(&id),
            Some(json!({"username": "ann@example.com", "roles": both})),
        )
        .await;
    assert_eq!(expect(&r, 200)["roles"], both);
    let r = atlas
        .call(Method::PATCH, &one, Some(json!({"roles": ["GROUP_OWNER"]})))
        .await;
    assert_eq!(expect(&r, 200)["roles"], json!(["GROUP_OWNER"]));

    // Bad roles, names and bodies change nothing.
    let e = atlas
        .call(Method::PATCH, &one, Some(json!({"roles": ["ORG_OWNER"]})))
        .await
        .assert_error(400, "INVALID_ROLE_FOR_GROUP");
    assert_eq!(e["parameters"], json!(["ORG_OWNER", id]));
    atlas
        .call(Method::PATCH, &one, Some(json!({"roles": []})))
        .await
        .assert_error(400, "INVALID_ATTRIBUTE");
    atlas
        .call(
            Method::POST,
            &group_invites(&id),
            Some(json!({"username": "not-an-email", "roles": ["GROUP_OWNER"]})),
        )
        .await
        .assert_error(400, "INVALID_EMAIL_ADDRESS");
    atlas
        .call(
            Method::POST,
            &group_invites(&id),
            Some(json!({"username": "ann@example.com", "roles": ["GROUP_OWNER"]})),
        )
        .await
        .assert_error(409, "USER_ALREADY_EXISTS");
    assert_eq!(
        expect(&atlas.get(&one).await, 200)["roles"],
        json!(["GROUP_OWNER"])
    );

    // The same address may hold an organization invitation too; each is deleted only through
    // its own path.
    let org_invites = format!("/api/atlas/v2/orgs/{}/invites", app.owner.org_id);
    let org_invitation = atlas
        .call(
            Method::POST,
            &org_invites,
            Some(json!({"username": "ann@example.com", "roles": ["ORG_MEMBER"]})),
        )
        .await;
    let org_invitation = expect(&org_invitation, 200)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let org_list = expect(&atlas.get(&org_invites).await, 200);
    assert_eq!(
        org_list.as_array().unwrap().len(),
        1,
        "only the organization's"
    );
    atlas
        .call(Method::DELETE, &format!("{org_invites}/{invitation}"), None)
        .await
        .assert_error(400, "CANNOT_DELETE_GROUP_INVITATION");
    atlas
        .call(
            Method::DELETE,
            &format!("{}/{org_invitation}", group_invites(&id)),
            None,
        )
        .await
        .assert_error(400, "CANNOT_DELETE_ORG_INVITATION");
    atlas
        .get(&format!("{org_invites}/{invitation}"))
        .await
        .assert_error(404, "RESOURCE_NOT_FOUND");

    expect(&atlas.call(Method::DELETE, &one, None).await, 204);
    atlas
        .get(&one)
        .await
        .assert_error(404, "RESOURCE_NOT_FOUND");
    atlas
        .call(Method::DELETE, &one, None)
        .await
        .assert_error(400, "INVALID_INVITATION_ID");
    expect(
        &atlas.get(&format!("{org_invites}/{org_invitation}")).await,
        200,
    );
    assert_eq!(
        expect(&atlas.get(&group_invites(&id)).await, 200),
        json!([])
    );
    atlas
        .get(&group_invites("0123456789abcdef01234567"))
        .await
        .assert_error(404, "GROUP_NOT_FOUND");
}

#[tokio::test]
async fn accepting_a_project_invitation_joins_the_organization_and_the_project() {
    let app = TestApp::spawn().await;
    let id = project(&app, "Payments").await;
    let atlas = Atlas::owner(&app);
    // A newcomer signs up through the link; a member of the organization accepts.
    let (reader_session, reader_id) = app.join("reader@example.com", "DEVELOPER").await;
    for (email, roles) in [
        ("new@example.com", json!(["GROUP_CLUSTER_MANAGER"])),
        ("reader@example.com", json!(["GROUP_READ_ONLY"])),
    ] {
        let r = atlas
            .call(
                Method::POST,
                &group_invites(&id),
                Some(json!({"username": email, "roles": roles})),
            )
            .await;
        expect(&r, 200);
    }
    let token = app
        .token_from_mail("new@example.com", "/invitations/")
        .await;
    app.post(
        &format!("/users/v1/signup/invitations/{token}"),
        &Auth::None,
        new_password(),
    )
    .await
    .assert_ok();
    let tokens = app
        .tokens_from_mail("reader@example.com", "/invitations/", 2)
        .await;
    let token = tokens.last().unwrap();
    app.post(
        &format!("/users/v1/invitations/{token}"),
        &reader_session,
        json!({}),
    )
    .await
    .assert_ok();

    let users = at(Atlas::owner(&app), V2025);
    let list = expect(
        &users.get(&format!("/api/atlas/v2/groups/{id}/users")).await,
        200,
    );
    let roles: Vec<(&str, &Value)> = list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["username"].as_str().unwrap(), &u["roles"]))
        .collect();
    assert!(roles.contains(&("new@example.com", &json!(["GROUP_CLUSTER_MANAGER"]))));
    assert!(roles.contains(&("reader@example.com", &json!(["GROUP_READ_ONLY"]))));
    // The newcomer is a plain member; the member keeps the roles they had.
    let org_users = expect(
        &users
            .get(&format!("/api/atlas/v2/orgs/{}/users", app.owner.org_id))
            .await,
        200,
    );
    let of = |email: &str| {
        org_users["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == email)
            .unwrap()
            .clone()
    };
    assert_eq!(
        of("new@example.com")["roles"]["orgRoles"],
        json!(["ORG_MEMBER"])
    );
    assert_eq!(
        of("new@example.com")["roles"]["groupRoleAssignments"],
        json!([{"groupId": id, "groupRoles": ["GROUP_CLUSTER_MANAGER"]}])
    );
    let member = app
        .get(
            &format!(
                "/users/v1/accounts/{}/members/{reader_id}",
                app.owner.org_id
            ),
            &app.owner_key(),
        )
        .await;
    assert_eq!(member.assert_ok()["role"], "DEVELOPER");
    assert_eq!(
        expect(&atlas.get(&group_invites(&id)).await, 200),
        json!([])
    );
}

fn group_users(id: &str) -> String {
    format!("/api/atlas/v2/groups/{id}/users")
}

#[tokio::test]
async fn project_users_are_members_and_invitees_added_changed_and_removed() {
    let app = TestApp::spawn().await;
    let id = project(&app, "Payments").await;
    let (_, pat) = app.join("pat@example.com", "MEMBER").await;
    let atlas = at(Atlas::owner(&app), V2025);
    let users = group_users(&id);

    // An organization member joins at once; a stranger is invited into the organization.
    let r = atlas
        .call(
            Method::POST,
            &users,
            Some(json!({"username": "pat@example.com", "roles": ["GROUP_READ_ONLY"]})),
        )
        .await;
    let active = expect(&r, 201);
    assert_eq!(active["id"], json!(pat));
    assert_eq!(active["orgMembershipStatus"], "ACTIVE");
    assert_eq!(active["roles"], json!(["GROUP_READ_ONLY"]));
    let r = atlas
        .call(
            Method::POST,
            &users,
            Some(json!({"username": "newbie@example.com", "roles": ["GROUP_OWNER"]})),
        )
        .await;
    let pending = expect(&r, 201);
    assert_eq!(pending["orgMembershipStatus"], "PENDING");
    assert_eq!(
        keys(&pending),
        [
            "id",
            "invitationCreatedAt",
            "invitationExpiresAt",
            "inviterUsername",
            "orgMembershipStatus",
            "roles",
            "username"
        ]
    );
    let invitee = pending["id"].as_str().unwrap().to_owned();
    // The pending user is the organization's pending user, with the project.
    let org_user = expect(
        &atlas
            .get(&format!(
                "/api/atlas/v2/orgs/{}/users/{invitee}",
                app.owner.org_id
            ))
            .await,
        200,
    );
    assert_eq!(
        org_user["roles"]["groupRoleAssignments"],
        json!([{"groupId": id, "groupRoles": ["GROUP_OWNER"]}])
    );
    // Someone already invited into the organization has the project added to that invitation.
    let solapi = app.invite("sam@example.com", "MEMBER").await.0;
    let r = atlas
        .call(
            Method::POST,
            &users,
            Some(json!({"username": "sam@example.com", "roles": ["GROUP_READ_ONLY"]})),
        )
        .await;
    assert_eq!(expect(&r, 201)["id"], json!(solapi));
    for email in ["pat@example.com", "sam@example.com"] {
        atlas
            .call(
                Method::POST,
                &users,
                Some(json!({"username": email, "roles": ["GROUP_READ_ONLY"]})),
            )
            .await
            .assert_error(409, "USER_ALREADY_EXISTS");
    }

    let list = expect(&atlas.get(&users).await, 200);
    assert_eq!(list["totalCount"], 4, "the creator, Pat, and two invitees");
    let pending_only = expect(
        &atlas
            .get(&format!(
                "{users}?orgMembershipStatuses=PENDING&itemsPerPage=1"
            ))
            .await,
        200,
    );
    assert_eq!(pending_only["totalCount"], 2);
    assert_eq!(pending_only["results"].as_array().unwrap().len(), 1);
    let legacy = at(Atlas::owner(&app), V2023);
    let old = expect(&legacy.get(&users).await, 200);
    assert_eq!(old["totalCount"], 2, "2023-01-01 lists active users only");
    let pats = old["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == json!(pat))
        .unwrap();
    assert_eq!(
        pats["roles"],
        json!([{"groupId": id, "roleName": "GROUP_READ_ONLY"}])
    );

    // Roles added, removed (never the last), replaced; unknown roles refused.
    let pat_path = format!("{users}/{pat}");
    let r = atlas
        .call(
            Method::POST,
            &format!("{pat_path}:addRole"),
            Some(json!({"groupRole": "GROUP_DATA_ACCESS_READ_WRITE"})),
        )
        .await;
    assert_eq!(
        expect(&r, 200)["roles"],
        json!(["GROUP_DATA_ACCESS_READ_WRITE", "GROUP_READ_ONLY"])
    );
    let r = atlas
        .call(
            Method::POST,
            &format!("{pat_path}:removeRole"),
            Some(json!({"groupRole": "GROUP_READ_ONLY"})),
        )
        .await;
    assert_eq!(
        expect(&r, 200)["roles"],
        json!(["GROUP_DATA_ACCESS_READ_WRITE"])
    );
    atlas
        .call(
            Method::POST,
            &format!("{pat_path}:removeRole"),
            Some(json!({"groupRole": "GROUP_DATA_ACCESS_READ_WRITE"})),
        )
        .await
        .assert_error(400, "INVALID_ATTRIBUTE");
    atlas
        .call(
            Method::POST,
            &format!("{pat_path}:addRole"),
            Some(json!({"groupRole": "ORG_OWNER"})),
        )
        .await
        .assert_error(400, "INVALID_ROLE_FOR_GROUP");
    let r = legacy
        .call(
            Method::PUT,
            &format!("{pat_path}/roles"),
            Some(json!({"groupRoles": ["GROUP_OWNER"]})),
        )
        .await;
    assert_eq!(expect(&r, 200), json!({"groupRoles": ["GROUP_OWNER"]}));
    let r = atlas
        .call(
            Method::POST,
            &format!("{users}/{invitee}:addRole"),
            Some(json!({"groupRole": "GROUP_READ_ONLY"})),
        )
        .await;
    assert_eq!(
        expect(&r, 200)["roles"],
        json!(["GROUP_OWNER", "GROUP_READ_ONLY"])
    );

    // Removed: Pat leaves the project, not the organization; the invitation loses the project.
    expect(&atlas.call(Method::DELETE, &pat_path, None).await, 204);
    atlas
        .get(&pat_path)
        .await
        .assert_error(404, "USER_NOT_FOUND");
    let still = app
        .get(
            &format!("/users/v1/accounts/{}/members/{pat}", app.owner.org_id),
            &app.owner_key(),
        )
        .await;
    still.assert_ok();
    expect(
        &atlas
            .call(Method::DELETE, &format!("{users}/{solapi}"), None)
            .await,
        204,
    );
    let org_user = expect(
        &atlas
            .get(&format!(
                "/api/atlas/v2/orgs/{}/users/{solapi}",
                app.owner.org_id
            ))
            .await,
        200,
    );
    assert_eq!(org_user["orgMembershipStatus"], "PENDING", "still invited");
    assert_eq!(org_user["roles"]["groupRoleAssignments"], json!([]));
    atlas
        .call(Method::DELETE, &format!("{users}/{solapi}"), None)
        .await
        .assert_error(404, "USER_NOT_FOUND");
    atlas
        .get(&format!("{users}/not-an-id"))
        .await
        .assert_error(404, "USER_NOT_FOUND");

    // Accepting the invitation makes the invitee an active project user with its roles.
    let token = app
        .token_from_mail("newbie@example.com", "/invitations/")
        .await;
    app.post(
        &format!("/users/v1/signup/invitations/{token}"),
        &Auth::None,
        new_password(),
    )
    .await
    .assert_ok();
    let list = expect(
        &atlas
            .get(&format!("{users}?username=newbie@example.com"))
            .await,
        200,
    );
    assert_eq!(list["results"][0]["orgMembershipStatus"], "ACTIVE");
    assert_eq!(
        list["results"][0]["roles"],
        json!(["GROUP_OWNER", "GROUP_READ_ONLY"])
    );
}

fn teams(app: &TestApp) -> String {
    format!("/api/atlas/v2/orgs/{}/teams", app.owner.org_id)
}

#[tokio::test]
async fn teams_hold_members_and_pending_invitees_and_give_roles_in_projects() {
    let app = TestApp::spawn().await;
    let org = app.owner.org_id.clone();
    let (pat_atlas, pat) = member(&app, "pat@example.com", "MEMBER").await;
    let atlas = Atlas::owner(&app);
    let r = atlas
        .call(
            Method::POST,
            &teams(&app),
            Some(json!({"name": "Ops", "usernames": ["pat@example.com"]})),
        )
        .await;
    let created = expect(&r, 201);
    assert_eq!(keys(&created), ["id", "links", "name", "usernames"]);
    assert_eq!(created["usernames"], json!(["pat@example.com"]));
    let team_id = created["id"].as_str().unwrap().to_owned();
    let team = format!("{}/{team_id}", teams(&app));

    // Errors of creation: unknown users, taken names, missing fields.
    atlas
        .call(
            Method::POST,
            &teams(&app),
            Some(json!({"name": "Ghosts", "usernames": ["nobody@example.com"]})),
        )
        .await
        .assert_error(404, "USER_NOT_FOUND");
    atlas
        .call(
            Method::POST,
            &teams(&app),
            Some(json!({"name": "Ops", "usernames": []})),
        )
        .await
        .assert_error(409, "DUPLICATE_TEAM_NAME");
    atlas
        .call(Method::POST, &teams(&app), Some(json!({"name": "NoList"})))
        .await
        .assert_error(400, "MISSING_ATTRIBUTE");

    // Read, listed, found by name, renamed.
    let one = expect(&atlas.get(&team).await, 200);
    assert_eq!(keys(&one), ["id", "links", "name"]);
    let list = expect(&atlas.get(&teams(&app)).await, 200);
    assert_eq!(list["results"], json!([one]));
    expect(
        &atlas.get(&format!("{}/byName/Ops", teams(&app))).await,
        200,
    );
    atlas
        .get(&format!("{}/byName/Nope", teams(&app)))
        .await
        .assert_error(404, "TEAM_NAME_NOT_FOUND");
    let r = atlas
        .call(Method::PATCH, &team, Some(json!({"name": "SRE"})))
        .await;
    assert_eq!(expect(&r, 200)["name"], "SRE");
    atlas
        .get(&format!("{}/0123456789abcdef01234567", teams(&app)))
        .await
        .assert_error(404, "TEAM_NOT_FOUND");

    // Users: a pending invitee can be added too; members read, only owners change.
    let v2025 = at(Atlas::owner(&app), V2025);
    let invitee = expect(
        &v2025
            .call(
                Method::POST,
                &format!("/api/atlas/v2/orgs/{org}/users"),
                Some(json!({"username": "kim@example.com", "roles": {"orgRoles": ["ORG_MEMBER"]}})),
            )
            .await,
        201,
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = v2025
        .call(
            Method::POST,
            &format!("{team}:addUser"),
            Some(json!({"id": invitee})),
        )
        .await;
    let added = expect(&r, 200);
    assert_eq!(added["orgMembershipStatus"], "PENDING");
    assert_eq!(added["teamIds"], json!([team_id]));
    v2025
        .call(
            Method::POST,
            &format!("{team}:addUser"),
            Some(json!({"id": invitee})),
        )
        .await
        .assert_error(409, "USER_ALREADY_IN_TEAM");
    let members = expect(
        &at(pat_atlas, V2025).get(&format!("{team}/users")).await,
        200,
    );
    assert_eq!(members["totalCount"], 2, "Pat and the invitee");
    let old = expect(
        &at(Atlas::owner(&app), V2023)
            .get(&format!("{team}/users"))
            .await,
        200,
    );
    assert_eq!(old["totalCount"], 1, "2023-01-01: active users only");
    assert_eq!(old["results"][0]["teamIds"], json!([team_id]));

    // The deprecated calls: add an array of ids, remove one.
    let (_, lee) = app.join("lee@example.com", "MEMBER").await;
    let legacy = Atlas::owner(&app);
    let r = legacy
        .call(
            Method::POST,
            &format!("{team}/users"),
            Some(json!([{"id": lee}])),
        )
        .await;
    let page = expect(&r, 200);
    assert_eq!(r.header("deprecation"), "Wed, 19 Feb 2025 00:00:00 GMT");
    assert_eq!(page["totalCount"], 2);
    expect(
        &legacy
            .call(Method::DELETE, &format!("{team}/users/{lee}"), None)
            .await,
        204,
    );
    legacy
        .call(Method::DELETE, &format!("{team}/users/{lee}"), None)
        .await
        .assert_error(404, "USER_NOT_FOUND");
    let r = v2025
        .call(
            Method::POST,
            &format!("{team}:removeUser"),
            Some(json!({"id": invitee})),
        )
        .await;
    assert_eq!(expect(&r, 200)["teamIds"], json!([]));

    // A team's project roles are its members': Pat reads the project through the team.
    let id = project(&app, "Payments").await;
    let project_path = format!("/api/atlas/v2/groups/{id}");
    let pat_session = app.login("pat@example.com", crate::helpers::PASSWORD).await;
    let Auth::Bearer(token) = pat_session else {
        unreachable!()
    };
    let pat_atlas = Atlas::with_bearer(&app, &token);
    pat_atlas
        .get(&project_path)
        .await
        .assert_error(401, "USER_UNAUTHORIZED");
    let group_teams = format!("{project_path}/teams");
    let r = atlas
        .call(
            Method::POST,
            &group_teams,
            Some(json!([{"teamId": team_id, "roleNames": ["GROUP_READ_ONLY"]}])),
        )
        .await;
    let assigned = expect(&r, 200);
    assert_eq!(assigned["totalCount"], 1);
    assert_eq!(
        keys(&assigned["results"][0]),
        ["links", "roleNames", "teamId"]
    );
    expect(&pat_atlas.get(&project_path).await, 200);
    pat_atlas
        .get(&group_invites(&id))
        .await
        .assert_error(401, "USER_UNAUTHORIZED");
    let one = expect(&atlas.get(&format!("{group_teams}/{team_id}")).await, 200);
    assert_eq!(one["roleNames"], json!(["GROUP_READ_ONLY"]));
    let r = atlas
        .call(
            Method::PATCH,
            &format!("{group_teams}/{team_id}"),
            Some(json!({"teamId": team_id, "roleNames": ["GROUP_OWNER"]})),
        )
        .await;
    let page = expect(&r, 200);
    assert_eq!(
        page["results"][0]["roleNames"],
        json!(["GROUP_OWNER"]),
        "the whole list"
    );
    expect(&pat_atlas.get(&group_invites(&id)).await, 200);
    atlas
        .call(
            Method::POST,
            &group_teams,
            Some(json!([{"teamId": "0123456789abcdef01234567", "roleNames": ["GROUP_OWNER"]}])),
        )
        .await
        .assert_error(404, "TEAM_NOT_FOUND");
    atlas
        .call(
            Method::POST,
            &group_teams,
            Some(json!([{"teamId": team_id, "roleNames": ["ORG_OWNER"]}])),
        )
        .await
        .assert_error(400, "INVALID_ROLE_FOR_GROUP");
    expect(
        &atlas
            .call(Method::DELETE, &format!("{group_teams}/{team_id}"), None)
            .await,
        204,
    );
    atlas
        .get(&format!("{group_teams}/{team_id}"))
        .await
        .assert_error(404, "TEAM_NOT_FOUND");
    pat_atlas
        .get(&project_path)
        .await
        .assert_error(401, "USER_UNAUTHORIZED");

    // Deleting the team; Pat stays in the organization.
    expect(&atlas.call(Method::DELETE, &team, None).await, 204);
    atlas.get(&team).await.assert_error(404, "TEAM_NOT_FOUND");
    let pat_user = expect(
        &v2025
            .get(&format!("/api/atlas/v2/orgs/{org}/users/{pat}"))
            .await,
        200,
    );
    assert_eq!(pat_user["teamIds"], json!([]));
}

#[tokio::test]
async fn organization_invitations_name_real_teams_and_projects_and_grant_them_on_acceptance() {
    let app = TestApp::spawn().await;
    let org = app.owner.org_id.clone();
    let id = project(&app, "Payments").await;
    let team_id = team(&app, "Ops", &[]).await;
    let atlas = Atlas::owner(&app);
    let invites = format!("/api/atlas/v2/orgs/{org}/invites");
    let unknown = "0123456789abcdef01234567";
    for (body, code) in [
        (json!({"teamIds": [unknown]}), "TEAM_NOT_FOUND"),
        (
            json!({"groupRoleAssignments": [{"groupId": unknown, "roles": ["GROUP_OWNER"]}]}),
            "GROUP_NOT_FOUND",
        ),
    ] {
        let mut request = json!({"username": "ann@example.com", "roles": ["ORG_MEMBER"]});
        request
            .as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let before = app.snapshot().await;
        atlas
            .call(Method::POST, &invites, Some(request))
            .await
            .assert_error(404, code);
        assert_eq!(app.snapshot().await, before, "nothing changed");
    }
    let r = atlas
        .call(
            Method::POST,
            &invites,
            Some(json!({
                "username": "ann@example.com",
                "roles": ["ORG_MEMBER"],
                "teamIds": [team_id],
                "groupRoleAssignments": [{"groupId": id, "roles": ["GROUP_READ_ONLY", "GROUP_OWNER"]}],
            })),
        )
        .await;
    let created = expect(&r, 200);
    assert_eq!(created["teamIds"], json!([team_id]));
    assert_eq!(
        created["groupRoleAssignments"],
        json!([
            {"groupId": id, "groupRole": "GROUP_OWNER"},
            {"groupId": id, "groupRole": "GROUP_READ_ONLY"}
        ]),
        "one entry per role"
    );
    let invitation = created["id"].as_str().unwrap();
    // A PATCH replaces the parts it gives.
    let r = atlas
        .call(
            Method::PATCH,
            &format!("{invites}/{invitation}"),
            Some(json!({"groupRoleAssignments": [{"groupId": id, "roles": ["GROUP_READ_ONLY"]}]})),
        )
        .await;
    let changed = expect(&r, 200);
    assert_eq!(changed["teamIds"], json!([team_id]), "not given: kept");
    assert_eq!(
        changed["groupRoleAssignments"],
        json!([{"groupId": id, "groupRole": "GROUP_READ_ONLY"}])
    );
    let listed = expect(&atlas.get(&invites).await, 200);
    let listed = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == invitation)
        .expect("listed");
    assert_eq!(
        listed["teamIds"], changed["teamIds"],
        "the list shows the grants"
    );
    assert_eq!(
        listed["groupRoleAssignments"],
        changed["groupRoleAssignments"]
    );

    let token = app
        .token_from_mail("ann@example.com", "/invitations/")
        .await;
    app.post(
        &format!("/users/v1/signup/invitations/{token}"),
        &Auth::None,
        new_password(),
    )
    .await
    .assert_ok();
    let v2025 = at(Atlas::owner(&app), V2025);
    let users = expect(
        &v2025
            .get(&format!(
                "/api/atlas/v2/orgs/{org}/users?username=ann@example.com"
            ))
            .await,
        200,
    );
    let ann = &users["results"][0];
    assert_eq!(ann["orgMembershipStatus"], "ACTIVE");
    assert_eq!(ann["teamIds"], json!([team_id]));
    assert_eq!(
        ann["roles"]["groupRoleAssignments"],
        json!([{"groupId": id, "groupRoles": ["GROUP_READ_ONLY"]}])
    );
    // The users API replaces a member's teams and projects where a request gives them.
    let ann_id = ann["id"].as_str().unwrap();
    let r = v2025
        .call(
            Method::PATCH,
            &format!("/api/atlas/v2/orgs/{org}/users/{ann_id}"),
            Some(json!({"teamIds": []})),
        )
        .await;
    let ann = expect(&r, 200);
    assert_eq!(ann["teamIds"], json!([]));
    assert_eq!(
        ann["roles"]["groupRoleAssignments"],
        json!([{"groupId": id, "groupRoles": ["GROUP_READ_ONLY"]}]),
        "not given: kept"
    );
}

#[tokio::test]
async fn an_invitation_naming_one_project_or_team_twice_keeps_the_last_roles_and_one_team() {
    let app = TestApp::spawn().await;
    let org = app.owner.org_id.clone();
    let id = project(&app, "Payments").await;
    let team_id = team(&app, "Ops", &[]).await;
    let r = Atlas::owner(&app)
        .call(
            Method::POST,
            &format!("/api/atlas/v2/orgs/{org}/invites"),
            Some(json!({
                "username": "ann@example.com",
                "roles": ["ORG_MEMBER"],
                "teamIds": [team_id, team_id],
                "groupRoleAssignments": [
                    {"groupId": id, "roles": ["GROUP_OWNER"]},
                    {"groupId": id, "roles": ["GROUP_READ_ONLY"]},
                ],
            })),
        )
        .await;
    let created = expect(&r, 200);
    assert_eq!(created["teamIds"], json!([team_id]), "one grant per team");
    assert_eq!(
        created["groupRoleAssignments"],
        json!([{"groupId": id, "groupRole": "GROUP_READ_ONLY"}]),
        "a later assignment of the same project replaces an earlier one"
    );
    let stored = app
        .core()
        .grants_of(created["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(stored.projects.len(), 1, "one stored grant per project");
    assert_eq!(stored.teams, vec![team_id.to_string()]);
}
