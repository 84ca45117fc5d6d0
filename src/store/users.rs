//! Users, sessions and single-use user tokens.

use sqlx::{Any, Executor};

use super::rows::{SessionRow, UserRow, UserTokenRow};

macro_rules! user_columns {
    () => {
        "id, email, name, password_hash, status, phone_number, extra_phone_numbers, selected_org_id, created_at, updated_at"
    };
}

pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub email_normalized: &'a str,
    pub name: &'a str,
    pub password_hash: Option<&'a str>,
    pub status: &'a str,
    pub selected_org_id: Option<&'a str>,
    pub now: &'a str,
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    u: &NewUser<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, email, email_normalized, name, password_hash, status, selected_org_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(u.id)
    .bind(u.email)
    .bind(u.email_normalized)
    .bind(u.name)
    .bind(u.password_hash)
    .bind(u.status)
    .bind(u.selected_org_id)
    .bind(u.now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn by_email<'e, E: Executor<'e, Database = Any>>(
    db: E,
    email_normalized: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE email_normalized = $1"
    ))
    .bind(email_normalized)
    .fetch_optional(db)
    .await
}

/// Profile fields a member may change about themselves; `None` leaves a field unchanged.
#[derive(Default)]
pub struct ProfileUpdate<'a> {
    pub name: Option<&'a str>,
    pub email: Option<(&'a str, &'a str)>,
    pub status: Option<&'a str>,
    pub phone_number: Option<&'a str>,
    pub extra_phone_numbers: Option<&'a str>,
    pub selected_org_id: Option<&'a str>,
    pub password_hash: Option<&'a str>,
}

pub async fn update<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    p: &ProfileUpdate<'_>,
    now: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE users SET \
           name = COALESCE($2, name), \
           email = COALESCE($3, email), \
           email_normalized = COALESCE($4, email_normalized), \
           status = COALESCE($5, status), \
           phone_number = COALESCE($6, phone_number), \
           extra_phone_numbers = COALESCE($7, extra_phone_numbers), \
           selected_org_id = COALESCE($8, selected_org_id), \
           password_hash = COALESCE($9, password_hash), \
           updated_at = $10 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(p.name)
    .bind(p.email.map(|e| e.0))
    .bind(p.email.map(|e| e.1))
    .bind(p.status)
    .bind(p.phone_number)
    .bind(p.extra_phone_numbers)
    .bind(p.selected_org_id)
    .bind(p.password_hash)
    .bind(now)
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}

pub async fn count<'e, E: Executor<'e, Database = Any>>(db: E) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db)
        .await
}

// ---- sessions ----

pub struct NewSession<'a> {
    pub token_digest: &'a str,
    pub user_id: &'a str,
    pub ip_address: &'a str,
    pub device: &'a str,
    pub now: &'a str,
    pub expires_at: &'a str,
}

pub async fn insert_session<'e, E: Executor<'e, Database = Any>>(
    db: E,
    s: &NewSession<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (token_digest, user_id, ip_address, device, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(s.token_digest)
    .bind(s.user_id)
    .bind(s.ip_address)
    .bind(s.device)
    .bind(s.now)
    .bind(s.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn live_session<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_digest: &str,
    now: &str,
) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT user_id, ip_address, device, created_at, expires_at FROM sessions \
         WHERE token_digest = $1 AND expires_at > $2",
    )
    .bind(token_digest)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn sessions_of<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    now: &str,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT user_id, ip_address, device, created_at, expires_at FROM sessions \
         WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC LIMIT 20",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(db)
    .await
}

/// Deletes a session; returns its user, if there was one.
pub async fn delete_session<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_digest: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM sessions WHERE token_digest = $1 RETURNING user_id")
        .bind(token_digest)
        .fetch_optional(db)
        .await
}

pub async fn delete_sessions_of<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(db)
        .await?
        .rows_affected())
}

// ---- single-use tokens (password reset, e-mail verification) ----

pub struct NewUserToken<'a> {
    pub token_digest: &'a str,
    pub id: &'a str,
    pub user_id: &'a str,
    pub purpose: &'a str,
    pub email: &'a str,
    pub now: &'a str,
    pub expires_at: &'a str,
}

pub async fn insert_token<'e, E: Executor<'e, Database = Any>>(
    db: E,
    t: &NewUserToken<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO user_tokens (token_digest, id, user_id, purpose, email, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(t.token_digest)
    .bind(t.id)
    .bind(t.user_id)
    .bind(t.purpose)
    .bind(t.email)
    .bind(t.now)
    .bind(t.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Claims a single-use token: one guarded update, so of two concurrent uses exactly one wins.
pub async fn claim_token<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_digest: &str,
    purpose: &str,
    now: &str,
) -> Result<Option<UserTokenRow>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE user_tokens SET used_at = $3 \
         WHERE token_digest = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
         RETURNING id, user_id, purpose, email, created_at, expires_at, used_at",
    )
    .bind(token_digest)
    .bind(purpose)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Forgets the selected organization if it is `org_id` (after the user left it).
pub async fn clear_selected_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    org_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET selected_org_id = NULL WHERE id = $1 AND selected_org_id = $2")
        .bind(user_id)
        .bind(org_id)
        .execute(db)
        .await?;
    Ok(())
}
