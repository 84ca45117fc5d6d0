//! Accounts (#13–#18) and account members (#19–#23, plus removal and leaving).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{Body, Caller, PathParam, QueryPairs, eq_filters, filter_value};
use super::views::{Account, AccountList, AccountListItem, AccountMember, MemberList, Success};
use crate::core::accounts::{MemberChange, MemberFilter};
use crate::core::roles::Role;
use crate::faces::AppState;

/// Parses a SOLAPI role name (OWNER, DEVELOPER, MEMBER).
pub fn parse_role(s: &str) -> Result<Role, ApiError> {
    match s {
        "OWNER" => Ok(Role::Owner),
        "DEVELOPER" => Ok(Role::Developer),
        "MEMBER" => Ok(Role::Member),
        _ => Err(ApiError::validation(
            "role: must be one of OWNER, DEVELOPER, MEMBER",
        )),
    }
}

fn parse_limit(raw: Option<String>, default: i64) -> Result<i64, ApiError> {
    match raw {
        None => Ok(default),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::validation("limit: must be an integer from 1 to 100")),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountBody {
    pub name: Option<String>,
}

/// #13 계정 생성: the caller creates an account and becomes its OWNER.
#[utoipa::path(post, path = "/users/v1/accounts", tag = "SOLAPI accounts", security(("hmac" = []), ("bearer" = [])),
    request_body = AccountBody, responses((status = 200, body = Account), (status = "4XX", body = ErrorBody)))]
pub async fn create_account(
    State(app): State<AppState>,
    Caller(actor): Caller,
    Body(b): Body<AccountBody>,
) -> Result<Json<Account>, ApiError> {
    Ok(Json(Account::from(
        &app.core.create_org(&actor, b.name.as_deref()).await?,
    )))
}

/// #14 내 계정 목록: `limit` (1–100, default 20) and `startKey` (the previous page's `nextKey`).
#[utoipa::path(get, path = "/users/v1/accounts/", tag = "SOLAPI accounts", security(("hmac" = []), ("bearer" = [])),
    params(("limit" = Option<i64>, Query), ("startKey" = Option<String>, Query)),
    responses((status = 200, body = AccountList), (status = "4XX", body = ErrorBody)))]
pub async fn list_accounts(
    State(app): State<AppState>,
    Caller(actor): Caller,
    QueryPairs(q): QueryPairs,
) -> Result<Json<AccountList>, ApiError> {
    let f = eq_filters(q, &["limit", "startKey"])?;
    let limit = parse_limit(filter_value(&f, "limit"), 20)?;
    let start_key = filter_value(&f, "startKey");
    let (rows, next_key) = app
        .core
        .my_orgs(&actor, start_key.as_deref(), limit)
        .await?;
    Ok(Json(AccountList {
        limit,
        account_list: rows.iter().map(AccountListItem::from).collect(),
        start_key,
        next_key,
    }))
}

/// #15 내 계정 정보.
#[utoipa::path(get, path = "/users/v1/accounts/{accountId}", tag = "SOLAPI accounts", security(("hmac" = []), ("bearer" = [])),
    params(("accountId" = String, Path)), responses((status = 200, body = Account), (status = "4XX", body = ErrorBody)))]
pub async fn get_account(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(account_id): PathParam<String>,
) -> Result<Json<Account>, ApiError> {
    Ok(Json(Account::from(
        &app.core.get_org(&actor, &account_id).await?,
    )))
}

/// #16 계정 정보 수정 (OWNER).
#[utoipa::path(put, path = "/users/v1/accounts/{accountId}", tag = "SOLAPI accounts", security(("hmac" = []), ("bearer" = [])),
    params(("accountId" = String, Path)), request_body = AccountBody,
    responses((status = 200, body = Account), (status = "4XX", body = ErrorBody)))]
pub async fn update_account(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(account_id): PathParam<String>,
    Body(b): Body<AccountBody>,
) -> Result<Json<Account>, ApiError> {
    Ok(Json(Account::from(
        &app.core
            .update_org(&actor, &account_id, b.name.as_deref(), false)
            .await?,
    )))
}

/// #17 휴면 계정 활성화 (OWNER): reactivates an INACTIVE account.
#[utoipa::path(put, path = "/users/v1/accounts/{accountId}/activate", tag = "SOLAPI accounts", security(("hmac" = []), ("bearer" = [])),
    params(("accountId" = String, Path)), responses((status = 200, body = Account), (status = "4XX", body = ErrorBody)))]
pub async fn activate_account(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(account_id): PathParam<String>,
) -> Result<Json<Account>, ApiError> {
    Ok(Json(Account::from(
        &app.core.update_org(&actor, &account_id, None, true).await?,
    )))
}

/// #18 계정 전환: makes the account the caller's current one (the target of #25).
#[utoipa::path(post, path = "/users/v1/accounts/{accountId}/switch", tag = "SOLAPI accounts", security(("hmac" = []), ("bearer" = [])),
    params(("accountId" = String, Path)), responses((status = 200, body = Success), (status = "4XX", body = ErrorBody)))]
pub async fn switch_account(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(account_id): PathParam<String>,
) -> Result<Json<Success>, ApiError> {
    app.core.switch_org(&actor, &account_id).await?;
    Ok(Json(Success { success: true }))
}

