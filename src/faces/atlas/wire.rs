//! The Atlas dialect's wire rules, in one place: versioned media types, `envelope` and `pretty`,
//! the `ApiError` body with its `X-Error-Code` header, the Digest challenge on every
//! unauthenticated request, and the extractors whose rejections speak this dialect.

use crate::faces::client_ip::ClientIp;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use time::{Date, Month};

use crate::auth::{AuthError, digest};
use crate::core::{Actor, Conflict, CoreError};
use crate::faces::AppState;

/// The API version dates Atlas publishes; an `Accept` naming any other date is refused.
const API_VERSIONS: &[&str] = &[
    "2023-01-01",
    "2023-02-01",
    "2023-10-01",
    "2023-11-15",
    "2024-05-30",
    "2024-08-05",
    "2024-10-23",
    "2024-11-13",
    "2025-02-19",
    "2025-03-12",
];

/// One version of an operation, and its deprecation if it has one.
#[derive(Debug, Clone, Copy)]
pub struct Version {
    pub date: &'static str,
    pub deprecated: Option<Deprecated>,
}

#[derive(Debug, Clone, Copy)]
pub struct Deprecated {
    /// The `Deprecation` header, as Atlas writes it (RFC 1123, day not zero-padded).
    pub since: &'static str,
    pub sunset: Date,
}

/// `Sunset` in Atlas' form: `Thu, 1 Jul 2027 00:00:00 GMT`.
fn http_date(d: Date) -> String {
    let weekday = &d.weekday().to_string()[..3];
    let month = &Month::to_string(&d.month())[..3];
    format!("{weekday}, {} {month} {} 00:00:00 GMT", d.day(), d.year())
}

/// 2023-01-01 of the invitation and user operations, deprecated when 2025-02-19 came.
pub const V2023_DEPRECATED: Version = Version {
    date: "2023-01-01",
    deprecated: Some(Deprecated {
        since: "Wed, 19 Feb 2025 00:00:00 GMT",
        sunset: time::macros::date!(2027 - 07 - 01),
    }),
};

pub const V2023: Version = Version {
    date: "2023-01-01",
    deprecated: None,
};

pub const V2025: Version = Version {
    date: "2025-02-19",
    deprecated: None,
};

pub const V2024_08: Version = Version {
    date: "2024-08-05",
    deprecated: None,
};

/// A query string's pairs, decoded; repeated names kept in order.
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    pub fn parse(query: Option<&str>) -> QueryPairs {
        QueryPairs(
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, comma-separated ones split.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>())
            .collect()
    }
}

/// `pageNum` (from 1), `itemsPerPage` (1–500, default 100) and `includeCount` (default true) of a
/// paginated list, parsed strictly: an unusable value is named, not ignored.
pub struct Paging {
    pub page_num: usize,
    pub items_per_page: usize,
    pub include_count: bool,
}

impl Paging {
    pub fn from_query(query: Option<&str>) -> Result<Paging, AtlasError> {
        let q = QueryPairs::parse(query);
        let one = |name: &str| q.one(name);
        let number = |name: &str, default: usize, max: usize| match one(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| AtlasError::invalid_query(name)),
        };
        Ok(Paging {
            page_num: number("pageNum", 1, usize::MAX)?,
            items_per_page: number("itemsPerPage", 100, 500)?,
            include_count: flag_or(query, "includeCount", true)?,
        })
    }

    /// `{links, results, totalCount}` for this page of `all`; `url` is the list's address.
    /// Only the page's items are taken from `all`: a lazy iterator builds no view of the rest.
    pub fn page<T>(
        &self,
        all: impl IntoIterator<Item = T, IntoIter: ExactSizeIterator>,
        url: &str,
    ) -> Page<T> {
        let all = all.into_iter();
        let total = all.len();
        let start = (self.page_num - 1).saturating_mul(self.items_per_page);
        let results: Vec<T> = all.skip(start).take(self.items_per_page).collect();
        let link = |page_num: usize, rel: &'static str| Link {
            href: format!(
                "{url}?includeCount={}&pageNum={page_num}&itemsPerPage={}",
                self.include_count, self.items_per_page
            ),
            rel,
        };
        let mut links = vec![link(self.page_num, "self")];
        if start + self.items_per_page < total {
            links.push(link(self.page_num + 1, "next"));
        }
        if self.page_num > 1 {
            links.push(link(self.page_num - 1, "previous"));
        }
        Page {
            links,
            results,
            total_count: self.include_count.then_some(total),
        }
    }
}

