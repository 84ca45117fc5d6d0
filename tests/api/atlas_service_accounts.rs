//! Service accounts through the Atlas face, and the OAuth2 client-credentials flow the Go SDK
//! uses with them: a secret shown once, a one-hour bearer token, revocation.

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use crate::atlas::{Answer, Atlas};
use crate::helpers::{TestApp, keys};

const V2024: &str = "application/vnd.atlas.2024-08-05+json";

fn owner(app: &TestApp) -> Atlas<'_> {
    let mut a = Atlas::owner(app);
    a.accept = Some(V2024.into());
    a
}

fn accounts(app: &TestApp) -> String {
    format!("/api/atlas/v2/orgs/{}/serviceAccounts", app.owner.org_id)
}

async fn create(app: &TestApp, roles: &[&str]) -> Value {
    let body = json!({"name": "ci-bot", "description": "deploys", "roles": roles, "secretExpiresAfterHours": 24});
    let r = owner(app)
        .call(Method::POST, &accounts(app), Some(body))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

/// `POST /api/oauth/token` as the Go SDK sends it.
async fn token(app: &TestApp, client_id: &str, secret: &str) -> reqwest::Response {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
    app.client
        .post(format!("{}/api/oauth/token", app.base))
        .header("authorization", format!("Basic {basic}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap()
}

pub async fn access_token(app: &TestApp, client_id: &str, secret: &str) -> String {
    let r = token(app, client_id, secret).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn bearer(
    app: &TestApp,
    method: Method,
    uri: &str,
    token: &str,
    accept: &str,
    body: Option<Value>,
) -> Answer {
    let mut req = app
        .client
        .request(method.clone(), format!("{}{uri}", app.base))
        .header("authorization", format!("Bearer {token}"))
        .header("accept", accept);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let r = req.send().await.unwrap();
    let answer = Answer {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap(),
    };
    if answer.status != 401 || !answer.text.starts_with("{\n") {
        crate::atlas_schema::check(method.as_str(), uri.split('?').next().unwrap(), &answer);
    }
    answer
}

#[tokio::test]
async fn a_new_service_account_shows_its_secret_once() {
    let app = TestApp::spawn().await;
    let created = create(&app, &["ORG_MEMBER"]).await;
    assert_eq!(
        keys(&created),
        [
            "clientId",
            "createdAt",
            "description",
            "name",
            "roles",
            "secrets"
        ]
    );
    let client_id = created["clientId"].as_str().unwrap();
    assert!(
        client_id.starts_with("mdb_sa_id_") && client_id.len() == 34,
        "{client_id}"
    );
    let secret = &created["secrets"][0];
    assert!(secret["secret"].as_str().unwrap().starts_with("mdb_sa_sk_"));
    assert_eq!(secret["lastUsedAt"], Value::Null);
    let masked = secret["maskedSecretValue"].as_str().unwrap();
    assert!(masked.ends_with(&secret["secret"].as_str().unwrap()[49..]) && masked.contains("****"));

    let listed = owner(&app).get(&accounts(&app)).await.json();
    assert_eq!(listed["totalCount"], 1);
    let again = &listed["results"][0]["secrets"][0];
    assert!(again.get("secret").is_none(), "never shown again: {again}");
    let one = owner(&app)
        .get(&format!("{}/{client_id}", accounts(&app)))
        .await
        .json();
    assert_eq!(one["roles"], json!(["ORG_MEMBER"]));
}

#[tokio::test]
async fn the_client_credentials_grant_gives_a_bearer_token_for_an_hour() {
    let app = TestApp::spawn().await;
    let created = create(&app, &["ORG_OWNER"]).await;
    let (client_id, secret) = (
        created["clientId"].as_str().unwrap(),
        created["secrets"][0]["secret"].as_str().unwrap(),
    );
    let r = token(&app, client_id, secret).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.unwrap();
    assert_eq!(keys(&body), ["access_token", "token_type", "expires_in"]);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let t = body["access_token"].as_str().unwrap();

    let invites = format!("/api/atlas/v2/orgs/{}/invites", app.owner.org_id);
    let v1 = "application/vnd.atlas.2023-01-01+json";
    let created = bearer(
        &app,
        Method::POST,
        &invites,
        t,
        v1,
        Some(json!({"username": "bot-made@example.com", "roles": ["ORG_MEMBER"]})),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let inviter = created.json()["inviterUsername"].clone();
    assert!(
        inviter.as_str().unwrap().starts_with("mdb_sa_id_"),
        "no person invited: the account is named, as Atlas names an API key ({inviter})"
    );
    let audit = app
        .audit_actions(created.json()["id"].as_str().unwrap())
        .await;
    assert_eq!(audit, ["invitation.created"]);

    let used = owner(&app)
        .get(&format!("{}/{client_id}", accounts(&app)))
        .await
        .json();
    assert!(
        used["secrets"][0]["lastUsedAt"].is_string(),
        "the secret's last use is recorded"
    );

    app.advance_clock(time::Duration::minutes(61));
    assert_eq!(
        bearer(&app, Method::GET, &invites, t, v1, None)
            .await
            .status,
        401,
        "an hour later"
    );
}

#[tokio::test]
async fn bad_clients_grants_and_revoked_or_deleted_credentials_are_refused() {
    let app = TestApp::spawn().await;
    let created = create(&app, &["ORG_READ_ONLY"]).await;
    let (client_id, secret) = (
        created["clientId"].as_str().unwrap(),
        created["secrets"][0]["secret"].as_str().unwrap(),
    );
    let wrong = token(&app, client_id, "mdb_sa_sk_wrong").await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(wrong.headers()["www-authenticate"], "Basic realm=\"usher\"");
    assert_eq!(
        wrong.json::<Value>().await.unwrap(),
        json!({"error": "invalid_client"})
    );
    let grant = app
        .client
        .post(format!("{}/api/oauth/token", app.base))
        .basic_auth(client_id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=password")
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status(), 400);
    assert_eq!(
        grant.json::<Value>().await.unwrap(),
        json!({"error": "unsupported_grant_type"})
    );

    // A read-only account reads but does not invite.
    let t = access_token(&app, client_id, secret).await;
    let users = format!("/api/atlas/v2/orgs/{}/users", app.owner.org_id);
    let v2025 = "application/vnd.atlas.2025-02-19+json";
    assert_eq!(
        bearer(&app, Method::GET, &users, &t, v2025, None)
            .await
            .status,
        200
    );
    bearer(
        &app,
        Method::POST,
        &users,
        &t,
        v2025,
        Some(json!({"username": "x@example.com", "roles": {"orgRoles": ["ORG_MEMBER"]}})),
    )
    .await
    .assert_error(401, "USER_UNAUTHORIZED");
    let other = app.other_org("boss@other.example").await;
    let elsewhere = format!("/api/atlas/v2/orgs/{}/users", other.org_id);
    bearer(&app, Method::GET, &elsewhere, &t, v2025, None)
        .await
        .assert_error(404, "ORG_NOT_FOUND");

    let revoke = app
        .client
        .post(format!("{}/api/oauth/revoke", app.base))
        .basic_auth(client_id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={t}&token_type_hint=access_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    assert_eq!(
        bearer(&app, Method::GET, &users, &t, v2025, None)
            .await
            .status,
        401,
        "revoked"
    );

    let t = access_token(&app, client_id, secret).await;
    let secret_id = created["secrets"][0]["id"].as_str().unwrap();
    let one = format!("{}/{client_id}", accounts(&app));
    assert_eq!(
        owner(&app)
            .call(Method::DELETE, &format!("{one}/secrets/{secret_id}"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        token(&app, client_id, secret).await.status(),
        401,
        "a deleted secret buys nothing"
    );
    assert_eq!(
        owner(&app).call(Method::DELETE, &one, None).await.status,
        204
    );
    assert_eq!(
        bearer(&app, Method::GET, &users, &t, v2025, None)
            .await
            .status,
        401,
        "gone with its account"
    );
    owner(&app)
        .get(&one)
        .await
        .assert_error(404, "RESOURCE_NOT_FOUND");
}

#[tokio::test]
async fn accounts_are_updated_given_new_secrets_and_managed_by_owners_only() {
    let app = TestApp::spawn().await;
    let created = create(&app, &["ORG_MEMBER"]).await;
    let one = format!(
        "{}/{}",
        accounts(&app),
        created["clientId"].as_str().unwrap()
    );
    let updated = owner(&app)
        .call(
            Method::PATCH,
            &one,
            Some(json!({"name": "renamed", "roles": ["ORG_READ_ONLY", "ORG_GROUP_CREATOR"]})),
        )
        .await
        .json();
    assert_eq!(updated["name"], "renamed");
    assert_eq!(updated["description"], "deploys", "left as it was");
    assert_eq!(
        updated["roles"],
        json!(["ORG_GROUP_CREATOR", "ORG_READ_ONLY"])
    );
    let fresh = owner(&app)
        .call(
            Method::POST,
            &format!("{one}/secrets"),
            Some(json!({"secretExpiresAfterHours": 8})),
        )
        .await;
    assert_eq!(fresh.status, 201);
    assert!(
        fresh.json()["secret"]
            .as_str()
            .unwrap()
            .starts_with("mdb_sa_sk_")
    );
    owner(&app)
        .call(
            Method::POST,
            &format!("{one}/secrets"),
            Some(json!({"secretExpiresAfterHours": 2})),
        )
        .await
        .assert_error(400, "INVALID_ATTRIBUTE");
    owner(&app)
        .call(
            Method::POST,
            &accounts(&app),
            Some(json!({"name": "x", "description": "y", "roles": ["ORG_MEMBER"]})),
        )
        .await
        .assert_error(400, "MISSING_ATTRIBUTE");
    let mut dev = Atlas::developer(&app).await;
    dev.accept = Some(V2024.into());
    assert_eq!(dev.get(&accounts(&app)).await.status, 200, "members read");
    dev.call(Method::DELETE, &one, None)
        .await
        .assert_error(401, "USER_UNAUTHORIZED");
}
