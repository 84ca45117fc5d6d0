//! Projects (Atlas groups), their members, and the project roles pending invitations carry.

use sqlx::AssertSqlSafe;
use sqlx::{Any, Executor};

use super::deferred::Deferred;
use super::rows::MemberRow;

pub use super::named::NamedRow as ProjectRow;

/// Projects of every organization the user belongs to, oldest first.
pub async fn of_user_orgs<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
) -> Result<Vec<ProjectRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.id AS id, p.org_id AS org_id, p.name AS name, p.created_at AS created_at, p.updated_at AS updated_at \
         FROM projects p JOIN memberships m ON m.org_id = p.org_id WHERE m.user_id = $1 ORDER BY p.created_at, p.id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// Every project role a user holds in a project: their own and their teams'. One string per
/// grant (space-separated names each).
pub async fn roles_of<'e, E: Executor<'e, Database = Any>>(
    db: E,
    project_id: &str,
    user_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT roles FROM project_members WHERE project_id = $1 AND user_id = $2 \
         UNION ALL \
         SELECT pt.roles FROM project_teams pt JOIN team_members tm ON tm.team_id = pt.team_id \
         WHERE pt.project_id = $1 AND tm.user_id = $2",
    )
    .bind(project_id)
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// The person's own roles in a project (not their teams'), if they are a member of it.
pub async fn direct_roles<'e, E: Executor<'e, Database = Any>>(
    db: E,
    project_id: &str,
    user_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT roles FROM project_members WHERE project_id = $1 AND user_id = $2")
        .bind(project_id)
        .bind(user_id)
        .fetch_optional(db)
        .await
}

/// Direct members of a project with their project roles (in `roles`), oldest first.
pub async fn members<'e, E: Executor<'e, Database = Any>>(
    db: E,
    project_id: &str,
) -> Result<Vec<MemberRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT pm.org_id AS org_id, pm.user_id AS user_id, m.name AS name, pm.roles AS roles, u.email AS email, \
         u.status AS user_status, m.created_at AS created_at, pm.updated_at AS updated_at \
         FROM project_members pm JOIN memberships m ON m.org_id = pm.org_id AND m.user_id = pm.user_id \
         JOIN users u ON u.id = pm.user_id WHERE pm.project_id = $1 ORDER BY pm.created_at, pm.user_id",
    )
    .bind(project_id)
    .fetch_all(db)
    .await
}

/// Who holds roles in a project: a member of the organization (by user id) or one of its teams.
#[derive(Clone, Copy, Debug)]
pub enum Holder<'a> {
    User(&'a str),
    Team(&'a str),
}

impl Holder<'_> {
    /// (table, the holder's column, the holder's id).
    fn place(&self) -> (&'static str, &'static str, &str) {
        match self {
            Holder::User(id) => ("project_members", "user_id", id),
            Holder::Team(id) => ("project_teams", "team_id", id),
        }
    }
}

/// Gives `holder` `roles` in a project, replacing the roles it had there.
pub async fn put_roles<'e, E: Executor<'e, Database = Any>>(
    db: E,
    project_id: &str,
    org_id: &str,
    holder: Holder<'_>,
    roles: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    let (table, column, id) = holder.place();
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {table} (project_id, org_id, {column}, roles, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (project_id, {column}) DO UPDATE SET roles = excluded.roles, updated_at = excluded.updated_at"
    )))
    .bind(project_id)
    .bind(org_id)
    .bind(id)
    .bind(roles)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Takes `holder` out of a project; false if it was not in it.
pub async fn remove_holder<'e, E: Executor<'e, Database = Any>>(
    db: E,
    project_id: &str,
    holder: Holder<'_>,
) -> Result<bool, sqlx::Error> {
    let (table, column, id) = holder.place();
    let r = sqlx::query(AssertSqlSafe(format!(
        "DELETE FROM {table} WHERE project_id = $1 AND {column} = $2"
    )))
    .bind(project_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// (member or invitation, project or team, the project roles or `None` for a team): the
/// project roles and teams of an organization's members and what its invitations grant, in one
/// round trip, ordered by project or team.
pub async fn assignments_of_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<(String, String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT invitation_id, project_id, roles FROM invitation_projects WHERE org_id = $1 \
         UNION ALL SELECT invitation_id, team_id, NULL FROM invitation_teams WHERE org_id = $1 \
         UNION ALL SELECT user_id, project_id, roles FROM project_members WHERE org_id = $1 \
         UNION ALL SELECT user_id, team_id, NULL FROM team_members WHERE org_id = $1 \
         ORDER BY 2",
    )
    .bind(org_id)
    .fetch_all(db)
    .await
}

/// (invitation, project, roles): what the invitations of an organization grant in its projects.
pub async fn grants_of_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT invitation_id, project_id, roles FROM invitation_projects WHERE org_id = $1 ORDER BY project_id",
    )
    .bind(org_id)
    .fetch_all(db)
    .await
}

/// (project, roles) an invitation grants.
pub async fn grants_of<'e, E: Executor<'e, Database = Any>>(
    db: E,
    invitation_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT project_id, roles FROM invitation_projects WHERE invitation_id = $1 ORDER BY project_id",
    )
    .bind(invitation_id)
    .fetch_all(db)
    .await
}

/// Grants (or re-grants with new roles) project roles through an invitation.
pub fn put_grant(invitation_id: &str, org_id: &str, project_id: &str, roles: &str) -> Deferred {
    Deferred::new(
        "INSERT INTO invitation_projects (invitation_id, org_id, project_id, roles) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (invitation_id, project_id) DO UPDATE SET roles = excluded.roles",
    )
    .bind(invitation_id)
    .bind(org_id)
    .bind(project_id)
    .bind(roles)
}

/// Drops an invitation's grant in one project (`Some`) or in all (`None`).
pub async fn delete_grants<'e, E: Executor<'e, Database = Any>>(
    db: E,
    invitation_id: &str,
    project_id: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "DELETE FROM invitation_projects WHERE invitation_id = $1 AND ($2 IS NULL OR project_id = $2)",
    )
    .bind(invitation_id)
    .bind(project_id)
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}

/// Takes a member out of every one of the organization's projects.
pub async fn delete_memberships_of<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    user_id: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM project_members WHERE org_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}
