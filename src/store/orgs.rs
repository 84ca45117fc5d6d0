//! Organizations and memberships.

use sqlx::{Any, Executor};

use super::rows::{MemberRow, MyOrgRow, OrgRow};

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    name: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO organizations (id, name, status, created_at, updated_at) VALUES ($1, $2, 'ACTIVE', $3, $3)")
        .bind(id)
        .bind(name)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<Option<OrgRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, status, created_at, updated_at, language FROM organizations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Updates name and/or status. Touching the row also takes PostgreSQL's row lock, which
/// serializes concurrent role changes of one organization (the last-owner rule relies on it).
pub async fn update<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    name: Option<&str>,
    status: Option<&str>,
    now: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE organizations SET name = COALESCE($2, name), status = COALESCE($3, status), updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(name)
    .bind(status)
    .bind(now)
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}

/// Sets (or, with `None`, clears) the language of the organization's e-mails.
pub async fn set_language<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    language: Option<&str>,
    now: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("UPDATE organizations SET language = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(language)
        .bind(now)
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}

/// Locks the organization row for the rest of the transaction without changing it.
pub async fn lock<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE organizations SET status = status WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn insert_membership<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    user_id: &str,
    name: &str,
    roles: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO memberships (org_id, user_id, name, roles, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(name)
    .bind(roles)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// What the permission check needs about a user in an organization, in one query.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccessRow {
    pub roles: String,
    pub org_status: String,
    pub org_name: String,
    pub org_language: Option<String>,
}

pub async fn access<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    user_id: &str,
) -> Result<Option<AccessRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.roles AS roles, o.status AS org_status, o.name AS org_name, o.language AS org_language \
         FROM memberships m \
         JOIN organizations o ON o.id = m.org_id WHERE m.org_id = $1 AND m.user_id = $2",
    )
    .bind(org_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

macro_rules! member_select {
    () => {
        "SELECT m.org_id AS org_id, m.user_id AS user_id, m.name AS name, m.roles AS roles, u.email AS email, \
         u.status AS user_status, m.created_at AS created_at, m.updated_at AS updated_at \
         FROM memberships m JOIN users u ON u.id = m.user_id "
    };
}

pub async fn member<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    user_id: &str,
) -> Result<Option<MemberRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        member_select!(),
        "WHERE m.org_id = $1 AND m.user_id = $2"
    ))
    .bind(org_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// Every member of an organization, oldest membership first.
pub async fn all_members<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<MemberRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        member_select!(),
        "WHERE m.org_id = $1 ORDER BY m.created_at, m.user_id"
    ))
    .bind(org_id)
    .fetch_all(db)
    .await
}

/// The member of an organization with this (normalized) e-mail, if there is one.
pub async fn members_by_email<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    email_normalized: &str,
) -> Result<Option<MemberRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        member_select!(),
        "WHERE m.org_id = $1 AND u.email_normalized = $2"
    ))
    .bind(org_id)
    .bind(email_normalized)
    .fetch_optional(db)
    .await
}

/// Members of an organization in id order, starting after `start_after` (keyset pagination).
pub async fn members<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    start_after: Option<&str>,
    limit: i64,
) -> Result<Vec<MemberRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        member_select!(),
        "WHERE m.org_id = $1 AND ($2 IS NULL OR m.user_id > $2) ORDER BY m.user_id LIMIT $3"
    ))
    .bind(org_id)
    .bind(start_after)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn update_membership<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    user_id: &str,
    name: Option<&str>,
    roles: Option<&str>,
    now: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE memberships SET name = COALESCE($3, name), roles = COALESCE($4, roles), updated_at = $5 \
         WHERE org_id = $1 AND user_id = $2",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(name)
    .bind(roles)
    .bind(now)
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}

pub async fn delete_membership<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    user_id: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}

/// Number of owners. Roles are stored space-separated, so padding with spaces makes the match
/// exact on both backends.
pub async fn owner_count<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND (' ' || roles || ' ') LIKE '% OWNER %'")
        .bind(org_id)
        .fetch_one(db)
        .await
}

/// The caller's organizations in id order (keyset pagination).
pub async fn orgs_of_user<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    start_after: Option<&str>,
    limit: i64,
) -> Result<Vec<MyOrgRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.id AS id, o.name AS name, o.status AS status, o.created_at AS created_at, o.updated_at AS updated_at, \
         m.roles AS my_roles, m.name AS my_name \
         FROM memberships m JOIN organizations o ON o.id = m.org_id \
         WHERE m.user_id = $1 AND ($2 IS NULL OR o.id > $2) ORDER BY o.id LIMIT $3",
    )
    .bind(user_id)
    .bind(start_after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// A user and, if they are a member of `org_id`, their access there: what a key-authenticated
/// request needs, in one query.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserAccessRow {
    #[sqlx(flatten)]
    pub user: super::rows::UserRow,
    pub roles: Option<String>,
    pub org_status: Option<String>,
    pub org_name: Option<String>,
    pub org_language: Option<String>,
}

pub async fn user_with_access<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    org_id: &str,
) -> Result<Option<UserAccessRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id AS id, u.email AS email, u.name AS name, u.password_hash AS password_hash, u.status AS status, \
         u.phone_number AS phone_number, u.extra_phone_numbers AS extra_phone_numbers, \
         u.selected_org_id AS selected_org_id, u.created_at AS created_at, u.updated_at AS updated_at, \
         m.roles AS roles, o.status AS org_status, o.name AS org_name, o.language AS org_language \
         FROM users u LEFT JOIN memberships m ON m.user_id = u.id AND m.org_id = $2 \
         LEFT JOIN organizations o ON o.id = m.org_id WHERE u.id = $1",
    )
    .bind(user_id)
    .bind(org_id)
    .fetch_optional(db)
    .await
}
