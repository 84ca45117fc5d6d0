//! The role matrix: every operation of the Atlas face, called by ten kinds of caller, each
//! answer checked against who may do what (docs/roles.md). The list of operations is checked
//! against usher's own `/openapi.json`, so an operation added without a row fails here.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::atlas::Atlas;
use crate::atlas_projects::{V2025, member, project, team};
use crate::atlas_service_accounts::access_token;
use crate::helpers::{Auth, TestApp};

/// Who calls, in the order of every row's expected statuses.
const CALLERS: [&str; 10] = [
    "owner key",
    "member",
    "read-only member",
    "group creator",
    "key ORG_OWNER",
    "key ORG_MEMBER",
    "key ORG_READ_ONLY",
    "key ORG_GROUP_CREATOR",
    "service account (ORG_OWNER)",
    "another organization's key",
];

/// Any 2xx.
const OK: u16 = 0;
const U: u16 = 401;
const N: u16 = 404;
/// Every caller, also another organization's (which sees its own).
const EVERYONE: [u16; 10] = [OK; 10];
/// Every member of the organization reads it.
const MEMBERS: [u16; 10] = [OK, OK, OK, OK, OK, OK, OK, OK, OK, N];
/// Owners (people, keys and the service account with `ORG_OWNER`) manage it.
const OWNERS: [u16; 10] = [OK, U, U, U, OK, U, U, U, OK, N];
/// A project is read by its members and by `ORG_READ_ONLY`; nobody here has a project role, so
/// owners and read-only callers.
const PROJECT_READERS: [u16; 10] = [OK, U, OK, U, OK, U, OK, U, OK, N];
/// Owners and group creators create projects.
const CREATORS: [u16; 10] = [OK, U, U, OK, OK, U, U, OK, OK, N];

/// One operation: its OpenAPI path template, the request, and the status each caller gets.
/// In `path` and `body`, `{t}` is the caller's own target (an operation that uses up what it
/// acts on gets one per caller) and `{caller}` the caller's number.
struct Row {
    method: Method,
    template: &'static str,
    path: String,
    body: Option<Value>,
    targets: Vec<String>,
    expected: [u16; 10],
}

fn row(method: Method, template: &'static str, path: String, expected: [u16; 10]) -> Row {
    Row {
        method,
        template,
        path,
        body: None,
        targets: Vec::new(),
        expected,
    }
}

impl Row {
    fn body(mut self, body: Value) -> Row {
        self.body = Some(body);
        self
    }

    fn each(mut self, targets: Vec<String>) -> Row {
        assert_eq!(targets.len(), CALLERS.len());
        self.targets = targets;
        self
    }

    fn fill(&self, text: &str, caller: usize) -> String {
        let text = text.replace("{caller}", &caller.to_string());
        match self.targets.get(caller) {
            Some(t) => text.replace("{t}", t),
            None => text,
        }
    }
}

/// The organization's owner key, through the newest version each operation has.
fn owner(app: &TestApp) -> Atlas<'_> {
    let mut a = Atlas::owner(app);
    a.accept = Some(V2025.into());
    a
}

/// A call by the owner that must succeed; its body.
async fn made(app: &TestApp, method: Method, path: &str, body: Value) -> Value {
    let r = owner(app).call(method, path, Some(body)).await;
    assert!(
        (200..300).contains(&r.status),
        "{path}: {} {}",
        r.status,
        r.text
    );
    r.json()
}

/// Ten of something, one per caller, each made by `make(i)`.
async fn ten<F, Fut>(make: F) -> Vec<String>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let mut out = Vec::new();
    for i in 0..CALLERS.len() {
        out.push(make(i).await);
    }
    out
}

async fn ten_projects(app: &TestApp, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..CALLERS.len() {
        out.push(project(app, &format!("{prefix}-{i}")).await);
    }
    out
}

