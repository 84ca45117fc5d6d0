//! Projects (Atlas "groups") of an organization: who may see and manage them, their people
//! (direct members and the addresses invited into them), and legacy project invitations.
//!
//! The organization's names of projects are visible to its members; what is inside a project
//! (people, invitations, teams) needs a role there (see [`super::roles::project_permission`]).

use std::collections::HashMap;

use serde_json::json;

use crate::store::named::Named;

use super::email::Email;
use super::error::unique_as;
use super::invitations::{
    GrantChange, Grants, InviteeState, NewInvite, Sent, effective_state, ended_from_state,
};
use super::roles::{Permission, ProjectRoles, Role, Roles, project_permission};
use super::{Access, Actor, Conflict, Core, CoreError, CoreResult, user_status};
use crate::store::invitations::{InvitationDetail, Invitee};
use crate::store::{self, projects::ProjectRow, rows::MemberRow};

/// The caller's standing in one project.
#[derive(Debug, Clone)]
pub struct ProjectAccess {
    pub project: ProjectRow,
    pub org: Access,
    /// The caller's own and their teams' roles there (none for keys and service accounts).
    pub roles: ProjectRoles,
}

impl ProjectAccess {
    pub fn require_read(&self) -> CoreResult<()> {
        if project_permission(&self.org.roles, &self.roles).0 {
            Ok(())
        } else {
            Err(CoreError::Forbidden("no role in this project"))
        }
    }

    pub fn require_manage(&self) -> CoreResult<()> {
        if project_permission(&self.org.roles, &self.roles).1 {
            Ok(())
        } else {
            Err(CoreError::Forbidden(
                "only a project owner manages the project",
            ))
        }
    }
}

/// A project's people: its members, then the addresses whose newest organization invitation
/// grants a role in it (pending, expired or declined), with the roles it grants.
#[derive(Debug, Clone)]
pub struct ProjectPeople {
    pub members: Vec<MemberRow>,
    pub invitees: Vec<(Invitee, InviteeState, ProjectRoles)>,
}

/// Who is in which project and team of an organization, and what its invitations will grant:
/// what Atlas shows beside each of its users. Keyed by user id or invitation id (one id space).
#[derive(Debug, Clone, Default)]
pub struct Assignments {
    pub projects: HashMap<String, Vec<(String, ProjectRoles)>>,
    pub teams: HashMap<String, Vec<String>>,
}

impl Assignments {
    pub fn projects_of(&self, id: &str) -> &[(String, ProjectRoles)] {
        self.projects.get(id).map_or(&[], Vec::as_slice)
    }

    pub fn teams_of(&self, id: &str) -> &[String] {
        self.teams.get(id).map_or(&[], Vec::as_slice)
    }
}

/// Who a project user is: a member of the project, or an invitation granting a role in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectUser {
    Member(String),
    Invited(String),
}

/// The person a credential acts as: a session's, or a member's own API key's. Organization keys
/// and service accounts act with roles of their own and are nobody.
fn acting_person(actor: &Actor) -> Option<&crate::store::rows::UserRow> {
    actor
        .user
        .as_ref()
        .filter(|_| actor.key.as_ref().is_none_or(|k| k.roles.is_empty()))
}

/// Atlas' project and organization name rule: 1 to 64 letters, digits and `-_.(),:&@+'`.
pub fn check_project_name(field: &'static str, raw: &str) -> CoreResult<String> {
    let ok = (1..=64).contains(&raw.chars().count())
        && raw
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.(),:&@+'".contains(c));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(CoreError::invalid(
            field,
            "1 to 64 letters, digits and - _ . ( ) , : & @ + '",
        ))
    }
}

