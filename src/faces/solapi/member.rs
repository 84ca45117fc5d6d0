//! The "me" endpoints (#5–#10).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{Body, Caller};
use super::views::Member;
use crate::core::Actor;
use crate::core::users::ProfileChange;
use crate::faces::AppState;
use crate::store::rows::UserRow;

async fn member_view(app: &AppState, user: &UserRow) -> Result<Json<Member>, ApiError> {
    let sessions = app.core.sessions_of(&user.id).await?;
    Ok(Json(Member::new(user, &sessions)))
}

/// #5 내 정보 조회.
#[utoipa::path(get, path = "/users/v1/member", tag = "SOLAPI members", security(("hmac" = []), ("bearer" = [])),
    responses((status = 200, body = Member), (status = "4XX", body = ErrorBody)))]
pub async fn get_member(
    State(app): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Member>, ApiError> {
    let user = app.core.me(&actor).await?;
    member_view(&app, &user).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateMemberBody {
    pub email: Option<String>,
    pub name: Option<String>,
    pub selected_account_id: Option<String>,
}

async fn change(app: &AppState, actor: &Actor, c: ProfileChange) -> Result<Json<Member>, ApiError> {
    let user = app.core.update_profile(actor, &c).await?;
    member_view(app, &user).await
}

/// #6 사용자 정보 수정. A new e-mail must be verified again.
#[utoipa::path(put, path = "/users/v1/member", tag = "SOLAPI members", security(("hmac" = []), ("bearer" = [])),
    request_body = UpdateMemberBody, responses((status = 200, body = Member), (status = "4XX", body = ErrorBody)))]
pub async fn update_member(
    State(app): State<AppState>,
    Caller(actor): Caller,
    Body(b): Body<UpdateMemberBody>,
) -> Result<Json<Member>, ApiError> {
    let c = ProfileChange {
        name: b.name,
        email: b.email,
        selected_org_id: b.selected_account_id,
        ..Default::default()
    };
    change(&app, &actor, c).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailChangeBody {
    pub email: String,
}

/// #7 이메일 변경: the member becomes UNVERIFIED until the new address is confirmed.
#[utoipa::path(put, path = "/users/v1/member/email", tag = "SOLAPI members", security(("hmac" = []), ("bearer" = [])),
    request_body = EmailChangeBody, responses((status = 200, body = Member), (status = "4XX", body = ErrorBody)))]
pub async fn update_email(
    State(app): State<AppState>,
    Caller(actor): Caller,
    Body(b): Body<EmailChangeBody>,
) -> Result<Json<Member>, ApiError> {
    change(
        &app,
        &actor,
        ProfileChange {
            email: Some(b.email),
            ..Default::default()
        },
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhoneBody {
    pub phone_number: String,
}

/// #8 사용자 전화번호 수정.
#[utoipa::path(put, path = "/users/v1/member/phone-number", tag = "SOLAPI members", security(("hmac" = []), ("bearer" = [])),
    request_body = PhoneBody, responses((status = 200, body = Member), (status = "4XX", body = ErrorBody)))]
pub async fn update_phone(
    State(app): State<AppState>,
    Caller(actor): Caller,
    Body(b): Body<PhoneBody>,
) -> Result<Json<Member>, ApiError> {
    change(
        &app,
        &actor,
        ProfileChange {
            phone_number: Some(b.phone_number),
            ..Default::default()
        },
    )
    .await
}

/// #9 예비 사용자 전화번호 추가: adds an extra phone number (at most 10).
#[utoipa::path(put, path = "/users/v1/member/phone-number/extra", tag = "SOLAPI members", security(("hmac" = []), ("bearer" = [])),
    request_body = PhoneBody, responses((status = 200, body = Member), (status = "4XX", body = ErrorBody)))]
pub async fn add_extra_phone(
    State(app): State<AppState>,
    Caller(actor): Caller,
    Body(b): Body<PhoneBody>,
) -> Result<Json<Member>, ApiError> {
    change(
        &app,
        &actor,
        ProfileChange {
            extra_phone_number: Some(b.phone_number),
            ..Default::default()
        },
    )
    .await
}

/// #10 휴면 회원 활성화: a dormant member reactivates.
#[utoipa::path(put, path = "/users/v1/member/activate", tag = "SOLAPI members", security(("hmac" = []), ("bearer" = [])),
    responses((status = 200, body = Member), (status = "4XX", body = ErrorBody)))]
pub async fn activate_member(
    State(app): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Member>, ApiError> {
    let user = app.core.activate_member(&actor).await?;
    member_view(&app, &user).await
}
