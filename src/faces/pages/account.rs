//! Sign-in, sign-out, and the signed-in person's page: their organizations and the invitations
//! waiting for their (verified) e-mail, with accept and decline.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use serde::Deserialize;

use super::i18n::fill;
use super::invitation::{CsrfOnly, form_ok};
use super::visitor::{Visitor, query_param, safe_next};
use super::{Chrome, display_time, error_page, render, role_name};
use crate::core::invitations::Reference;
use crate::core::{CoreError, ids};
use crate::faces::AppState;
use crate::faces::client_ip::ClientIp;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    c: Chrome,
    banner: Option<String>,
    next: String,
    email: String,
}

fn sign_in_form(
    v: Visitor,
    status: StatusCode,
    next: String,
    email: String,
    banner: Option<String>,
) -> Response {
    let c = Chrome::new(&v, v.t().sign_in_title.to_owned(), "/sign-in");
    let html = render(SignInPage {
        c,
        banner,
        next,
        email,
    });
    v.page(status, html)
}

/// The query of a GET page, read leniently: a malformed one is ignored, not an error.
pub struct Query(Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Query {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Query(parts.uri.query().map(str::to_owned)))
    }
}

impl Query {
    fn get(&self, name: &str) -> Option<String> {
        query_param(self.0.as_deref(), name)
    }
}

