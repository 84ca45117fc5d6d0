//! Teams of an organization: named sets of its members (and of addresses invited into it) that
//! can be given roles in its projects. Members read them; owners manage them.

use serde_json::json;

use crate::store::named::Named;

use super::error::unique_as;
use super::invitations::People;
use super::roles::{Permission, ProjectRoles};
use super::{Actor, Conflict, Core, CoreError, CoreResult, user_status};
use crate::store::{
    self,
    teams::{ProjectTeamRow, TeamRow},
};

impl Core {
    async fn team_in(&self, org_id: &str, team_id: &str) -> CoreResult<TeamRow> {
        if !super::ids::is_id(team_id) {
            return Err(CoreError::NotFound);
        }
        store::named::by_id(self.db.read(), Named::Teams, team_id)
            .await?
            .filter(|t| t.org_id == org_id)
            .ok_or(CoreError::NotFound)
    }

    /// Checks the caller may `p` in `org_id`, then finds the team there.
    async fn team_for(
        &self,
        actor: &Actor,
        org_id: &str,
        team_id: &str,
        p: Permission,
    ) -> CoreResult<TeamRow> {
        actor.require_status(user_status::MAY_READ)?;
        let access = self.access(actor, org_id).await?;
        access.require(p)?;
        if p != Permission::ReadOrganization {
            access.require_active_org()?;
        }
        self.team_in(org_id, team_id).await
    }

    pub async fn list_teams(&self, actor: &Actor, org_id: &str) -> CoreResult<Vec<TeamRow>> {
        actor.require_status(user_status::MAY_READ)?;
        self.access(actor, org_id)
            .await?
            .require(Permission::ReadOrganization)?;
        Ok(store::named::of_org(self.db.read(), Named::Teams, org_id).await?)
    }

    /// Creates a team of members named by e-mail (each must be a member of the organization).
    pub async fn create_team(
        &self,
        actor: &Actor,
        org_id: &str,
        name: &str,
        usernames: &[String],
    ) -> CoreResult<TeamRow> {
        let name = super::accounts::check_name("name", name)?;
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ManageOrganization)?;
        access.require_active_org()?;
        let mut user_ids = Vec::new();
        for email in usernames {
            let normalized = super::email::normalize(email);
            let m = store::orgs::members_by_email(self.db.read(), org_id, &normalized)
                .await?
                .ok_or_else(|| CoreError::UnknownReference {
                    kind: "user",
                    id: email.clone(),
                })?;
            user_ids.push(m.user_id);
        }
        let now = self.now_ts();
        let row = TeamRow {
            id: self.new_id(),
            org_id: org_id.to_owned(),
            name,
            created_at: now.clone(),
            updated_at: now.clone(),
        };
        let mut tx = self.db.begin().await?;
        unique_as(
            store::named::insert(&mut *tx, Named::Teams, &row).await,
            Conflict::NameTaken,
        )?;
        for user_id in &user_ids {
            store::teams::add_member(&mut *tx, &row.id, org_id, user_id, &now).await?;
        }
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "team.created",
            ("team", &row.id),
            json!({"name": row.name, "members": user_ids}),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn get_team(
        &self,
        actor: &Actor,
        org_id: &str,
        team_id: &str,
    ) -> CoreResult<TeamRow> {
        self.team_for(actor, org_id, team_id, Permission::ReadOrganization)
            .await
    }

    pub async fn team_by_name(
        &self,
        actor: &Actor,
        org_id: &str,
        name: &str,
    ) -> CoreResult<TeamRow> {
        self.list_teams(actor, org_id)
            .await?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or(CoreError::NotFound)
    }

