//! The Atlas face's legacy organization invitations over HTTP: Digest authentication (a client
//! here, plus curl and Python's requests and httpx), versioned media types, envelope and pretty,
//! `ApiError`s, and the same invitations seen through the SOLAPI face.

use std::process::Command;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp, python_venv};
use usher::auth::digest::{self, Algorithm};

const V1: &str = "application/vnd.atlas.2023-01-01+json";

pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }

    /// An `ApiError` with this status and code, in the dialect's form.
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.header("content-type"), "application/json");
        assert_eq!(self.header("x-error-code"), code);
        let body = self.json();
        assert_eq!(body["errorCode"], code, "{body}");
        assert_eq!(body["error"], status);
        body
    }
}

/// A Digest client: asks, reads the challenge, answers it (as the Go SDK does on every request).
#[derive(Clone)]
pub struct Atlas<'a> {
    app: &'a TestApp,
    key: String,
    secret: String,
    pub accept: Option<String>,
    /// Set: sends this bearer token (a session or a service account's) instead of Digest.
    pub bearer: Option<String>,
}

fn challenge_param<'h>(challenge: &'h str, name: &str) -> &'h str {
    challenge
        .split(", ")
        .find_map(|p| {
            p.trim_start_matches("Digest ")
                .strip_prefix(&format!("{name}="))
        })
        .map(|v| v.trim_matches('"'))
        .unwrap_or_else(|| panic!("no {name} in {challenge}"))
}