/// A page of a list, fields in Atlas' (alphabetical) order.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    links: Vec<Link>,
    results: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_count: Option<usize>,
}

#[derive(Debug, serde::Serialize)]
pub struct Link {
    href: String,
    rel: &'static str,
}

/// The legacy invitation operations: one version, deprecated, sunset on 2027-07-01.
pub const LEGACY_ORG_INVITES: &[Version] = &[V2023_DEPRECATED];

/// The legacy project invitations: deprecated earlier than the organization ones (observed
/// `Deprecation: Wed, 4 Oct 2023 00:00:00 GMT`), same sunset.
pub const LEGACY_GROUP_INVITES: &[Version] = &[Version {
    date: "2023-01-01",
    deprecated: Some(Deprecated {
        since: "Wed, 4 Oct 2023 00:00:00 GMT",
        sunset: time::macros::date!(2027 - 07 - 01),
    }),
}];

/// What the request asked for and how the answer is to be written.
pub struct Atlas {
    pub actor: Actor,
    accept: Option<String>,
    pub envelope: bool,
    pub pretty: bool,
    path: String,
    today: Date,
}

/// Reads `name=true|false` from a query; anything else is refused by name.
fn flag(query: Option<&str>, name: &str) -> Result<bool, AtlasError> {
    flag_or(query, name, false)
}

fn flag_or(query: Option<&str>, name: &str, default: bool) -> Result<bool, AtlasError> {
    let Some(q) = query else { return Ok(default) };
    match url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == name) {
        None => Ok(default),
        Some((_, v)) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some((_, v)) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(AtlasError::invalid_query(name)),
    }
}

impl FromRequestParts<AppState> for Atlas {
    type Rejection = AtlasError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, AtlasError> {
        let uri = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
        let auth = parts
            .headers
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes());
        let actor = app
            .auth
            .authenticate_atlas(parts.method.as_str(), &uri, auth)
            .await
            .map_err(|e| AtlasError::unauthenticated(app, e))?;
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, app).await;
        if actor.key.as_ref().is_some_and(|k| !k.admits(ip)) {
            return Err(AtlasError::new(
                StatusCode::FORBIDDEN,
                "IP_ADDRESS_NOT_ON_ACCESS_LIST",
                format!("IP address {ip} is not allowed to access this resource."),
                vec![json!(ip.to_string())],
            ));
        }
        let query = parts.uri.query();
        Ok(Atlas {
            actor,
            accept: parts
                .headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            envelope: flag(query, "envelope")?,
            pretty: flag(query, "pretty")?,
            path: parts.uri.path().trim_start_matches('/').to_owned(),
            today: app.core.clock.now().date(),
        })
    }
}

impl Atlas {
    /// The version this request gets: the newest of `versions` on or before the date its
    /// `Accept` names. No versioned `Accept`, an unknown date, or a date before every version:
    /// 406. A version past its sunset: 410.
    pub fn version(&self, versions: &[Version]) -> Result<Version, AtlasError> {
        let requested = self
            .accept
            .as_deref()
            .into_iter()
            .flat_map(|a| a.split(','))
            .filter_map(|m| {
                let m = m.split(';').next()?.trim();
                m.strip_prefix("application/vnd.atlas.")?
                    .strip_suffix("+json")
            })
            .find(|d| API_VERSIONS.contains(d))
            .ok_or_else(AtlasError::invalid_version)?;
        let v = versions
            .iter()
            .filter(|v| v.date <= requested)
            .max_by_key(|v| v.date)
            .copied()
            .ok_or_else(AtlasError::invalid_version)?;
        if let Some(d) = v.deprecated
            && self.today >= d.sunset
        {
            return Err(AtlasError::new(
                StatusCode::GONE,
                "VERSION_GONE",
                format!(
                    "Version {} of {} is no longer available.",
                    v.date, self.path
                ),
                vec![json!(v.date), json!(self.path)],
            ));
        }
        Ok(v)
    }