    pub async fn rename_team(
        &self,
        actor: &Actor,
        org_id: &str,
        team_id: &str,
        name: &str,
    ) -> CoreResult<TeamRow> {
        let name = super::accounts::check_name("name", name)?;
        let team = self
            .team_for(actor, org_id, team_id, Permission::ManageOrganization)
            .await?;
        let mut tx = self.db.begin().await?;
        unique_as(
            store::named::rename(&mut *tx, Named::Teams, team_id, &name, &self.now_ts()).await,
            Conflict::NameTaken,
        )?;
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "team.renamed",
            ("team", team_id),
            json!({"from": team.name, "to": name}),
        )
        .await?;
        tx.commit().await?;
        self.team_in(org_id, team_id).await
    }

    /// Deletes a team: its members lose the roles it gave them in projects.
    pub async fn delete_team(&self, actor: &Actor, org_id: &str, team_id: &str) -> CoreResult<()> {
        let team = self
            .team_for(actor, org_id, team_id, Permission::ManageOrganization)
            .await?;
        let mut tx = self.db.begin().await?;
        store::named::delete(&mut *tx, Named::Teams, team_id).await?;
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "team.deleted",
            ("team", team_id),
            json!({"name": team.name}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A team's people: its members, then the addresses whose newest organization invitation
    /// will add them to it (pending, expired or declined).
    pub async fn team_people(
        &self,
        actor: &Actor,
        org_id: &str,
        team_id: &str,
    ) -> CoreResult<People> {
        self.team_for(actor, org_id, team_id, Permission::ReadOrganization)
            .await?;
        let members = store::teams::members(self.db.read(), team_id).await?;
        let grants = store::teams::grants_of_org(self.db.read(), org_id).await?;
        let invitees = self
            .org_people_unchecked(org_id)
            .await?
            .invitees
            .into_iter()
            .filter(|(d, _)| {
                grants
                    .iter()
                    .any(|(inv, team)| *inv == d.invitation.id && team == team_id)
            })
            .collect();
        Ok(People { members, invitees })
    }

    /// Adds an organization user to a team: a member (by user id) or a pending invitee (by the
    /// invitation's id, added on acceptance). Already in it: a conflict.
    pub async fn add_team_user(
        &self,
        actor: &Actor,
        org_id: &str,
        team_id: &str,
        user_id: &str,
    ) -> CoreResult<()> {
        self.change_team_user(actor, org_id, team_id, user_id, true)
            .await
    }

    pub async fn remove_team_user(
        &self,
        actor: &Actor,
        org_id: &str,
        team_id: &str,
        user_id: &str,
    ) -> CoreResult<()> {
        self.change_team_user(actor, org_id, team_id, user_id, false)
            .await
    }

    async fn change_team_user(
        &self,
        actor: &Actor,
        org_id: &str,
        team_id: &str,
        user_id: &str,
        adding: bool,
    ) -> CoreResult<()> {
        self.team_for(actor, org_id, team_id, Permission::ManageOrganization)
            .await?;
        let unknown = || CoreError::UnknownReference {
            kind: "user",
            id: user_id.to_owned(),
        };
        if !super::ids::is_id(user_id) {
            return Err(unknown());
        }
        let now = self.now_ts();
        let is_member = store::orgs::member(self.db.read(), org_id, user_id)
            .await?
            .is_some();
        if !is_member {
            // A pending invitee: the team is added to (or dropped from) the invitation.
            let d = store::invitations::detail_by_id(self.db.read(), user_id)
                .await?
                .filter(|d| d.invitation.org_id == org_id && d.invitation.project_id.is_none())
                .filter(|d| super::invitations::effective_state(&d.invitation, &now) == "PENDING")
                .ok_or_else(unknown)?;
            let mut grants = self.grants_of(&d.invitation.id).await?;
            let had = grants.teams.iter().any(|t| t == team_id);
            match (adding, had) {
                (true, true) => return Err(CoreError::Conflict(Conflict::AlreadyMember)),
                (false, false) => return Err(unknown()),
                (true, false) => grants.teams.push(team_id.to_owned()),
                (false, true) => grants.teams.retain(|t| t != team_id),
            }
            return self
                .set_invitation_grants(actor, org_id, &d.invitation.id, &grants)
                .await;
        }
        let mut tx = self.db.begin().await?;
        let changed = if adding {
            store::teams::add_member(&mut *tx, team_id, org_id, user_id, &now).await?
        } else {
            store::teams::remove_member(&mut *tx, team_id, user_id).await?
        };
        match (adding, changed) {
            (true, false) => return Err(CoreError::Conflict(Conflict::AlreadyMember)),
            (false, false) => return Err(unknown()),
            _ => {}
        }
        let action = if adding {
            "team.member_added"
        } else {
            "team.member_removed"
        };
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            action,
            ("user", user_id),
            json!({"teamId": team_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The teams assigned to a project, with their roles there.
    pub async fn project_teams(
        &self,
        actor: &Actor,
        project_id: &str,
    ) -> CoreResult<Vec<ProjectTeamRow>> {
        let pa = self.project_access(actor, project_id).await?;
        pa.require_read()?;
        Ok(store::teams::of_project(self.db.read(), project_id).await?)
    }

    /// Assigns teams of the project's organization to it, or replaces their roles there. With
    /// `must_exist`, each team must be assigned already (an update).
    pub async fn put_project_teams(
        &self,
        actor: &Actor,
        project_id: &str,
        teams: &[(String, ProjectRoles)],
        must_exist: bool,
    ) -> CoreResult<Vec<ProjectTeamRow>> {
        let pa = self.project_access(actor, project_id).await?;
        pa.require_manage()?;
        pa.org.require_active_org()?;
        let org_id = &pa.project.org_id;
        let assigned = store::teams::of_project(self.db.read(), project_id).await?;
        for (team_id, roles) in teams {
            self.team_in(org_id, team_id).await.map_err(|e| match e {
                CoreError::NotFound => CoreError::UnknownReference {
                    kind: "team",
                    id: team_id.clone(),
                },
                other => other,
            })?;
            if must_exist && !assigned.iter().any(|a| &a.team_id == team_id) {
                return Err(CoreError::NotFound);
            }
            if roles.is_empty() {
                return Err(CoreError::invalid(
                    "roleNames",
                    "at least one project role is required",
                ));
            }
        }
        let now = self.now_ts();
        let mut tx = self.db.begin().await?;
        for (team_id, roles) in teams {
            store::projects::put_roles(
                &mut *tx,
                project_id,
                org_id,
                store::projects::Holder::Team(team_id),
                &roles.to_stored(),
                &now,
            )
            .await?;
            self.audit(
                &mut tx,
                Some(&actor.audit_label()),
                Some(org_id),
                "project.team_assigned",
                ("team", team_id),
                json!({"projectId": project_id, "roles": roles.to_stored()}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(store::teams::of_project(self.db.read(), project_id).await?)
    }

    pub async fn remove_project_team(
        &self,
        actor: &Actor,
        project_id: &str,
        team_id: &str,
    ) -> CoreResult<()> {
        let pa = self.project_access(actor, project_id).await?;
        pa.require_manage()?;
        let mut tx = self.db.begin().await?;
        if !store::projects::remove_holder(
            &mut *tx,
            project_id,
            store::projects::Holder::Team(team_id),
        )
        .await?
        {
            return Err(CoreError::NotFound);
        }
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(&pa.project.org_id),
            "project.team_removed",
            ("team", team_id),
            json!({"projectId": project_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
