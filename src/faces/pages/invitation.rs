//! `/invitations/{token}`: the page an invitation e-mail links to, and its three forms.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::i18n::fill;
use super::visitor::Visitor;
use super::{
    Chrome, bad_form, csrf_refused, display_time, error_page, field_message, render, role_name,
};
use crate::core::email::normalize;
use crate::core::invitations::{Preview, Reference};
use crate::core::{Actor, Conflict, CoreError};
use crate::faces::AppState;
use crate::faces::client_ip::ClientIp;

/// Messages shown under the fields of a form.
#[derive(Default)]
pub(super) struct FieldErrors {
    pub name: Option<String>,
    pub password: Option<String>,
    pub confirmation: Option<String>,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    c: Chrome,
    /// `/invitations/{token}`: the forms post below it.
    base: String,
    invited_line: String,
    email: String,
    role: &'static str,
    expires_at: String,
    expires_display: String,
    password_label: &'static str,
    password_hint: String,
    /// `signup`, `signin`, `accept` or `wrong` (signed in as someone else).
    mode: &'static str,
    banner: Option<String>,
    errors: FieldErrors,
    name: String,
    signin_email: String,
    signed_in_line: String,
}

/// What the form sent back, to show it again with its errors.
#[derive(Default)]
struct Redisplay {
    banner: Option<String>,
    errors: FieldErrors,
    name: String,
    signin_email: Option<String>,
    /// Forces the sign-in form (an account turned out to exist).
    force_signin: bool,
}

fn invitation_page(
    app: &AppState,
    v: Visitor,
    token: &str,
    p: &Preview,
    viewer: Option<&Actor>,
    again: Redisplay,
    status: StatusCode,
) -> Response {
    let t = v.t();
    let d = &p.detail;
    let inv = &d.invitation;
    let base = format!("/invitations/{token}");
    let viewer_email = viewer
        .and_then(|a| a.user.as_ref())
        .map(|u| u.email.clone());
    let mode = match &viewer_email {
        Some(e) if normalize(e) == normalize(&inv.email) => "accept",
        Some(_) => "wrong",
        None if p.invitee_has_account || again.force_signin => "signin",
        None => "signup",
    };
    let signed_in_line = match (&viewer_email, mode) {
        (Some(e), "wrong") => fill(t.wrong_account, &[("invited", &inv.email), ("email", e)]),
        (Some(e), _) => fill(t.signed_in_as, &[("email", e)]),
        _ => String::new(),
    };
    let invited_line = match &d.inviter_name {
        Some(who) => fill(t.invited_by, &[("inviter", who), ("org", &d.org_name)]),
        None => fill(t.invited, &[("org", &d.org_name)]),
    };
    let page = InvitationPage {
        c: Chrome::new(&v, fill(t.join_heading, &[("org", &d.org_name)]), &base),
        base,
        invited_line,
        email: inv.email.clone(),
        role: role_name(t, &inv.roles),
        expires_at: inv.expires_at.clone(),
        expires_display: display_time(&inv.expires_at),
        password_label: t.password,
        password_hint: fill(
            t.password_hint,
            &[(
                "min",
                &app.core.settings.password_policy.min_chars.to_string(),
            )],
        ),
        mode,
        banner: again.banner,
        errors: again.errors,
        name: again.name,
        signin_email: again.signin_email.unwrap_or_else(|| inv.email.clone()),
        signed_in_line,
    };
    let html = render(page);
    v.page(status, html)
}

