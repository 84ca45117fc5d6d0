//! The outbox: e-mails are written in the changing transaction and delivered by the worker;
//! failures are retried with backoff and parked after the last attempt, the error kept.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn an_undeliverable_message_is_retried_then_parked_with_its_error() {
    let app = TestApp::spawn().await;
    // Make the file transport fail: its folder becomes a plain file.
    let dir = app.mail_dir();
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"not a folder").unwrap();

    let r = app
        .post(
            "/users/v1/invitations",
            &app.owner_key(),
            json!({"email": "lost@example.com", "role": "MEMBER"}),
        )
        .await;
    r.assert_ok();
    let mut last = (String::new(), 0, None);
    for _ in 0..400 {
        last = app.outbox_state("lost@example.com").await;
        if last.0 == "PARKED" {
            break;
        }
        // Each failed attempt is scheduled up to 2^n s (+25 %) later; move the clock past it.
        app.advance_clock(time::Duration::minutes(10));
        app.core().outbox_wakeup.notify_one();
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(last.0, "PARKED", "{last:?}");
    assert_eq!(last.1, usher::delivery::MAX_ATTEMPTS);
    assert!(
        last.2.as_deref().is_some_and(|e| !e.is_empty()),
        "the error is kept: {last:?}"
    );

    // The owner sees the parked message and why; a member may not look.
    let org = app.owner.org_id.clone();
    let parked = app
        .get(
            &format!("/usher/v1/accounts/{org}/outbox?state=PARKED"),
            &app.owner_key(),
        )
        .await;
    let list = parked.assert_ok().as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");
    let m = &list[0];
    assert_eq!(
        (&m["purpose"], &m["recipient"], &m["state"]),
        (
            &json!("invitation"),
            &json!("lost@example.com"),
            &json!("PARKED")
        )
    );
    assert!(m["lastError"].as_str().is_some_and(|e| !e.is_empty()));
    assert!(m.get("payload").is_none() && m.get("payloadEncrypted").is_none());
    let (member, _) = {
        // Joining sends mail too; the folder must work again first.
        std::fs::remove_file(&dir).unwrap();
        std::fs::create_dir(&dir).unwrap();
        app.join("mem@example.com", "MEMBER").await
    };
    app.get(&format!("/usher/v1/accounts/{org}/outbox"), &member)
        .await
        .assert_error(403, "Forbidden");

    // Re-queued, it is delivered; a message that is not parked cannot be re-queued.
    let id = m["messageId"].as_str().unwrap();
    let retry = format!("/usher/v1/accounts/{org}/outbox/{id}/retry");
    let r = app.post(&retry, &member, json!({})).await;
    r.assert_error(403, "Forbidden");
    let r = app.post(&retry, &app.owner_key(), json!({})).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(app.mails_to("lost@example.com", 1).await.len(), 1);
    let sent = app.wait_outbox("lost@example.com", |r| r.0 == "SENT").await;
    assert_eq!(sent.0, "SENT");
    app.post(&retry, &app.owner_key(), json!({}))
        .await
        .assert_error(404, "ResourceNotFound");
    app.get(
        &format!("/usher/v1/accounts/{org}/outbox?state=LOST"),
        &app.owner_key(),
    )
    .await
    .assert_error(400, "ValidationError");
    app.get(
        &format!("/usher/v1/accounts/{org}/outbox?color=red"),
        &app.owner_key(),
    )
    .await
    .assert_error(400, "ValidationError");
    app.stop().await;
}

#[tokio::test]
async fn every_queued_message_is_delivered_once_with_a_stable_message_id() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        let r = app
            .post(
                "/users/v1/invitations",
                &app.owner_key(),
                json!({"email": format!("bulk{i}@example.com"), "role": "MEMBER"}),
            )
            .await;
        r.assert_ok();
    }
    for i in 0..5 {
        assert_eq!(
            app.mails_to(&format!("bulk{i}@example.com"), 1).await.len(),
            1
        );
    }
    // The file is written before the worker records the message as SENT (at-least-once), so
    // wait for the record too.
    let mut sent = 0;
    for _ in 0..200 {
        sent = app
            .scalar("SELECT COUNT(*) FROM outbox WHERE state = $1", "SENT")
            .await;
        if sent == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(sent, 5);
    let files: Vec<_> = std::fs::read_dir(app.mail_dir())
        .unwrap()
        .flatten()
        .collect();
    for f in files {
        let raw = std::fs::read_to_string(f.path()).unwrap();
        let id = f.path().file_stem().unwrap().to_string_lossy().into_owned();
        assert!(raw.contains(&format!("Message-ID: <{id}@usher>")), "{raw}");
        assert!(raw.contains("multipart/alternative"));
    }
    app.stop().await;
}

/// An instance without the worker answers and queues, but delivers nothing itself.
#[tokio::test]
async fn an_instance_without_the_outbox_worker_queues_but_does_not_deliver() {
    let app = TestApp::spawn_with(|c| c.outbox_worker = false).await;
    app.post(
        "/users/v1/invitations",
        &app.owner_key(),
        json!({"email": "later@example.com", "role": "MEMBER"}),
    )
    .await
    .assert_ok();
    app.core().outbox_wakeup.notify_one();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        app.outbox_state("later@example.com").await,
        ("PENDING".to_owned(), 0, None)
    );
    let files = std::fs::read_dir(app.mail_dir()).map_or(0, |d| d.count());
    assert_eq!(files, 0);
    app.stop().await;
}

/// Workers claiming at the same time (several instances on one PostgreSQL database) never take
/// the same message: each is claimed once.
#[tokio::test]
async fn concurrent_claims_never_take_the_same_message() {
    let app = TestApp::spawn_with(|c| c.outbox_worker = false).await;
    let core = app.core();
    let mut tx = core.db.begin().await.unwrap();
    for i in 0..200 {
        let mail = usher::core::mail::Mail::PasswordReset { token: "t" };
        let sealed = core
            .seal_mail(&format!("claim-{i}@example.com"), None, mail)
            .unwrap();
        core.queue(&mut tx, &[sealed]).await.unwrap();
    }
    tx.commit().await.unwrap();

    let now = usher::core::clock::format_ts(core.clock.now() + time::Duration::seconds(1));
    let lease = usher::core::clock::format_ts(core.clock.now() + time::Duration::minutes(1));
    let claims =
        (0..8).map(|_| usher::store::outbox::claim_due(&core.db, &now, &lease, 40, &[], &now));
    let mut ids: Vec<String> = futures::future::join_all(claims)
        .await
        .into_iter()
        .flat_map(|r| r.unwrap())
        .map(|row| row.id)
        .collect();
    let claimed = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), claimed, "a message was claimed twice");
    assert_eq!(claimed, 200);
    app.stop().await;
}