impl<'a> Atlas<'a> {
    pub fn owner(app: &'a TestApp) -> Atlas<'a> {
        Atlas::with_key(app, &app.owner.api_key, &app.owner.api_secret)
    }

    /// A DEVELOPER member's own API key (it acts as them).
    pub async fn developer(app: &'a TestApp) -> Atlas<'a> {
        let (member, _) = app.join("dev@example.com", "DEVELOPER").await;
        let path = format!("/usher/v1/accounts/{}/api-keys", app.owner.org_id);
        let key = app
            .post(&path, &member, json!({"description": "dev"}))
            .await;
        let key = key.assert_ok();
        Atlas::with_key(
            app,
            key["apiKey"].as_str().unwrap(),
            key["apiSecret"].as_str().unwrap(),
        )
    }

    pub fn with_key(app: &'a TestApp, key: &str, secret: &str) -> Atlas<'a> {
        Atlas {
            app,
            key: key.into(),
            secret: secret.into(),
            accept: Some(V1.into()),
            bearer: None,
        }
    }

    /// A client sending `Authorization: Bearer <token>` (a session, or a service account's
    /// access token).
    pub fn with_bearer(app: &'a TestApp, token: &str) -> Atlas<'a> {
        Atlas {
            bearer: Some(token.into()),
            ..Atlas::with_key(app, "", "")
        }
    }

    async fn send(
        &self,
        method: &Method,
        uri: &str,
        body: Option<&str>,
        auth: Option<String>,
    ) -> Answer {
        let mut req = self
            .app
            .client
            .request(method.clone(), format!("{}{uri}", self.app.base));
        if let Some(a) = &self.accept {
            req = req.header("accept", a);
        }
        if let Some(b) = body {
            req = req.header("content-type", V1).body(b.to_owned());
        }
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        Answer {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            text: r.text().await.unwrap(),
        }
    }

    /// The `Authorization` answering `challenge` for one request.
    pub fn answer(&self, challenge: &str, method: &Method, uri: &str) -> String {
        let nonce = challenge_param(challenge, "nonce");
        let alg = Algorithm::parse(challenge_param(challenge, "algorithm")).unwrap();
        let cnonce = format!("{:016x}", rand::random::<u64>());
        let r = digest::response(
            alg,
            &self.key,
            &self.secret,
            method.as_str(),
            uri,
            nonce,
            "00000001",
            &cnonce,
        );
        format!(
            r#"Digest username="{}", realm="MMS Public API", nonce="{nonce}", uri="{uri}", response="{r}", algorithm="{}", qop=auth, nc=00000001, cnonce="{cnonce}""#,
            self.key,
            alg.name()
        )
    }

    pub async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> Answer {
        let text = body.map(|b| b.to_string());
        self.call_raw(method, uri, text.as_deref()).await
    }

    /// Sends as the Go SDK does (a bare request, then the answer to its challenge), checking
    /// both answers against the Atlas OpenAPI documents (`atlas_schema`).
    pub async fn call_raw(&self, method: Method, uri: &str, body: Option<&str>) -> Answer {
        let path = uri.split('?').next().unwrap();
        if let Some(token) = &self.bearer {
            let answer = self
                .send(&method, uri, body, Some(format!("Bearer {token}")))
                .await;
            crate::atlas_schema::check(method.as_str(), path, &answer);
            return answer;
        }
        let first = self.send(&method, uri, body, None).await;
        assert_eq!(first.status, 401, "unauthenticated first: {}", first.text);
        crate::atlas_schema::check(method.as_str(), path, &first);
        let auth = self.answer(first.header("www-authenticate"), &method, uri);
        let answer = self.send(&method, uri, body, Some(auth)).await;
        // An enveloped body is the documented one wrapped; the documents describe it bare.
        if !uri.contains("envelope=true") {
            crate::atlas_schema::check(method.as_str(), path, &answer);
        }
        answer
    }

    pub async fn get(&self, uri: &str) -> Answer {
        self.call(Method::GET, uri, None).await
    }
}

fn invites(app: &TestApp) -> String {
    format!("/api/atlas/v2/orgs/{}/invites", app.owner.org_id)
}

async fn create(app: &TestApp, email: &str, roles: &[&str]) -> Value {
    let r = Atlas::owner(app)
        .call(
            Method::POST,
            &invites(app),
            Some(json!({"username": email, "roles": roles})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

#[tokio::test]
async fn every_unauthenticated_request_gets_a_fresh_digest_challenge_as_atlas_sends_it() {
    let app = TestApp::spawn().await;
    let atlas = Atlas::owner(&app);
    let a = atlas.send(&Method::GET, &invites(&app), None, None).await;
    let b = atlas.send(&Method::GET, &invites(&app), None, None).await;
    assert_eq!(a.status, 401);
    let challenge = a.header("www-authenticate");
    let nonce = challenge_param(challenge, "nonce");
    assert_eq!(
        challenge,
        format!(
            r#"Digest realm="MMS Public API", domain="", nonce="{nonce}", algorithm=MD5, qop="auth", stale=false"#
        )
    );
    assert_eq!(nonce.len(), 32);
    assert_ne!(
        nonce,
        challenge_param(b.header("www-authenticate"), "nonce"),
        "fresh every time"
    );
    assert_eq!(a.header("content-type"), "application/json");
    assert_eq!(
        a.text,
        "{\n  \"error\" : 401,\n  \"reason\" : \"Unauthorized\",\n  \"detail\" : \"You are not authorized for this resource.\",\n  \"errorCode\" : \"UNEXPECTED_ERROR\"\n}"
    );
    assert_eq!(a.text.len(), 142, "the recorded Content-Length");
}

#[tokio::test]
async fn wrong_secrets_replays_and_old_nonces_are_refused() {
    let app = TestApp::spawn().await;
    let uri = invites(&app);
    let wrong = Atlas::with_key(&app, &app.owner.api_key, "not the secret");
    assert_eq!(wrong.get(&uri).await.status, 401);
    let unknown = Atlas::with_key(&app, "NCSUNKNOWNKEY000", "x");
    assert_eq!(unknown.get(&uri).await.status, 401);

    let atlas = Atlas::owner(&app);
    let first = atlas.send(&Method::GET, &uri, None, None).await;
    let auth = atlas.answer(first.header("www-authenticate"), &Method::GET, &uri);
    assert_eq!(
        atlas
            .send(&Method::GET, &uri, None, Some(auth.clone()))
            .await
            .status,
        200
    );
    assert_eq!(
        atlas
            .send(&Method::GET, &uri, None, Some(auth))
            .await
            .status,
        401,
        "a replay"
    );
    // An answer for another address does not open this one.
    let elsewhere = atlas.answer(
        first.header("www-authenticate"),
        &Method::GET,
        "/api/atlas/v2/orgs",
    );
    assert_eq!(
        atlas
            .send(&Method::GET, &uri, None, Some(elsewhere))
            .await
            .status,
        401
    );

    let first = atlas.send(&Method::GET, &uri, None, None).await;
    let late = atlas.answer(first.header("www-authenticate"), &Method::GET, &uri);
    app.advance_clock(time::Duration::minutes(6));
    let stale = atlas.send(&Method::GET, &uri, None, Some(late)).await;
    assert_eq!(stale.status, 401);
    assert!(
        stale.header("www-authenticate").ends_with("stale=true"),
        "{}",
        stale.header("www-authenticate")
    );
}

#[tokio::test]
async fn an_organization_invitation_has_the_atlas_shape_and_headers() {
    let app = TestApp::spawn().await;
    let r = Atlas::owner(&app)
        .call(
            Method::POST,
            &invites(&app),
            Some(json!({"username": "new@example.com", "roles": ["ORG_MEMBER"]})),
        )
        .await;
    assert_eq!(r.status, 200, "200, not 201: {}", r.text);
    assert_eq!(
        r.header("content-type"),
        "application/vnd.atlas.2023-01-01+json;charset=utf-8"
    );
    assert_eq!(r.header("deprecation"), "Wed, 19 Feb 2025 00:00:00 GMT");
    assert_eq!(r.header("sunset"), "Thu, 1 Jul 2027 00:00:00 GMT");
    let body = r.json();
    let keys = crate::helpers::keys(&body);
    assert_eq!(
        keys,
        [
            "createdAt",
            "expiresAt",
            "groupRoleAssignments",
            "id",
            "inviterUsername",
            "orgId",
            "orgName",
            "roles",
            "teamIds",
            "username"
        ],
        "alphabetical, empty arrays present, no links"
    );
    assert!(r.text.starts_with("{\"createdAt\":\""), "compact");
    let created = body["createdAt"].as_str().unwrap();
    assert_eq!(created.len(), 20, "whole seconds with Z: {created}");
    let parse = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    };
    assert_eq!(
        parse(body["expiresAt"].as_str().unwrap()) - parse(created),
        time::Duration::days(30)
    );
    assert_eq!(body["orgName"], "Acme");
    assert_eq!(body["roles"], json!(["ORG_MEMBER"]));
    assert_eq!(body["inviterUsername"], "owner@example.com");
}

#[tokio::test]
async fn list_get_update_and_delete_as_atlas_answers_them() {
    let app = TestApp::spawn().await;
    let atlas = Atlas::owner(&app);
    let a = create(&app, "a@example.com", &["ORG_MEMBER"]).await;
    create(&app, "b@example.com", &["ORG_READ_ONLY"]).await;
    let read = atlas
        .get(&format!("{}/{}", invites(&app), a["id"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(read, a, "the create answers what a read gives");
    let list = atlas.get(&invites(&app)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2, "a bare array: {list}");
    let only_a = atlas
        .get(&format!("{}?username=a%40example.com", invites(&app)))
        .await
        .json();
    assert_eq!(only_a, json!([a]));

    let one = format!("{}/{}", invites(&app), a["id"].as_str().unwrap());
    assert_eq!(atlas.get(&one).await.json(), a);
    let patched = atlas
        .call(
            Method::PATCH,
            &one,
            Some(json!({"roles": ["ORG_READ_ONLY"]})),
        )
        .await;
    assert_eq!(
        patched.json()["roles"],
        json!(["ORG_READ_ONLY"]),
        "PATCH replaces the set"
    );
    let by_name = atlas
        .call(
            Method::PATCH,
            &invites(&app),
            Some(
                json!({"username": "a@example.com", "roles": ["ORG_GROUP_CREATOR", "ORG_MEMBER"]}),
            ),
        )
        .await;
    assert_eq!(
        by_name.json()["roles"],
        json!(["ORG_MEMBER", "ORG_GROUP_CREATOR"])
    );

    let deleted = atlas.call(Method::DELETE, &one, None).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.text, "");
    assert_eq!(
        deleted.header("content-type"),
        "application/vnd.atlas.2023-01-01+json;charset=utf-8"
    );
    atlas
        .get(&one)
        .await
        .assert_error(404, "RESOURCE_NOT_FOUND");
    atlas
        .call(Method::DELETE, &one, None)
        .await
        .assert_error(400, "INVALID_INVITATION_ID");
    let never = format!("{}/{}", invites(&app), "0123456789abcdef01234567");
    atlas
        .call(Method::DELETE, &never, None)
        .await
        .assert_error(404, "RESOURCE_NOT_FOUND");
}

#[tokio::test]
async fn the_version_comes_from_accept_and_a_sunset_version_is_gone() {
    let app = TestApp::spawn().await;
    let mut atlas = Atlas::owner(&app);
    for accept in [
        None,
        Some("application/json"),
        Some("application/vnd.atlas.2023-05-05+json"),
    ] {
        atlas.accept = accept.map(str::to_owned);
        let body = atlas
            .get(&invites(&app))
            .await
            .assert_error(406, "INVALID_VERSION_DATE");
        assert_eq!(
            body,
            json!({"detail": "Invalid accept header or version date.", "error": 406, "errorCode": "INVALID_VERSION_DATE", "parameters": [], "reason": "Not Acceptable"}),
            "{accept:?}"
        );
    }
    atlas.accept = Some("application/vnd.atlas.2025-03-12+json".into());
    let later = atlas.get(&invites(&app)).await;
    assert_eq!(
        later.status, 200,
        "a later date gets the newest version on or before it"
    );
    assert_eq!(
        later.header("content-type"),
        "application/vnd.atlas.2023-01-01+json;charset=utf-8"
    );

    atlas.accept = Some(V1.into());
    let until_sunset =
        time::macros::datetime!(2027-07-01 00:00 UTC) - time::OffsetDateTime::now_utc();
    app.advance_clock(until_sunset);
    let gone = atlas
        .get(&invites(&app))
        .await
        .assert_error(410, "VERSION_GONE");
    let path = format!("api/atlas/v2/orgs/{}/invites", app.owner.org_id);
    assert_eq!(
        gone["detail"],
        format!("Version 2023-01-01 of {path} is no longer available.")
    );
    assert_eq!(gone["parameters"], json!(["2023-01-01", path]));
}

#[tokio::test]
async fn envelope_and_pretty_wrap_and_indent_every_answer() {
    let app = TestApp::spawn().await;
    let atlas = Atlas::owner(&app);
    let a = create(&app, "a@example.com", &["ORG_MEMBER"]).await;
    let list = atlas.get(&format!("{}?envelope=true", invites(&app))).await;
    assert_eq!(list.json(), json!({"content": [a], "status": 200}));
    let one = format!("{}/{}", invites(&app), a["id"].as_str().unwrap());
    let deleted = atlas
        .call(Method::DELETE, &format!("{one}?envelope=true"), None)
        .await;
    assert_eq!(
        deleted.status, 200,
        "enveloped answers are 200; the status is inside"
    );
    assert_eq!(deleted.json(), json!({"content": null, "status": 204}));

    let b = create(&app, "b@example.com", &["ORG_MEMBER"]).await;
    let pretty = atlas
        .get(&format!(
            "{}/{}?pretty=true",
            invites(&app),
            b["id"].as_str().unwrap()
        ))
        .await;
    assert!(
        pretty.text.starts_with("{\n  \"createdAt\" : \""),
        "{}",
        pretty.text
    );
    assert!(
        pretty
            .text
            .contains("\n  \"groupRoleAssignments\" : [ ],\n")
    );
    assert!(
        pretty
            .text
            .contains("\n  \"roles\" : [ \"ORG_MEMBER\" ],\n")
    );
    assert_eq!(pretty.json(), b);
    atlas
        .get(&format!("{}?pretty=yes", invites(&app)))
        .await
        .assert_error(400, "INVALID_QUERY_PARAMETER");
}

#[tokio::test]
async fn bad_requests_are_named_and_change_nothing() {
    let app = TestApp::spawn().await;
    let atlas = Atlas::owner(&app);
    let other = app.other_org("boss@other.example").await;
    let before = app.snapshot().await;
    let uri = invites(&app);
    let cases: &[(&str, u16, &str)] = &[
        ("{not json", 400, "INVALID_JSON"),
        (
            r#"{"username": 5, "roles": ["ORG_MEMBER"]}"#,
            400,
            "INVALID_JSON",
        ),
        (r#"{"roles": ["ORG_MEMBER"]}"#, 400, "MISSING_ATTRIBUTE"),
        (r#"{"username": "x@example.com"}"#, 400, "MISSING_ATTRIBUTE"),
        (
            r#"{"username": "x@example.com", "roles": ["GROUP_OWNER"]}"#,
            400,
            "INVALID_ROLE_FOR_ORG",
        ),
        (
            r#"{"username": "not an address", "roles": ["ORG_MEMBER"]}"#,
            400,
            "INVALID_EMAIL_ADDRESS",
        ),
        (
            r#"{"username": "x@example.com", "roles": ["ORG_MEMBER"], "teamIds": ["0123456789abcdef01234567"]}"#,
            404,
            "TEAM_NOT_FOUND",
        ),
        (
            r#"{"username": "x@example.com", "roles": ["ORG_MEMBER"], "groupRoleAssignments": [{"groupId": "0123456789abcdef01234567", "roles": ["GROUP_OWNER"]}]}"#,
            404,
            "GROUP_NOT_FOUND",
        ),
    ];
    for (body, status, code) in cases {
        atlas
            .call_raw(Method::POST, &uri, Some(body))
            .await
            .assert_error(*status, code);
    }
    let unknown = atlas
        .call(
            Method::POST,
            &uri,
            Some(json!({"username": "x@example.com", "roles": ["ORG_MEMBER"], "colour": "red"})),
        )
        .await
        .assert_error(400, "INVALID_ATTRIBUTE");
    assert_eq!(unknown["parameters"], json!(["colour"]));
    assert_eq!(unknown["badRequestDetail"]["fields"][0]["field"], "colour");
    atlas
        .get("/api/atlas/v2/orgs/nope/invites")
        .await
        .assert_error(400, "INVALID_ORG_ID");
    atlas
        .get(&format!("/api/atlas/v2/orgs/{}/invites", other.org_id))
        .await
        .assert_error(404, "ORG_NOT_FOUND");
    assert_eq!(app.snapshot().await, before);
    create(&app, "dup@example.com", &["ORG_MEMBER"]).await;
    atlas
        .call(
            Method::POST,
            &uri,
            Some(json!({"username": "dup@example.com", "roles": ["ORG_MEMBER"]})),
        )
        .await
        .assert_error(409, "USER_ALREADY_EXISTS");
}

#[tokio::test]
async fn only_owners_manage_invitations() {
    let app = TestApp::spawn().await;
    let dev = Atlas::developer(&app).await;
    dev.get(&invites(&app))
        .await
        .assert_error(401, "USER_UNAUTHORIZED");
    dev.call(
        Method::POST,
        &invites(&app),
        Some(json!({"username": "x@example.com", "roles": ["ORG_MEMBER"]})),
    )
    .await
    .assert_error(401, "USER_UNAUTHORIZED");
}

#[tokio::test]
async fn one_invitation_through_both_faces() {
    let app = TestApp::spawn().await;
    let atlas = Atlas::owner(&app);
    let (solapi_id, _) = app.invite("from-solapi@example.com", "DEVELOPER").await;
    let list = atlas.get(&invites(&app)).await.json();
    assert_eq!(list[0]["id"], solapi_id.as_str());
    assert_eq!(
        list[0]["roles"],
        json!(["ORG_MEMBER"]),
        "DEVELOPER has no Atlas name"
    );
    let from_atlas = create(&app, "from-atlas@example.com", &["ORG_OWNER"]).await;
    let solapi = app
        .get(
            &format!("/users/v1/accounts/{}/invitations", app.owner.org_id),
            &app.owner_key(),
        )
        .await;
    let ids: Vec<&str> = solapi
        .assert_ok()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["invitationId"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&from_atlas["id"].as_str().unwrap()), "{ids:?}");
    atlas
        .call(
            Method::DELETE,
            &format!("{}/{solapi_id}", invites(&app)),
            None,
        )
        .await;
    let gone = app
        .get(
            &format!("/users/v1/invitations/{solapi_id}"),
            &app.owner_key(),
        )
        .await;
    assert_ne!(
        gone.status, 200,
        "cancelled through Atlas is cancelled everywhere"
    );
}

#[tokio::test]
async fn curl_digest_lists_the_invitations() {
    let Ok(out) = Command::new("curl").arg("--version").output() else {
        assert!(std::env::var_os("CI").is_none(), "curl is needed in CI");
        eprintln!("SKIPPED curl --digest: no curl");
        return;
    };
    assert!(out.status.success());
    let app = TestApp::spawn().await;
    let a = create(&app, "a@example.com", &["ORG_MEMBER"]).await;
    let url = format!("{}{}", app.base, invites(&app));
    let user = format!("{}:{}", app.owner.api_key, app.owner.api_secret);
    let out = tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args([
                "-s",
                "--digest",
                "-u",
                &user,
                "-H",
                &format!("Accept: {V1}"),
                &url,
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body, json!([a]));
}

async fn python_clients(app: &TestApp, python: &std::path::Path, label: &str) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/atlas_clients.py");
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .arg(label)
        .env("BASE", &app.base)
        .env("KEY", &app.owner.api_key)
        .env("SECRET", &app.owner.api_secret)
        .env("ORG", &app.owner.org_id);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_requests_and_httpx_digest_clients_work_with_md5_and_sha_256() {
    let Some(python) = tokio::task::block_in_place(|| {
        python_venv(
            "atlas-venv",
            &["requests==2.32.3", "httpx==0.28.1"],
            "the Python Digest clients test",
        )
    }) else {
        return;
    };
    for algorithm in ["MD5", "SHA-256"] {
        let app = TestApp::spawn_with(|c| c.atlas_digest_algorithm = algorithm.into()).await;
        let r = python_clients(&app, &python, algorithm).await;
        for client in ["requests", "httpx"] {
            let steps = &r[client];
            assert_eq!(steps["create"]["status"], 200, "{client} {algorithm}: {r}");
            assert_eq!(
                steps["create"]["contentType"],
                "application/vnd.atlas.2023-01-01+json;charset=utf-8"
            );
            assert_eq!(steps["list"]["body"].as_array().unwrap().len(), 1);
            assert_eq!(steps["get"]["status"], 200);
            assert_eq!(steps["update"]["body"]["roles"], json!(["ORG_READ_ONLY"]));
            assert_eq!(steps["delete"]["status"], 204);
            assert_eq!(steps["get_after"]["status"], 404);
        }
        assert_eq!(r["wrong_secret"]["status"], 401);
        let challenge = r["wrong_secret"]["challenge"].as_str().unwrap();
        assert!(
            challenge.contains(&format!("algorithm={algorithm},")),
            "{challenge}"
        );
    }
}

#[tokio::test]
async fn the_api_document_describes_every_atlas_operation() {
    let app = TestApp::spawn().await;
    let answer = app.get("/openapi.json", &Auth::None).await;
    let doc = answer.assert_ok();
    let org = "/orgs/{orgId}";
    let group = "/groups/{groupId}";
    let described: &[(String, &[&str])] = &[
        ("/orgs".into(), &["get"]),
        (org.into(), &["get", "patch"]),
        (format!("{org}/groups"), &["get"]),
        (format!("{org}/invites"), &["get", "post", "patch"]),
        (
            format!("{org}/invites/{{invitationId}}"),
            &["get", "patch", "delete"],
        ),
        (format!("{org}/users"), &["get", "post"]),
        (
            format!("{org}/users/{{userId}}"),
            &["get", "patch", "delete"],
        ),
        (format!("{org}/users/{{userId}}/roles"), &["put"]),
        (format!("{org}/users/{{userId}}:addRole"), &["post"]),
        (format!("{org}/users/{{userId}}:removeRole"), &["post"]),
        (format!("{org}/teams"), &["get", "post"]),
        (
            format!("{org}/teams/{{teamId}}"),
            &["get", "patch", "delete"],
        ),
        (format!("{org}/teams/byName/{{teamName}}"), &["get"]),
        (format!("{org}/teams/{{teamId}}/users"), &["get", "post"]),
        (
            format!("{org}/teams/{{teamId}}/users/{{userId}}"),
            &["delete"],
        ),
        (format!("{org}/teams/{{teamId}}:addUser"), &["post"]),
        (format!("{org}/teams/{{teamId}}:removeUser"), &["post"]),
        (format!("{org}/apiKeys"), &["get", "post"]),
        (
            format!("{org}/apiKeys/{{apiUserId}}"),
            &["get", "patch", "delete"],
        ),
        (format!("{org}/serviceAccounts"), &["get", "post"]),
        (
            format!("{org}/serviceAccounts/{{clientId}}"),
            &["get", "patch", "delete"],
        ),
        (
            format!("{org}/serviceAccounts/{{clientId}}/secrets"),
            &["post"],
        ),
        ("/groups".into(), &["get", "post"]),
        (group.into(), &["get", "patch", "delete"]),
        ("/groups/byName/{groupName}".into(), &["get"]),
        (format!("{group}/invites"), &["get", "post", "patch"]),
        (
            format!("{group}/invites/{{invitationId}}"),
            &["get", "patch", "delete"],
        ),
        (format!("{group}/users"), &["get", "post"]),
        (format!("{group}/users/{{userId}}"), &["get", "delete"]),
        (format!("{group}/users/{{userId}}/roles"), &["put"]),
        (format!("{group}/users/{{userId}}:addRole"), &["post"]),
        (format!("{group}/users/{{userId}}:removeRole"), &["post"]),
        (format!("{group}/teams"), &["get", "post"]),
        (
            format!("{group}/teams/{{teamId}}"),
            &["get", "patch", "delete"],
        ),
    ];
    for (path, methods) in described {
        for m in *methods {
            let op = &doc["paths"][format!("/api/atlas/v2{path}")][m];
            assert!(op.is_object(), "{m} {path} is described");
            assert_eq!(op["security"][0], json!({"digest": []}), "{m} {path}");
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["digest"]["scheme"],
        "digest"
    );
}
