//! Invitations. The state machine's guards are in the SQL: every transition is one guarded
//! UPDATE, so concurrent callers cannot both win.

// The SQL built at run time here is assembled from this module's constants only, never from
// input (`AssertSqlSafe`); values are always bound.
use sqlx::{Any, AssertSqlSafe, Executor};

use super::deferred::Deferred;

use serde::de::SeqAccess;

use super::json_rows::{FromJsonColumns, JsonRows, column};
use super::rows::InvitationRow;

macro_rules! invitation_columns {
    () => {
        "id, org_id, email, roles, inviter_id, state, created_at, updated_at, expires_at, accepted_by, project_id, inviter_key_id"
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
    pub project_id: Option<&'a str>,
    pub inviter_key_id: Option<&'a str>,
}

/// The insert of a new PENDING invitation. It fails with a unique violation when the partial
/// unique index `invitations_one_pending` already holds a pending one for the same
/// (organization, e-mail) (or, never in practice, when the id or token digest is taken).
pub fn insert(n: &NewInvitation<'_>) -> Deferred {
    insert_with(n, "")
}

/// [`insert`] that writes nothing and returns no row instead of failing, and otherwise returns
/// the new id. (`DO NOTHING` rather than a failing insert in a transaction that goes on: on
/// PostgreSQL a failed statement aborts the whole transaction.)
pub fn insert_unless_taken(n: &NewInvitation<'_>) -> Deferred {
    insert_with(n, " ON CONFLICT DO NOTHING RETURNING id")
}

fn insert_with(n: &NewInvitation<'_>, tail: &str) -> Deferred {
    Deferred::new(format!(
        "INSERT INTO invitations (id, org_id, email, email_normalized, roles, inviter_id, state, token_digest, \
         created_at, updated_at, expires_at, project_id, inviter_key_id) VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $8, $8, $9, $10, $11){tail}"
    ))
    .bind(n.id)
    .bind(n.org_id)
    .bind(n.email)
    .bind(n.email_normalized)
    .bind(n.roles)
    .bind(n.inviter_id)
    .bind(n.token_digest)
    .bind(n.now)
    .bind(n.expires_at)
    .bind(n.project_id)
    .bind(n.inviter_key_id)
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

/// Materializes the expiry of up to `limit` overdue pending invitations, oldest expiry first.
/// Returns (id, organization) of each.
/// The outer `state` test matters on PostgreSQL: a row changed by a concurrent transaction (an
/// accept, another instance's sweep) is re-checked against it after the lock wait, while the
/// subquery's choice is not re-evaluated.
pub async fn expire_overdue<'e, E: Executor<'e, Database = Any>>(
    db: E,
    now: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE invitations SET state = 'EXPIRED', updated_at = $1 \
         WHERE id IN (SELECT id FROM invitations WHERE state = 'PENDING' AND expires_at <= $1 \
                      ORDER BY expires_at, id LIMIT $2) \
           AND state = 'PENDING' \
         RETURNING id, org_id",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Resend: a new token digest and a new expiry for a PENDING, unexpired invitation. `None` when
/// it is not (re-read it to say why).
pub async fn rotate<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    token_digest: &str,
    expires_at: &str,
    now: &str,
) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE invitations SET token_digest = $2, expires_at = $3, updated_at = $4 \
         WHERE id = $1 AND state = 'PENDING' AND expires_at > $4 RETURNING ",
        invitation_columns!()
    ))
    .bind(id)
    .bind(token_digest)
    .bind(expires_at)
    .bind(now)
    .fetch_optional(db)
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
    sqlx::query_as(TRANSITION)
        .bind(id)
        .bind(to)
        .bind(accepted_by)
        .bind(now)
        .fetch_optional(db)
        .await
}

/// [`transition`] as a statement of a batch (see [`super::Db::write_batch_if_found`]): it
/// returns the row when it moved it.
pub fn transition_statement(id: &str, to: &str, accepted_by: Option<&str>, now: &str) -> Deferred {
    Deferred::new(TRANSITION)
        .bind(id)
        .bind(to)
        .bind(accepted_by)
        .bind(now)
}

const TRANSITION: &str = concat!(
    "UPDATE invitations SET state = $2, accepted_by = $3, updated_at = $4 \
     WHERE id = $1 AND state = 'PENDING' AND expires_at > $4 RETURNING ",
    invitation_columns!()
);

