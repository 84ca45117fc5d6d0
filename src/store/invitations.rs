//! Invitations. The state machine's guards are in the SQL: every transition is one guarded
//! UPDATE, so concurrent callers cannot both win.

use sqlx::{Any, Executor};

use super::rows::InvitationRow;

macro_rules! invitation_columns {
    () => {
        "id, org_id, email, roles, inviter_id, state, created_at, updated_at, expires_at, accepted_by"
    };
}

pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub email: &'a str,
    pub email_normalized: &'a str,
    pub roles: &'a str,
    pub inviter_id: Option<&'a str>,
    pub token_digest: &'a str,
    pub now: &'a str,
    pub expires_at: &'a str,
}

/// Inserts a PENDING invitation unless the partial unique index `invitations_one_pending`
/// already holds a pending one for the same (organization, e-mail): then nothing is written and
/// `false` comes back. (`DO NOTHING` rather than a failing insert: on PostgreSQL a failed
/// statement would abort the whole transaction.)
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    n: &NewInvitation<'_>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO invitations (id, org_id, email, email_normalized, roles, inviter_id, state, token_digest, \
         created_at, updated_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $8, $8, $9) \
         ON CONFLICT DO NOTHING",
    )
    .bind(n.id)
    .bind(n.org_id)
    .bind(n.email)
    .bind(n.email_normalized)
    .bind(n.roles)
    .bind(n.inviter_id)
    .bind(n.token_digest)
    .bind(n.now)
    .bind(n.expires_at)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        invitation_columns!(),
        " FROM invitations WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn by_token<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_digest: &str,
) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        invitation_columns!(),
        " FROM invitations WHERE token_digest = $1"
    ))
    .bind(token_digest)
    .fetch_optional(db)
    .await
}

/// Filters of the SOLAPI list (all optional, exact match).
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub inviter_id: Option<String>,
    pub email_normalized: Option<String>,
    pub roles: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// Materializes expiry of the pending invitations of (org, e-mail) whose time has passed, so
/// that the partial unique index no longer counts them. Returns the ids it expired.
pub async fn expire_for<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    email_normalized: &str,
    now: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE invitations SET state = 'EXPIRED', updated_at = $3 \
         WHERE org_id = $1 AND email_normalized = $2 AND state = 'PENDING' AND expires_at <= $3 RETURNING id",
    )
    .bind(org_id)
    .bind(email_normalized)
    .bind(now)
    .fetch_all(db)
    .await
}

/// The one transition statement: PENDING and unexpired → `to`. `None` means somebody else won,
/// or the invitation is not pending (re-read it to say why).
pub async fn transition<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    to: &str,
    accepted_by: Option<&str>,
    now: &str,
) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE invitations SET state = $2, accepted_by = $3, updated_at = $4 \
         WHERE id = $1 AND state = 'PENDING' AND expires_at > $4 RETURNING ",
        invitation_columns!()
    ))
    .bind(id)
    .bind(to)
    .bind(accepted_by)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// An invitation joined with its organization and its inviter: everything the expanded views
/// show, in one query.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvitationDetail {
    #[sqlx(flatten)]
    pub invitation: InvitationRow,
    pub org_name: String,
    pub org_status: String,
    pub org_created_at: String,
    pub org_updated_at: String,
    pub inviter_email: Option<String>,
    pub inviter_name: Option<String>,
    pub inviter_status: Option<String>,
    pub inviter_phone_number: Option<String>,
    pub inviter_extra_phone_numbers: Option<String>,
    pub inviter_selected_org_id: Option<String>,
    pub inviter_created_at: Option<String>,
    pub inviter_updated_at: Option<String>,
}

macro_rules! detail_select {
    () => {
        "SELECT i.id AS id, i.org_id AS org_id, i.email AS email, i.roles AS roles, i.inviter_id AS inviter_id, \
         i.state AS state, i.created_at AS created_at, i.updated_at AS updated_at, i.expires_at AS expires_at, \
         i.accepted_by AS accepted_by, o.name AS org_name, o.status AS org_status, o.created_at AS org_created_at, \
         o.updated_at AS org_updated_at, u.email AS inviter_email, u.name AS inviter_name, u.status AS inviter_status, \
         u.phone_number AS inviter_phone_number, u.extra_phone_numbers AS inviter_extra_phone_numbers, \
         u.selected_org_id AS inviter_selected_org_id, u.created_at AS inviter_created_at, \
         u.updated_at AS inviter_updated_at \
         FROM invitations i JOIN organizations o ON o.id = i.org_id LEFT JOIN users u ON u.id = i.inviter_id "
    };
}

pub async fn detail_by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<Option<InvitationDetail>, sqlx::Error> {
    sqlx::query_as(concat!(detail_select!(), "WHERE i.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Pending, unexpired invitations of an organization with the SOLAPI list filters, oldest first.
pub async fn pending_details_of_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    now: &str,
    f: &ListFilter,
) -> Result<Vec<InvitationDetail>, sqlx::Error> {
    sqlx::query_as(concat!(
        detail_select!(),
        "WHERE i.org_id = $1 AND i.state = 'PENDING' AND i.expires_at > $2 \
         AND ($3 IS NULL OR i.inviter_id = $3) AND ($4 IS NULL OR i.email_normalized = $4) \
         AND ($5 IS NULL OR i.roles = $5) AND ($6 IS NULL OR i.created_at = $6) AND ($7 IS NULL OR i.updated_at = $7) \
         ORDER BY i.created_at, i.id LIMIT 1000"
    ))
    .bind(org_id)
    .bind(now)
    .bind(f.inviter_id.as_deref())
    .bind(f.email_normalized.as_deref())
    .bind(f.roles.as_deref())
    .bind(f.created_at.as_deref())
    .bind(f.updated_at.as_deref())
    .fetch_all(db)
    .await
}

/// Pending, unexpired invitations addressed to an e-mail, across organizations.
pub async fn pending_details_for_email<'e, E: Executor<'e, Database = Any>>(
    db: E,
    email_normalized: &str,
    now: &str,
) -> Result<Vec<InvitationDetail>, sqlx::Error> {
    sqlx::query_as(concat!(
        detail_select!(),
        "WHERE i.email_normalized = $1 AND i.state = 'PENDING' AND i.expires_at > $2 ORDER BY i.created_at, i.id LIMIT 1000"
    ))
    .bind(email_normalized)
    .bind(now)
    .fetch_all(db)
    .await
}

/// True when a user with this e-mail is already a member of the organization.
pub async fn is_member_email<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    email_normalized: &str,
) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND u.email_normalized = $2",
    )
    .bind(org_id)
    .bind(email_normalized)
    .fetch_one(db)
    .await?;
    Ok(n > 0)
}