    /// A page of a list at this request's own address (under `base`, the public URL).
    pub fn reply_page(&self, v: Version, base: &str, paging: &Paging, all: Vec<Value>) -> Response {
        let mut page = paging.page(all, &self.list_url(base));
        page.results.iter_mut().for_each(sort_keys);
        self.reply_sorted(v, StatusCode::OK, &page)
    }

    /// [`Atlas::reply_page`] for items whose type serializes its keys in Atlas' order (see
    /// [`Atlas::reply_sorted`]).
    pub fn reply_sorted_page<T: serde::Serialize>(
        &self,
        v: Version,
        base: &str,
        paging: &Paging,
        all: impl IntoIterator<Item = T, IntoIter: ExactSizeIterator>,
    ) -> Response {
        self.reply_sorted(v, StatusCode::OK, &paging.page(all, &self.list_url(base)))
    }

    fn list_url(&self, base: &str) -> String {
        format!("{base}/{}", self.path)
    }

    /// A success: `body` as the resolved version's media type (keys sorted, compact unless
    /// `pretty`), wrapped when `envelope` asks (then always HTTP 200, since clients that ask
    /// for it cannot read the status).
    pub fn reply(&self, v: Version, status: StatusCode, body: Option<Value>) -> Response {
        let (status, body) = match (self.envelope, body) {
            (true, Some(Value::Object(mut m))) if m.contains_key("results") => {
                m.insert("status".into(), json!(status.as_u16()));
                (StatusCode::OK, Some(Value::Object(m)))
            }
            (true, b) => (
                StatusCode::OK,
                Some(json!({"content": b, "status": status.as_u16()})),
            ),
            (false, b) => (status, b),
        };
        let text = body.map(|mut b| {
            sort_keys(&mut b);
            to_text(&b, self.pretty)
        });
        self.respond(v, status, text)
    }

    /// [`Atlas::reply`] for a body whose type already serializes its keys in alphabetical
    /// order, at every depth (a unit test checks each such type): in the common case, compact
    /// and without an envelope, it is written straight out, without a [`Value`] of every field
    /// to build and sort. A hot list pays for that otherwise.
    pub fn reply_sorted<T: serde::Serialize>(
        &self,
        v: Version,
        status: StatusCode,
        body: &T,
    ) -> Response {
        if self.envelope || self.pretty {
            let value = serde_json::to_value(body).expect("views serialize");
            return self.reply(v, status, Some(value));
        }
        let text = serde_json::to_vec(body).expect("views serialize");
        self.respond(v, status, Some(text))
    }

    fn respond(&self, v: Version, status: StatusCode, text: Option<Vec<u8>>) -> Response {
        let mut headers = HeaderMap::new();
        let ct = format!("application/vnd.atlas.{}+json;charset=utf-8", v.date);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&ct).expect("ASCII"),
        );
        if let Some(d) = v.deprecated {
            headers.insert("deprecation", HeaderValue::from_static(d.since));
            let sunset = http_date(d.sunset);
            headers.insert("sunset", HeaderValue::from_str(&sunset).expect("ASCII"));
        }
        (status, headers, text.map_or_else(Body::empty, Body::from)).into_response()
    }
}

/// Fails unless `view` serializes its keys in Atlas' (alphabetical) order at every depth, as
/// [`Atlas::reply_sorted`] needs; gives back the object's key count.
#[cfg(test)]
pub fn assert_in_atlas_order(view: &impl serde::Serialize) -> usize {
    let written = serde_json::to_value(view).unwrap();
    let mut sorted = written.clone();
    sort_keys(&mut sorted);
    assert_eq!(
        serde_json::to_string(&written).unwrap(),
        serde_json::to_string(&sorted).unwrap()
    );
    written.as_object().map_or(0, serde_json::Map::len)
}

/// Object keys in alphabetical order, at every depth (what Atlas sends). In place: a page of
/// a hundred users is thousands of values, and rebuilding them was a measurable part of a list.
pub fn sort_keys(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.sort_keys();
            m.values_mut().for_each(sort_keys);
        }
        Value::Array(a) => a.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

