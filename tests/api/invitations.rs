//! The invitation lifecycle over the SOLAPI face.

use serde_json::json;

use crate::helpers::{Auth, PASSWORD, TestApp, new_password};

#[tokio::test]
async fn an_owner_sends_an_invitation_and_the_invitee_receives_a_link() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/users/v1/invitations",
            &app.owner_key(),
            json!({"email": "New@Example.com", "role": "DEVELOPER"}),
        )
        .await;
    let inv = r.assert_ok();
    let keys = crate::helpers::keys(inv);
    assert_eq!(
        keys,
        [
            "appId",
            "invitationId",
            "accountId",
            "memberId",
            "email",
            "role",
            "dateCreated",
            "dateUpdated"
        ]
    );
    assert_eq!(inv["accountId"], app.owner.org_id.as_str());
    assert_eq!(
        inv["memberId"],
        app.owner.user_id.as_str(),
        "memberId is the inviter"
    );
    assert_eq!(inv["role"], "DEVELOPER");
    assert_eq!(inv["appId"], serde_json::Value::Null);
    let created = inv["dateCreated"].as_str().unwrap();
    assert_eq!(
        created.len(),
        24,
        "RFC 3339 with milliseconds and Z: {created}"
    );
    assert!(created.ends_with('Z') && created.as_bytes()[19] == b'.');

    let mails = app.mails_to("new@example.com", 1).await;
    assert_eq!(mails[0].0, "You are invited to join Acme");
    let token = app
        .token_from_mail("new@example.com", "/invitations/")
        .await;
    assert!(
        !serde_json::to_string(inv).unwrap().contains(&token),
        "the token is never in a response"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_owner_lists_pending_invitations_in_the_expanded_shape() {
    let app = TestApp::spawn().await;
    app.invite("a@example.com", "MEMBER").await;
    app.invite("b@example.com", "OWNER").await;
    let path = format!("/users/v1/accounts/{}/invitations", app.owner.org_id);
    let list = app.get(&path, &app.owner_key()).await;
    let items = list.assert_ok().as_array().unwrap();
    assert_eq!(items.len(), 2);
    let keys: Vec<&str> = items[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "invitationId",
            "email",
            "role",
            "dateCreated",
            "dateUpdated",
            "owner",
            "account"
        ]
    );
    assert_eq!(items[0]["owner"]["memberId"], app.owner.user_id.as_str());
    assert_eq!(items[0]["owner"]["isAdmin"], false);
    assert_eq!(
        items[0]["owner"]["loginSessions"],
        json!([]),
        "the inviter's sessions are not shown"
    );
    assert_eq!(items[0]["account"]["accountId"], app.owner.org_id.as_str());
    assert_eq!(items[0]["account"]["name"], "Acme");

    let filtered = app
        .get(&format!("{path}?email=B@EXAMPLE.COM"), &app.owner_key())
        .await;
    assert_eq!(filtered.assert_ok().as_array().unwrap().len(), 1);
    let by_role = app
        .get(&format!("{path}?role[eq]=OWNER"), &app.owner_key())
        .await;
    assert_eq!(by_role.assert_ok()[0]["email"], "b@example.com");
    app.get(&format!("{path}?role[ne]=OWNER"), &app.owner_key())
        .await
        .assert_error(400, "ValidationError");
    app.get(&format!("{path}?colour=red"), &app.owner_key())
        .await
        .assert_error(400, "ValidationError");
    app.stop().await;
}