/// `GET /sign-in?next=…`
pub async fn sign_in_page(State(app): State<AppState>, mut v: Visitor, q: Query) -> Response {
    let next = safe_next(q.get("next").as_deref(), "/account");
    if let Ok(Some(_)) = v.actor(&app).await {
        return v.redirect(&next);
    }
    sign_in_form(v, StatusCode::OK, next, String::new(), None)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInForm {
    csrf: Option<String>,
    email: String,
    password: String,
    next: Option<String>,
}

/// `POST /sign-in`
pub async fn sign_in(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    v: Visitor,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Response {
    let (mut v, f) = match form_ok(v, "/sign-in", form, |f| f.csrf.as_deref()) {
        Ok(x) => x,
        Err(page) => return page,
    };
    let t = v.t();
    let next = safe_next(f.next.as_deref(), "/account");
    if let Err(CoreError::RateLimited { retry_after_secs }) = app.limits.check_login(ip).await {
        let banner = fill(t.rate_limited, &[("secs", &retry_after_secs.to_string())]);
        return sign_in_form(
            v,
            StatusCode::TOO_MANY_REQUESTS,
            next,
            f.email,
            Some(banner),
        );
    }
    let device = v.user_agent.clone();
    match app
        .core
        .login(&f.email, &f.password, &ip.to_string(), &device)
        .await
    {
        Ok(session) => {
            v.set_session(&session, app.core.settings.session_ttl);
            v.redirect(&next)
        }
        Err(CoreError::BadCredentials) => {
            let banner = Some(t.bad_credentials.to_owned());
            sign_in_form(v, StatusCode::UNAUTHORIZED, next, f.email, banner)
        }
        Err(e) => error_page(v, "/sign-in", e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignOutForm {
    csrf: Option<String>,
    next: Option<String>,
}

/// `POST /sign-out`: ends the session (in the database, not only the cookie).
pub async fn sign_out(
    State(app): State<AppState>,
    v: Visitor,
    form: Result<Form<SignOutForm>, FormRejection>,
) -> Response {
    let (mut v, f) = match form_ok(v, "/sign-in", form, |f| f.csrf.as_deref()) {
        Ok(x) => x,
        Err(page) => return page,
    };
    if let Some(token) = v.session_token().map(str::to_owned)
        && let Err(e) = app.core.logout(&token).await
    {
        return error_page(v, "/sign-in", e);
    }
    v.clear_session();
    v.redirect(&safe_next(f.next.as_deref(), "/sign-in"))
}

struct PendingView {
    id: String,
    line: String,
    role: &'static str,
    expires_at: String,
    expires_display: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    signed_in_line: String,
    notice: Option<String>,
    /// (name, role)
    orgs: Vec<(String, &'static str)>,
    unverified: bool,
    invitations: Vec<PendingView>,
}

/// `GET /account[?joined=<orgId>|?declined=1]`
pub async fn account(State(app): State<AppState>, mut v: Visitor, q: Query) -> Response {
    let actor = match v.actor(&app).await {
        Ok(Some(a)) => a,
        Ok(None) => return v.redirect("/sign-in?next=/account"),
        Err(e) => return error_page(v, "/account", e),
    };
    let t = v.t();
    let (orgs, _) = match app.core.my_orgs(&actor, None, 100).await {
        Ok(x) => x,
        Err(e) => return error_page(v, "/account", e),
    };
    let (unverified, pending) = match app.core.my_invitations(&actor).await {
        Ok(list) => (false, list),
        Err(CoreError::Unverified) => (true, Vec::new()),
        Err(e) => return error_page(v, "/account", e),
    };
    let notice = if let Some(joined) = q.get("joined") {
        orgs.iter()
            .find(|o| o.id == joined)
            .map(|o| fill(t.joined, &[("org", &o.name)]))
    } else if q.get("declined").is_some() {
        Some(t.declined_notice.to_owned())
    } else {
        None
    };
    let email = actor
        .user
        .as_ref()
        .map(|u| u.email.clone())
        .unwrap_or_default();
    let page = AccountPage {
        c: Chrome::new(&v, t.account_title.to_owned(), "/account"),
        signed_in_line: fill(t.signed_in_as, &[("email", &email)]),
        notice,
        orgs: orgs
            .iter()
            .map(|o| (o.name.clone(), role_name(t, &o.my_roles)))
            .collect(),
        unverified,
        invitations: pending
            .iter()
            .map(|d| PendingView {
                id: d.invitation.id.clone(),
                line: fill(
                    t.invitation_from,
                    &[
                        ("org", &d.org_name),
                        ("inviter", d.inviter_name.as_deref().unwrap_or("—")),
                    ],
                ),
                role: role_name(t, &d.invitation.roles),
                expires_at: d.invitation.expires_at.clone(),
                expires_display: display_time(&d.invitation.expires_at),
            })
            .collect(),
    };
    let html = render(page);
    v.page(StatusCode::OK, html)
}

/// Accept (`true`) or decline an invitation listed on the account page, by its id.
async fn answer_by_id(
    app: AppState,
    v: Visitor,
    id: String,
    form: Result<Form<CsrfOnly>, FormRejection>,
    accept: bool,
) -> Response {
    let (mut v, _) = match form_ok(v, "/account", form, |f| f.csrf.as_deref()) {
        Ok(x) => x,
        Err(page) => return page,
    };
    let actor = match v.actor(&app).await {
        Ok(Some(a)) => a,
        Ok(None) => return v.redirect("/sign-in?next=/account"),
        Err(e) => return error_page(v, "/account", e),
    };
    if !ids::is_id(&id) {
        return error_page(v, "/account", CoreError::NotFound);
    }
    let r = Reference::Id(&id);
    if accept {
        match app.core.accept_invitation(&actor, r).await {
            Ok(org) => v.redirect(&format!("/account?joined={}", org.org.id)),
            Err(e) => error_page(v, "/account", e),
        }
    } else {
        match app.core.decline_invitation(Some(&actor), r).await {
            Ok(_) => v.redirect("/account?declined=1"),
            Err(e) => error_page(v, "/account", e),
        }
    }
}

/// `POST /account/invitations/{id}/accept`
pub async fn accept_by_id(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    answer_by_id(app, v, id, form, true).await
}

/// `POST /account/invitations/{id}/decline`
pub async fn decline_by_id(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    answer_by_id(app, v, id, form, false).await
}