/// Bytes, not `Value::to_string`: that goes through `fmt::Write` a token at a time, which cost
/// a list more than building its values.
fn to_text(v: &Value, pretty: bool) -> Vec<u8> {
    if pretty {
        let mut out = String::new();
        jackson(v, 0, &mut out);
        out.into_bytes()
    } else {
        serde_json::to_vec(v).expect("a Value serializes")
    }
}

/// Jackson's default pretty printer, which Atlas uses: objects one key per line indented by two
/// spaces with `"key" : value`, arrays on one line as `[ a, b ]` (objects inside them open on
/// the same line), empty ones as `{ }` and `[ ]`.
fn jackson(v: &Value, depth: usize, out: &mut String) {
    match v {
        Value::Object(m) if m.is_empty() => out.push_str("{ }"),
        Value::Object(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                out.push_str(&"  ".repeat(depth + 1));
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(" : ");
                jackson(v, depth + 1, out);
            }
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
            out.push('}');
        }
        Value::Array(a) if a.is_empty() => out.push_str("[ ]"),
        Value::Array(a) => {
            out.push_str("[ ");
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                jackson(v, depth, out);
            }
            out.push_str(" ]");
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// An Atlas `ApiError`, sent as `application/json` with `X-Error-Code` (boxed: errors are rare
/// and results carrying them should stay small).
#[derive(Debug)]
pub struct AtlasError(Box<Problem>);

#[derive(Debug)]
struct Problem {
    status: StatusCode,
    code: &'static str,
    detail: String,
    parameters: Vec<Value>,
    bad_fields: Vec<(String, String)>,
    /// Set on 401: a fresh Digest challenge, and its exact pretty body.
    challenge: Option<String>,
    retry_after: Option<u64>,
}

impl AtlasError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        detail: impl Into<String>,
        parameters: Vec<Value>,
    ) -> AtlasError {
        AtlasError(Box::new(Problem {
            status,
            code,
            detail: detail.into(),
            parameters,
            bad_fields: Vec::new(),
            challenge: None,
            retry_after: None,
        }))
    }

    fn invalid_version() -> AtlasError {
        AtlasError::new(
            StatusCode::NOT_ACCEPTABLE,
            "INVALID_VERSION_DATE",
            "Invalid accept header or version date.",
            vec![],
        )
    }

    pub fn invalid_query(name: &str) -> AtlasError {
        AtlasError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY_PARAMETER",
            format!("Invalid query parameter {name} specified."),
            vec![json!(name)],
        )
    }

    pub fn invalid_attribute(name: &str) -> AtlasError {
        let mut e = AtlasError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_ATTRIBUTE",
            format!("Invalid attribute {name} specified."),
            vec![json!(name)],
        );
        e.0.bad_fields = vec![(
            name.to_owned(),
            format!("Invalid attribute {name} specified."),
        )];
        e
    }

    pub fn missing_attribute(name: &str) -> AtlasError {
        AtlasError::new(
            StatusCode::BAD_REQUEST,
            "MISSING_ATTRIBUTE",
            format!("The required attribute {name} was not specified."),
            vec![json!(name)],
        )
    }

    pub fn invalid_json() -> AtlasError {
        AtlasError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_JSON",
            "Received JSON does not match expected format.",
            vec![],
        )
    }

    pub fn resource_not_found(what: String) -> AtlasError {
        AtlasError::new(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_FOUND",
            format!("Cannot find resource {what}."),
            vec![json!(what)],
        )
    }

    /// 401 with a fresh challenge: every unauthenticated request gets one (the Go client asks
    /// anew each time). A stale nonce says `stale=true` so the client retries at once.
    fn unauthenticated(app: &AppState, e: AuthError) -> AtlasError {
        if let AuthError::Internal(e) = e {
            return AtlasError::from(CoreError::Internal(e));
        }
        let now = app.core.clock.now().unix_timestamp();
        let nonce = digest::new_nonce(&app.core.crypto, now);
        let stale = matches!(e, AuthError::StaleNonce);
        let mut err = AtlasError::new(
            StatusCode::UNAUTHORIZED,
            "UNEXPECTED_ERROR",
            "You are not authorized for this resource.",
            vec![],
        );
        err.0.challenge = Some(digest::challenge(&nonce, app.digest_algorithm, stale));
        err
    }
}