/// An invitation joined with its organization and its inviter: everything the expanded views
/// show, in one query. Lists arrive as one JSON array built by the database (see
/// [`super::Db::json_array_sql`]), hence [`FromJsonColumns`] beside `FromRow`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvitationDetail {
    #[sqlx(flatten)]
    pub invitation: InvitationRow,
    pub org_name: String,
    pub org_status: String,
    pub org_created_at: String,
    pub org_updated_at: String,
    pub org_language: Option<String>,
    pub inviter_email: Option<String>,
    pub inviter_name: Option<String>,
    pub inviter_status: Option<String>,
    pub inviter_phone_number: Option<String>,
    pub inviter_extra_phone_numbers: Option<String>,
    pub inviter_selected_org_id: Option<String>,
    pub inviter_created_at: Option<String>,
    pub inviter_updated_at: Option<String>,
}

/// In the order of `DETAIL_COLUMNS`.
impl FromJsonColumns for InvitationDetail {
    fn take<'de, A: SeqAccess<'de>>(c: &mut A) -> Result<Self, A::Error> {
        Ok(InvitationDetail {
            invitation: InvitationRow::take(c)?,
            org_name: column(c)?,
            org_status: column(c)?,
            org_created_at: column(c)?,
            org_updated_at: column(c)?,
            org_language: column(c)?,
            inviter_email: column(c)?,
            inviter_name: column(c)?,
            inviter_status: column(c)?,
            inviter_phone_number: column(c)?,
            inviter_extra_phone_numbers: column(c)?,
            inviter_selected_org_id: column(c)?,
            inviter_created_at: column(c)?,
            inviter_updated_at: column(c)?,
        })
    }
}

/// The output columns of [`InvitationDetail`] queries: (expression, name).
const DETAIL_COLUMNS: &[(&str, &str)] = &[
    ("i.id", "id"),
    ("i.org_id", "org_id"),
    ("i.email", "email"),
    ("i.roles", "roles"),
    ("i.inviter_id", "inviter_id"),
    ("i.state", "state"),
    ("i.created_at", "created_at"),
    ("i.updated_at", "updated_at"),
    ("i.expires_at", "expires_at"),
    ("i.accepted_by", "accepted_by"),
    ("i.project_id", "project_id"),
    ("i.inviter_key_id", "inviter_key_id"),
    ("o.name", "org_name"),
    ("o.status", "org_status"),
    ("o.created_at", "org_created_at"),
    ("o.updated_at", "org_updated_at"),
    ("o.language", "org_language"),
    ("u.email", "inviter_email"),
    ("u.name", "inviter_name"),
    ("u.status", "inviter_status"),
    ("u.phone_number", "inviter_phone_number"),
    ("u.extra_phone_numbers", "inviter_extra_phone_numbers"),
    ("u.selected_org_id", "inviter_selected_org_id"),
    ("u.created_at", "inviter_created_at"),
    ("u.updated_at", "inviter_updated_at"),
];

/// `SELECT <DETAIL_COLUMNS> FROM invitations ⋈ organizations ⟕ inviter` followed by `rest`.
fn detail_select(rest: &str) -> String {
    detail_select_with(&[], rest)
}

/// [`detail_select`] with further output columns (expression, name) after the detail's.
fn detail_select_with(extra: &[(&str, &str)], rest: &str) -> String {
    let columns: Vec<String> = DETAIL_COLUMNS
        .iter()
        .chain(extra)
        .map(|(expr, name)| format!("{expr} AS {name}"))
        .collect();
    format!(
        "SELECT {} FROM invitations i JOIN organizations o ON o.id = i.org_id \
         LEFT JOIN users u ON u.id = i.inviter_id {rest}",
        columns.join(", ")
    )
}

/// The invitee's page in one query: the invitation by its token digest, and whether a user with
/// its e-mail exists (a count, which both backends decode as an integer).
pub async fn preview_by_token<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_digest: &str,
) -> Result<Option<(InvitationDetail, bool)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        detail: InvitationDetail,
        invitee_accounts: i64,
    }
    let sql = detail_select_with(
        &[(
            "(SELECT COUNT(*) FROM users x WHERE x.email_normalized = i.email_normalized)",
            "invitee_accounts",
        )],
        "WHERE i.token_digest = $1",
    );
    let row: Option<Row> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(token_digest)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| (r.detail, r.invitee_accounts > 0)))
}

fn detail_names() -> impl Iterator<Item = &'static str> {
    DETAIL_COLUMNS.iter().map(|(_, name)| *name)
}