#[tokio::test]
async fn a_new_person_signs_up_through_the_token_and_joins_active() {
    let app = TestApp::spawn().await;
    let (id, token) = app.invite("newbie@example.com", "DEVELOPER").await;

    let preview = app
        .get(&format!("/users/v1/invitations/{token}"), &Auth::None)
        .await;
    let p = preview.assert_ok();
    assert_eq!(p["invitationId"], id.as_str());
    assert_eq!(p["account"]["name"], "Acme");
    let keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "appId",
            "invitationId",
            "role",
            "email",
            "dateCreated",
            "dateUpdated",
            "account",
            "owner"
        ]
    );

    let body = new_password();
    let r = app
        .post(
            &format!("/users/v1/signup/invitations/{token}"),
            &Auth::None,
            body.clone(),
        )
        .await;
    let account = r.assert_ok();
    assert_eq!(account["accountId"], app.owner.org_id.as_str());
    let members = account["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert!(
        members
            .iter()
            .any(|m| m["role"] == "DEVELOPER" && m["name"] == "newbie")
    );

    let session = app.login("newbie@example.com", PASSWORD).await;
    let me = app.get("/users/v1/member", &session).await;
    assert_eq!(
        me.assert_ok()["status"],
        "ACTIVE",
        "the token proved the mailbox"
    );

    let again = app
        .post(
            &format!("/users/v1/signup/invitations/{token}"),
            &Auth::None,
            body,
        )
        .await;
    again.assert_error(409, "InvitationAlreadyAccepted");
    app.get(&format!("/users/v1/invitations/{token}"), &Auth::None)
        .await
        .assert_error(409, "InvitationAlreadyAccepted");
    assert_eq!(
        app.audit_actions(&id).await,
        ["invitation.created", "invitation.accepted"]
    );
    app.stop().await;
}

#[tokio::test]
async fn signing_up_through_the_bare_id_starts_unverified_and_sends_a_verification_mail() {
    let app = TestApp::spawn().await;
    let (id, _) = app.invite("idonly@example.com", "MEMBER").await;
    let body = json!({"password": PASSWORD, "passwordConfirmation": PASSWORD, "name": "Id Only"});
    app.post(
        &format!("/users/v1/signup/invitations/{id}"),
        &Auth::None,
        body,
    )
    .await
    .assert_ok();
    let session = app.login("idonly@example.com", PASSWORD).await;
    assert_eq!(
        app.get("/users/v1/member", &session).await.assert_ok()["status"],
        "UNVERIFIED"
    );

    let token = app
        .token_from_mail("idonly@example.com", "/verify-email/")
        .await;
    let verified = app.verify_email(&token).await;
    assert_eq!(verified.assert_ok()["status"], "ACTIVE");
    app.verify_email(&token)
        .await
        .assert_error(404, "ResourceNotFound");
    app.stop().await;
}

