//! Who is looking at a page: language, session cookie, CSRF secret. The cookies a response must
//! set travel with the visitor and are attached by [`Visitor::page`] and [`Visitor::redirect`].
//!
//! CSRF is a signed double-submit cookie: the `usher_csrf` cookie holds a random secret, and every
//! form carries HMAC(server key, secret). A cross-site page can neither read the cookie nor
//! compute the field, and a cookie planted from a sibling domain fails the signature. Browsers
//! that say `Sec-Fetch-Site: cross-site` are refused outright.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use cookie::{Cookie, SameSite};
use subtle::ConstantTimeEq;

use super::i18n::{Lang, Texts};
use crate::core::crypto::random_token;
use crate::core::users::NewSession;
use crate::core::{Actor, CoreResult};
use crate::faces::AppState;

const LANG_COOKIE: &str = "usher_lang";

pub struct Visitor {
    pub lang: Lang,
    session: Option<String>,
    csrf_secret: Option<String>,
    pub csrf_field: String,
    cross_site: bool,
    secure: bool,
    pub user_agent: String,
    set: Vec<Cookie<'static>>,
}

/// Cookie names: with `Secure` (an https `public_url`), the `__Host-` prefix, which browsers
/// accept only from the exact origin over TLS with `Path=/`.
fn cookie_name(secure: bool, base: &'static str) -> &'static str {
    match (secure, base) {
        (true, "usher_session") => "__Host-usher_session",
        (true, "usher_csrf") => "__Host-usher_csrf",
        _ => base,
    }
}

/// A parameter of a request's query string, if present.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secure = app.secure_cookies;
        let (session_name, csrf_name) = (
            cookie_name(secure, "usher_session"),
            cookie_name(secure, "usher_csrf"),
        );
        let (mut session, mut csrf_secret, mut lang_cookie) = (None, None, None);
        for value in parts.headers.get_all(header::COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            for c in Cookie::split_parse(value).flatten() {
                match c.name() {
                    n if n == session_name => session = Some(c.value().to_owned()),
                    n if n == csrf_name && c.value().len() == 43 => {
                        csrf_secret = Some(c.value().to_owned());
                    }
                    LANG_COOKIE => lang_cookie = Lang::parse(c.value()),
                    _ => {}
                }
            }
        }
        let mut set = Vec::new();
        let chosen = query_param(parts.uri.query(), "lang").and_then(|l| Lang::parse(&l));
        if let Some(l) = chosen {
            let mut c = Cookie::new(LANG_COOKIE, l.texts().code);
            c.set_path("/");
            c.set_same_site(SameSite::Lax);
            c.set_max_age(time::Duration::days(365));
            c.set_http_only(true);
            c.set_secure(secure);
            set.push(c);
        }
        let lang = chosen
            .or(lang_cookie)
            .or_else(|| {
                parts
                    .headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::negotiate)
            })
            .unwrap_or(Lang::En);
        let secret = match &csrf_secret {
            Some(s) => s.clone(),
            None => {
                let s = random_token();
                let mut c = Cookie::new(csrf_name, s.clone());
                c.set_path("/");
                c.set_same_site(SameSite::Strict);
                c.set_http_only(true);
                c.set_secure(secure);
                set.push(c);
                s
            }
        };
        let csrf_field = app.core.crypto.token_digest(&format!("csrf:{secret}"));
        let cross_site = parts
            .headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"cross-site");
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        Ok(Visitor {
            lang,
            session,
            csrf_secret,
            csrf_field,
            cross_site,
            secure,
            user_agent,
            set,
        })
    }
}

impl Visitor {
    pub fn t(&self) -> &'static Texts {
        self.lang.texts()
    }

    /// True when a form's `csrf` field matches the secret this browser already held (a secret
    /// minted for this very request proves nothing) and the browser does not say cross-site.
    pub fn csrf_ok(&self, field: Option<&str>) -> bool {
        match (&self.csrf_secret, field) {
            (Some(_), Some(f)) if !self.cross_site => {
                bool::from(f.as_bytes().ct_eq(self.csrf_field.as_bytes()))
            }
            _ => false,
        }
    }

    pub fn session_token(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// The signed-in person, if the session cookie names a live session; a dead one is cleared.
    pub async fn actor(&mut self, app: &AppState) -> CoreResult<Option<Actor>> {
        let Some(token) = self.session.clone() else {
            return Ok(None);
        };
        let actor = app.core.actor_for_session(&token).await?;
        if actor.is_none() {
            self.clear_session();
        }
        Ok(actor)
    }

    pub fn set_session(&mut self, s: &NewSession, ttl: time::Duration) {
        let mut c = Cookie::new(cookie_name(self.secure, "usher_session"), s.token.clone());
        c.set_path("/");
        // Lax, not Strict: the invitation link arrives as a top-level navigation from a mail
        // client, and a signed-in invitee should be recognized there. Every form is CSRF-checked.
        c.set_same_site(SameSite::Lax);
        c.set_http_only(true);
        c.set_secure(self.secure);
        c.set_max_age(ttl);
        self.session = Some(s.token.clone());
        self.set.push(c);
    }

    pub fn clear_session(&mut self) {
        let mut c = Cookie::new(cookie_name(self.secure, "usher_session"), "");
        c.set_path("/");
        c.set_same_site(SameSite::Lax);
        c.set_http_only(true);
        c.set_secure(self.secure);
        c.set_max_age(time::Duration::ZERO);
        self.session = None;
        self.set.push(c);
    }

    fn finish(self, mut resp: Response) -> Response {
        let h = resp.headers_mut();
        for c in self.set {
            if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
                h.append(header::SET_COOKIE, v);
            }
        }
        h.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(self.lang.texts().code),
        );
        resp
    }

    pub fn page(self, status: StatusCode, html: String) -> Response {
        self.finish((status, Html(html)).into_response())
    }

    /// 303 See Other: after a form, the browser GETs `location` (no re-post on reload).
    pub fn redirect(self, location: &str) -> Response {
        let resp = (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, location.to_owned())],
        )
            .into_response();
        self.finish(resp)
    }
}

/// Where to go after signing in or out: a path of this site only (never `//host` or a URL).
pub fn safe_next(next: Option<&str>, default: &str) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => default.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/account"), "/x"), "/account");
        assert_eq!(safe_next(Some("//evil.example"), "/x"), "/x");
        assert_eq!(safe_next(Some("https://evil.example"), "/x"), "/x");
        assert_eq!(safe_next(Some("/\\evil.example"), "/x"), "/x");
        assert_eq!(safe_next(None, "/x"), "/x");
    }
}