impl From<CoreError> for AtlasError {
    fn from(e: CoreError) -> Self {
        let s = StatusCode::BAD_REQUEST;
        match e {
            CoreError::NotFound => AtlasError::resource_not_found("requested".into()),
            // Atlas answers a caller without the role 401 USER_UNAUTHORIZED (no challenge: the
            // credentials were fine).
            CoreError::Forbidden(why) => AtlasError::new(
                StatusCode::UNAUTHORIZED,
                "USER_UNAUTHORIZED",
                format!("Current user is not authorized to perform this action ({why})."),
                vec![],
            ),
            CoreError::Invalid { field, message } => {
                let mut err = AtlasError::new(
                    s,
                    "INVALID_ATTRIBUTE",
                    format!("Invalid attribute {field} specified: {message}."),
                    vec![json!(field)],
                );
                err.0.bad_fields = vec![(field.to_owned(), message)];
                err
            }
            CoreError::Password(p) => {
                AtlasError::new(s, "INVALID_ATTRIBUTE", p.to_string(), vec![])
            }
            CoreError::Conflict(Conflict::AlreadyInvited) => AtlasError::new(
                StatusCode::CONFLICT,
                "USER_ALREADY_EXISTS",
                "A pending invitation for this username already exists.",
                vec![],
            ),
            CoreError::Conflict(Conflict::AlreadyMember | Conflict::EmailTaken) => AtlasError::new(
                StatusCode::CONFLICT,
                "USER_ALREADY_EXISTS",
                "A user with this username already exists in the organization.",
                vec![],
            ),
            CoreError::Conflict(Conflict::LastOwner) => AtlasError::new(
                StatusCode::FORBIDDEN,
                "CANNOT_DEMOTE_LAST_ORG_OWNER",
                "Cannot demote the last owner of the organization.",
                vec![],
            ),
            CoreError::UnknownReference { kind, id } => {
                let (code, what) = match kind {
                    "project" => ("GROUP_NOT_FOUND", "group"),
                    "team" => ("TEAM_NOT_FOUND", "team"),
                    _ => ("USER_NOT_FOUND", "user"),
                };
                AtlasError::new(
                    StatusCode::NOT_FOUND,
                    code,
                    format!("No {what} with ID {id} exists."),
                    vec![json!(id)],
                )
            }
            CoreError::Conflict(Conflict::NameTaken) => AtlasError::new(
                StatusCode::CONFLICT,
                "DUPLICATE_NAME",
                "The name is already taken in this organization.",
                vec![],
            ),
            CoreError::Conflict(Conflict::WrongState) => AtlasError::new(
                StatusCode::CONFLICT,
                "CONFLICT",
                "The resource is not in a state that allows this request.",
                vec![],
            ),
            CoreError::InvitationEnded(_) => AtlasError::new(
                s,
                "INVALID_INVITATION_ID",
                "The invitation you tried to delete does not exist or has already been accepted.",
                vec![],
            ),
            CoreError::RateLimited { retry_after_secs } => {
                let mut err = AtlasError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "RATE_LIMITED",
                    "Too many requests; try again later.",
                    vec![],
                );
                err.0.retry_after = Some(retry_after_secs.max(1));
                err
            }
            CoreError::WrongRecipient
            | CoreError::Unverified
            | CoreError::SignupClosed
            | CoreError::BadCredentials => AtlasError::new(
                StatusCode::FORBIDDEN,
                "USER_UNAUTHORIZED",
                e.to_string(),
                vec![],
            ),
            CoreError::Internal(e) => {
                let id = crate::core::ids::new_id(time::OffsetDateTime::now_utc());
                tracing::error!(error.id = %id, error = %e, "internal error");
                AtlasError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "UNEXPECTED_ERROR",
                    format!("Unexpected error. Reference: {id}."),
                    vec![],
                )
            }
        }
    }
}

