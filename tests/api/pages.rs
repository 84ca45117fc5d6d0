//! The invitee's pages over plain HTTP: what a browser receives (headers, cookies, markup), that
//! opening a link changes nothing, and that every form refuses a missing or forged CSRF field.
//! `browser.rs` drives the same pages in Chromium.

use std::collections::BTreeMap;

use reqwest::header::HeaderMap;

use crate::helpers::{Auth, PASSWORD, TestApp};

/// A browser stand-in: keeps cookies, never follows redirects, and sends the CSRF field of the
/// last page it read with each form.
pub struct Visitor {
    base: String,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
    csrf: Option<String>,
    accept_language: Option<&'static str>,
}

pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub html: String,
}

impl Page {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    pub fn location(&self) -> &str {
        self.header("location")
    }
}

/// The value of the first `name="csrf"` field of a page.
fn csrf_field(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_owned())
}

impl Visitor {
    pub fn new(app: &TestApp) -> Visitor {
        Visitor {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            csrf: None,
            accept_language: None,
        }
    }

    pub fn speaking(mut self, accept_language: &'static str) -> Visitor {
        self.accept_language = Some(accept_language);
        self
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let mut req = req.header("cookie", self.cookie_header());
        if let Some(l) = self.accept_language {
            req = req.header("accept-language", l);
        }
        let r = req.send().await.unwrap();
        let page = Page {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            html: r.text().await.unwrap(),
        };
        for c in page.set_cookies() {
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        if let Some(f) = csrf_field(&page.html) {
            self.csrf = Some(f);
        }
        page
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    /// Posts a form with the CSRF field of the last page read.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self
            .csrf
            .clone()
            .expect("a page with a form was read first");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly `fields`.
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }
}

/// Pat, a member of Acme, invited into a second organization ("Other Org"): that invitation's id.
async fn pat_invited_elsewhere(app: &TestApp) -> String {
    app.join("pat@example.com", "MEMBER").await;
    let other = app.other_org("boss@other.example").await;
    let r = app
        .post(
            "/users/v1/invitations",
            &Auth::key(&other),
            serde_json::json!({"email": "pat@example.com", "role": "MEMBER"}),
        )
        .await;
    r.assert_ok()["invitationId"].as_str().unwrap().to_owned()
}

/// A browser stand-in signed in as Pat.
async fn signed_in_as_pat(app: &TestApp) -> Visitor {
    let mut v = Visitor::new(app);
    v.get("/sign-in").await;
    let done = v
        .post(
            "/sign-in",
            &[("email", "pat@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, 303);
    v
}

#[tokio::test]
async fn the_invitation_link_shows_the_organization_inviter_role_and_expiry_and_offers_sign_up() {
    let app = TestApp::spawn().await;
    let (_, token) = app.invite("new@example.com", "DEVELOPER").await;
    let mut v = Visitor::new(&app);
    let page = v.get(&format!("/invitations/{token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").starts_with("text/html"));
    for text in [
        "Join Acme",
        "new@example.com",
        "Developer",
        "UTC",
        "Create your account",
    ] {
        assert!(page.html.contains(text), "the page shows {text}");
    }
    assert!(
        page.html.contains("invited you to join Acme"),
        "names the inviter"
    );
    assert!(
        page.html
            .contains(&format!("action=\"/invitations/{token}/signup\""))
    );
    assert!(
        page.html
            .contains(&format!("action=\"/invitations/{token}/decline\""))
    );
    assert!(page.html.contains("<html lang=\"en\">"));
    assert!(
        page.html.contains("<label for=\"password\">"),
        "every input has a label"
    );
}

#[tokio::test]
async fn pages_are_private_uncached_and_load_nothing_from_elsewhere() {
    let app = TestApp::spawn().await;
    let (_, token) = app.invite("new@example.com", "MEMBER").await;
    let mut v = Visitor::new(&app);
    for path in [
        format!("/invitations/{token}"),
        "/sign-in".into(),
        "/invitations/nope".into(),
    ] {
        let page = v.get(&path).await;
        assert_eq!(page.header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(page.header("cache-control"), "no-store", "{path}");
        assert_eq!(page.header("x-content-type-options"), "nosniff");
        let csp = page.header("content-security-policy");
        for directive in [
            "default-src 'none'",
            "style-src 'sha256-",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: CSP has {directive}: {csp}"
            );
        }
        assert!(
            page.html.len() < 50 * 1024,
            "{path} weighs {} bytes",
            page.html.len()
        );
        for external in ["src=", "href=\"http", "<script", "<link", "@import", "url("] {
            assert!(
                !page.html.contains(external),
                "{path} refers elsewhere: {external}"
            );
        }
    }
}

#[tokio::test]
async fn opening_an_invitation_link_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_, token) = app.invite("new@example.com", "MEMBER").await;
    app.mails_to("new@example.com", 1).await;
    let before = app.snapshot().await;
    let mut v = Visitor::new(&app);
    for _ in 0..3 {
        assert_eq!(v.get(&format!("/invitations/{token}")).await.status, 200);
    }
    assert_eq!(
        app.snapshot().await,
        before,
        "a GET is safe from mail scanners"
    );
}

#[tokio::test]
async fn an_unknown_link_reads_exactly_like_a_wrong_or_malformed_one() {
    let app = TestApp::spawn().await;
    let (id, token) = app.invite("new@example.com", "MEMBER").await;
    let mut wrong = token.clone();
    wrong.replace_range(0..1, if token.starts_with('A') { "B" } else { "A" });
    let mut v = Visitor::new(&app);
    let mut pages = Vec::new();
    for segment in [wrong.as_str(), "not-a-token", id.as_str()] {
        let p = v.get(&format!("/invitations/{segment}")).await;
        assert_eq!(p.status, 404);
        assert!(p.html.contains("This link is not valid"));
        // The language switch links back to the address itself; nothing else differs.
        pages.push(p.html.replace(segment, "…"));
    }
    assert_eq!(pages[0], pages[1]);
    assert_eq!(pages[0], pages[2], "the bare id is not a key to the page");
}

#[tokio::test]
async fn a_form_without_its_csrf_field_or_with_a_forged_one_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_, token) = app.invite("new@example.com", "MEMBER").await;
    app.mails_to("new@example.com", 1).await;
    let mut v = Visitor::new(&app);
    v.get(&format!("/invitations/{token}")).await;
    let before = app.snapshot().await;
    let signup = format!("/invitations/{token}/signup");
    let fields = [("password", PASSWORD), ("password_confirmation", PASSWORD)];
    let missing = v.post_raw(&signup, &fields).await;
    assert_eq!(missing.status, 403);
    assert!(missing.html.contains("This form has expired"));
    let forged = v
        .post_raw(
            &signup,
            &[("csrf", "f".repeat(64).as_str()), fields[0], fields[1]],
        )
        .await;
    assert_eq!(forged.status, 403);
    // A stranger's browser has no CSRF cookie: a field copied from someone else's page fails.
    let field = v.csrf.clone().unwrap();
    let mut stranger = Visitor::new(&app);
    let copied = stranger
        .post_raw(&signup, &[("csrf", field.as_str()), fields[0], fields[1]])
        .await;
    assert_eq!(copied.status, 403);
    for path in [
        format!("/invitations/{token}/decline"),
        format!("/invitations/{token}/accept"),
        "/sign-out".into(),
        "/sign-in".into(),
    ] {
        assert_eq!(v.post_raw(&path, &[]).await.status, 403, "{path}");
    }
    let cross_site = v
        .client
        .post(format!("{}/invitations/{token}/decline", app.base))
        .header("cookie", v.cookie_header())
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={field}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        cross_site.status().as_u16(),
        403,
        "a cross-site post is refused"
    );
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn signing_up_through_the_page_joins_the_organization_signed_in() {
    let app = TestApp::spawn().await;
    let (_, token) = app.invite("new@example.com", "DEVELOPER").await;
    let mut v = Visitor::new(&app);
    v.get(&format!("/invitations/{token}")).await;
    let done = v
        .post(
            &format!("/invitations/{token}/signup"),
            &[
                ("name", "Nat New"),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert!(done.location().starts_with("/account?joined="));
    assert!(v.has_cookie("usher_session"));
    let account = v.get(done.location()).await;
    assert_eq!(account.status, 200);
    assert!(account.html.contains("You joined Acme."));
    assert!(account.html.contains("Developer"));
    let path = format!("/users/v1/accounts/{}/members", app.owner.org_id);
    let members = app.get(&path, &app.owner_key()).await;
    assert!(
        members.body.to_string().contains("Nat New"),
        "the owner sees the new member"
    );
    // The link is spent.
    let again = v.get(&format!("/invitations/{token}")).await;
    assert_eq!(again.status, 410);
    assert!(again.html.contains("already accepted"));
}

#[tokio::test]
async fn password_rules_are_explained_next_to_the_field_that_broke_them() {
    let app = TestApp::spawn().await;
    let (_, token) = app.invite("new@example.com", "MEMBER").await;
    let mut v = Visitor::new(&app);
    v.get(&format!("/invitations/{token}")).await;
    let path = format!("/invitations/{token}/signup");
    let short = v
        .post(
            &path,
            &[
                ("name", "Nat"),
                ("password", "short"),
                ("password_confirmation", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(short.html.contains("id=\"password-error\">Use at least"));
    assert!(short.html.contains("aria-invalid=\"true\""));
    assert!(short.html.contains("value=\"Nat\""), "what was typed stays");
    let common = v
        .post(
            &path,
            &[
                ("password", "password123"),
                ("password_confirmation", "password123"),
            ],
        )
        .await;
    assert!(
        common
            .html
            .contains("id=\"password-error\">This password is too common")
    );
    let mismatch = v
        .post(
            &path,
            &[
                ("password", PASSWORD),
                ("password_confirmation", "correct horse battery!"),
            ],
        )
        .await;
    assert!(
        mismatch
            .html
            .contains("id=\"confirmation-error\">The two passwords do not match")
    );
    assert_eq!(app.users_with_email("new@example.com").await, 0);
}

#[tokio::test]
async fn too_many_attempts_get_a_friendly_message() {
    let app = TestApp::spawn_with(|c| c.auth_rate_per_minute = 1).await;
    let (_, token) = app.invite("new@example.com", "MEMBER").await;
    let mut v = Visitor::new(&app);
    v.get(&format!("/invitations/{token}")).await;
    let path = format!("/invitations/{token}/signup");
    let first = v
        .post(
            &path,
            &[("password", "short"), ("password_confirmation", "short")],
        )
        .await;
    assert_eq!(first.status, 422);
    let second = v
        .post(
            &path,
            &[("password", PASSWORD), ("password_confirmation", PASSWORD)],
        )
        .await;
    assert_eq!(second.status, 429);
    assert!(
        second
            .html
            .contains("Too many attempts from your network. Try again in")
    );
    assert!(second.html.contains("role=\"alert\""));
}

#[tokio::test]
async fn korean_is_chosen_from_accept_language_and_the_switch_remembers_a_choice() {
    let app = TestApp::spawn().await;
    let (_, token) = app.invite("new@example.com", "MEMBER").await;
    let path = format!("/invitations/{token}");
    let mut v = Visitor::new(&app).speaking("ko-KR,ko;q=0.9,en;q=0.5");
    let ko = v.get(&path).await;
    assert!(ko.html.contains("<html lang=\"ko\">"));
    assert!(ko.html.contains("Acme에 참여하기"));
    assert_eq!(ko.header("content-language"), "ko");
    assert!(
        ko.html.contains(&format!("href=\"{path}?lang=en\"")),
        "the switch to English"
    );
    let en = v.get(&format!("{path}?lang=en")).await;
    assert!(en.html.contains("Join Acme"));
    let still_en = v.get(&path).await;
    assert!(
        still_en.html.contains("Join Acme"),
        "the choice outlives Accept-Language"
    );
}

#[tokio::test]
async fn behind_https_the_cookies_are_secure_host_only_http_only_and_same_site() {
    let app =
        TestApp::spawn_with(|c| c.public_url = Some("https://usher.example.com".into())).await;
    let (_, token) = app.invite("new@example.com", "MEMBER").await;
    let mut v = Visitor::new(&app);
    let page = v.get(&format!("/invitations/{token}")).await;
    let csrf = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-usher_csrf="))
        .expect("CSRF cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(csrf.contains(attr), "{csrf} has {attr}");
    }
    let done = v
        .post(
            &format!("/invitations/{token}/signup"),
            &[("password", PASSWORD), ("password_confirmation", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, 303);
    let session = done
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-usher_session="))
        .expect("session cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age="] {
        assert!(session.contains(attr), "{session} has {attr}");
    }
}

#[tokio::test]
async fn the_account_page_lists_pending_invitations_to_accept_or_decline() {
    let app = TestApp::spawn().await;
    let id = pat_invited_elsewhere(&app).await;
    let mut v = Visitor::new(&app);
    assert_eq!(v.get("/account").await.location(), "/sign-in?next=/account");
    v.get("/sign-in?next=/account").await;
    let wrong = v
        .post(
            "/sign-in",
            &[
                ("email", "pat@example.com"),
                ("password", "nope nope nope"),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.html.contains("Wrong e-mail or password."));
    let ok = v
        .post(
            "/sign-in",
            &[
                ("email", "pat@example.com"),
                ("password", PASSWORD),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!(ok.location(), "/account");
    let account = v.get("/account").await;
    assert!(
        account.html.contains("Acme"),
        "the organization joined before"
    );
    assert!(account.html.contains("Other Org"), "the pending invitation");
    let accepted = v
        .post(&format!("/account/invitations/{id}/accept"), &[])
        .await;
    assert_eq!(accepted.status, 303);
    let after = v.get(accepted.location()).await;
    assert!(after.html.contains("You joined Other Org."));
    assert!(after.html.contains("No pending invitations."));
    let out = v.post("/sign-out", &[]).await;
    assert_eq!(out.location(), "/sign-in");
    assert!(!v.has_cookie("usher_session"));
    assert_eq!(v.get("/account").await.status, 303, "signed out for real");
}

#[tokio::test]
async fn a_signed_in_invitee_accepts_with_one_button() {
    let app = TestApp::spawn().await;
    pat_invited_elsewhere(&app).await;
    let token = app
        .tokens_from_mail("pat@example.com", "/invitations/", 2)
        .await
        .remove(1);
    let mut v = signed_in_as_pat(&app).await;
    let page = v.get(&format!("/invitations/{token}")).await;
    assert!(page.html.contains("You are signed in as pat@example.com."));
    assert!(
        !page.html.contains("type=\"password\""),
        "no password asked again"
    );
    let done = v.post(&format!("/invitations/{token}/accept"), &[]).await;
    assert_eq!(done.status, 303);
    assert!(
        v.get(done.location())
            .await
            .html
            .contains("You joined Other Org.")
    );
}

#[tokio::test]
async fn a_cancelled_invitation_says_so() {
    let app = TestApp::spawn().await;
    let (id, token) = app.invite("new@example.com", "MEMBER").await;
    app.delete(&format!("/users/v1/invitations/{id}"), &app.owner_key())
        .await
        .assert_ok();
    let page = Visitor::new(&app)
        .get(&format!("/invitations/{token}"))
        .await;
    assert_eq!(page.status, 410);
    assert!(page.html.contains("This invitation was cancelled"));
    assert!(!page.html.contains("<form"), "nothing left to do on it");
}

#[tokio::test]
async fn of_several_sign_ups_racing_on_one_link_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let (_, token) = app.invite("new@example.com", "MEMBER").await;
    let mut v = Visitor::new(&app);
    v.get(&format!("/invitations/{token}")).await;
    let path = format!("/invitations/{token}/signup");
    let fields = [("password", PASSWORD), ("password_confirmation", PASSWORD)];
    let mut racers = Vec::new();
    for _ in 0..5 {
        let mut twin = Visitor {
            base: v.base.clone(),
            client: v.client.clone(),
            cookies: v.cookies.clone(),
            csrf: v.csrf.clone(),
            accept_language: None,
        };
        let path = path.clone();
        racers.push(tokio::spawn(async move {
            twin.post(&path, &fields).await.status
        }));
    }
    let mut statuses = Vec::new();
    for r in racers {
        statuses.push(r.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [303, 409, 410].contains(s)),
        "the others are told why: {statuses:?}"
    );
    assert_eq!(app.users_with_email("new@example.com").await, 1);
}

#[tokio::test]
async fn declining_from_the_account_page_ends_the_invitation() {
    let app = TestApp::spawn().await;
    let id = pat_invited_elsewhere(&app).await;
    let mut v = signed_in_as_pat(&app).await;
    v.get("/account").await;
    let done = v
        .post(&format!("/account/invitations/{id}/decline"), &[])
        .await;
    assert_eq!(done.location(), "/account?declined=1");
    let after = v.get(done.location()).await;
    assert!(after.html.contains("The invitation was declined."));
    assert!(after.html.contains("No pending invitations."));
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM invitations WHERE id = $1 AND state = 'REJECTED'",
            &id
        )
        .await,
        1
    );
    // Someone else's invitation id answers "not valid", whoever asks.
    let mine = app.invite("third@example.com", "MEMBER").await.0;
    let stranger = v
        .post(&format!("/account/invitations/{mine}/accept"), &[])
        .await;
    assert_eq!(stranger.status, 404);
}

#[tokio::test]
async fn the_verification_link_confirms_the_address_only_when_its_button_is_pressed() {
    let app = TestApp::spawn().await;
    let (id, _) = app.invite("new@example.com", "MEMBER").await;
    // Through the bare id the new account starts unverified and is sent a verification e-mail.
    app.post(
        &format!("/users/v1/signup/invitations/{id}"),
        &Auth::None,
        crate::helpers::new_password(),
    )
    .await
    .assert_ok();
    let token = app
        .token_from_mail("new@example.com", "/verify-email/")
        .await;
    let status = || {
        app.scalar(
            "SELECT COUNT(*) FROM users WHERE email_normalized = $1 AND status = 'ACTIVE'",
            "new@example.com",
        )
    };
    let mut v = Visitor::new(&app);
    let page = v.get(&format!("/verify-email/{token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("Confirm my e-mail address"));
    assert_eq!(status().await, 0, "opening the link confirms nothing");
    let done = v.post(&format!("/verify-email/{token}"), &[]).await;
    assert_eq!(done.status, 200);
    assert!(done.html.contains("Your e-mail address is confirmed"));
    assert_eq!(status().await, 1);
    let again = v.post(&format!("/verify-email/{token}"), &[]).await;
    assert_eq!(again.status, 404, "a link works once");
}

#[tokio::test]
async fn the_password_reset_link_sets_a_new_password_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let (bearer, _) = app.join("pat@example.com", "MEMBER").await;
    app.post(
        "/users/v1/member/password/reset",
        &Auth::None,
        serde_json::json!({"email": "pat@example.com"}),
    )
    .await
    .assert_ok();
    let token = app
        .token_from_mail("pat@example.com", "/password-reset/")
        .await;
    let mut v = Visitor::new(&app);
    let path = format!("/password-reset/{token}");
    assert!(v.get(&path).await.html.contains("Choose a new password"));
    let short = v
        .post(
            &path,
            &[("password", "short"), ("password_confirmation", "short")],
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(short.html.contains("id=\"password-error\">Use at least"));
    let fresh = "a brand new passphrase";
    let done = v
        .post(
            &path,
            &[("password", fresh), ("password_confirmation", fresh)],
        )
        .await;
    assert_eq!(done.status, 200);
    assert!(done.html.contains("Your password was changed"));
    assert_eq!(
        app.get("/users/v1/member", &bearer).await.status,
        401,
        "old sessions ended"
    );
    app.login("pat@example.com", fresh).await;
    assert_eq!(
        v.post(
            &path,
            &[("password", fresh), ("password_confirmation", fresh)]
        )
        .await
        .status,
        404
    );
}