pub async fn detail_by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<Option<InvitationDetail>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(detail_select("WHERE i.id = $1")))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Lists come back as one row holding a JSON array: twenty invitations cost one row's trip out
/// of the database driver instead of twenty (the list benchmark's largest cost after the
/// driver's thread hand-offs, docs/benchmarks.md).
async fn detail_list(
    db: &super::Db,
    query: sqlx::query::QueryScalar<'_, Any, String, sqlx::any::AnyArguments>,
) -> Result<Vec<InvitationDetail>, sqlx::Error> {
    json_list(db, query, |d: &InvitationDetail| &d.invitation).await
}

/// [`detail_list`] for any row type holding an invitation: sorted oldest first.
async fn json_list<T: FromJsonColumns>(
    db: &super::Db,
    query: sqlx::query::QueryScalar<'_, Any, String, sqlx::any::AnyArguments>,
    invitation: fn(&T) -> &InvitationRow,
) -> Result<Vec<T>, sqlx::Error> {
    let json = query.fetch_one(db.read()).await?;
    let JsonRows(mut list) =
        serde_json::from_str::<JsonRows<T>>(&json).map_err(|e| sqlx::Error::Decode(e.into()))?;
    list.sort_unstable_by(|a, b| {
        let (a, b) = (invitation(a), invitation(b));
        (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id))
    });
    Ok(list)
}

/// Pending, unexpired organization invitations (not project ones) of an organization with the
/// SOLAPI list filters, oldest first (the first 1,000).
pub async fn pending_details_of_org(
    db: &super::Db,
    org_id: &str,
    now: &str,
    f: &ListFilter,
) -> Result<Vec<InvitationDetail>, sqlx::Error> {
    pending_of_org(db, org_id, now, f, &[], |d: &InvitationDetail| {
        &d.invitation
    })
    .await
}

/// An invitation with what it grants, as the Atlas lists show it, read with the invitation
/// instead of by a second query. `grant_projects` is `project=ROLE ROLE;project=ROLE` and
/// `grant_teams` is `team;team`, each `None` when it grants none.
#[derive(Debug, Clone)]
pub struct DetailWithGrants {
    pub detail: InvitationDetail,
    pub grant_projects: Option<String>,
    pub grant_teams: Option<String>,
}

/// The detail's columns, then `grant_projects` and `grant_teams`.
impl FromJsonColumns for DetailWithGrants {
    fn take<'de, A: SeqAccess<'de>>(c: &mut A) -> Result<Self, A::Error> {
        Ok(DetailWithGrants {
            detail: InvitationDetail::take(c)?,
            grant_projects: column(c)?,
            grant_teams: column(c)?,
        })
    }
}

/// [`pending_details_of_org`] with what each invitation grants.
pub async fn pending_details_with_grants_of_org(
    db: &super::Db,
    org_id: &str,
    now: &str,
    f: &ListFilter,
) -> Result<Vec<DetailWithGrants>, sqlx::Error> {
    let concat = |expr: &str, from: &str| match db.backend {
        super::Backend::Sqlite => {
            format!("(SELECT group_concat({expr}, ';') FROM {from} x WHERE x.invitation_id = i.id)")
        }
        super::Backend::Postgres => {
            format!("(SELECT string_agg({expr}, ';') FROM {from} x WHERE x.invitation_id = i.id)")
        }
    };
    let projects = concat("x.project_id || '=' || x.roles", "invitation_projects");
    let teams = concat("x.team_id", "invitation_teams");
    let extra = [
        (projects.as_str(), "grant_projects"),
        (teams.as_str(), "grant_teams"),
    ];
    pending_of_org(db, org_id, now, f, &extra, |d: &DetailWithGrants| {
        &d.detail.invitation
    })
    .await
}