impl IntoResponse for AtlasError {
    fn into_response(self) -> Response {
        let p = *self.0;
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert("x-error-code", HeaderValue::from_static(p.code));
        let reason = p.status.canonical_reason().unwrap_or("");
        let text = if let Some(challenge) = &p.challenge {
            if let Ok(v) = HeaderValue::from_str(challenge) {
                headers.insert(header::WWW_AUTHENTICATE, v);
            }
            // Byte for byte what Atlas answers (pretty, and in this key order).
            format!(
                "{{\n  \"error\" : {},\n  \"reason\" : \"{reason}\",\n  \"detail\" : {},\n  \"errorCode\" : \"{}\"\n}}",
                p.status.as_u16(),
                Value::String(p.detail),
                p.code
            )
        } else {
            let mut body = Map::new();
            if !p.bad_fields.is_empty() {
                let fields: Vec<Value> = p
                    .bad_fields
                    .iter()
                    .map(|(f, d)| json!({"description": d, "field": f}))
                    .collect();
                body.insert("badRequestDetail".into(), json!({"fields": fields}));
            }
            body.insert("detail".into(), json!(p.detail));
            body.insert("error".into(), json!(p.status.as_u16()));
            body.insert("errorCode".into(), json!(p.code));
            body.insert("parameters".into(), Value::Array(p.parameters));
            body.insert("reason".into(), json!(reason));
            Value::Object(body).to_string()
        };
        if let Some(secs) = p.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        (p.status, headers, text).into_response()
    }
}

/// A JSON body. Unknown fields are rejected by name (`INVALID_ATTRIBUTE`), missing required ones
/// named too (`MISSING_ATTRIBUTE`); anything else unreadable is `INVALID_JSON`.
pub struct AtlasBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AtlasBody<T> {
    type Rejection = AtlasError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AtlasError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AtlasError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "REQUEST_TOO_LARGE",
                    "The request body is too large.",
                    vec![],
                )
            } else {
                AtlasError::invalid_json()
            }
        })?;
        serde_json::from_slice(&bytes).map(AtlasBody).map_err(|e| {
            let msg = e.to_string();
            let named = |prefix: &str| {
                msg.strip_prefix(prefix)
                    .and_then(|r| r.split('`').next())
                    .map(str::to_owned)
            };
            if let Some(f) = named("unknown field `") {
                AtlasError::invalid_attribute(&f)
            } else if let Some(f) = named("missing field `") {
                AtlasError::missing_attribute(&f)
            } else {
                AtlasError::invalid_json()
            }
        })
    }
}

/// Describes, for `/openapi.json` alone, a `…/{id}:verb` operation: its route is the `{id}`
/// one (the verb is part of the segment), served by a handler that reads the verb.
macro_rules! described_verb {
    ($name:ident, $path:literal, $tag:literal, [$($param:literal),*], $body:ty, $answer:literal) => {
        #[utoipa::path(post, path = $path, tag = $tag,
            security(("digest" = []), ("bearer" = [])),
            params($(($param = String, Path)),*),
            request_body(content = $body, content_type = "application/json"),
            responses((status = 200, description = $answer, content_type = "application/vnd.atlas.2025-02-19+json"),
                (status = "4XX", description = "ApiError", content_type = "application/json")))]
        #[allow(dead_code)]
        fn $name() {}
    };
}
pub(crate) use described_verb;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_output_is_jacksons_default_printer() {
        let mut v =
            json!({"parameters": ["/x"], "error": 404, "nested": [{"b": 1, "a": []}], "e": {}});
        sort_keys(&mut v);
        assert_eq!(
            String::from_utf8(to_text(&v, true)).unwrap(),
            "{\n  \"e\" : { },\n  \"error\" : 404,\n  \"nested\" : [ {\n    \"a\" : [ ],\n    \"b\" : 1\n  } ],\n  \"parameters\" : [ \"/x\" ]\n}"
        );
        assert_eq!(
            String::from_utf8(to_text(&v, false)).unwrap(),
            r#"{"e":{},"error":404,"nested":[{"a":[],"b":1}],"parameters":["/x"]}"#
        );
    }

    #[test]
    fn sunset_dates_are_written_as_atlas_writes_them() {
        assert_eq!(
            http_date(time::macros::date!(2027 - 07 - 01)),
            "Thu, 1 Jul 2027 00:00:00 GMT"
        );
    }
}
