//! The role matrix: who may do what in an account, through the SOLAPI face and usher's API keys.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp};

/// One operation on the owner's account, and the status each caller should get.
struct Case {
    name: &'static str,
    method: Method,
    path: String,
    body: Option<Value>,
    /// owner, developer, member, another account's owner
    expect: [u16; 4],
}

#[tokio::test]
async fn each_role_gets_exactly_the_permissions_of_the_table() {
    let app = TestApp::spawn().await;
    let (developer, _) = app.join("dev@example.com", "DEVELOPER").await;
    let (member, member_id) = app.join("mem@example.com", "MEMBER").await;
    let outsider = app.other_org("outsider@example.com").await;
    let outsider = Auth::key(&outsider);
    let org = app.owner.org_id.clone();
    let callers = [app.owner_key(), developer, member, outsider];

    let cases = vec![
        Case {
            name: "read the account",
            method: Method::GET,
            path: format!("/users/v1/accounts/{org}"),
            body: None,
            expect: [200, 200, 200, 404],
        },
        Case {
            name: "list members",
            method: Method::GET,
            path: format!("/users/v1/accounts/{org}/members"),
            body: None,
            expect: [200, 200, 200, 404],
        },
        Case {
            name: "read a member",
            method: Method::GET,
            path: format!("/users/v1/accounts/{org}/members/{member_id}"),
            body: None,
            expect: [200, 200, 200, 404],
        },
        Case {
            name: "list invitations",
            method: Method::GET,
            path: format!("/users/v1/accounts/{org}/invitations"),
            body: None,
            expect: [200, 403, 403, 404],
        },
        Case {
            name: "rename the account",
            method: Method::PUT,
            path: format!("/users/v1/accounts/{org}"),
            body: Some(json!({"name": "Renamed"})),
            expect: [200, 403, 403, 404],
        },
        Case {
            name: "change a role",
            method: Method::PUT,
            path: format!("/users/v1/accounts/{org}/members/{member_id}"),
            body: Some(json!({"role": "MEMBER"})),
            expect: [200, 403, 403, 404],
        },
        Case {
            name: "list API keys",
            method: Method::GET,
            path: format!("/usher/v1/accounts/{org}/api-keys"),
            body: None,
            expect: [200, 200, 403, 404],
        },
        Case {
            name: "create an API key",
            method: Method::POST,
            path: format!("/usher/v1/accounts/{org}/api-keys"),
            body: Some(json!({})),
            expect: [200, 200, 403, 404],
        },
    ];
    for case in &cases {
        for (caller, expected) in callers.iter().zip(case.expect) {
            let r = app
                .call(case.method.clone(), &case.path, caller, case.body.clone())
                .await;
            assert_eq!(
                r.status.as_u16(),
                expected,
                "{} by {caller:?}: {:?}",
                case.name,
                r.body
            );
        }
    }

    // Sending and cancelling invitations target the caller's current account.
    let statuses = [200, 403, 403];
    for (i, (caller, expected)) in callers.iter().zip(statuses).enumerate() {
        let r = app
            .post(
                "/users/v1/invitations",
                caller,
                json!({"email": format!("new{i}@example.com"), "role": "MEMBER"}),
            )
            .await;
        assert_eq!(
            r.status.as_u16(),
            expected,
            "send by {caller:?}: {:?}",
            r.body
        );
    }
    let (id, _) = app.invite("to-cancel@example.com", "MEMBER").await;
    for (caller, expected) in callers[1..].iter().zip([403, 403, 404]) {
        let r = app
            .delete(&format!("/users/v1/invitations/{id}"), caller)
            .await;
        assert_eq!(
            r.status.as_u16(),
            expected,
            "cancel by {caller:?}: {:?}",
            r.body
        );
    }
    app.delete(&format!("/users/v1/invitations/{id}"), &app.owner_key())
        .await
        .assert_ok();
    app.stop().await;
}

#[tokio::test]
async fn a_member_who_joined_as_owner_manages_invitations() {
    let app = TestApp::spawn().await;
    let (new_owner, _) = app.join("boss2@example.com", "OWNER").await;
    let r = app
        .get(
            &format!("/users/v1/accounts/{}/invitations", app.owner.org_id),
            &new_owner,
        )
        .await;
    r.assert_ok();
    app.stop().await;
}

/// Authentication caches what a key stands for (docs/benchmarks.md), but never past a change made
/// through this server: a demoted owner's key loses the owner's rights on its very next request.
#[tokio::test]
async fn a_demotion_applies_to_the_next_request_of_the_demoted_owners_key() {
    let app = TestApp::spawn().await;
    let org = app.owner.org_id.clone();
    let (second_owner, second_id) = app.join("boss2@example.com", "OWNER").await;
    let keys = format!("/usher/v1/accounts/{org}/api-keys");
    let created = app.post(&keys, &second_owner, json!({})).await;
    let c = created.assert_ok();
    let key = Auth::Key(
        c["apiKey"].as_str().unwrap().to_owned(),
        c["apiSecret"].as_str().unwrap().to_owned(),
    );
    let invitations = format!("/users/v1/accounts/{org}/invitations");
    app.get(&invitations, &key).await.assert_ok();
    app.get(&invitations, &key).await.assert_ok();

    let member = format!("/users/v1/accounts/{org}/members/{second_id}");
    app.put(&member, &app.owner_key(), json!({"role": "MEMBER"}))
        .await
        .assert_ok();
    app.get(&invitations, &key)
        .await
        .assert_error(403, "Forbidden");
    app.stop().await;
}