async fn ten_teams(app: &TestApp, prefix: &str, usernames: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..CALLERS.len() {
        out.push(team(app, &format!("{prefix}-{i}"), usernames).await);
    }
    out
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// An organization API key with `roles`, made through the Atlas face.
async fn org_key<'a>(app: &'a TestApp, roles: &[&str]) -> Atlas<'a> {
    let path = format!("/api/atlas/v2/orgs/{}/apiKeys", app.owner.org_id);
    let k = made(
        app,
        Method::POST,
        &path,
        json!({"desc": "matrix", "roles": roles}),
    )
    .await;
    Atlas::with_key(
        app,
        k["publicKey"].as_str().unwrap(),
        k["privateKey"].as_str().unwrap(),
    )
}

/// A service account as the owner makes it (one secret); its body.
async fn account(app: &TestApp, name: &str, roles: &[&str]) -> Value {
    let path = format!("/api/atlas/v2/orgs/{}/serviceAccounts", app.owner.org_id);
    let body = json!({"name": name, "description": "matrix", "roles": roles, "secretExpiresAfterHours": 24});
    made(app, Method::POST, &path, body).await
}

/// A service account with ORG_OWNER, as a bearer client.
async fn service_account(app: &TestApp) -> Atlas<'_> {
    let account = account(app, "bot", &["ORG_OWNER"]).await;
    let client_id = account["clientId"].as_str().unwrap();
    let secret = account["secrets"][0]["secret"].as_str().unwrap();
    Atlas::with_bearer(app, &access_token(app, client_id, secret).await)
}

/// A member with Atlas organization roles `roles`, as a bearer session; and their user id.
async fn person<'a>(app: &'a TestApp, email: &str, roles: &[&str]) -> (Atlas<'a>, String) {
    let (atlas, id) = member(app, email, "MEMBER").await;
    let path = format!("/api/atlas/v2/orgs/{}/users/{id}/roles", app.owner.org_id);
    made(app, Method::PUT, &path, json!({"orgRoles": roles})).await;
    (atlas, id)
}

