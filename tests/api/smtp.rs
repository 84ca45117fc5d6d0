//! E-mail over SMTP to a real server: aiosmtpd (PyPI) started by the test, storing what it
//! receives in a Maildir and rejecting recipients whose address starts with `reject` (550).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::helpers::{Auth, PASSWORD, TestApp, free_port, new_password, python_venv};

/// The SMTP server's handler: aiosmtpd's Maildir handler, with a permanent rejection.
const SINK: &str = r#"
from aiosmtpd.handlers import Mailbox

class Sink(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"
"#;

struct SmtpServer {
    child: Child,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts aiosmtpd on `port` and waits until it accepts connections; `None` when Python is not
/// available outside CI (see [`python_venv`]).
fn smtp_server(port: u16) -> Option<SmtpServer> {
    let python = python_venv(
        "smtp-venv",
        &["aiosmtpd==1.4.6"],
        "the SMTP delivery test (aiosmtpd)",
    )?;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("usher_sink.py"), SINK).unwrap();
    let maildir = dir.path().join("maildir");
    let child = Command::new(python)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", "usher_sink.Sink"])
        .arg(&maildir)
        .env("PYTHONPATH", dir.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Owned at once, so that it is killed and waited for however this function ends.
    let server = SmtpServer {
        child,
        maildir,
        _dir: dir,
    };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(server);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("aiosmtpd did not start on port {port}");
}

/// A message as received: recipients, subject, and its text and HTML parts.
#[derive(Debug)]
struct Received {
    to: String,
    subject: String,
    message_id: String,
    text: String,
    html: String,
}

fn received(maildir: &Path) -> Vec<Received> {
    let Ok(entries) = std::fs::read_dir(maildir.join("new")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let raw = std::fs::read(e.path()).unwrap();
        let m = mailparse::parse_mail(&raw).unwrap();
        let header = |name: &str| {
            m.headers
                .iter()
                .find(|h| h.get_key().eq_ignore_ascii_case(name))
                .map(|h| h.get_value())
                .unwrap_or_default()
        };
        assert_eq!(m.ctype.mimetype, "multipart/alternative");
        let part = |mime: &str| {
            m.subparts
                .iter()
                .find(|p| p.ctype.mimetype == mime)
                .unwrap_or_else(|| panic!("a {mime} part"))
                .get_body()
                .unwrap()
        };
        out.push(Received {
            to: header("To"),
            subject: header("Subject"),
            message_id: header("Message-ID"),
            text: part("text/plain"),
            html: part("text/html"),
        });
    }
    out
}

/// Waits for at least `n` messages to `to`.
async fn wait_for(maildir: &Path, to: &str, n: usize) -> Vec<Received> {
    for _ in 0..200 {
        let mine: Vec<Received> = received(maildir)
            .into_iter()
            .filter(|m| m.to.contains(to))
            .collect();
        if mine.len() >= n {
            return mine;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} messages to {to} arrived");
}

/// The 43-character token after `marker` in a text.
fn token_after(text: &str, marker: &str) -> String {
    let i = text.find(marker).expect("the link is in the message") + marker.len();
    text[i..].chars().take(43).collect()
}

async fn smtp_app(port: u16) -> TestApp {
    TestApp::spawn_with(|c| {
        c.mail_transport = Some(format!("smtp://127.0.0.1:{port}?tls=none"));
    })
    .await
}

#[tokio::test]
async fn invitation_resend_verification_and_reset_mails_arrive_over_smtp_and_their_links_work() {
    let port = free_port();
    let Some(smtp) = smtp_server(port) else {
        return;
    };
    let app = smtp_app(port).await;
    let invited = app
        .post(
            "/users/v1/invitations",
            &app.owner_key(),
            json!({"email": "new@example.com", "role": "DEVELOPER"}),
        )
        .await;
    let id = invited.assert_ok()["invitationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = wait_for(&smtp.maildir, "new@example.com", 1).await;
    let m = &first[0];
    assert!(m.subject.starts_with("You are invited to join"), "{m:?}");
    assert!(m.text.contains("as DEVELOPER") && m.html.contains("DEVELOPER"));
    assert_eq!(m.message_id, format!("<{}@usher>", outbox_id(&app).await));
    let old = token_after(&m.text, "/invitations/");

    app.post(
        &format!("/usher/v1/invitations/{id}/resend"),
        &app.owner_key(),
        json!({}),
    )
    .await
    .assert_ok();
    let both = wait_for(&smtp.maildir, "new@example.com", 2).await;
    let new = both
        .iter()
        .map(|m| token_after(&m.text, "/invitations/"))
        .find(|t| *t != old)
        .expect("the resent message carries a new token");
    app.post(
        &format!("/users/v1/signup/invitations/{old}"),
        &Auth::None,
        new_password(),
    )
    .await
    .assert_error(404, "ResourceNotFound");
    app.post(
        &format!("/users/v1/signup/invitations/{new}"),
        &Auth::None,
        new_password(),
    )
    .await
    .assert_ok();

    // Sign-up through the bare id: a verification e-mail.
    let id_only = app
        .post(
            "/users/v1/invitations",
            &app.owner_key(),
            json!({"email": "byid@example.com", "role": "MEMBER"}),
        )
        .await
        .assert_ok()["invitationId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/users/v1/signup/invitations/{id_only}"),
        &Auth::None,
        new_password(),
    )
    .await
    .assert_ok();
    let verification = wait_for(&smtp.maildir, "byid@example.com", 2)
        .await
        .into_iter()
        .find(|m| m.subject == "Verify your e-mail address")
        .expect("a verification e-mail");
    let token = token_after(&verification.text, "/verify-email/");
    let verified = app.verify_email(&token).await;
    assert_eq!(verified.assert_ok()["status"], "ACTIVE");

    // Password reset.
    app.post(
        "/users/v1/member/password/reset",
        &Auth::None,
        json!({"email": "new@example.com"}),
    )
    .await
    .assert_ok();
    let reset = wait_for(&smtp.maildir, "new@example.com", 3)
        .await
        .into_iter()
        .find(|m| m.subject == "Reset your password")
        .expect("a reset e-mail");
    let token = token_after(&reset.text, "/users/v1/member/password/reset/");
    let fresh = "a brand new passphrase";
    app.put(
        &format!("/users/v1/member/password/reset/{token}"),
        &Auth::None,
        json!({"password": fresh, "passwordConfirmation": fresh}),
    )
    .await
    .assert_ok();
    app.login("new@example.com", fresh).await;
    assert_ne!(fresh, PASSWORD);
    app.stop().await;
}

/// The id of the (only) outbox message so far.
async fn outbox_id(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT id FROM outbox ORDER BY created_at LIMIT 1")
        .fetch_one(app.core().db.read())
        .await
        .unwrap()
}

#[tokio::test]
async fn while_the_smtp_server_is_down_mail_waits_and_is_delivered_once_it_is_back() {
    let port = free_port();
    let app = smtp_app(port).await;
    app.post(
        "/users/v1/invitations",
        &app.owner_key(),
        json!({"email": "patient@example.com", "role": "MEMBER"}),
    )
    .await
    .assert_ok();
    let row = app
        .wait_outbox("patient@example.com", |r| r.1 >= 1 && r.2.is_some())
        .await;
    assert_eq!(row.0, "PENDING", "retried, not parked: {row:?}");
    assert!(row.2.is_some(), "the connection error is kept: {row:?}");

    let Some(smtp) = smtp_server(port) else {
        return;
    };
    app.advance_clock(time::Duration::minutes(10));
    app.core().outbox_wakeup.notify_one();
    let arrived = wait_for(&smtp.maildir, "patient@example.com", 1).await;
    assert_eq!(arrived.len(), 1);
    let row = app
        .wait_outbox("patient@example.com", |r| r.0 == "SENT")
        .await;
    assert_eq!(row.0, "SENT");
    app.stop().await;
}

#[tokio::test]
async fn a_permanent_rejection_is_parked_at_once_with_the_servers_answer() {
    let port = free_port();
    let Some(_smtp) = smtp_server(port) else {
        return;
    };
    let app = smtp_app(port).await;
    app.post(
        "/users/v1/invitations",
        &app.owner_key(),
        json!({"email": "reject-me@example.com", "role": "MEMBER"}),
    )
    .await
    .assert_ok();
    let row = app
        .wait_outbox("reject-me@example.com", |r| r.0 == "PARKED")
        .await;
    assert_eq!(row.0, "PARKED", "{row:?}");
    assert_eq!(
        row.1, 1,
        "one attempt: a 5xx answer does not change on retry"
    );
    let error = row.2.unwrap_or_default();
    assert!(error.contains("550"), "{error}");
    app.stop().await;
}
