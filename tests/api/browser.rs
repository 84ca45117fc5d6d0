//! End to end in headless Chromium (Debian's `chromium` and `chromedriver`, driven over WebDriver
//! by fantoccini): the invitee's journeys as a person makes them, from the link in the e-mail.
//! Each page visited is saved as a PNG under `target/tmp/screenshots/`.
//!
//! Without Chromium the tests print a SKIPPED notice and pass; where `CI` is set they fail
//! instead (`.ci/run` installs the packages).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::helpers::{Auth, PASSWORD, TestApp, free_port};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Two browsers at a time: each is a few processes, and this machine has two cores.
static BROWSERS: Semaphore = Semaphore::const_new(2);

struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    _permit: SemaphorePermit<'static>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
}

impl Browser {
    /// A fresh headless Chromium with an empty profile, or `None` (after a notice) where the
    /// machine has none and this is not CI.
    async fn start(test: &str) -> Option<Browser> {
        if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
            let notice = format!(
                "SKIPPED {test}: needs {CHROMIUM} and {CHROMEDRIVER} (Debian: apt-get install chromium chromium-driver)"
            );
            assert!(std::env::var_os("CI").is_none(), "{notice}");
            eprintln!("{notice}");
            return None;
        }
        let permit = BROWSERS.acquire().await.unwrap();
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        // The flags a root user in a sandbox without network needs (no sandbox, no background
        // traffic that the closed network would refuse).
        let caps = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1024,1100",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }
        });
        usher::install_tls_provider();
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            let mut builder = ClientBuilder::rustls().unwrap();
            builder.capabilities(caps.as_object().unwrap().clone());
            match builder.connect(&url).await {
                Ok(client) => {
                    return Some(Browser {
                        client,
                        driver,
                        _profile: profile,
                        _permit: permit,
                    });
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not answer: {last:?}");
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks and waits for the page the click leads to.
    async fn click(&self, css: &str) {
        let before = self.client.find(Locator::Css("html")).await.unwrap();
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        for _ in 0..100 {
            // The old document's element goes stale once the new page has loaded.
            if before.tag_name().await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("clicking {css} led nowhere");
    }

    async fn lang(&self) -> String {
        let html = self.client.find(Locator::Css("html")).await.unwrap();
        html.attr("lang").await.unwrap().unwrap_or_default()
    }

    /// Saves what the browser shows as `<name>.png`.
    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    async fn close(mut self) {
        let client = self.client.clone();
        client.close().await.unwrap();
        let _ = self.driver.kill();
    }
}

/// The link of the `nth` invitation e-mail to `to` (1: the first), exactly as the e-mail has it.
async fn link_from_mail(app: &TestApp, to: &str, nth: usize) -> String {
    let token = app.tokens_from_mail(to, "/invitations/", nth).await[nth - 1].clone();
    let link = format!("{}/invitations/{token}", app.base);
    let mails = app.mails_to(to, 1).await;
    assert!(
        mails.iter().any(|(_, text)| text.contains(&link)),
        "the e-mail carries {link}"
    );
    link
}

#[tokio::test]
async fn a_new_user_signs_up_through_the_e_mailed_link_and_lands_in_the_organization() {
    let Some(b) = Browser::start("browser sign-up").await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.post(
        "/users/v1/invitations",
        &app.owner_key(),
        json!({"email": "nat@example.com", "role": "DEVELOPER"}),
    )
    .await
    .assert_ok();
    let link = link_from_mail(&app, "nat@example.com", 1).await;
    b.goto(&link).await;
    assert_eq!(b.text("h1").await, "Join Acme");
    b.screenshot("invitation-sign-up").await;
    // A phone-sized window: the page reflows, nothing scrolls sideways.
    b.client.set_window_size(390, 844).await.unwrap();
    let overflow = b
        .client
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflow, json!(false), "no horizontal scrolling on a phone");
    b.screenshot("invitation-sign-up-phone").await;
    b.client.set_window_size(1024, 1100).await.unwrap();
    b.type_into("#name", "Nat New").await;
    b.type_into("#password", "short").await;
    b.type_into("#password-confirmation", "short").await;
    b.click("#submit").await;
    assert!(b.text("#password-error").await.starts_with("Use at least"));
    b.screenshot("invitation-sign-up-error").await;
    b.type_into("#password", PASSWORD).await;
    b.type_into("#password-confirmation", PASSWORD).await;
    b.click("#submit").await;
    assert_eq!(b.text("h1").await, "Your account");
    assert_eq!(b.text("#notice").await, "You joined Acme.");
    assert!(b.text("#orgs").await.contains("Acme"));
    b.screenshot("account").await;
    let members = app
        .get(
            &format!("/users/v1/accounts/{}/members", app.owner.org_id),
            &app.owner_key(),
        )
        .await;
    assert!(members.body.to_string().contains("Nat New"));
    b.close().await;
}

#[tokio::test]
async fn an_existing_user_signs_in_on_the_invitation_page_and_accepts() {
    let Some(b) = Browser::start("browser sign-in").await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.join("pat@example.com", "MEMBER").await;
    let other = app.other_org("boss@other.example").await;
    app.post(
        "/users/v1/invitations",
        &Auth::key(&other),
        json!({"email": "pat@example.com", "role": "OWNER"}),
    )
    .await
    .assert_ok();
    let link = link_from_mail(&app, "pat@example.com", 2).await;
    b.goto(&link).await;
    assert_eq!(b.text("#act").await, "Sign in to accept");
    b.screenshot("invitation-sign-in").await;
    b.type_into("#password", "not my password").await;
    b.click("#submit").await;
    assert_eq!(b.text("#password-error").await, "Wrong e-mail or password.");
    b.type_into("#password", PASSWORD).await;
    b.click("#submit").await;
    assert_eq!(b.text("#notice").await, "You joined Other Org.");
    let orgs = b.text("#orgs").await;
    assert!(
        orgs.contains("Acme") && orgs.contains("Other Org · Owner"),
        "{orgs}"
    );
    b.close().await;
}

#[tokio::test]
async fn declining_on_the_page_ends_the_invitation() {
    let Some(b) = Browser::start("browser decline").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let (id, token) = app.invite("nope@example.com", "MEMBER").await;
    b.goto(&format!("{}/invitations/{token}", app.base)).await;
    b.click("#decline-button").await;
    assert_eq!(b.text("h1").await, "Invitation declined");
    b.screenshot("declined").await;
    let state = app
        .scalar(
            "SELECT COUNT(*) FROM invitations WHERE id = $1 AND state = 'REJECTED'",
            &id,
        )
        .await;
    assert_eq!(state, 1);
    b.goto(&format!("{}/invitations/{token}", app.base)).await;
    assert_eq!(b.text("h1").await, "This invitation was declined");
    b.close().await;
}

#[tokio::test]
async fn an_expired_link_says_so_and_offers_nothing() {
    let Some(b) = Browser::start("browser expired").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let (_, token) = app.invite("late@example.com", "MEMBER").await;
    app.advance_clock(time::Duration::days(31));
    b.goto(&format!("{}/invitations/{token}", app.base)).await;
    assert_eq!(b.text("h1").await, "This invitation has expired");
    assert!(
        b.client.find(Locator::Css("form")).await.is_err(),
        "no form on an expired link"
    );
    b.screenshot("expired").await;
    b.close().await;
}

#[tokio::test]
async fn signing_in_with_another_account_explains_and_offers_to_sign_out() {
    let Some(b) = Browser::start("browser wrong account").await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.join("pat@example.com", "MEMBER").await;
    app.join("sam@example.com", "MEMBER").await;
    let other = app.other_org("boss@other.example").await;
    app.post(
        "/users/v1/invitations",
        &Auth::key(&other),
        json!({"email": "sam@example.com", "role": "MEMBER"}),
    )
    .await
    .assert_ok();
    let link = link_from_mail(&app, "sam@example.com", 2).await;
    b.goto(&link).await;
    // Pat opens Sam's invitation and signs in as Pat.
    b.type_into("#email", "pat@example.com").await;
    b.type_into("#password", PASSWORD).await;
    b.click("#submit").await;
    assert_eq!(
        b.text("#act").await,
        "You are signed in with another account"
    );
    let why = b.text("#wrong-account").await;
    assert!(
        why.contains("sent to sam@example.com") && why.contains("signed in as pat@example.com"),
        "{why}"
    );
    b.screenshot("wrong-account").await;
    b.click("#sign-out").await;
    assert_eq!(
        b.text("#act").await,
        "Sign in to accept",
        "back on the invitation, signed out"
    );
    let pending = app
        .scalar(
            "SELECT COUNT(*) FROM invitations WHERE email_normalized = $1 AND state = 'PENDING'",
            "sam@example.com",
        )
        .await;
    assert_eq!(pending, 1, "the invitation is still Sam's to accept");
    b.close().await;
}

#[tokio::test]
async fn a_form_posted_without_its_csrf_token_is_refused() {
    let Some(b) = Browser::start("browser csrf").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let (_, token) = app.invite("nat@example.com", "MEMBER").await;
    b.goto(&format!("{}/invitations/{token}", app.base)).await;
    // What a forged form lacks: remove the field before sending.
    b.client
        .execute(
            "document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())",
            vec![],
        )
        .await
        .unwrap();
    b.type_into("#password", PASSWORD).await;
    b.type_into("#password-confirmation", PASSWORD).await;
    b.click("#submit").await;
    assert_eq!(b.text("h1").await, "This form has expired");
    b.screenshot("csrf-refused").await;
    let users = app.users_with_email("nat@example.com").await;
    assert_eq!(users, 0, "nothing was created");
    b.close().await;
}

#[tokio::test]
async fn the_korean_page_renders() {
    let Some(b) = Browser::start("browser Korean").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let (_, token) = app.invite("min@example.com", "DEVELOPER").await;
    b.goto(&format!("{}/invitations/{token}", app.base)).await;
    assert_eq!(b.lang().await, "en");
    b.click("a[hreflang=ko]").await;
    assert_eq!(b.lang().await, "ko");
    assert_eq!(b.text("h1").await, "Acme에 참여하기");
    assert_eq!(b.text("#act").await, "계정 만들기");
    b.screenshot("invitation-ko").await;
    b.goto(&format!("{}/invitations/{token}", app.base)).await;
    assert_eq!(b.lang().await, "ko", "the choice is remembered");
    b.close().await;
}