/// Every Atlas operation usher describes in its own OpenAPI document, as (METHOD, template).
async fn described_operations(app: &TestApp) -> BTreeSet<(String, String)> {
    let answer = app.get("/openapi.json", &Auth::None).await;
    let doc = answer.assert_ok();
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/atlas/") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn every_atlas_operation_answers_each_kind_of_caller_as_its_role_allows() {
    let spawned = TestApp::spawn().await;
    let app = &spawned;
    let org = app.owner.org_id.clone();
    let stranger = app.other_org("stranger@example.com").await;
    let (member_atlas, m) = person(app, "m@example.com", &["ORG_MEMBER"]).await;
    let (read_only, _) = person(app, "r@example.com", &["ORG_READ_ONLY"]).await;
    let (group_creator, _) = person(app, "g@example.com", &["ORG_GROUP_CREATOR"]).await;
    let callers = vec![
        Atlas::owner(app),
        member_atlas,
        read_only,
        group_creator,
        org_key(app, &["ORG_OWNER"]).await,
        org_key(app, &["ORG_MEMBER"]).await,
        org_key(app, &["ORG_READ_ONLY"]).await,
        org_key(app, &["ORG_GROUP_CREATOR"]).await,
        service_account(app).await,
        Atlas::with_key(app, &stranger.api_key, &stranger.api_secret),
    ];

    // What the operations act on: shared where acting again changes nothing, one per caller
    // where the operation uses its target up. `t` is an active member (`PUT …/roles` changes
    // the roles of members only), in the project too.
    let (_, t) = member(app, "t@example.com", "MEMBER").await;
    let o = |p: &str| format!("/api/atlas/v2/orgs/{org}{p}");
    let gid = project(app, "Payments").await;
    let g = |p: &str| format!("/api/atlas/v2/groups/{gid}{p}");
    let org_name = owner(app).get(&o("")).await.json()["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let ops_team = team(app, "Ops", &[]).await;
    made(
        app,
        Method::POST,
        &g("/teams"),
        json!([{"teamId": ops_team, "roleNames": ["GROUP_READ_ONLY"]}]),
    )
    .await;
    made(
        app,
        Method::POST,
        &g("/users"),
        json!({"username": "t@example.com", "roles": ["GROUP_READ_ONLY"]}),
    )
    .await;
    let doomed_projects = ten_projects(app, "Doomed").await;
    let org_invite = |email: String| {
        let path = o("/invites");
        async move {
            let body = json!({"username": email, "roles": ["ORG_MEMBER"]});
            id(&made(app, Method::POST, &path, body).await)
        }
    };
    let shared_org_invite = org_invite("os@example.com".into()).await;
    let doomed_org_invites = ten(|i| org_invite(format!("od{i}@example.com"))).await;
    let project_invite = |email: String| {
        let path = g("/invites");
        async move {
            let body = json!({"username": email, "roles": ["GROUP_READ_ONLY"]});
            id(&made(app, Method::POST, &path, body).await)
        }
    };
    let shared_project_invite = project_invite("ps@example.com".into()).await;
    let doomed_project_invites = ten(|i| project_invite(format!("pd{i}@example.com"))).await;
    let unassigned_teams = ten_teams(app, "Unassigned", &[]).await;
    let assigned_teams = ten_teams(app, "Assigned", &[]).await;
    let assignments: Vec<Value> = assigned_teams
        .iter()
        .map(|t| json!({"teamId": t, "roleNames": ["GROUP_READ_ONLY"]}))
        .collect();
    made(app, Method::POST, &g("/teams"), json!(assignments)).await;
    let project_user = |prefix: &'static str, roles: Value| {
        let path = g("/users");
        move |i: usize| {
            let (path, roles) = (path.clone(), roles.clone());
            async move {
                let body = json!({"username": format!("{prefix}{i}@example.com"), "roles": roles});
                id(&made(app, Method::POST, &path, body).await)
            }
        }
    };
    let one_role = json!(["GROUP_READ_ONLY"]);
    let two_roles = json!(["GROUP_READ_ONLY", "GROUP_DATA_ACCESS_READ_ONLY"]);
    let project_users = ten(project_user("gd", one_role.clone())).await;
    let project_users_for_add = ten(project_user("ga", one_role)).await;
    let project_users_for_remove = ten(project_user("gr", two_roles)).await;
    let org_user = |prefix: &'static str, roles: Value| {
        let path = o("/users");
        move |i: usize| {
            let (path, roles) = (path.clone(), roles.clone());
            async move {
                let body = json!({"username": format!("{prefix}{i}@example.com"), "roles": {"orgRoles": roles}});
                id(&made(app, Method::POST, &path, body).await)
            }
        }
    };
    let member_role = json!(["ORG_MEMBER"]);
    let org_users_to_update = ten(org_user("ou", member_role.clone())).await;
    let org_users_to_remove = ten(org_user("ox", member_role.clone())).await;
    let org_users_for_add = ten(org_user("oa", member_role)).await;
    let org_users_for_remove =
        ten(org_user("or", json!(["ORG_MEMBER", "ORG_BILLING_ADMIN"]))).await;
    let doomed_teams = ten_teams(app, "Doomed-team", &[]).await;
    let empty_teams = ten_teams(app, "Empty", &[]).await;
    let teams_with_m = ten_teams(app, "With-m", &["m@example.com"]).await;
    let more_empty_teams = ten_teams(app, "Empty-too", &[]).await;
    let more_teams_with_m = ten_teams(app, "With-m-too", &["m@example.com"]).await;
    let keys = o("/apiKeys");
    let key = |desc: String| {
        let keys = keys.clone();
        async move {
            let body = json!({"desc": desc, "roles": ["ORG_READ_ONLY"]});
            id(&made(app, Method::POST, &keys, body).await)
        }
    };
    let target_key = key("target".into()).await;
    let doomed_keys = ten(|i| key(format!("doomed {i}"))).await;
    let doomed_entries: Vec<String> = (0..CALLERS.len()).map(|i| format!("10.2.0.{i}")).collect();
    let mut entries: Vec<Value> = doomed_entries
        .iter()
        .map(|ip| json!({"ipAddress": ip}))
        .collect();
    entries.push(json!({"ipAddress": "10.9.9.9"}));
    let access_list = o(&format!("/apiKeys/{target_key}/accessList"));
    made(app, Method::POST, &access_list, json!(entries)).await;
    let client_id = |v: Value| v["clientId"].as_str().unwrap().to_owned();
    let target_account = client_id(account(app, "target", &["ORG_READ_ONLY"]).await);
    let doomed_accounts = ten(|i| async move {
        client_id(account(app, &format!("doomed-{i}"), &["ORG_READ_ONLY"]).await)
    })
    .await;
    let accounts_for_secrets = ten(|i| async move {
        client_id(account(app, &format!("secrets-{i}"), &["ORG_READ_ONLY"]).await)
    })
    .await;
    let doomed_secrets = ten(|i| {
        let o = &o;
        async move {
            let c = client_id(account(app, &format!("second-{i}"), &["ORG_READ_ONLY"]).await);
            let path = o(&format!("/serviceAccounts/{c}/secrets"));
            let second = made(
                app,
                Method::POST,
                &path,
                json!({"secretExpiresAfterHours": 8}),
            )
            .await;
            format!("{c}/secrets/{}", id(&second))
        }
    })
    .await;

    use Method as M;
    let rows = vec![
        row(M::GET, "/api/atlas/v2/orgs", "/api/atlas/v2/orgs".into(), EVERYONE),
        row(M::GET, "/api/atlas/v2/orgs/{orgId}", o(""), MEMBERS),
        row(M::PATCH, "/api/atlas/v2/orgs/{orgId}", o(""), OWNERS).body(json!({"name": org_name})),
        row(M::GET, "/api/atlas/v2/orgs/{orgId}/groups", o("/groups"), MEMBERS),
        // Projects.
        row(M::GET, "/api/atlas/v2/groups", "/api/atlas/v2/groups".into(), EVERYONE),
        row(M::POST, "/api/atlas/v2/groups", "/api/atlas/v2/groups".into(), CREATORS)
            .body(json!({"name": "New-{caller}", "orgId": org})),
        row(M::GET, "/api/atlas/v2/groups/byName/{groupName}", "/api/atlas/v2/groups/byName/Payments".into(), PROJECT_READERS),
        row(M::GET, "/api/atlas/v2/groups/{groupId}", g(""), PROJECT_READERS),
        row(M::PATCH, "/api/atlas/v2/groups/{groupId}", g(""), OWNERS).body(json!({"name": "Payments"})),
        row(M::DELETE, "/api/atlas/v2/groups/{groupId}", "/api/atlas/v2/groups/{t}".into(), OWNERS)
            .each(doomed_projects),
        // Organization invitations.
        row(M::GET, "/api/atlas/v2/orgs/{orgId}/invites", o("/invites"), OWNERS),
        row(M::POST, "/api/atlas/v2/orgs/{orgId}/invites", o("/invites"), OWNERS)
            .body(json!({"username": "new{caller}@example.com", "roles": ["ORG_MEMBER"]})),
        row(M::PATCH, "/api/atlas/v2/orgs/{orgId}/invites", o("/invites"), OWNERS)
            .body(json!({"username": "os@example.com", "roles": ["ORG_MEMBER"]})),
        row(M::GET, "/api/atlas/v2/orgs/{orgId}/invites/{invitationId}", o(&format!("/invites/{shared_org_invite}")), OWNERS),
        row(M::PATCH, "/api/atlas/v2/orgs/{orgId}/invites/{invitationId}", o(&format!("/invites/{shared_org_invite}")), OWNERS)
            .body(json!({"roles": ["ORG_MEMBER"]})),
        row(M::DELETE, "/api/atlas/v2/orgs/{orgId}/invites/{invitationId}", o("/invites/{t}"), OWNERS)
            .each(doomed_org_invites),
        // Project invitations.
        row(M::GET, "/api/atlas/v2/groups/{groupId}/invites", g("/invites"), OWNERS),
        row(M::POST, "/api/atlas/v2/groups/{groupId}/invites", g("/invites"), OWNERS)
            .body(json!({"username": "newp{caller}@example.com", "roles": ["GROUP_READ_ONLY"]})),
        row(M::PATCH, "/api/atlas/v2/groups/{groupId}/invites", g("/invites"), OWNERS)
            .body(json!({"username": "ps@example.com", "roles": ["GROUP_READ_ONLY"]})),
        row(M::GET, "/api/atlas/v2/groups/{groupId}/invites/{invitationId}", g(&format!("/invites/{shared_project_invite}")), OWNERS),
        row(M::PATCH, "/api/atlas/v2/groups/{groupId}/invites/{invitationId}", g(&format!("/invites/{shared_project_invite}")), OWNERS)
            .body(json!({"roles": ["GROUP_READ_ONLY"]})),
        row(M::DELETE, "/api/atlas/v2/groups/{groupId}/invites/{invitationId}", g("/invites/{t}"), OWNERS)
            .each(doomed_project_invites),
        // Project teams.
        row(M::GET, "/api/atlas/v2/groups/{groupId}/teams", g("/teams"), PROJECT_READERS),
        row(M::POST, "/api/atlas/v2/groups/{groupId}/teams", g("/teams"), OWNERS)
            .body(json!([{"teamId": "{t}", "roleNames": ["GROUP_READ_ONLY"]}]))
            .each(unassigned_teams),
        row(M::GET, "/api/atlas/v2/groups/{groupId}/teams/{teamId}", g(&format!("/teams/{ops_team}")), PROJECT_READERS),
        row(M::PATCH, "/api/atlas/v2/groups/{groupId}/teams/{teamId}", g(&format!("/teams/{ops_team}")), OWNERS)
            .body(json!({"roleNames": ["GROUP_READ_ONLY"]})),
        row(M::DELETE, "/api/atlas/v2/groups/{groupId}/teams/{teamId}", g("/teams/{t}"), OWNERS)
            .each(assigned_teams),
        // Project users.
        row(M::GET, "/api/atlas/v2/groups/{groupId}/users", g("/users"), PROJECT_READERS),
        row(M::POST, "/api/atlas/v2/groups/{groupId}/users", g("/users"), OWNERS)
            .body(json!({"username": "newg{caller}@example.com", "roles": ["GROUP_READ_ONLY"]})),
        row(M::GET, "/api/atlas/v2/groups/{groupId}/users/{userId}", g("/users/{t}"), PROJECT_READERS)
            .each(project_users.clone()),
        row(M::DELETE, "/api/atlas/v2/groups/{groupId}/users/{userId}", g("/users/{t}"), OWNERS)
            .each(project_users),
        row(M::PUT, "/api/atlas/v2/groups/{groupId}/users/{userId}/roles", g(&format!("/users/{t}/roles")), OWNERS)
            .body(json!({"groupRoles": ["GROUP_DATA_ACCESS_READ_ONLY"]})),
        row(M::POST, "/api/atlas/v2/groups/{groupId}/users/{userId}:addRole", g("/users/{t}:addRole"), OWNERS)
            .body(json!({"groupRole": "GROUP_DATA_ACCESS_READ_ONLY"}))
            .each(project_users_for_add),
        row(M::POST, "/api/atlas/v2/groups/{groupId}/users/{userId}:removeRole", g("/users/{t}:removeRole"), OWNERS)
            .body(json!({"groupRole": "GROUP_DATA_ACCESS_READ_ONLY"}))
            .each(project_users_for_remove),
        // Organization users.
        row(M::GET, "/api/atlas/v2/orgs/{orgId}/users", o("/users"), MEMBERS),
        row(M::POST, "/api/atlas/v2/orgs/{orgId}/users", o("/users"), OWNERS)
            .body(json!({"username": "newo{caller}@example.com", "roles": {"orgRoles": ["ORG_MEMBER"]}})),
        row(M::GET, "/api/atlas/v2/orgs/{orgId}/users/{userId}", o(&format!("/users/{m}")), MEMBERS),
        row(M::PATCH, "/api/atlas/v2/orgs/{orgId}/users/{userId}", o("/users/{t}"), OWNERS)
            .body(json!({"roles": {"orgRoles": ["ORG_READ_ONLY"]}}))
            .each(org_users_to_update),
        row(M::DELETE, "/api/atlas/v2/orgs/{orgId}/users/{userId}", o("/users/{t}"), OWNERS)
            .each(org_users_to_remove),
        row(M::PUT, "/api/atlas/v2/orgs/{orgId}/users/{userId}/roles", o(&format!("/users/{t}/roles")), OWNERS)
            .body(json!({"orgRoles": ["ORG_READ_ONLY"]})),
        row(M::POST, "/api/atlas/v2/orgs/{orgId}/users/{userId}:addRole", o("/users/{t}:addRole"), OWNERS)
            .body(json!({"orgRole": "ORG_BILLING_ADMIN"}))
            .each(org_users_for_add),
        row(M::POST, "/api/atlas/v2/orgs/{orgId}/users/{userId}:removeRole", o("/users/{t}:removeRole"), OWNERS)
            .body(json!({"orgRole": "ORG_BILLING_ADMIN"}))
            .each(org_users_for_remove),
        // Teams.
        row(M::GET, "/api/atlas/v2/orgs/{orgId}/teams", o("/teams"), MEMBERS),
        row(M::POST, "/api/atlas/v2/orgs/{orgId}/teams", o("/teams"), OWNERS)
            .body(json!({"name": "New-team-{caller}", "usernames": []})),
        row(M::GET, "/api/atlas/v2/orgs/{orgId}/teams/byName/{teamName}", o("/teams/byName/Ops"), MEMBERS),
        row(M::GET, "/api/atlas/v2/orgs/{orgId}/teams/{teamId}", o(&format!("/teams/{ops_team}")), MEMBERS),
        row(M::PATCH, "/api/atlas/v2/orgs/{orgId}/teams/{teamId}", o(&format!("/teams/{ops_team}")), OWNERS)
            .body(json!({"name": "Ops"})),
        row(M::DELETE, "/api/atlas/v2/orgs/{orgId}/teams/{teamId}", o("/teams/{t}"), OWNERS)
            .each(doomed_teams),
        row(M::GET, "/api/atlas/v2/orgs/{orgId}/teams/{teamId}/users", o(&format!("/teams/{ops_team}/users")), MEMBERS),
        row(M::POST, "/api/atlas/v2/orgs/{orgId}/teams/{teamId}/users", o("/teams/{t}/users"), OWNERS)
            .body(json!([{"id": m}]))
            .each(empty_teams),
        row(M::DELETE, "/api/atlas/v2/orgs/{orgId}/teams/{teamId}/users/{userId}", o(&format!("/teams/{{t}}/users/{m}")), OWNERS)
            .each(teams_with_m),
        row(M::POST, "/api/atlas/v2/orgs/{orgId}/teams/{teamId}:addUser", o("/teams/{t}:addUser"), OWNERS)
            .body(json!({"id": m}))
            .each(more_empty_teams),
        row(M::POST, "/api/atlas/v2/orgs/{orgId}/teams/{teamId}:removeUser", o("/teams/{t}:removeUser"), OWNERS)
            .body(json!({"id": m}))
            .each(more_teams_with_m),
        // API keys and their access lists.
        row(M::GET, "/api/atlas/v2/orgs/{orgId}/apiKeys", o("/apiKeys"), MEMBERS),
        row(M::POST, "/api/atlas/v2/orgs/{orgId}/apiKeys", o("/apiKeys"), OWNERS)
            .body(json!({"desc": "new {caller}", "roles": ["ORG_READ_ONLY"]})),
        row(M::GET, "/api/atlas/v2/orgs/{orgId}/apiKeys/{apiUserId}", o(&format!("/apiKeys/{target_key}")), MEMBERS),
        row(M::PATCH, "/api/atlas/v2/orgs/{orgId}/apiKeys/{apiUserId}", o(&format!("/apiKeys/{target_key}")), OWNERS)
            .body(json!({"desc": "target"})),
        row(M::DELETE, "/api/atlas/v2/orgs/{orgId}/apiKeys/{apiUserId}", o("/apiKeys/{t}"), OWNERS)
            .each(doomed_keys),
        row(M::GET, "/api/atlas/v2/orgs/{orgId}/apiKeys/{apiUserId}/accessList", access_list.clone(), MEMBERS),
        row(M::POST, "/api/atlas/v2/orgs/{orgId}/apiKeys/{apiUserId}/accessList", access_list.clone(), OWNERS)
            .body(json!([{"ipAddress": "10.1.0.{caller}"}])),
        row(M::GET, "/api/atlas/v2/orgs/{orgId}/apiKeys/{apiUserId}/accessList/{ipAddress}", format!("{access_list}/10.9.9.9"), MEMBERS),
        row(M::DELETE, "/api/atlas/v2/orgs/{orgId}/apiKeys/{apiUserId}/accessList/{ipAddress}", format!("{access_list}/{{t}}"), OWNERS)
            .each(doomed_entries),
        // Service accounts.
        row(M::GET, "/api/atlas/v2/orgs/{orgId}/serviceAccounts", o("/serviceAccounts"), MEMBERS),
        row(M::POST, "/api/atlas/v2/orgs/{orgId}/serviceAccounts", o("/serviceAccounts"), OWNERS)
            .body(json!({"name": "new-{caller}", "description": "matrix", "roles": ["ORG_READ_ONLY"], "secretExpiresAfterHours": 8})),
        row(M::GET, "/api/atlas/v2/orgs/{orgId}/serviceAccounts/{clientId}", o(&format!("/serviceAccounts/{target_account}")), MEMBERS),
        row(M::PATCH, "/api/atlas/v2/orgs/{orgId}/serviceAccounts/{clientId}", o(&format!("/serviceAccounts/{target_account}")), OWNERS)
            .body(json!({"description": "target"})),
        row(M::DELETE, "/api/atlas/v2/orgs/{orgId}/serviceAccounts/{clientId}", o("/serviceAccounts/{t}"), OWNERS)
            .each(doomed_accounts),
        row(M::POST, "/api/atlas/v2/orgs/{orgId}/serviceAccounts/{clientId}/secrets", o("/serviceAccounts/{t}/secrets"), OWNERS)
            .body(json!({"secretExpiresAfterHours": 8}))
            .each(accounts_for_secrets),
        row(M::DELETE, "/api/atlas/v2/orgs/{orgId}/serviceAccounts/{clientId}/secrets/{secretId}", o("/serviceAccounts/{t}"), OWNERS)
            .each(doomed_secrets),
    ];

    // Every operation has its row, and only once.
    let covered: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.method.to_string(), r.template.to_owned()))
        .collect();
    let unique: BTreeSet<_> = covered.iter().cloned().collect();
    assert_eq!(unique.len(), covered.len(), "an operation has two rows");
    let described = described_operations(app).await;
    assert_eq!(unique, described);

    let mut wrong = Vec::new();
    for r in &rows {
        for (i, caller) in callers.iter().enumerate() {
            let mut atlas = caller.clone();
            atlas.accept = Some(V2025.into());
            let path = r.fill(&r.path, i);
            let body = r
                .body
                .as_ref()
                .map(|b| serde_json::from_str(&r.fill(&b.to_string(), i)).unwrap());
            let answer = atlas.call(r.method.clone(), &path, body).await;
            let want = r.expected[i];
            let right = if want == OK {
                (200..300).contains(&answer.status)
            } else {
                answer.status == want
            };
            if !right {
                let text: String = answer.text.chars().take(200).collect();
                wrong.push(format!(
                    "{} {} as {}: {} (expected {}) {text}",
                    r.method, r.template, CALLERS[i], answer.status, want
                ));
            }
        }
    }
    // What the answers say is what happened: a delete that answered 2xx removed its target,
    // and a refused one left it in place (seen by the owner, where the path can be read).
    for r in rows.iter().filter(|r| r.method == Method::DELETE) {
        if !described.contains(&("GET".to_owned(), r.template.to_owned())) {
            continue;
        }
        for (i, caller) in CALLERS.iter().enumerate() {
            let path = r.fill(&r.path, i);
            let status = owner(app).get(&path).await.status;
            let want = if r.expected[i] == OK { 404 } else { 200 };
            if status != want {
                wrong.push(format!(
                    "after DELETE {} as {caller}: GET answers {status} (expected {want})",
                    r.template
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong answers:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