impl Core {
    /// The caller's access to a project. Unknown projects and projects of organizations the
    /// caller cannot see are both `NotFound`.
    pub async fn project_access(
        &self,
        actor: &Actor,
        project_id: &str,
    ) -> CoreResult<ProjectAccess> {
        if !super::ids::is_id(project_id) {
            return Err(CoreError::NotFound);
        }
        let project = store::named::by_id(self.db.read(), Named::Projects, project_id)
            .await?
            .ok_or(CoreError::NotFound)?;
        let org = self.access(actor, &project.org_id).await?;
        let roles = match acting_person(actor) {
            Some(u) => {
                let grants = store::projects::roles_of(self.db.read(), project_id, &u.id).await?;
                grants
                    .iter()
                    .map(|g| ProjectRoles::from_stored(g))
                    .fold(ProjectRoles::default(), |a, b| a.union(&b))
            }
            _ => ProjectRoles::default(),
        };
        Ok(ProjectAccess {
            project,
            org,
            roles,
        })
    }

    /// [`Assignments`] of an organization, for a caller who may read it: its members' and its
    /// invitations'.
    pub async fn org_assignments(&self, actor: &Actor, org_id: &str) -> CoreResult<Assignments> {
        self.access(actor, org_id)
            .await?
            .require(Permission::ReadOrganization)?;
        let mut a = Assignments::default();
        for (who, target, roles) in
            store::projects::assignments_of_org(self.db.read(), org_id).await?
        {
            match roles {
                Some(roles) => {
                    let roles = ProjectRoles::from_stored(&roles);
                    a.projects.entry(who).or_default().push((target, roles));
                }
                None => a.teams.entry(who).or_default().push(target),
            }
        }
        Ok(a)
    }

    /// The projects of `org_id` (its members see them all), or, without one, of every
    /// organization the caller can see.
    pub async fn list_projects(
        &self,
        actor: &Actor,
        org_id: Option<&str>,
    ) -> CoreResult<Vec<ProjectRow>> {
        actor.require_status(user_status::MAY_READ)?;
        let org_id = org_id.or(actor.key.as_ref().map(|k| k.org_id.as_str()));
        match (org_id, &actor.user) {
            (Some(org_id), _) => {
                self.access(actor, org_id)
                    .await?
                    .require(Permission::ReadOrganization)?;
                Ok(store::named::of_org(self.db.read(), Named::Projects, org_id).await?)
            }
            (None, Some(u)) => Ok(store::projects::of_user_orgs(self.db.read(), &u.id).await?),
            (None, None) => Ok(Vec::new()),
        }
    }

    /// Owners and group creators create projects; a person who creates one owns it.
    pub async fn create_project(
        &self,
        actor: &Actor,
        org_id: &str,
        name: &str,
    ) -> CoreResult<ProjectRow> {
        let name = check_project_name("name", name)?;
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::CreateProjects)?;
        access.require_active_org()?;
        let now = self.now_ts();
        let row = ProjectRow {
            id: self.new_id(),
            org_id: org_id.to_owned(),
            name,
            created_at: now.clone(),
            updated_at: now.clone(),
        };
        let mut tx = self.db.begin().await?;
        unique_as(
            store::named::insert(&mut *tx, Named::Projects, &row).await,
            Conflict::NameTaken,
        )?;
        if let Some(u) = acting_person(actor) {
            let owner = super::roles::PROJECT_OWNER;
            store::projects::put_roles(
                &mut *tx,
                &row.id,
                org_id,
                store::projects::Holder::User(&u.id),
                owner,
                &now,
            )
            .await?;
        }
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "project.created",
            ("project", &row.id),
            json!({"name": row.name}),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// One project, for those with a role in it.
    pub async fn get_project(&self, actor: &Actor, id: &str) -> CoreResult<ProjectRow> {
        let pa = self.project_access(actor, id).await?;
        pa.require_read()?;
        Ok(pa.project)
    }

    /// A project by its name, among the organizations the caller can see.
    pub async fn project_by_name(&self, actor: &Actor, name: &str) -> CoreResult<ProjectRow> {
        let id = self
            .list_projects(actor, None)
            .await?
            .into_iter()
            .find(|p| p.name == name)
            .ok_or(CoreError::NotFound)?
            .id;
        self.get_project(actor, &id).await
    }

