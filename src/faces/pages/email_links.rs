//! The other two links usher e-mails: `/verify-email/{token}` and `/password-reset/{token}`.
//! As with invitations, opening a link changes nothing (mail scanners open links): the page
//! holds a form, and the POST spends the token.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::i18n::fill;
use super::invitation::{CsrfOnly, FieldErrors, form_ok};
use super::visitor::Visitor;
use super::{Chrome, error_page, field_message, notice, render};
use crate::core::CoreError;
use crate::core::crypto::looks_like_token;
use crate::faces::AppState;

#[derive(Template)]
#[template(path = "email_link.html")]
struct LinkPage {
    c: Chrome,
    body: &'static str,
    action: String,
    button: &'static str,
    with_password: bool,
    password_label: &'static str,
    password_hint: String,
    banner: Option<String>,
    errors: FieldErrors,
}

fn link_page(
    app: &AppState,
    v: Visitor,
    path: &str,
    reset: bool,
    again: (Option<String>, FieldErrors),
    status: StatusCode,
) -> Response {
    let t = v.t();
    let (title, body, button) = if reset {
        (t.reset_title, t.reset_body, t.reset_button)
    } else {
        (t.verify_title, t.verify_body, t.verify_button)
    };
    let page = LinkPage {
        c: Chrome::new(&v, title.to_owned(), path),
        body,
        action: path.to_owned(),
        button,
        with_password: reset,
        password_label: t.new_password,
        password_hint: fill(
            t.password_hint,
            &[(
                "min",
                &app.core.settings.password_policy.min_chars.to_string(),
            )],
        ),
        banner: again.0,
        errors: again.1,
    };
    let html = render(page);
    v.page(status, html)
}

/// A spent, expired or unknown e-mail link: one page for all.
fn used_link(v: Visitor, path: &str) -> Response {
    let t = v.t();
    notice(
        v,
        StatusCode::NOT_FOUND,
        path,
        t.unknown_title,
        t.used_link_body.to_owned(),
        None,
    )
}

/// `GET /verify-email/{token}`
pub async fn verify_page(
    State(app): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
) -> Response {
    let path = format!("/verify-email/{token}");
    if !looks_like_token(&token) {
        return used_link(v, &path);
    }
    link_page(&app, v, &path, false, Default::default(), StatusCode::OK)
}

/// `POST /verify-email/{token}`
pub async fn verify(
    State(app): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let path = format!("/verify-email/{token}");
    let (v, _) = match form_ok(v, &path, form, |f| f.csrf.as_deref()) {
        Ok(x) => x,
        Err(page) => return page,
    };
    match app.core.verify_email(&token).await {
        Ok(_) => {
            let t = v.t();
            let link = Some(("/account".to_owned(), t.go_to_account));
            notice(
                v,
                StatusCode::OK,
                &path,
                t.verified_title,
                t.verified_body.to_owned(),
                link,
            )
        }
        Err(CoreError::NotFound) => used_link(v, &path),
        Err(e) => error_page(v, &path, e),
    }
}

/// `GET /password-reset/{token}`
pub async fn reset_page(
    State(app): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
) -> Response {
    let path = format!("/password-reset/{token}");
    if !looks_like_token(&token) {
        return used_link(v, &path);
    }
    link_page(&app, v, &path, true, Default::default(), StatusCode::OK)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResetForm {
    csrf: Option<String>,
    password: String,
    password_confirmation: String,
}

/// `POST /password-reset/{token}`
pub async fn reset(
    State(app): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
    form: Result<Form<ResetForm>, FormRejection>,
) -> Response {
    let path = format!("/password-reset/{token}");
    let (mut v, f) = match form_ok(v, &path, form, |f| f.csrf.as_deref()) {
        Ok(x) => x,
        Err(page) => return page,
    };
    let t = v.t();
    match app
        .core
        .reset_password(&token, &f.password, &f.password_confirmation)
        .await
    {
        Ok(_) => {
            // Every session of the account ended, this browser's included.
            v.clear_session();
            let link = Some(("/sign-in".to_owned(), t.sign_in_link));
            notice(
                v,
                StatusCode::OK,
                &path,
                t.reset_done_title,
                t.reset_done_body.to_owned(),
                link,
            )
        }
        Err(CoreError::NotFound) => used_link(v, &path),
        Err(e) => match field_message(t, &e) {
            Some((field, message)) => {
                let mut errors = FieldErrors::default();
                match field {
                    "confirmation" => errors.confirmation = Some(message),
                    _ => errors.password = Some(message),
                }
                let banner = Some(t.fix_errors.to_owned());
                link_page(
                    &app,
                    v,
                    &path,
                    true,
                    (banner, errors),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
            }
            None => error_page(v, &path, e),
        },
    }
}
