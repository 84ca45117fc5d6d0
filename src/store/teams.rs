//! Teams of an organization, their members, the projects they are assigned to, and the teams
//! pending invitations will add their invitee to.

use sqlx::{Any, Executor};

use super::deferred::Deferred;
use super::rows::MemberRow;

pub use super::named::NamedRow as TeamRow;

/// Members of a team (organization members), oldest membership first.
pub async fn members<'e, E: Executor<'e, Database = Any>>(
    db: E,
    team_id: &str,
) -> Result<Vec<MemberRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.org_id AS org_id, m.user_id AS user_id, m.name AS name, m.roles AS roles, u.email AS email, \
         u.status AS user_status, m.created_at AS created_at, m.updated_at AS updated_at \
         FROM team_members tm JOIN memberships m ON m.org_id = tm.org_id AND m.user_id = tm.user_id \
         JOIN users u ON u.id = tm.user_id WHERE tm.team_id = $1 ORDER BY tm.created_at, tm.user_id",
    )
    .bind(team_id)
    .fetch_all(db)
    .await
}

/// Adds an organization member to a team; false if they were in it already.
pub async fn add_member<'e, E: Executor<'e, Database = Any>>(
    db: E,
    team_id: &str,
    org_id: &str,
    user_id: &str,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO team_members (team_id, org_id, user_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (team_id, user_id) DO NOTHING",
    )
    .bind(team_id)
    .bind(org_id)
    .bind(user_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn remove_member<'e, E: Executor<'e, Database = Any>>(
    db: E,
    team_id: &str,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
        .bind(team_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// (invitation, team) of every team an organization's invitations will add their invitee to.
pub async fn grants_of_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT invitation_id, team_id FROM invitation_teams WHERE org_id = $1 ORDER BY team_id",
    )
    .bind(org_id)
    .fetch_all(db)
    .await
}

/// Teams an invitation will add its invitee to.
pub async fn grants_of<'e, E: Executor<'e, Database = Any>>(
    db: E,
    invitation_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT team_id FROM invitation_teams WHERE invitation_id = $1 ORDER BY team_id",
    )
    .bind(invitation_id)
    .fetch_all(db)
    .await
}

/// Adds a team to an invitation (nothing if it is there).
pub fn add_grant(invitation_id: &str, org_id: &str, team_id: &str) -> Deferred {
    Deferred::new(
        "INSERT INTO invitation_teams (invitation_id, org_id, team_id) VALUES ($1, $2, $3) \
         ON CONFLICT (invitation_id, team_id) DO NOTHING",
    )
    .bind(invitation_id)
    .bind(org_id)
    .bind(team_id)
}

/// Drops a team (`Some`) or all teams (`None`) from an invitation.
pub async fn delete_grants<'e, E: Executor<'e, Database = Any>>(
    db: E,
    invitation_id: &str,
    team_id: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "DELETE FROM invitation_teams WHERE invitation_id = $1 AND ($2 IS NULL OR team_id = $2)",
    )
    .bind(invitation_id)
    .bind(team_id)
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}

/// A team's roles in a project.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectTeamRow {
    pub project_id: String,
    pub team_id: String,
    pub roles: String,
}

pub async fn of_project<'e, E: Executor<'e, Database = Any>>(
    db: E,
    project_id: &str,
) -> Result<Vec<ProjectTeamRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT project_id, team_id, roles FROM project_teams WHERE project_id = $1 ORDER BY created_at, team_id",
    )
    .bind(project_id)
    .fetch_all(db)
    .await
}

/// Takes a member out of every one of the organization's teams.
pub async fn delete_memberships_of<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    user_id: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM team_members WHERE org_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}