    pub async fn rename_project(
        &self,
        actor: &Actor,
        id: &str,
        name: &str,
    ) -> CoreResult<ProjectRow> {
        let name = check_project_name("name", name)?;
        let pa = self.project_access(actor, id).await?;
        pa.require_manage()?;
        pa.org.require_active_org()?;
        let mut tx = self.db.begin().await?;
        unique_as(
            store::named::rename(&mut *tx, Named::Projects, id, &name, &self.now_ts()).await,
            Conflict::NameTaken,
        )?;
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(&pa.project.org_id),
            "project.renamed",
            ("project", id),
            json!({"from": pa.project.name, "to": name}),
        )
        .await?;
        tx.commit().await?;
        store::named::by_id(self.db.read(), Named::Projects, id)
            .await?
            .ok_or(CoreError::NotFound)
    }

    /// Deletes a project with its memberships, team assignments and project invitations.
    pub async fn delete_project(&self, actor: &Actor, id: &str) -> CoreResult<()> {
        let pa = self.project_access(actor, id).await?;
        pa.require_manage()?;
        let mut tx = self.db.begin().await?;
        if !store::named::delete(&mut *tx, Named::Projects, id).await? {
            return Err(CoreError::NotFound);
        }
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(&pa.project.org_id),
            "project.deleted",
            ("project", id),
            json!({"name": pa.project.name}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The people of a project (see [`ProjectPeople`]), for those with a role in it.
    pub async fn project_people(&self, actor: &Actor, id: &str) -> CoreResult<ProjectPeople> {
        let pa = self.project_access(actor, id).await?;
        pa.require_read()?;
        let members = store::projects::members(self.db.read(), id).await?;
        let people = self.org_people_unchecked(&pa.project.org_id).await?;
        let grants = store::projects::grants_of_org(self.db.read(), &pa.project.org_id).await?;
        let invitees = people
            .invitees
            .into_iter()
            .filter_map(|(d, state)| {
                let (_, _, roles) = grants
                    .iter()
                    .find(|(inv, project, _)| *inv == d.invitation.id && project == id)?;
                Some((d, state, ProjectRoles::from_stored(roles)))
            })
            .collect();
        Ok(ProjectPeople { members, invitees })
    }

    /// Adds `email` to a project: an organization member joins it at once; an address with a
    /// pending organization invitation has the project added to it; anyone else is invited
    /// into the organization (as a member) with the project. A project member, or an address
    /// whose pending invitation already has the project, is a conflict.
    pub async fn add_project_user(
        &self,
        actor: &Actor,
        id: &str,
        email: &str,
        roles: &ProjectRoles,
    ) -> CoreResult<ProjectUser> {
        let email = Email::parse(email)
            .ok_or_else(|| CoreError::invalid("email", "must be a valid e-mail address"))?;
        if roles.is_empty() {
            return Err(CoreError::invalid(
                "roles",
                "at least one project role is required",
            ));
        }
        actor.require_status(&[user_status::ACTIVE])?;
        let pa = self.project_access(actor, id).await?;
        pa.require_manage()?;
        pa.org.require_active_org()?;
        let org_id = pa.project.org_id.clone();
        let normalized = email.normalized();
        let member = store::orgs::members_by_email(self.db.read(), &org_id, &normalized).await?;
        if let Some(m) = member {
            let mut tx = self.db.begin().await?;
            if store::projects::direct_roles(&mut *tx, id, &m.user_id)
                .await?
                .is_some()
            {
                return Err(CoreError::Conflict(Conflict::AlreadyMember));
            }
            store::projects::put_roles(
                &mut *tx,
                id,
                &org_id,
                store::projects::Holder::User(&m.user_id),
                &roles.to_stored(),
                &self.now_ts(),
            )
            .await?;
            self.audit(
                &mut tx,
                Some(&actor.audit_label()),
                Some(&org_id),
                "project.member_added",
                ("user", &m.user_id),
                json!({"projectId": id, "roles": roles.to_stored()}),
            )
            .await?;
            tx.commit().await?;
            return Ok(ProjectUser::Member(m.user_id));
        }
        let filter = store::invitations::ListFilter {
            email_normalized: Some(normalized.clone()),
            ..Default::default()
        };
        let pending =
            store::invitations::pending_details_of_org(&self.db, &org_id, &self.now_ts(), &filter)
                .await?;
        if let Some(d) = pending.into_iter().next() {
            let mut grants = self.grants_of(&d.invitation.id).await?;
            if grants.projects.iter().any(|(p, _)| p == id) {
                return Err(CoreError::Conflict(Conflict::AlreadyInvited));
            }
            grants.projects.push((id.to_owned(), roles.clone()));
            self.set_invitation_grants(actor, &org_id, &d.invitation.id, &grants)
                .await?;
            return Ok(ProjectUser::Invited(d.invitation.id));
        }
        // Anyone else: an organization invitation, as an organization owner would send it.
        let grants = Grants {
            projects: vec![(id.to_owned(), roles.clone())],
            teams: Vec::new(),
        };
        let sent = self
            .insert_invitation(
                actor,
                NewInvite {
                    access: &pa.org,
                    email: &email,
                    roles: &Roles::one(Role::Member),
                    project_id: None,
                    grants: &grants,
                },
            )
            .await?;
        Ok(ProjectUser::Invited(sent.invitation.id))
    }

    /// Replaces a project user's roles there: a member's own roles, or what a pending
    /// invitation grants. At least one role stays.
    pub async fn set_project_user_roles(
        &self,
        actor: &Actor,
        id: &str,
        user: &ProjectUser,
        roles: &ProjectRoles,
    ) -> CoreResult<()> {
        if roles.is_empty() {
            return Err(CoreError::invalid(
                "roles",
                "a project user keeps at least one role",
            ));
        }
        let pa = self.project_access(actor, id).await?;
        pa.require_manage()?;
        pa.org.require_active_org()?;
        let org_id = &pa.project.org_id;
        match user {
            ProjectUser::Member(user_id) => {
                let mut tx = self.db.begin().await?;
                if store::projects::direct_roles(&mut *tx, id, user_id)
                    .await?
                    .is_none()
                {
                    return Err(CoreError::NotFound);
                }
                store::projects::put_roles(
                    &mut *tx,
                    id,
                    org_id,
                    store::projects::Holder::User(user_id),
                    &roles.to_stored(),
                    &self.now_ts(),
                )
                .await?;
                self.audit(
                    &mut tx,
                    Some(&actor.audit_label()),
                    Some(org_id),
                    "project.member_updated",
                    ("user", user_id),
                    json!({"projectId": id, "roles": roles.to_stored()}),
                )
                .await?;
                tx.commit().await?;
            }
            ProjectUser::Invited(invitation_id) => {
                let mut grants = self.grants_of(invitation_id).await?;
                let Some(slot) = grants.projects.iter_mut().find(|(p, _)| p == id) else {
                    return Err(CoreError::NotFound);
                };
                slot.1 = roles.clone();
                self.set_invitation_grants(actor, org_id, invitation_id, &grants)
                    .await?;
            }
        }
        Ok(())
    }

    /// Takes a user out of a project: a member leaves it (and stays in the organization); a
    /// pending invitation no longer grants it (and stays an organization invitation).
    pub async fn remove_project_user(
        &self,
        actor: &Actor,
        id: &str,
        user: &ProjectUser,
    ) -> CoreResult<()> {
        let pa = self.project_access(actor, id).await?;
        pa.require_manage()?;
        let org_id = &pa.project.org_id;
        match user {
            ProjectUser::Member(user_id) => {
                let mut tx = self.db.begin().await?;
                if !store::projects::remove_holder(
                    &mut *tx,
                    id,
                    store::projects::Holder::User(user_id),
                )
                .await?
                {
                    return Err(CoreError::NotFound);
                }
                self.audit(
                    &mut tx,
                    Some(&actor.audit_label()),
                    Some(org_id),
                    "project.member_removed",
                    ("user", user_id),
                    json!({"projectId": id}),
                )
                .await?;
                tx.commit().await?;
            }
            ProjectUser::Invited(invitation_id) => {
                let mut grants = self.grants_of(invitation_id).await?;
                let before = grants.projects.len();
                grants.projects.retain(|(p, _)| p != id);
                if grants.projects.len() == before {
                    return Err(CoreError::NotFound);
                }
                self.set_invitation_grants(actor, org_id, invitation_id, &grants)
                    .await?;
            }
        }
        Ok(())
    }

    /// Replaces a member's projects (with their roles there) and teams, each where given
    /// (organization owners; the Atlas users API's `groupRoleAssignments` and `teamIds`).
    pub async fn set_member_assignments(
        &self,
        actor: &Actor,
        org_id: &str,
        user_id: &str,
        change: GrantChange,
    ) -> CoreResult<()> {
        let GrantChange { projects, teams } = change;
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ManageOrganization)?;
        access.require_active_org()?;
        let grants = Grants {
            projects: projects.clone().unwrap_or_default(),
            teams: teams.clone().unwrap_or_default(),
        };
        self.check_grants(org_id, &grants).await?;
        let now = self.now_ts();
        let mut tx = self.db.begin().await?;
        if store::orgs::member(&mut *tx, org_id, user_id)
            .await?
            .is_none()
        {
            return Err(CoreError::NotFound);
        }
        if let Some(projects) = &projects {
            store::projects::delete_memberships_of(&mut *tx, org_id, user_id).await?;
            for (project_id, roles) in projects {
                store::projects::put_roles(
                    &mut *tx,
                    project_id,
                    org_id,
                    store::projects::Holder::User(user_id),
                    &roles.to_stored(),
                    &now,
                )
                .await?;
            }
        }
        if let Some(teams) = &teams {
            store::teams::delete_memberships_of(&mut *tx, org_id, user_id).await?;
            for team_id in teams {
                store::teams::add_member(&mut *tx, team_id, org_id, user_id, &now).await?;
            }
        }
        let projects: Option<Vec<_>> = projects.map(|ps| {
            ps.iter()
                .map(|(p, r)| json!({"projectId": p, "roles": r.to_stored()}))
                .collect()
        });
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "membership.assignments_set",
            ("user", user_id),
            json!({"projects": projects, "teams": teams}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces what a pending organization invitation grants in projects and teams (the
    /// organization's owners).
    pub async fn update_invitation_grants(
        &self,
        actor: &Actor,
        org_id: &str,
        invitation_id: &str,
        grants: &Grants,
    ) -> CoreResult<()> {
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ManageInvitations)?;
        access.require_active_org()?;
        self.set_invitation_grants(actor, org_id, invitation_id, grants)
            .await
    }

    /// [`Core::update_invitation_grants`] once the caller's right is checked (an owner, or a
    /// project owner changing their project's entry).
    pub(super) async fn set_invitation_grants(
        &self,
        actor: &Actor,
        org_id: &str,
        invitation_id: &str,
        grants: &Grants,
    ) -> CoreResult<()> {
        self.check_grants(org_id, grants).await?;
        let now = self.now_ts();
        let mut tx = self.db.begin().await?;
        // Locks the invitation and checks it is still pending and unexpired.
        if store::invitations::touch_pending(&mut *tx, invitation_id, org_id, &now).await? == 0 {
            return Err(CoreError::NotFound);
        }
        self.replace_grants(&mut tx, invitation_id, org_id, grants)
            .await?;
        let projects: Vec<_> = grants
            .projects
            .iter()
            .map(|(p, r)| json!({"projectId": p, "roles": r.to_stored()}))
            .collect();
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "invitation.updated",
            ("invitation", invitation_id),
            json!({"projects": projects, "teams": grants.teams}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Legacy project invitations of a project (its owners), optionally of one address.
    pub async fn project_invitations(
        &self,
        actor: &Actor,
        id: &str,
        email: Option<&str>,
    ) -> CoreResult<Vec<InvitationDetail>> {
        actor.require_status(&[user_status::ACTIVE])?;
        let pa = self.project_access(actor, id).await?;
        pa.require_manage()?;
        let email = email.map(super::email::normalize);
        Ok(store::invitations::pending_details_of_project(
            &self.db,
            id,
            &self.now_ts(),
            email.as_deref(),
        )
        .await?)
    }

    /// A legacy project invitation: into the project's organization (as a member, or adding
    /// nothing for someone who is one already) with `roles` in the project.
    pub async fn invite_to_project(
        &self,
        actor: &Actor,
        id: &str,
        email: &str,
        roles: &ProjectRoles,
    ) -> CoreResult<Sent> {
        let email = Email::parse(email)
            .ok_or_else(|| CoreError::invalid("email", "must be a valid e-mail address"))?;
        if roles.is_empty() {
            return Err(CoreError::invalid(
                "roles",
                "at least one project role is required",
            ));
        }
        actor.require_status(&[user_status::ACTIVE])?;
        let pa = self.project_access(actor, id).await?;
        pa.require_manage()?;
        pa.org.require_active_org()?;
        let normalized = email.normalized();
        if let Some(m) =
            store::orgs::members_by_email(self.db.read(), &pa.project.org_id, &normalized).await?
            && store::projects::direct_roles(self.db.read(), id, &m.user_id)
                .await?
                .is_some()
        {
            return Err(CoreError::Conflict(Conflict::AlreadyMember));
        }
        let grants = Grants {
            projects: vec![(id.to_owned(), roles.clone())],
            teams: Vec::new(),
        };
        self.insert_invitation(
            actor,
            NewInvite {
                access: &pa.org,
                email: &email,
                roles: &Roles::one(Role::Member),
                project_id: Some(id),
                grants: &grants,
            },
        )
        .await
    }

    /// A pending invitation of this project, and what it grants there. Organization
    /// invitations answer `WrongState` (Atlas: not deletable through the project), ended ones
    /// `InvitationEnded`.
    pub async fn project_invitation(
        &self,
        actor: &Actor,
        id: &str,
        invitation_id: &str,
    ) -> CoreResult<(InvitationDetail, ProjectRoles)> {
        actor.require_status(&[user_status::ACTIVE])?;
        let pa = self.project_access(actor, id).await?;
        pa.require_manage()?;
        if !super::ids::is_id(invitation_id) {
            return Err(CoreError::NotFound);
        }
        let d = store::invitations::detail_by_id(self.db.read(), invitation_id)
            .await?
            .filter(|d| d.invitation.org_id == pa.project.org_id)
            .ok_or(CoreError::NotFound)?;
        match &d.invitation.project_id {
            None => return Err(CoreError::Conflict(Conflict::WrongState)),
            Some(p) if p != id => return Err(CoreError::NotFound),
            Some(_) => {}
        }
        if let Some(ended) = ended_from_state(effective_state(&d.invitation, &self.now_ts())) {
            return Err(CoreError::InvitationEnded(ended));
        }
        let roles = self
            .grants_of(invitation_id)
            .await?
            .projects
            .into_iter()
            .find(|(p, _)| p == id)
            .map(|(_, r)| r)
            .unwrap_or_default();
        Ok((d, roles))
    }

    /// Cancels a project invitation of this project.
    pub async fn cancel_project_invitation(
        &self,
        actor: &Actor,
        id: &str,
        invitation_id: &str,
    ) -> CoreResult<()> {
        let (d, _) = self.project_invitation(actor, id, invitation_id).await?;
        self.end_invitation(
            Some(actor),
            &d.invitation,
            "CANCELLED",
            "invitation.cancelled",
        )
        .await?;
        Ok(())
    }

    /// Replaces the roles a project invitation grants in its project (Atlas PATCH replaces the
    /// set).
    pub async fn set_project_invitation_roles(
        &self,
        actor: &Actor,
        id: &str,
        invitation_id: &str,
        roles: &ProjectRoles,
    ) -> CoreResult<(InvitationDetail, ProjectRoles)> {
        if roles.is_empty() {
            return Err(CoreError::invalid(
                "roles",
                "at least one project role is required",
            ));
        }
        let (d, _) = self.project_invitation(actor, id, invitation_id).await?;
        let grants = Grants {
            projects: vec![(id.to_owned(), roles.clone())],
            teams: Vec::new(),
        };
        self.set_invitation_grants(actor, &d.invitation.org_id, invitation_id, &grants)
            .await?;
        self.project_invitation(actor, id, invitation_id).await
    }
}
