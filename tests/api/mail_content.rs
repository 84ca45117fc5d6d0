//! What invitation e-mails say: the organization's language (English or Korean), and links that
//! follow the configured templates.

use serde_json::json;

use crate::helpers::{Auth, TestApp, new_password};

#[tokio::test]
async fn an_organization_that_chose_korean_sends_korean_invitations() {
    let app = TestApp::spawn().await;
    let org = app.owner.org_id.clone();
    let language = format!("/usher/v1/accounts/{org}/language");
    let set = app
        .put(&language, &app.owner_key(), json!({"language": "ko"}))
        .await;
    assert_eq!(set.assert_ok()["language"], "ko");
    app.invite("minsu@example.com", "DEVELOPER").await;
    let (subject, text) = app.mails_to("minsu@example.com", 1).await.remove(0);
    assert!(subject.ends_with("에 초대되었습니다"), "{subject}");
    assert!(text.contains("DEVELOPER 역할로 초대했습니다") && text.contains("초대 확인하기"));

    // Back to the server's default.
    app.put(&language, &app.owner_key(), json!({"language": null}))
        .await
        .assert_ok();
    app.invite("jane@example.com", "MEMBER").await;
    let (subject, _) = app.mails_to("jane@example.com", 1).await.remove(0);
    assert!(subject.starts_with("You are invited to join"), "{subject}");

    // Only owners choose, and only a language usher writes.
    let (member, _) = app.join("mem@example.com", "MEMBER").await;
    app.put(&language, &member, json!({"language": "ko"}))
        .await
        .assert_error(403, "Forbidden");
    let before = app.snapshot().await;
    app.put(&language, &app.owner_key(), json!({"language": "fr"}))
        .await
        .assert_error(400, "ValidationError");
    app.put(&language, &app.owner_key(), json!({"lang": "ko"}))
        .await
        .assert_error(400, "ValidationError");
    assert_eq!(app.snapshot().await, before);
    app.stop().await;
}

#[tokio::test]
async fn korean_is_the_default_when_the_server_says_so() {
    let app = TestApp::spawn_with(|c| c.mail_language = "ko".into()).await;
    app.post(
        "/users/v1/member/password/reset",
        &Auth::None,
        json!({"email": app.owner.email}),
    )
    .await
    .assert_ok();
    let (subject, _) = app.mails_to(&app.owner.email, 1).await.remove(0);
    assert_eq!(subject, "비밀번호 재설정");
    app.stop().await;
}

#[tokio::test]
async fn invitation_links_point_where_the_template_says_and_carry_a_working_token() {
    let app = TestApp::spawn_with(|c| {
        c.invitation_link = Some("https://app.example.com/join?invite={token}".into());
    })
    .await;
    app.post(
        "/users/v1/invitations",
        &app.owner_key(),
        json!({"email": "front@example.com", "role": "MEMBER"}),
    )
    .await
    .assert_ok();
    let token = app
        .token_from_mail("front@example.com", "https://app.example.com/join?invite=")
        .await;
    app.post(
        &format!("/users/v1/signup/invitations/{token}"),
        &Auth::None,
        new_password(),
    )
    .await
    .assert_ok();
    app.stop().await;
}
