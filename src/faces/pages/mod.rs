//! The pages face: server-rendered HTML for the people who receive invitations. A preview of the
//! invitation with the actions that fit (sign up, sign in and accept, accept, decline), a sign-in
//! page, a minimal account page with organizations and pending invitations, and the pages behind
//! the other e-mailed links (verify the address, reset the password).
//!
//! No JavaScript; one request per page (the stylesheet is inline, allowed by its hash in the
//! Content-Security-Policy); every form CSRF-protected; `GET` never changes state. Token path
//! segments never reach logs: requests are logged by route template (`/invitations/{token}`).

mod account;
mod email_links;
pub mod i18n;
mod invitation;
mod visitor;

use std::sync::LazyLock;

use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::core::{CoreError, Ended};
use crate::faces::AppState;
use i18n::Texts;
use visitor::Visitor;

const CSS: &str = include_str!("pages.css");

/// The policy names the inline stylesheet by its digest: nothing else may style, script, frame
/// or load anything.
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self' data:; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    ))
    .expect("ASCII")
});

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/invitations/{token}", get(invitation::preview))
        .route("/invitations/{token}/signup", post(invitation::sign_up))
        .route("/invitations/{token}/accept", post(invitation::accept))
        .route("/invitations/{token}/decline", post(invitation::decline))
        .route(
            "/sign-in",
            get(account::sign_in_page).post(account::sign_in),
        )
        .route("/sign-out", post(account::sign_out))
        .route("/account", get(account::account))
        .route(
            "/account/invitations/{id}/accept",
            post(account::accept_by_id),
        )
        .route(
            "/account/invitations/{id}/decline",
            post(account::decline_by_id),
        )
        .route(
            "/verify-email/{token}",
            get(email_links::verify_page).post(email_links::verify),
        )
        .route(
            "/password-reset/{token}",
            get(email_links::reset_page).post(email_links::reset),
        )
        .layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

/// What every page shares: texts, title, the language switch, the stylesheet, the CSRF field.
pub struct Chrome {
    pub t: &'static Texts,
    pub title: String,
    pub switch_href: String,
    pub css: &'static str,
    pub csrf: String,
}

impl Chrome {
    /// `path`: the GET address of this page, for the language switch.
    fn new(v: &Visitor, title: String, path: &str) -> Chrome {
        let t = v.t();
        Chrome {
            t,
            title,
            switch_href: format!("{path}?lang={}", t.other_code),
            css: CSS,
            csrf: v.csrf_field.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "notice.html")]
struct Notice {
    c: Chrome,
    body: String,
    link: Option<(String, &'static str)>,
}

fn render(t: impl Template) -> String {
    // The templates are compiled and their inputs are plain strings: rendering cannot fail but
    // for a formatter error, which would be a bug worth a visible 500 rather than a blank page.
    t.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "page template failed");
        String::from("<!doctype html><title>error</title>")
    })
}

/// A page with a title, a sentence and an optional link.
fn notice(
    v: Visitor,
    status: StatusCode,
    path: &str,
    title: &str,
    body: String,
    link: Option<(String, &'static str)>,
) -> Response {
    let c = Chrome::new(&v, title.to_owned(), path);
    let html = render(Notice { c, body, link });
    v.page(status, html)
}

/// The page for a core error. Unknown and malformed tokens read the same; internal failures are
/// logged and shown as a fixed page.
fn error_page(v: Visitor, path: &str, e: CoreError) -> Response {
    let t = v.t();
    let sign_in = Some(("/sign-in".to_owned(), t.sign_in_link));
    let (status, title, body, link) = match e {
        CoreError::NotFound => (StatusCode::NOT_FOUND, t.unknown_title, t.unknown_body, None),
        CoreError::InvitationEnded(Ended::Expired) => {
            (StatusCode::GONE, t.expired_title, t.expired_body, None)
        }
        CoreError::InvitationEnded(Ended::Cancelled) => {
            (StatusCode::GONE, t.cancelled_title, t.cancelled_body, None)
        }
        CoreError::InvitationEnded(Ended::Accepted) => {
            (StatusCode::GONE, t.accepted_title, t.accepted_body, sign_in)
        }
        CoreError::InvitationEnded(Ended::Rejected) => {
            (StatusCode::GONE, t.rejected_title, t.rejected_body, None)
        }
        CoreError::Internal(e) => {
            tracing::error!(error = %e, "page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                t.error_title,
                t.error_body,
                None,
            )
        }
        other => {
            tracing::info!(error = %other, "page refused");
            (StatusCode::BAD_REQUEST, t.error_title, t.error_body, None)
        }
    };
    notice(v, status, path, title, body.to_owned(), link)
}

/// A page of fixed texts: `pick` chooses the title and the sentence.
fn fixed_notice(
    v: Visitor,
    status: StatusCode,
    path: &str,
    pick: fn(&Texts) -> (&'static str, &'static str),
) -> Response {
    let (title, body) = pick(v.t());
    notice(v, status, path, title, body.to_owned(), None)
}

/// A form without its CSRF field, with a forged one, or sent cross-site: refused, nothing done.
fn csrf_refused(v: Visitor, path: &str) -> Response {
    fixed_notice(v, StatusCode::FORBIDDEN, path, |t| {
        (t.csrf_title, t.csrf_body)
    })
}

/// A form body that is not a form.
fn bad_form(v: Visitor, path: &str) -> Response {
    fixed_notice(v, StatusCode::BAD_REQUEST, path, |t| {
        (t.bad_form_title, t.bad_form_body)
    })
}

/// `2026-12-22T03:55:00.000Z` → `2026-12-22 03:55 UTC`.
fn display_time(ts: &str) -> String {
    match (ts.get(..10), ts.get(11..16)) {
        (Some(d), Some(hm)) => format!("{d} {hm} UTC"),
        _ => ts.to_owned(),
    }
}

fn role_name(t: &Texts, stored_roles: &str) -> &'static str {
    use crate::core::roles::{Role, Roles};
    match Roles::from_stored(stored_roles).solapi_role() {
        Role::Owner => t.role_owner,
        Role::Developer => t.role_developer,
        _ => t.role_member,
    }
}

/// The message shown next to a field for a rule the core refused.
fn field_message(t: &Texts, e: &CoreError) -> Option<(&'static str, String)> {
    use crate::core::password::PolicyError;
    match e {
        CoreError::Password(PolicyError::TooShort(n)) => Some((
            "password",
            i18n::fill(t.password_too_short, &[("n", &n.to_string())]),
        )),
        CoreError::Password(PolicyError::TooLong(n)) => Some((
            "password",
            i18n::fill(t.password_too_long, &[("n", &n.to_string())]),
        )),
        CoreError::Password(PolicyError::Common) => {
            Some(("password", t.password_common.to_owned()))
        }
        CoreError::Invalid {
            field: "passwordConfirmation",
            ..
        } => Some(("confirmation", t.password_mismatch.to_owned())),
        CoreError::Invalid { field: "name", .. } => Some(("name", t.name_invalid.to_owned())),
        _ => None,
    }
}