#[tokio::test]
async fn an_existing_user_accepts_with_a_session_bound_to_the_invited_email() {
    let app = TestApp::spawn().await;
    let other = app.other_org("existing@example.com").await;
    let stranger = app.other_org("stranger@example.com").await;
    let (id, token) = app.invite("existing@example.com", "MEMBER").await;

    let stranger_session = app.login("stranger@example.com", &stranger.password).await;
    let before = app.snapshot().await;
    app.post(
        &format!("/users/v1/invitations/{token}"),
        &stranger_session,
        json!({}),
    )
    .await
    .assert_error(403, "InvitationEmailMismatch");
    app.post(
        &format!("/users/v1/invitations/{id}"),
        &stranger_session,
        json!({}),
    )
    .await
    .assert_error(404, "ResourceNotFound");
    app.post(
        &format!("/users/v1/invitations/{token}"),
        &Auth::key(&other),
        json!({}),
    )
    .await
    .assert_error(403, "Forbidden");
    assert_eq!(
        app.snapshot().await,
        before,
        "refused accepts change nothing"
    );

    let session = app.login("existing@example.com", &other.password).await;
    let mine = app.get("/users/v1/invitations", &session).await;
    assert_eq!(mine.assert_ok().as_array().unwrap().len(), 1);
    let account = app
        .post(&format!("/users/v1/invitations/{id}"), &session, json!({}))
        .await;
    assert_eq!(account.assert_ok()["accountId"], app.owner.org_id.as_str());
    assert_eq!(
        app.get("/users/v1/invitations", &session).await.assert_ok(),
        &json!([])
    );
    let accounts = app.get("/users/v1/accounts/", &session).await;
    assert_eq!(
        accounts.assert_ok()["accountList"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    app.stop().await;
}

#[tokio::test]
async fn an_owner_cancels_a_pending_invitation_and_cannot_cancel_it_twice() {
    let app = TestApp::spawn().await;
    let (id, token) = app.invite("cancel@example.com", "MEMBER").await;
    let r = app
        .delete(&format!("/users/v1/invitations/{id}"), &app.owner_key())
        .await;
    assert_eq!(r.assert_ok()["invitationId"], id.as_str());
    let before = app.snapshot().await;
    app.delete(&format!("/users/v1/invitations/{id}"), &app.owner_key())
        .await
        .assert_error(409, "InvitationCancelled");
    let body = new_password();
    app.post(
        &format!("/users/v1/signup/invitations/{token}"),
        &Auth::None,
        body,
    )
    .await
    .assert_error(409, "InvitationCancelled");
    assert_eq!(app.snapshot().await, before, "refusals change nothing");
    let list = app
        .get(
            &format!("/users/v1/accounts/{}/invitations", app.owner.org_id),
            &app.owner_key(),
        )
        .await;
    assert_eq!(list.assert_ok(), &json!([]));
    assert_eq!(
        app.audit_actions(&id).await,
        ["invitation.created", "invitation.cancelled"]
    );
    app.stop().await;
}

#[tokio::test]
async fn an_accepted_invitation_cannot_be_cancelled() {
    let app = TestApp::spawn().await;
    let (id, token) = app.invite("taken@example.com", "MEMBER").await;
    let body = new_password();
    app.post(
        &format!("/users/v1/signup/invitations/{token}"),
        &Auth::None,
        body,
    )
    .await
    .assert_ok();
    let before = app.snapshot().await;
    app.delete(&format!("/users/v1/invitations/{id}"), &app.owner_key())
        .await
        .assert_error(409, "InvitationAlreadyAccepted");
    assert_eq!(app.snapshot().await, before);
    app.stop().await;
}

#[tokio::test]
async fn an_expired_invitation_is_refused_shown_expired_and_does_not_block_a_new_one() {
    let app = TestApp::spawn().await;
    let (id, token) = app.invite("late@example.com", "MEMBER").await;
    app.advance_clock(time::Duration::days(30) + time::Duration::seconds(1));
    // A refused transition records the expiry (state EXPIRED + audit event) ...
    app.delete(&format!("/users/v1/invitations/{id}"), &app.owner_key())
        .await
        .assert_error(410, "InvitationExpired");
    let after_expiry = app.snapshot().await;
    // ... and every later refusal changes nothing.
    let signup = format!("/users/v1/signup/invitations/{token}");
    app.post(&signup, &Auth::None, new_password())
        .await
        .assert_error(410, "InvitationExpired");
    app.get(&format!("/users/v1/invitations/{token}"), &Auth::None)
        .await
        .assert_error(410, "InvitationExpired");
    app.delete(&format!("/users/v1/invitations/{id}"), &app.owner_key())
        .await
        .assert_error(410, "InvitationExpired");
    assert_eq!(app.snapshot().await, after_expiry);
    let list = app
        .get(
            &format!("/users/v1/accounts/{}/invitations", app.owner.org_id),
            &app.owner_key(),
        )
        .await;
    assert_eq!(
        list.assert_ok(),
        &json!([]),
        "expired invitations are not pending"
    );

    let again = app
        .post(
            "/users/v1/invitations",
            &app.owner_key(),
            json!({"email": "late@example.com", "role": "MEMBER"}),
        )
        .await;
    again.assert_ok();
    assert_eq!(
        app.audit_actions(&id).await,
        ["invitation.created", "invitation.expired"],
        "the expiry is recorded once"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_second_invitation_to_a_pending_email_and_inviting_a_member_are_conflicts() {
    let app = TestApp::spawn().await;
    app.invite("twice@example.com", "MEMBER").await;
    let before = app.snapshot().await;
    let r = app
        .post(
            "/users/v1/invitations",
            &app.owner_key(),
            json!({"email": "TWICE@example.com", "role": "OWNER"}),
        )
        .await;
    r.assert_error(409, "AlreadyInvited");
    let r = app
        .post(
            "/users/v1/invitations",
            &app.owner_key(),
            json!({"email": "owner@example.com", "role": "MEMBER"}),
        )
        .await;
    r.assert_error(409, "AlreadyMember");
    assert_eq!(app.snapshot().await, before);
    app.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_invitations_of_one_email_make_one_invitation_one_event_and_one_mail() {
    let app = TestApp::spawn().await;
    // A subscribed endpoint, so that each invitation would also queue a webhook delivery.
    let hooks = format!("/usher/v1/accounts/{}/webhooks", app.owner.org_id);
    app.post(
        &hooks,
        &app.owner_key(),
        json!({"url": "http://127.0.0.1:9/hook", "events": ["invitation.created"]}),
    )
    .await
    .assert_ok();
    let queued_before = app
        .scalar(
            "SELECT COUNT(*) FROM outbox WHERE org_id = $1",
            &app.owner.org_id,
        )
        .await;
    let (key, body) = (
        app.owner_key(),
        json!({"email": "crowd@example.com", "role": "MEMBER"}),
    );
    let results = futures::future::join_all(
        (0..50).map(|_| app.post("/users/v1/invitations", &key, body.clone())),
    )
    .await;
    assert_eq!(results.iter().filter(|r| r.status == 200).count(), 1);
    for r in results.iter().filter(|r| r.status != 200) {
        r.assert_error(409, "AlreadyInvited");
    }
    let pending = app
        .scalar(
            "SELECT COUNT(*) FROM invitations WHERE email_normalized = $1",
            "crowd@example.com",
        )
        .await;
    assert_eq!(pending, 1, "one invitation");
    let won = results.iter().find(|r| r.status == 200).unwrap();
    let id = won.assert_ok()["invitationId"].as_str().unwrap().to_owned();
    assert_eq!(app.audit_actions(&id).await, ["invitation.created"]);
    let queued = app
        .scalar(
            "SELECT COUNT(*) FROM outbox WHERE org_id = $1",
            &app.owner.org_id,
        )
        .await;
    assert_eq!(
        queued - queued_before,
        2,
        "its e-mail and its webhook delivery, once"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_invitee_declines_with_the_token() {
    let app = TestApp::spawn().await;
    let (id, token) = app.invite("no-thanks@example.com", "MEMBER").await;
    app.post(
        &format!("/usher/v1/invitations/{token}/decline"),
        &Auth::None,
        json!({}),
    )
    .await
    .assert_ok();
    app.post(
        &format!("/usher/v1/invitations/{token}/decline"),
        &Auth::None,
        json!({}),
    )
    .await
    .assert_error(409, "InvitationRejected");
    app.post(
        &format!("/usher/v1/invitations/{id}/decline"),
        &Auth::None,
        json!({}),
    )
    .await
    .assert_error(404, "ResourceNotFound");
    assert_eq!(
        app.audit_actions(&id).await,
        ["invitation.created", "invitation.rejected"]
    );
    app.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_accepts_of_one_invitation_make_exactly_one_member() {
    let app = TestApp::spawn().await;
    let invitee = app.other_org("racer@example.com").await;
    let (id, token) = app.invite("racer@example.com", "MEMBER").await;
    let session = app.login("racer@example.com", &invitee.password).await;
    let path = format!("/users/v1/invitations/{token}");
    let results =
        futures::future::join_all((0..50).map(|_| app.post(&path, &session, json!({})))).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "exactly one accept wins");
    for r in results.iter().filter(|r| r.status != 200) {
        r.assert_error(409, "InvitationAlreadyAccepted");
    }
    let members = app
        .scalar(
            "SELECT COUNT(*) FROM memberships WHERE org_id = $1",
            &app.owner.org_id,
        )
        .await;
    assert_eq!(members, 2);
    assert_eq!(
        app.audit_actions(&id).await,
        ["invitation.created", "invitation.accepted"]
    );
    app.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_sign_ups_through_one_invitation_make_exactly_one_user() {
    let app = TestApp::spawn().await;
    let (_, token) = app.invite("signup-race@example.com", "MEMBER").await;
    let path = format!("/users/v1/signup/invitations/{token}");
    let body = new_password();
    let results =
        futures::future::join_all((0..50).map(|_| app.post(&path, &Auth::None, body.clone())))
            .await;
    assert_eq!(results.iter().filter(|r| r.status == 200).count(), 1);
    for r in results.iter().filter(|r| r.status != 200) {
        assert_eq!(r.status, 409, "{:?}", r.body);
    }
    assert_eq!(app.users_with_email("signup-race@example.com").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn claiming_someone_elses_email_does_not_reveal_their_invitations() {
    let app = TestApp::spawn().await;
    let (id, _) = app.invite("victim@example.com", "MEMBER").await;
    let attacker = app.other_org("attacker@example.com").await;
    let session = app.login("attacker@example.com", &attacker.password).await;
    let r = app
        .put(
            "/users/v1/member/email",
            &session,
            json!({"email": "victim@example.com"}),
        )
        .await;
    assert_eq!(r.assert_ok()["status"], "UNVERIFIED");
    app.get("/users/v1/invitations", &session)
        .await
        .assert_error(403, "UnverifiedMember");
    app.get(&format!("/users/v1/invitations/{id}"), &session)
        .await
        .assert_error(404, "ResourceNotFound");
    app.post(&format!("/users/v1/invitations/{id}"), &session, json!({}))
        .await
        .assert_error(403, "UnverifiedMember");

    // A typo can still be corrected while unverified.
    let fixed = app
        .put(
            "/users/v1/member/email",
            &session,
            json!({"email": "attacker2@example.com"}),
        )
        .await;
    assert_eq!(fixed.assert_ok()["email"], "attacker2@example.com");
    app.stop().await;
}

/// The sweeper records expiry without anybody touching the invitation: state EXPIRED and an
/// `invitation.expired` audit event, once, for overdue invitations only.
#[tokio::test]
async fn the_sweeper_records_overdue_invitations_as_expired_once() {
    let app = TestApp::spawn_with(|c| c.sweep_interval_secs = 1).await;
    let (overdue, _) = app.invite("overdue@example.com", "MEMBER").await;
    app.advance_clock(time::Duration::days(29));
    let (fresh, _) = app.invite("fresh@example.com", "MEMBER").await;
    app.advance_clock(time::Duration::days(1) + time::Duration::seconds(1));

    let mut actions = Vec::new();
    for _ in 0..100 {
        actions = app.audit_actions(&overdue).await;
        if actions.len() > 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(actions, ["invitation.created", "invitation.expired"]);
    let row = usher::store::invitations::by_id(app.core().db.read(), &overdue)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.state, "EXPIRED");
    // Another pass (and a read of the invitation) records nothing twice; the fresh one is untouched.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    app.get(
        &format!("/users/v1/invitations/{overdue}"),
        &app.owner_key(),
    )
    .await
    .assert_error(410, "InvitationExpired");
    assert_eq!(
        app.audit_actions(&overdue).await,
        ["invitation.created", "invitation.expired"]
    );
    assert_eq!(app.audit_actions(&fresh).await, ["invitation.created"]);
    app.stop().await;
}
