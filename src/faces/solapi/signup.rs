//! Public SOLAPI endpoints: sign-up (#1), e-mail existence (#2), agreement (#3), sign-up through
//! an invitation (#4), password reset (#11, #12).

use axum::Json;
use axum::extract::State;

use crate::faces::client_ip::ClientIp;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{Body, PathParam};
use super::views::{Account, EmailExistence, Member, ResetRequest, Signup};
use crate::core::invitations::Reference;
use crate::faces::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignupBody {
    pub email: String,
    pub password: String,
    pub password_confirmation: String,
    /// Required by the contract; usher has no CAPTCHA provider and relies on rate limits.
    pub captcha: String,
    pub marketer_account_id: Option<String>,
    pub name: Option<String>,
}

/// #1 회원가입: open sign-up (off unless `signup_open` is configured).
#[utoipa::path(post, path = "/users/v1/signup", tag = "SOLAPI members", request_body = SignupBody,
    responses((status = 200, body = Signup), (status = "4XX", body = ErrorBody)))]
pub async fn signup(
    State(app): State<AppState>,
    ClientIp(client): ClientIp,
    Body(b): Body<SignupBody>,
) -> Result<Json<Signup>, ApiError> {
    app.limits.check_signup(client).await?;
    let (org, user) = app
        .core
        .signup(
            &b.email,
            &b.password,
            &b.password_confirmation,
            b.name.as_deref(),
        )
        .await?;
    Ok(Json(Signup {
        account: Account::from(&org),
        member: Member::new(&user, &[]),
    }))
}

/// #2 메일 중복 검사: only while sign-up is open; rate-limited per client address.
#[utoipa::path(get, path = "/users/v1/existence/email/{email}", tag = "SOLAPI members",
    params(("email" = String, Path)), responses((status = 200, body = EmailExistence), (status = "4XX", body = ErrorBody)))]
pub async fn email_existence(
    State(app): State<AppState>,
    ClientIp(client): ClientIp,
    PathParam(email): PathParam<String>,
) -> Result<Json<EmailExistence>, ApiError> {
    app.limits.check_existence(client).await?;
    let result = app.core.email_exists(&email).await?;
    Ok(Json(EmailExistence { email, result }))
}

/// #3 서비스 이용 약관: the terms, as a JSON string of HTML.
#[utoipa::path(get, path = "/users/v1/agreement", tag = "SOLAPI members", responses((status = 200, body = String)))]
pub async fn agreement(State(app): State<AppState>) -> Json<String> {
    Json(app.core.settings.agreement_html.clone())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordBody {
    pub password: String,
    pub password_confirmation: String,
    /// usher extension: the new member's name (default: the e-mail's local part).
    pub name: Option<String>,
}

/// #4 초대 수락(비회원): sign up through an invitation, by its e-mailed token or its bare id.
#[utoipa::path(post, path = "/users/v1/signup/invitations/{invitationId}", tag = "SOLAPI invitations",
    params(("invitationId" = String, Path, description = "The token from the invitation e-mail, or the invitation id")),
    request_body = PasswordBody, responses((status = 200, body = Account), (status = "4XX", body = ErrorBody)))]
pub async fn signup_through_invitation(
    State(app): State<AppState>,
    ClientIp(client): ClientIp,
    PathParam(reference): PathParam<String>,
    Body(b): Body<PasswordBody>,
) -> Result<Json<Account>, ApiError> {
    app.limits.check_signup(client).await?;
    let r = Reference::parse(&reference)?;
    let org = app
        .core
        .signup_through_invitation(r, &b.password, &b.password_confirmation, b.name.as_deref())
        .await?;
    Ok(Json(Account::from(&org.org)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailBody {
    pub email: String,
}

/// #11 비밀번호 초기화 요청: e-mails a reset link. Same answer whether or not the address has an
/// account; `hashId` is always null (the secret goes only by e-mail).
#[utoipa::path(post, path = "/users/v1/member/password/reset", tag = "SOLAPI members", request_body = EmailBody,
    responses((status = 200, body = ResetRequest), (status = "4XX", body = ErrorBody)))]
pub async fn request_password_reset(
    State(app): State<AppState>,
    ClientIp(client): ClientIp,
    Body(b): Body<EmailBody>,
) -> Result<Json<ResetRequest>, ApiError> {
    app.limits.check_signup(client).await?;
    let r = app.core.request_password_reset(&b.email).await?;
    Ok(Json(ResetRequest {
        id: r.id,
        email: r.email,
        date_created: r.created_at.clone(),
        date_updated: r.created_at,
        hash_id: None,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetBody {
    pub password: String,
    pub password_confirmation: String,
}

/// #12 비밀번호 초기화: sets a new password with the e-mailed token; all sessions end.
#[utoipa::path(put, path = "/users/v1/member/password/reset/{hashId}", tag = "SOLAPI members",
    params(("hashId" = String, Path, description = "The token from the reset e-mail")),
    request_body = ResetBody, responses((status = 200, body = Member), (status = "4XX", body = ErrorBody)))]
pub async fn reset_password(
    State(app): State<AppState>,
    PathParam(token): PathParam<String>,
    Body(b): Body<ResetBody>,
) -> Result<Json<Member>, ApiError> {
    let user = app
        .core
        .reset_password(&token, &b.password, &b.password_confirmation)
        .await?;
    Ok(Json(Member::new(&user, &[])))
}