/// #19 계정 회원 목록 조회 (every member). Filters: `memberId`, `role`, `name`, `email`, `status`,
/// `dateCreated` (exact match); `startKey` pages (100 a page).
#[utoipa::path(get, path = "/users/v1/accounts/{accountId}/members", tag = "SOLAPI members of accounts",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path)),
    responses((status = 200, body = MemberList), (status = "4XX", body = ErrorBody)))]
pub async fn list_members(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(account_id): PathParam<String>,
    QueryPairs(q): QueryPairs,
) -> Result<Json<MemberList>, ApiError> {
    let f = eq_filters(
        q,
        &[
            "memberId",
            "role",
            "name",
            "email",
            "status",
            "dateCreated",
            "startKey",
        ],
    )?;
    let filter = MemberFilter {
        member_id: filter_value(&f, "memberId"),
        role: filter_value(&f, "role")
            .as_deref()
            .map(parse_role)
            .transpose()?,
        name: filter_value(&f, "name"),
        email: filter_value(&f, "email"),
        status: filter_value(&f, "status"),
        created_at: filter_value(&f, "dateCreated"),
    };
    let start = filter_value(&f, "startKey");
    let (rows, next) = app
        .core
        .list_members(&actor, &account_id, &filter, start.as_deref(), 100)
        .await?;
    Ok(Json(MemberList::new(&rows, next)))
}

/// #20 회원 정보 조회.
#[utoipa::path(get, path = "/users/v1/accounts/{accountId}/members/{memberId}", tag = "SOLAPI members of accounts",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path), ("memberId" = String, Path)),
    responses((status = 200, body = AccountMember), (status = "4XX", body = ErrorBody)))]
pub async fn get_account_member(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam((account_id, member_id)): PathParam<(String, String)>,
) -> Result<Json<AccountMember>, ApiError> {
    Ok(Json(AccountMember::new(
        &app.core.get_member(&actor, &account_id, &member_id).await?,
        true,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemberChangeBody {
    /// OWNER, DEVELOPER or MEMBER (owners only).
    pub role: Option<String>,
    pub name: Option<String>,
}

impl MemberChangeBody {
    fn into_change(self) -> Result<MemberChange, ApiError> {
        Ok(MemberChange {
            role: self.role.as_deref().map(parse_role).transpose()?,
            roles: None,
            name: self.name,
        })
    }
}

/// #21 회원 정보 수정: an OWNER changes a member's role or name; a member their own name.
#[utoipa::path(put, path = "/users/v1/accounts/{accountId}/members/{memberId}", tag = "SOLAPI members of accounts",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path), ("memberId" = String, Path)),
    request_body = MemberChangeBody, responses((status = 200, body = AccountMember), (status = "4XX", body = ErrorBody)))]
pub async fn update_account_member(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam((account_id, member_id)): PathParam<(String, String)>,
    Body(b): Body<MemberChangeBody>,
) -> Result<Json<AccountMember>, ApiError> {
    let m = app
        .core
        .update_member(&actor, &account_id, &member_id, &b.into_change()?)
        .await?;
    Ok(Json(AccountMember::new(&m, false)))
}

/// Removes a member (OWNER), or leaves the account (the member themselves). The last OWNER can
/// do neither. Not in SOLAPI's public documentation; usher's addition in the same style.
#[utoipa::path(delete, path = "/users/v1/accounts/{accountId}/members/{memberId}", tag = "SOLAPI members of accounts",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path), ("memberId" = String, Path)),
    responses((status = 200, body = AccountMember), (status = "4XX", body = ErrorBody)))]
pub async fn remove_account_member(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam((account_id, member_id)): PathParam<(String, String)>,
) -> Result<Json<AccountMember>, ApiError> {
    let m = app
        .core
        .remove_member(&actor, &account_id, &member_id)
        .await?;
    app.auth.keys.forget_member(&account_id, &member_id);
    Ok(Json(AccountMember::new(&m, true)))
}

fn my_id(actor: &crate::core::Actor) -> Result<String, ApiError> {
    Ok(actor.person()?.id.clone())
}

/// #22 내 회원 정보 조회.
#[utoipa::path(get, path = "/users/v1/accounts/{accountId}/me", tag = "SOLAPI members of accounts",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path)),
    responses((status = 200, body = AccountMember), (status = "4XX", body = ErrorBody)))]
pub async fn get_me(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(account_id): PathParam<String>,
) -> Result<Json<AccountMember>, ApiError> {
    Ok(Json(AccountMember::new(
        &app.core
            .get_member(&actor, &account_id, &my_id(&actor)?)
            .await?,
        true,
    )))
}

/// #23 내 회원 정보 수정: one's own name (and role, for an OWNER; never the last one).
#[utoipa::path(put, path = "/users/v1/accounts/{accountId}/me", tag = "SOLAPI members of accounts",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path)), request_body = MemberChangeBody,
    responses((status = 200, body = AccountMember), (status = "4XX", body = ErrorBody)))]
pub async fn update_me(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(account_id): PathParam<String>,
    Body(b): Body<MemberChangeBody>,
) -> Result<Json<AccountMember>, ApiError> {
    let m = app
        .core
        .update_member(&actor, &account_id, &my_id(&actor)?, &b.into_change()?)
        .await?;
    Ok(Json(AccountMember::new(&m, false)))
}
