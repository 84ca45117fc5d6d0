//! The SOLAPI HMAC API-key scheme: every header variant the official SDKs send, and the four
//! auth error codes.

use serde_json::json;

use crate::helpers::{Auth, TestApp, sign_with};

fn salt() -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b);
    hex::encode(b)
}

fn header(template: &str, key: &str, secret: &str, date: &str) -> String {
    let salt = salt();
    let sig = usher::auth::hmac::sign(
        usher::auth::hmac::Algorithm::Sha256,
        secret.as_bytes(),
        date,
        &salt,
    );
    template
        .replace("{key}", key)
        .replace("{date}", date)
        .replace("{salt}", &salt)
        .replace("{sig}", &sig)
}

#[tokio::test]
async fn every_sdk_header_variant_authenticates() {
    let app = TestApp::spawn().await;
    let (key, secret) = (app.owner.api_key.clone(), app.owner.api_secret.clone());
    let now = time::OffsetDateTime::now_utc();
    let seoul = now.to_offset(time::macros::offset!(+9));
    let fmt = |f: &str| -> String {
        now.format(&time::format_description::parse_borrowed::<2>(f).unwrap())
            .unwrap()
    };
    let node_utc = fmt("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let node_seoul = seoul
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]+09:00"
        ))
        .unwrap();
    let python = now
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]+00:00"
        ))
        .unwrap();
    let kotlin = seoul
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]+09:00"
        ))
        .unwrap();
    let iso_millis = fmt("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    // PHP: Seoul wall-clock time, then "." + the offset in seconds, labelled Z (≈ 9 h ahead).
    let php = seoul
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].32400Z"
        ))
        .unwrap();
    let cases = [
        (
            "node (UTC)",
            "HMAC-SHA256 apiKey={key}, date={date}, salt={salt}, signature={sig}",
            node_utc.clone(),
        ),
        (
            "node (Asia/Seoul)",
            "HMAC-SHA256 apiKey={key}, date={date}, salt={salt}, signature={sig}",
            node_seoul,
        ),
        (
            "python",
            "HMAC-SHA256 ApiKey={key}, Date={date}, salt={salt}, signature={sig}",
            python,
        ),
        (
            "kotlin",
            "HMAC-SHA256 Apikey={key}, Date={date}, salt={salt}, signature={sig}",
            kotlin,
        ),
        (
            "go",
            "HMAC-SHA256 apiKey={key}, date={date}, salt={salt}, signature={sig}",
            node_utc,
        ),
        (
            "toISOString",
            "HMAC-SHA256 apiKey={key}, date={date}, salt={salt}, signature={sig}",
            iso_millis,
        ),
        (
            "php",
            "HMAC-SHA256 apiKey={key}, date={date}, salt={salt}, signature={sig}",
            php,
        ),
        (
            "shuffled",
            "HMAC-SHA256 signature={sig},salt={salt} ,  DATE={date},APIKEY={key}",
            fmt("[year]-[month]-[day]T[hour]:[minute]:[second]Z"),
        ),
    ];
    for (name, template, date) in cases {
        let h = header(template, &key, &secret, &date);
        let r = app.get("/users/v1/member", &Auth::Raw(h.clone())).await;
        assert_eq!(r.status, 200, "{name}: {h} → {:?}", r.body);
    }
    // HMAC-MD5 is documented too.
    let s = salt();
    let date = fmt("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let sig = usher::auth::hmac::sign(
        usher::auth::hmac::Algorithm::Md5,
        secret.as_bytes(),
        &date,
        &s,
    );
    let h = format!("HMAC-MD5 apiKey={key}, date={date}, salt={s}, signature={sig}");
    assert_eq!(app.get("/users/v1/member", &Auth::Raw(h)).await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_replayed_signature_is_refused_with_duplicated_signature() {
    let app = TestApp::spawn().await;
    let h = Auth::Raw(app.sign(&app.owner.api_key, &app.owner.api_secret));
    app.get("/users/v1/member", &h).await.assert_ok();
    app.get("/users/v1/member", &h)
        .await
        .assert_error(403, "DuplicatedSignature");
    app.get(&format!("/users/v1/accounts/{}", app.owner.org_id), &h)
        .await
        .assert_error(403, "DuplicatedSignature");
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_key_is_invalid_api_key() {
    let app = TestApp::spawn().await;
    let h = app.sign("NCSNOSUCHKEY0000", &app.owner.api_secret);
    app.get("/users/v1/member", &Auth::Raw(h))
        .await
        .assert_error(403, "InvalidApiKey");
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_secret_is_signature_does_not_match() {
    let app = TestApp::spawn().await;
    let h = app.sign(&app.owner.api_key, "WRONGSECRET");
    app.get("/users/v1/member", &Auth::Raw(h))
        .await
        .assert_error(403, "SignatureDoesNotMatch");
    let good = app.sign(&app.owner.api_key, &app.owner.api_secret);
    let tampered = good.replace("signature=", "signature=0");
    app.get("/users/v1/member", &Auth::Raw(tampered))
        .await
        .assert_error(403, "SignatureDoesNotMatch");
    app.stop().await;
}

#[tokio::test]
async fn dates_outside_the_window_are_request_time_too_skewed() {
    let app = TestApp::spawn().await;
    let (key, secret) = (app.owner.api_key.clone(), app.owner.api_secret.clone());
    let rfc = &time::format_description::well_known::Rfc3339;
    let now = time::OffsetDateTime::now_utc();
    let old = (now - time::Duration::minutes(16)).format(rfc).unwrap();
    app.get(
        "/users/v1/member",
        &Auth::Raw(sign_with(&key, &secret, &old)),
    )
    .await
    .assert_error(403, "RequestTimeTooSkewed");
    let recent = (now - time::Duration::minutes(14)).format(rfc).unwrap();
    app.get(
        "/users/v1/member",
        &Auth::Raw(sign_with(&key, &secret, &recent)),
    )
    .await
    .assert_ok();
    let far_future = (now + time::Duration::hours(10)).format(rfc).unwrap();
    app.get(
        "/users/v1/member",
        &Auth::Raw(sign_with(&key, &secret, &far_future)),
    )
    .await
    .assert_error(403, "RequestTimeTooSkewed");
    app.stop().await;
}

#[tokio::test]
async fn the_forward_tolerance_is_configurable() {
    let app = TestApp::spawn_with(|c| c.hmac_future_tolerance_secs = 15 * 60).await;
    let rfc = &time::format_description::well_known::Rfc3339;
    let ahead = (time::OffsetDateTime::now_utc() + time::Duration::hours(9))
        .format(rfc)
        .unwrap();
    let h = sign_with(&app.owner.api_key, &app.owner.api_secret, &ahead);
    app.get("/users/v1/member", &Auth::Raw(h))
        .await
        .assert_error(403, "RequestTimeTooSkewed");
    app.stop().await;
}

#[tokio::test]
async fn malformed_authorization_headers_are_unauthorized_and_change_nothing() {
    let app = TestApp::spawn().await;
    let key = &app.owner.api_key;
    let before = app.snapshot().await;
    for bad in [
        "".to_owned(),
        "Basic dXNlcjpwYXNz".to_owned(),
        "HMAC-SHA1 apiKey=x, date=y, salt=z, signature=w".to_owned(),
        "HMAC-SHA256".to_owned(),
        format!("HMAC-SHA256 apiKey={key}, date=2026-11-21T00:00:00Z, salt=abc"),
        format!(
            "HMAC-SHA256 apiKey={key}, apiKey={key}, date=2026-11-21T00:00:00Z, salt=abc, signature=00"
        ),
        format!("HMAC-SHA256 apiKey={key}, date=yesterday, salt=abcdefabcdef, signature=00"),
        format!("HMAC-SHA256 apiKey={key}, date=, salt=abcdefabcdef, signature=00"),
        "Bearer".to_owned(),
    ] {
        let r = app
            .post(
                "/users/v1/invitations",
                &Auth::Raw(bad.clone()),
                json!({"email": "x@example.com", "role": "MEMBER"}),
            )
            .await;
        r.assert_error(401, "Unauthorized");
    }
    app.post(
        "/users/v1/invitations",
        &Auth::None,
        json!({"email": "x@example.com", "role": "MEMBER"}),
    )
    .await
    .assert_error(401, "Unauthorized");
    app.get("/users/v1/member", &Auth::Bearer("not-a-session".into()))
        .await
        .assert_error(401, "Unauthorized");
    assert_eq!(app.snapshot().await, before);
    app.stop().await;
}

#[tokio::test]
async fn the_reference_test_vectors_verify() {
    use usher::auth::hmac::{Algorithm, sign, verify};
    assert_eq!(
        sign(
            Algorithm::Sha256,
            b"SECRET",
            "2019-07-01T00:41:48Z",
            "jqsba2jxjnrjor"
        ),
        "669c9fb6acda414922dec17b603459be1dfb7dcb12f81c68e78cbd2f06ca9028"
    );
    assert_eq!(
        sign(
            Algorithm::Sha256,
            b"test-secret",
            "2026-10-08T00:00:00.000Z",
            "abc123"
        ),
        "01ed74b1a957a9670695979fd98b45116ee25697ed1ec792422ae5dc0dac1ac7"
    );
    assert!(verify(
        Algorithm::Md5,
        b"SECRET",
        "2019-07-01T00:41:48Z",
        "jqsba2jxjnrjor",
        "025e119c728a11f9c8bae09ee5646554"
    ));
}