async fn pending_of_org<T: FromJsonColumns>(
    db: &super::Db,
    org_id: &str,
    now: &str,
    f: &ListFilter,
    extra: &[(&str, &'static str)],
    invitation: fn(&T) -> &InvitationRow,
) -> Result<Vec<T>, sqlx::Error> {
    let select = detail_select_with(
        extra,
        "WHERE i.org_id = $1 AND i.project_id IS NULL AND i.state = 'PENDING' AND i.expires_at > $2 \
         AND ($3 IS NULL OR i.inviter_id = $3) AND ($4 IS NULL OR i.email_normalized = $4) \
         AND ($5 IS NULL OR i.roles = $5) AND ($6 IS NULL OR i.created_at = $6) AND ($7 IS NULL OR i.updated_at = $7) \
         ORDER BY i.created_at, i.id LIMIT 1000",
    );
    let names = detail_names().chain(extra.iter().map(|(_, name)| *name));
    let sql = db.json_array_sql(&select, names);
    let query = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(org_id)
        .bind(now)
        .bind(f.inviter_id.as_deref())
        .bind(f.email_normalized.as_deref())
        .bind(f.roles.as_deref())
        .bind(f.created_at.as_deref())
        .bind(f.updated_at.as_deref());
    json_list(db, query, invitation).await
}

/// An invitation as the users lists show it: the row and who sent it.
#[derive(Debug, Clone)]
pub struct Invitee {
    pub invitation: InvitationRow,
    pub inviter_email: Option<String>,
}

/// In the order of [`invitees_of_org`]'s columns.
impl FromJsonColumns for Invitee {
    fn take<'de, A: SeqAccess<'de>>(c: &mut A) -> Result<Self, A::Error> {
        Ok(Invitee {
            invitation: InvitationRow::take(c)?,
            inviter_email: column(c)?,
        })
    }
}

/// The newest organization invitation (not project ones) of every address invited into an
/// organization, where that one is still pending, has expired or was declined; oldest first
/// (the first 10,000). Accepted and cancelled ones end the address' invitee history, and older
/// invitations of an address are never shown, so neither is read: an organization's users list
/// costs what its current invitees cost, not what its history does.
pub async fn invitees_of_org(db: &super::Db, org_id: &str) -> Result<Vec<Invitee>, sqlx::Error> {
    let columns = concat!(invitation_columns!(), ", inviter_email");
    let select = format!(
        "SELECT {columns} FROM (SELECT i.*, u.email AS inviter_email FROM invitations i \
         LEFT JOIN users u ON u.id = i.inviter_id \
         WHERE i.org_id = $1 AND i.project_id IS NULL \
         AND i.state IN ('PENDING', 'EXPIRED', 'REJECTED') \
         AND NOT EXISTS (SELECT 1 FROM invitations n WHERE n.email_normalized = i.email_normalized \
           AND n.org_id = i.org_id AND n.project_id IS NULL \
           AND (n.created_at > i.created_at OR (n.created_at = i.created_at AND n.id > i.id))) \
         ORDER BY i.created_at, i.id LIMIT 10000) AS x"
    );
    let sql = db.json_array_sql(&select, columns.split(", "));
    let query = sqlx::query_scalar(AssertSqlSafe(sql)).bind(org_id);
    json_list(db, query, |d: &Invitee| &d.invitation).await
}

/// Pending, unexpired project invitations of a project, optionally of one e-mail, oldest first
/// (the first 1,000).
pub async fn pending_details_of_project(
    db: &super::Db,
    project_id: &str,
    now: &str,
    email_normalized: Option<&str>,
) -> Result<Vec<InvitationDetail>, sqlx::Error> {
    let select = detail_select(
        "WHERE i.project_id = $1 AND i.state = 'PENDING' AND i.expires_at > $2 \
         AND ($3 IS NULL OR i.email_normalized = $3) ORDER BY i.created_at, i.id LIMIT 1000",
    );
    let sql = db.json_array_sql(&select, detail_names());
    let query = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(project_id)
        .bind(now)
        .bind(email_normalized);
    detail_list(db, query).await
}

/// Pending, unexpired invitations addressed to an e-mail, across organizations.
pub async fn pending_details_for_email(
    db: &super::Db,
    email_normalized: &str,
    now: &str,
) -> Result<Vec<InvitationDetail>, sqlx::Error> {
    let select = detail_select(
        "WHERE i.email_normalized = $1 AND i.state = 'PENDING' AND i.expires_at > $2 \
         ORDER BY i.created_at, i.id LIMIT 1000",
    );
    let sql = db.json_array_sql(&select, detail_names());
    let query = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(email_normalized)
        .bind(now);
    detail_list(db, query).await
}

/// Replaces the roles of a PENDING, unexpired invitation; false if it is not (any more).
pub async fn set_roles<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    roles: &str,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE invitations SET roles = $2, updated_at = $3 \
         WHERE id = $1 AND state = 'PENDING' AND expires_at > $3",
    )
    .bind(id)
    .bind(roles)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a pending, unexpired invitation of `org_id` as changed (and, on PostgreSQL, locks it
/// for the rest of the transaction); 0 if there is none.
pub async fn touch_pending<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    org_id: &str,
    now: &str,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE invitations SET updated_at = $3 \
         WHERE id = $1 AND org_id = $2 AND state = 'PENDING' AND expires_at > $3",
    )
    .bind(id)
    .bind(org_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
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
