//! Health, readiness, metrics, OpenAPI and the API browser.

use crate::helpers::{Auth, TestApp};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz", &Auth::None).await.status, 200);
    assert_eq!(app.get("/readyz", &Auth::None).await.status, 200);
    app.get("/users/v1/member", &app.owner_key())
        .await
        .assert_ok();
    let metrics = app.get("/metrics", &Auth::None).await;
    assert!(
        metrics
            .body
            .as_str()
            .unwrap()
            .contains("usher_http_requests_total"),
        "{:?}",
        metrics.body
    );
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_lists_every_endpoint_and_the_browser_works_offline() {
    let app = TestApp::spawn().await;
    let doc = app.get("/openapi.json", &Auth::None).await;
    let paths = doc.assert_ok()["paths"].as_object().unwrap();
    for p in [
        "/users/v1/signup",
        "/users/v1/existence/email/{email}",
        "/users/v1/agreement",
        "/users/v1/signup/invitations/{invitationId}",
        "/users/v1/member",
        "/users/v1/member/email",
        "/users/v1/member/phone-number",
        "/users/v1/member/phone-number/extra",
        "/users/v1/member/activate",
        "/users/v1/member/password/reset",
        "/users/v1/member/password/reset/{hashId}",
        "/users/v1/accounts",
        "/users/v1/accounts/",
        "/users/v1/accounts/{accountId}",
        "/users/v1/accounts/{accountId}/activate",
        "/users/v1/accounts/{accountId}/switch",
        "/users/v1/accounts/{accountId}/members",
        "/users/v1/accounts/{accountId}/members/{memberId}",
        "/users/v1/accounts/{accountId}/me",
        "/users/v1/accounts/{accountId}/invitations",
        "/users/v1/invitations",
        "/users/v1/invitations/{invitationId}",
        "/usher/v1/sessions",
        "/usher/v1/accounts/{accountId}/api-keys",
        "/healthz",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    let ui = app
        .client
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), 200);
    let html = ui.text().await.unwrap();
    assert!(
        !html.contains("https://"),
        "the browser loads nothing from the network"
    );
    let init = app
        .client
        .get(format!("{}/docs/swagger-initializer.js", app.base))
        .send()
        .await
        .unwrap();
    let js = init.text().await.unwrap();
    assert!(
        js.contains("\"url\": \"/openapi.json\"") && !js.contains("https://"),
        "{js}"
    );
    app.stop().await;
}

#[tokio::test]
async fn open_signup_is_off_by_default() {
    let app = TestApp::spawn().await;
    let body = serde_json::json!({"email": "x@example.com", "password": "correct horse battery", "passwordConfirmation": "correct horse battery", "captcha": "x"});
    app.post("/users/v1/signup", &Auth::None, body)
        .await
        .assert_error(403, "SignupDisabled");
    app.get("/users/v1/existence/email/owner@example.com", &Auth::None)
        .await
        .assert_error(403, "SignupDisabled");
    let terms = app.get("/users/v1/agreement", &Auth::None).await;
    assert!(terms.assert_ok().as_str().unwrap().contains("<h1>"));
    app.stop().await;
}

#[tokio::test]
async fn open_signup_creates_an_unverified_member_with_an_account_and_the_existence_check_is_rate_limited()
 {
    let app = TestApp::spawn_with(|c| {
        c.signup_open = true;
        c.auth_rate_per_minute = 30;
    })
    .await;
    let body = serde_json::json!({"email": "new@example.com", "password": "correct horse battery", "passwordConfirmation": "correct horse battery", "captcha": "DUMMY", "name": "New"});
    let r = app
        .post("/users/v1/signup", &Auth::None, body.clone())
        .await;
    let s = r.assert_ok();
    assert_eq!(s["member"]["status"], "UNVERIFIED");
    assert_eq!(s["account"]["name"], "New님의 계정");
    assert_eq!(s["member"]["selectedAccountId"], s["account"]["accountId"]);
    app.post("/users/v1/signup", &Auth::None, body)
        .await
        .assert_error(409, "DuplicatedEmail");
    let e = app
        .get("/users/v1/existence/email/new@example.com", &Auth::None)
        .await;
    assert_eq!(
        e.assert_ok(),
        &serde_json::json!({"email": "new@example.com", "result": true})
    );
    let mut limited = None;
    for _ in 0..20 {
        let r = app
            .get("/users/v1/existence/email/x@example.com", &Auth::None)
            .await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("the existence check is rate-limited");
    limited.assert_error(429, "TooManyRequests");
    assert!(limited.headers.contains_key("retry-after"));
    app.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    let app = TestApp::spawn_with(|c| {
        c.auth_rate_per_minute = 30; // the e-mail check: 10 a minute
        c.trusted_proxy_hops = 1;
    })
    .await;
    let check = |forwarded: &'static str| {
        let url = format!("{}/users/v1/existence/email/x@example.com", app.base);
        let req = app.client.get(url).header("x-forwarded-for", forwarded);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    for _ in 0..10 {
        assert_ne!(check("198.51.100.1, 203.0.113.1").await, 429);
    }
    assert_eq!(
        check("198.51.100.2, 203.0.113.1").await,
        429,
        "a forged left entry changes nothing"
    );
    assert_ne!(
        check("203.0.113.2").await,
        429,
        "another client is not limited"
    );
    app.stop().await;
}

/// Writes `head`, waits, writes `body` on one connection, and reads one HTTP/1.1 answer: its
/// status line and whether the server said it would close the connection.
async fn answer_on(
    stream: &mut tokio::net::TcpStream,
    head: &str,
    body: &str,
) -> Option<(String, bool)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(head.as_bytes()).await.ok()?;
    // The body arrives on its own, after the server has seen the headers (as Python's httpx
    // sends it: headers and body are separate writes).
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    stream.write_all(body.as_bytes()).await.ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = text[..end].to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if got.len() >= end + 4 + length {
                let status = text.lines().next().unwrap().to_owned();
                return Some((status, head.contains("connection: close")));
            }
        }
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("an answer within 5 s")
            .ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
    }
}

/// A client that sends the body after the headers and is refused before the server reads it
/// (the Digest challenge every Atlas client meets first, or a missing HMAC header) keeps its
/// connection: the next request on it is answered. hyper closes a connection whose request
/// body was left unread, and a client reusing it gets "Server disconnected".
#[tokio::test]
async fn a_request_refused_before_its_body_arrived_leaves_the_connection_usable() {
    let app = TestApp::spawn().await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let body = r#"{"username":"late@example.com","roles":["ORG_MEMBER"]}"#;
    let org = &app.owner.org_id;
    for path in [
        format!("/api/atlas/v2/orgs/{org}/invites"),
        "/users/v1/invitations".to_owned(),
    ] {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/vnd.atlas.2023-01-01+json\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let (status, closing) = answer_on(&mut stream, &head, body)
            .await
            .expect("the refusal is answered");
        assert!(status.contains(" 401 "), "{path}: {status}");
        assert!(!closing, "{path}: the refusal keeps the connection");
        let next = answer_on(
            &mut stream,
            &format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
            "",
        )
        .await;
        assert!(
            next.as_ref().is_some_and(|(s, _)| s.contains(" 200 ")),
            "{path}: the next request on the connection is answered: {next:?}"
        );
    }
    app.stop().await;
}
