//! The SOLAPI error dialect: `{"errorCode": "...", "errorMessage": "..."}` with the status codes of
//! the reference. Every core and auth error is named here, in one place. usher's native
//! namespace (`/usher/v1`) speaks the same error shape.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthError;
use crate::core::{Conflict, CoreError, Ended};

/// Error body of every `/users/v1` and `/usher/v1` endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub error_code: String,
    pub error_message: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
    /// The cause of a 500, logged and never shown.
    pub internal: Option<anyhow::Error>,
}

/// The API-key error code. SOLAPI's documentation spells it `InvalidAPIKey`, but its official
/// Java/Kotlin SDKs map `InvalidApiKey` to their exception, which is what code written against
/// the live service catches; usher sends the SDK spelling (docs/solapi.md).
pub const INVALID_API_KEY: &str = "InvalidApiKey";

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            internal: None,
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "ValidationError", message)
    }

    pub fn not_found() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            "요청하신 Resource를 찾을수 없습니다.",
        )
    }

    pub fn too_large() -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLarge",
            "요청 본문이 너무 큽니다. (request body too large)",
        )
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after.max(1)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "요청이 너무 많습니다. 잠시 후 다시 시도하세요.",
            )
        }
    }

    fn internal(e: anyhow::Error) -> Self {
        ApiError {
            internal: Some(e),
            ..ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "")
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        use StatusCode as S;
        match e {
            CoreError::NotFound | CoreError::UnknownReference { .. } => ApiError::not_found(),
            CoreError::Forbidden(why) => ApiError::new(
                S::FORBIDDEN,
                "Forbidden",
                format!("잘못된 접근입니다. ({why})"),
            ),
            CoreError::Invalid { field, message } => {
                ApiError::validation(format!("{field}: {message}"))
            }
            CoreError::Password(p) => ApiError::validation(format!("password: {p}")),
            CoreError::Conflict(c) => {
                let (code, msg) = match c {
                    Conflict::EmailTaken => (
                        "DuplicatedEmail",
                        "이미 사용 중인 이메일입니다. (e-mail already registered)",
                    ),
                    Conflict::AlreadyMember => (
                        "AlreadyMember",
                        "이미 계정의 회원입니다. (already a member of the account)",
                    ),
                    Conflict::AlreadyInvited => (
                        "AlreadyInvited",
                        "이미 초대장이 발송되었습니다. (a pending invitation exists)",
                    ),
                    Conflict::LastOwner => (
                        "LastOwner",
                        "계정에는 최소 한 명의 OWNER가 있어야 합니다. (the last owner cannot leave or be demoted)",
                    ),
                    Conflict::NameTaken => (
                        "DuplicatedName",
                        "이미 사용 중인 이름입니다. (name already taken)",
                    ),
                    Conflict::WrongState => (
                        "InvalidStatus",
                        "현재 상태에서는 할 수 없는 요청입니다. (not allowed in the current status)",
                    ),
                };
                ApiError::new(S::CONFLICT, code, msg)
            }
            CoreError::InvitationEnded(ended) => match ended {
                Ended::Accepted => ApiError::new(
                    S::CONFLICT,
                    "InvitationAlreadyAccepted",
                    "이미 수락된 초대입니다. (invitation already accepted)",
                ),
                Ended::Cancelled => ApiError::new(
                    S::CONFLICT,
                    "InvitationCancelled",
                    "취소된 초대입니다. (invitation cancelled)",
                ),
                Ended::Rejected => ApiError::new(
                    S::CONFLICT,
                    "InvitationRejected",
                    "거절된 초대입니다. (invitation declined)",
                ),
                Ended::Expired => ApiError::new(
                    S::GONE,
                    "InvitationExpired",
                    "만료된 초대입니다. (invitation expired)",
                ),
            },
            CoreError::WrongRecipient => ApiError::new(
                S::FORBIDDEN,
                "InvitationEmailMismatch",
                "초대받은 이메일과 로그인한 회원의 이메일이 다릅니다. (signed in with another e-mail than the invited one)",
            ),
            CoreError::Unverified => ApiError::new(
                S::FORBIDDEN,
                "UnverifiedMember",
                "이메일 인증이 필요합니다. (verify your e-mail first)",
            ),
            CoreError::SignupClosed => ApiError::new(
                S::FORBIDDEN,
                "SignupDisabled",
                "초대를 통해서만 가입할 수 있습니다. (sign-up is by invitation only)",
            ),
            CoreError::BadCredentials => ApiError::new(
                S::UNAUTHORIZED,
                "InvalidCredentials",
                "이메일 또는 비밀번호가 올바르지 않습니다. (wrong e-mail or password)",
            ),
            CoreError::RateLimited { retry_after_secs } => ApiError::rate_limited(retry_after_secs),
            CoreError::Internal(e) => ApiError::internal(e),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        use StatusCode as S;
        match e {
            AuthError::Missing => ApiError::new(
                S::UNAUTHORIZED,
                "Unauthorized",
                "인증 정보가 없습니다. (Authorization header is missing)",
            ),
            AuthError::Malformed(why) => ApiError::new(
                S::UNAUTHORIZED,
                "Unauthorized",
                format!("인증 정보가 올바르지 않습니다. ({why})"),
            ),
            // Digest is not a SOLAPI scheme; a stale nonce cannot reach this face.
            AuthError::InvalidToken | AuthError::StaleNonce => ApiError::new(
                S::UNAUTHORIZED,
                "Unauthorized",
                "세션이 만료되었거나 올바르지 않습니다. (invalid or expired session)",
            ),
            AuthError::InvalidApiKey => {
                ApiError::new(S::FORBIDDEN, INVALID_API_KEY, "유효한 API Key가 아닙니다.")
            }
            AuthError::SignatureDoesNotMatch => ApiError::new(
                S::FORBIDDEN,
                "SignatureDoesNotMatch",
                "생성한 Signature가 일치하지 않습니다.",
            ),
            AuthError::RequestTimeTooSkewed => ApiError::new(
                S::FORBIDDEN,
                "RequestTimeTooSkewed",
                "시간 값이 서버 시간을 15분 이상 벗어났습니다.",
            ),
            AuthError::DuplicatedSignature => ApiError::new(
                S::FORBIDDEN,
                "DuplicatedSignature",
                "15분 안에 동일한 signature 값이 사용되었습니다.",
            ),
            AuthError::Internal(e) => ApiError::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = match &self.internal {
            Some(cause) => {
                // The cause goes to the log under an id; the client gets only the id.
                let error_id = crate::core::ids::new_id(time::OffsetDateTime::now_utc());
                tracing::error!(error.id = %error_id, error.cause = ?cause, "internal error");
                format!("일시적인 서버 오류입니다. (internal error; errorId {error_id})")
            }
            None => self.message,
        };
        let mut resp = (
            self.status,
            Json(ErrorBody {
                error_code: self.code.to_owned(),
                error_message: message,
            }),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(e: axum::extract::rejection::PathRejection) -> Self {
        ApiError::validation(format!("invalid path parameter: {}", e.body_text()))
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::validation(format!("invalid query string: {}", e.body_text()))
    }
}