/// `GET /invitations/{token}`: the preview. Reads only.
pub async fn preview(
    State(app): State<AppState>,
    mut v: Visitor,
    Path(token): Path<String>,
) -> Response {
    let path = format!("/invitations/{token}");
    let viewer = match v.actor(&app).await {
        Ok(a) => a,
        Err(e) => return error_page(v, &path, e),
    };
    match app.core.preview_invitation(&token).await {
        Ok(p) => invitation_page(
            &app,
            v,
            &token,
            &p,
            viewer.as_ref(),
            Redisplay::default(),
            StatusCode::OK,
        ),
        Err(e) => error_page(v, &path, e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignUpForm {
    csrf: Option<String>,
    name: Option<String>,
    password: String,
    password_confirmation: String,
}

/// A posted form, read and CSRF-checked; `Err` is the page to answer with.
#[allow(clippy::result_large_err)] // the error is the response itself, made once per request
pub(super) fn form_ok<F>(
    v: Visitor,
    path: &str,
    form: Result<Form<F>, FormRejection>,
    csrf: impl Fn(&F) -> Option<&str>,
) -> Result<(Visitor, F), Response> {
    let Ok(Form(f)) = form else {
        return Err(bad_form(v, path));
    };
    if !v.csrf_ok(csrf(&f)) {
        return Err(csrf_refused(v, path));
    }
    Ok((v, f))
}

/// The common start of every form under `/invitations/{token}`: the form read, the CSRF field
/// checked, the invitation still pending. `Err` is the page to answer with.
async fn begin<F>(
    app: &AppState,
    v: Visitor,
    token: &str,
    form: Result<Form<F>, FormRejection>,
    csrf: impl Fn(&F) -> Option<&str>,
) -> Result<(Visitor, F, Preview), Response> {
    let path = format!("/invitations/{token}");
    let (v, f) = form_ok(v, &path, form, csrf)?;
    match app.core.preview_invitation(token).await {
        Ok(p) => Ok((v, f, p)),
        Err(e) => Err(error_page(v, &path, e)),
    }
}

/// `POST /invitations/{token}/signup`: a new person joins; they arrive signed in.
pub async fn sign_up(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    v: Visitor,
    Path(token): Path<String>,
    form: Result<Form<SignUpForm>, FormRejection>,
) -> Response {
    let (mut v, f, p) = match begin(&app, v, &token, form, |f| f.csrf.as_deref()).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let t = v.t();
    let mut again = Redisplay {
        name: f.name.clone().unwrap_or_default(),
        ..Redisplay::default()
    };
    if let Err(CoreError::RateLimited { retry_after_secs }) = app.limits.check_signup(ip).await {
        again.banner = Some(fill(
            t.rate_limited,
            &[("secs", &retry_after_secs.to_string())],
        ));
        return invitation_page(
            &app,
            v,
            &token,
            &p,
            None,
            again,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let name = f.name.as_deref().filter(|n| !n.trim().is_empty());
    let device = v.user_agent.clone();
    let result = app
        .core
        .signup_through_invitation_and_sign_in(
            &token,
            &f.password,
            &f.password_confirmation,
            name,
            (&ip.to_string(), &device),
        )
        .await;
    match result {
        Ok((joined, session)) => {
            v.set_session(&session, app.core.settings.session_ttl);
            v.redirect(&format!("/account?joined={}", joined.org.org.id))
        }
        Err(CoreError::Conflict(Conflict::EmailTaken)) => {
            again.banner = Some(t.email_taken.to_owned());
            again.force_signin = true;
            invitation_page(&app, v, &token, &p, None, again, StatusCode::CONFLICT)
        }
        Err(e) => match field_message(t, &e) {
            Some((field, message)) => {
                match field {
                    "name" => again.errors.name = Some(message),
                    "confirmation" => again.errors.confirmation = Some(message),
                    _ => again.errors.password = Some(message),
                }
                again.banner = Some(t.fix_errors.to_owned());
                invitation_page(
                    &app,
                    v,
                    &token,
                    &p,
                    None,
                    again,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
            }
            None => error_page(v, &format!("/invitations/{token}"), e),
        },
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AcceptForm {
    csrf: Option<String>,
    email: Option<String>,
    password: Option<String>,
}

/// `POST /invitations/{token}/accept`: the signed-in invitee accepts, or signs in (with the
/// form's e-mail and password) and accepts in one step.
pub async fn accept(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    v: Visitor,
    Path(token): Path<String>,
    form: Result<Form<AcceptForm>, FormRejection>,
) -> Response {
    let (mut v, f, p) = match begin(&app, v, &token, form, |f| f.csrf.as_deref()).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let path = format!("/invitations/{token}");
    let t = v.t();
    let signed_in = match v.actor(&app).await {
        Ok(a) => a,
        Err(e) => return error_page(v, &path, e),
    };
    let actor = match (signed_in, f.password.as_deref()) {
        (Some(a), None) => a,
        (_, password) => {
            let email = f.email.clone().unwrap_or_default();
            let again = |banner: String, password_error: Option<String>| Redisplay {
                banner: Some(banner),
                errors: super::invitation::FieldErrors {
                    password: password_error,
                    ..Default::default()
                },
                signin_email: Some(email.clone()),
                force_signin: true,
                ..Redisplay::default()
            };
            if let Err(CoreError::RateLimited { retry_after_secs }) =
                app.limits.check_login(ip).await
            {
                let banner = fill(t.rate_limited, &[("secs", &retry_after_secs.to_string())]);
                return invitation_page(
                    &app,
                    v,
                    &token,
                    &p,
                    None,
                    again(banner, None),
                    StatusCode::TOO_MANY_REQUESTS,
                );
            }
            let device = v.user_agent.clone();
            match app
                .core
                .login(&email, password.unwrap_or(""), &ip.to_string(), &device)
                .await
            {
                Ok(session) => {
                    v.set_session(&session, app.core.settings.session_ttl);
                    Actor {
                        user: Some(session.user),
                        key: None,
                        resolved: None,
                    }
                }
                Err(CoreError::BadCredentials) => {
                    let msg = t.bad_credentials.to_owned();
                    return invitation_page(
                        &app,
                        v,
                        &token,
                        &p,
                        None,
                        again(msg.clone(), Some(msg)),
                        StatusCode::UNAUTHORIZED,
                    );
                }
                Err(e) => return error_page(v, &path, e),
            }
        }
    };
    match app
        .core
        .accept_invitation(&actor, Reference::Token(&token))
        .await
    {
        Ok(org) => v.redirect(&format!("/account?joined={}", org.org.id)),
        // Signed in, but as someone else: the preview explains and offers to sign out.
        Err(CoreError::WrongRecipient) => v.redirect(&path),
        Err(CoreError::Conflict(Conflict::AlreadyMember)) => {
            let body = fill(t.already_member_body, &[("org", &p.detail.org_name)]);
            let link = Some(("/account".to_owned(), t.go_to_account));
            super::notice(
                v,
                StatusCode::CONFLICT,
                &path,
                t.already_member_title,
                body,
                link,
            )
        }
        Err(e) => error_page(v, &path, e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CsrfOnly {
    pub csrf: Option<String>,
}

/// `POST /invitations/{token}/decline`: holding the link is enough to decline.
pub async fn decline(
    State(app): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let (mut v, _, p) = match begin(&app, v, &token, form, |f| f.csrf.as_deref()).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let path = format!("/invitations/{token}");
    let viewer = v.actor(&app).await.unwrap_or(None);
    match app
        .core
        .decline_invitation(viewer.as_ref(), Reference::Token(&token))
        .await
    {
        Ok(_) => {
            let t = v.t();
            let body = fill(t.declined_body, &[("org", &p.detail.org_name)]);
            super::notice(v, StatusCode::OK, &path, t.declined_title, body, None)
        }
        Err(e) => error_page(v, &path, e),
    }
}
