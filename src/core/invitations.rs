//! Invitations: `PENDING → ACCEPTED | CANCELLED | REJECTED | EXPIRED`, every state but PENDING
//! terminal. Each transition is one guarded UPDATE inside a transaction that also writes the
//! audit event and the outbox rows it causes.

use serde_json::json;
use sqlx::AnyConnection;

use super::accounts::OrgDetail;
use super::crypto::{looks_like_token, random_token};
use super::email::Email;
use super::error::unique_as;
use super::roles::{Permission, ProjectRoles, Role, Roles};
use super::{
    Actor, AuditEvent, Conflict, Core, CoreError, CoreResult, Ended, ids, mail::Mail, user_status,
};
use crate::store::{
    self, WriteTx,
    deferred::{Deferred, rows_as},
    invitations::{InvitationDetail, Invitee, ListFilter, NewInvitation},
    rows::InvitationRow,
};

/// How a path segment names an invitation: the e-mailed secret, or the bare id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference<'a> {
    Token(&'a str),
    Id(&'a str),
}

impl<'a> Reference<'a> {
    /// Tells a 43-character token from a 24-hex id by shape; anything else names nothing.
    pub fn parse(s: &'a str) -> CoreResult<Reference<'a>> {
        if looks_like_token(s) {
            Ok(Reference::Token(s))
        } else if ids::is_id(s) {
            Ok(Reference::Id(s))
        } else {
            Err(CoreError::NotFound)
        }
    }
}

/// What the invitee's page shows: the invitation, and whether its e-mail already has an account
/// (sign in) or not (sign up). Only the token's holder learns the latter, and holding the token
/// proves the mailbox, so it reveals nothing about anyone else.
#[derive(Debug, Clone)]
pub struct Preview {
    pub detail: InvitationDetail,
    pub invitee_has_account: bool,
}

/// A sign-up through an invitation: the organization joined and the new person.
#[derive(Debug, Clone)]
pub struct Joined {
    pub org: OrgDetail,
    pub user_id: String,
}

/// Where an invited address stands, as its newest invitation says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteeState {
    Pending,
    Expired,
    Declined,
}

/// An organization's members and the addresses invited into it ([`Core::org_people`]).
#[derive(Debug, Clone)]
pub struct People {
    pub members: Vec<crate::store::rows::MemberRow>,
    pub invitees: Vec<(Invitee, InviteeState)>,
}

/// What an invitation grants beyond the organization, on acceptance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// Project roles, per project of the organization.
    pub projects: Vec<(String, ProjectRoles)>,
    /// Teams of the organization.
    pub teams: Vec<String>,
}

impl Grants {
    /// From the lists [`store::invitations::DetailWithGrants`] carries, in id order.
    fn from_stored(projects: Option<String>, teams: Option<String>) -> Grants {
        let mut projects: Vec<(String, ProjectRoles)> = projects
            .iter()
            .flat_map(|p| p.split(';'))
            .filter_map(|entry| entry.split_once('='))
            .map(|(id, roles)| (id.to_owned(), ProjectRoles::from_stored(roles)))
            .collect();
        projects.sort_by(|a, b| a.0.cmp(&b.0));
        let mut teams: Vec<String> = teams
            .iter()
            .flat_map(|t| t.split(';'))
            .map(str::to_owned)
            .collect();
        teams.sort();
        Grants { projects, teams }
    }
}

/// A change to someone's projects (with roles) and teams: `None` leaves that part as it is, a
/// list replaces it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantChange {
    pub projects: Option<Vec<(String, ProjectRoles)>>,
    pub teams: Option<Vec<String>>,
}

impl GrantChange {
    /// A change that names each project and each team once, in the order first named: a later
    /// assignment of a project replaces an earlier one (as a later key does in a JSON object),
    /// and a team named twice is granted once.
    pub fn new(
        projects: Option<Vec<(String, ProjectRoles)>>,
        teams: Option<Vec<String>>,
    ) -> GrantChange {
        let projects = projects.map(|given| {
            let mut at = std::collections::HashMap::with_capacity(given.len());
            let mut distinct: Vec<(String, ProjectRoles)> = Vec::with_capacity(given.len());
            for (id, roles) in given {
                match at.get(&id) {
                    Some(&i) => distinct[i] = (id, roles),
                    None => {
                        at.insert(id.clone(), distinct.len());
                        distinct.push((id, roles));
                    }
                }
            }
            distinct
        });
        let teams = teams.map(|given| {
            let mut seen = std::collections::HashSet::with_capacity(given.len());
            given
                .into_iter()
                .filter(|t| seen.insert(t.clone()))
                .collect()
        });
        GrantChange { projects, teams }
    }

    pub fn is_given(&self) -> bool {
        self.projects.is_some() || self.teams.is_some()
    }

    /// `grants` with the given parts replaced.
    pub fn applied_to(self, mut grants: Grants) -> Grants {
        if let Some(p) = self.projects {
            grants.projects = p;
        }
        if let Some(t) = self.teams {
            grants.teams = t;
        }
        grants
    }
}

/// A new invitation, once the caller's right to send it is checked.
pub(super) struct NewInvite<'a> {
    pub access: &'a super::Access,
    pub email: &'a Email,
    pub roles: &'a Roles,
    /// Set for a project invitation.
    pub project_id: Option<&'a str>,
    pub grants: &'a Grants,
}

/// A new invitation's answer; the token exists only in the e-mail.
#[derive(Debug, Clone)]
pub struct Sent {
    pub invitation: InvitationRow,
    /// The organization's name as the sender saw it: what an answer shows beside the
    /// invitation, without reading it back.
    pub org_name: String,
}

pub(super) fn ended_from_state(state: &str) -> Option<Ended> {
    match state {
        "ACCEPTED" => Some(Ended::Accepted),
        "CANCELLED" => Some(Ended::Cancelled),
        "REJECTED" => Some(Ended::Rejected),
        "EXPIRED" => Some(Ended::Expired),
        _ => None,
    }
}

/// The state as callers see it: a PENDING invitation past its expiry is EXPIRED, whether or not
/// the sweeper has written that down yet.
pub fn effective_state<'a>(row: &'a InvitationRow, now: &str) -> &'a str {
    if row.state == "PENDING" && row.expires_at.as_str() <= now {
        "EXPIRED"
    } else {
        &row.state
    }
}

impl Core {
    async fn find_invitation(&self, r: Reference<'_>) -> CoreResult<InvitationRow> {
        let row = match r {
            Reference::Token(t) => {
                store::invitations::by_token(self.db.read(), &self.crypto.token_digest(t)).await?
            }
            Reference::Id(id) => store::invitations::by_id(self.db.read(), id).await?,
        };
        row.ok_or(CoreError::NotFound)
    }

    /// After a guarded transition found nothing to update: says why, and materializes expiry
    /// (with its audit event) if that is the reason.
    async fn why_not_pending(&self, tx: &mut WriteTx, id: &str) -> CoreResult<CoreError> {
        let row = store::invitations::by_id(&mut **tx, id)
            .await?
            .ok_or(CoreError::NotFound)?;
        if let Some(e) = ended_from_state(&row.state) {
            return Ok(CoreError::InvitationEnded(e));
        }
        self.expire_pending(tx, &row.org_id, &super::email::normalize(&row.email))
            .await?;
        Ok(CoreError::InvitationEnded(Ended::Expired))
    }

    /// Marks the overdue pending invitations of (org, e-mail) EXPIRED, with an audit event each.
    async fn expire_pending(
        &self,
        tx: &mut WriteTx,
        org_id: &str,
        email_normalized: &str,
    ) -> CoreResult<()> {
        let now = self.now_ts();
        for id in store::invitations::expire_for(&mut **tx, org_id, email_normalized, &now).await? {
            self.audit(
                tx,
                None,
                Some(org_id),
                "invitation.expired",
                ("invitation", &id),
                json!({}),
            )
            .await?;
        }
        Ok(())
    }

    /// SOLAPI #25: an owner invites an e-mail into the caller's current organization.
    pub async fn send_invitation(
        &self,
        actor: &Actor,
        email: &str,
        roles: Roles,
    ) -> CoreResult<Sent> {
        let org_id = actor.current_org().ok_or(CoreError::Forbidden(
            "no current account; switch to one first",
        ))?;
        self.invite(actor, org_id, email, roles).await
    }

    /// An owner invites an e-mail into `org_id` (Atlas names the organization in the path).
    pub async fn invite(
        &self,
        actor: &Actor,
        org_id: &str,
        email: &str,
        roles: Roles,
    ) -> CoreResult<Sent> {
        self.invite_with(actor, org_id, email, roles, &Grants::default())
            .await
    }

    /// [`Core::invite`] with project roles and teams the invitee receives on accepting.
    pub async fn invite_with(
        &self,
        actor: &Actor,
        org_id: &str,
        email: &str,
        roles: Roles,
        grants: &Grants,
    ) -> CoreResult<Sent> {
        let email = Email::parse(email)
            .ok_or_else(|| CoreError::invalid("email", "must be a valid e-mail address"))?;
        if roles.is_empty() {
            return Err(CoreError::invalid("role", "at least one role is required"));
        }
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ManageInvitations)?;
        access.require_active_org()?;
        if roles.contains(Role::Owner) {
            access.require(Permission::GrantOwner)?;
        }
        let normalized = email.normalized();
        // A soft check on the read pool: it only spares an invitation nobody needs.
        if store::invitations::is_member_email(self.db.read(), org_id, &normalized).await? {
            return Err(CoreError::Conflict(Conflict::AlreadyMember));
        }
        self.check_grants(org_id, grants).await?;
        let invitation = NewInvite {
            access: &access,
            email: &email,
            roles: &roles,
            project_id: None,
            grants,
        };
        self.insert_invitation(actor, invitation).await
    }

    /// Writes a new pending invitation, its grants, its audit event and its e-mail in one
    /// transaction. The caller has checked who may send it.
    pub(super) async fn insert_invitation(
        &self,
        actor: &Actor,
        n: NewInvite<'_>,
    ) -> CoreResult<Sent> {
        let (access, email, roles) = (n.access, n.email, n.roles);
        let org_id = access.org_id.as_str();
        let normalized = email.normalized();
        self.check_send_limits(org_id, &normalized).await?;

        let token = random_token();
        let inviter = actor.user.as_ref();
        let now = self.now_ts();
        let row = InvitationRow {
            id: self.new_id(),
            org_id: org_id.to_owned(),
            email: email.as_str().to_owned(),
            roles: roles.to_stored(),
            inviter_id: inviter.map(|u| u.id.clone()),
            state: "PENDING".to_owned(),
            created_at: now.clone(),
            updated_at: now,
            expires_at: self.ts_in(self.settings.invitation_ttl),
            accepted_by: None,
            project_id: n.project_id.map(str::to_owned),
            inviter_key_id: match (&actor.user, &actor.key) {
                (None, Some(k)) => Some(k.key_id.clone()),
                _ => None,
            },
        };
        let new = NewInvitation {
            id: &row.id,
            org_id,
            email: &row.email,
            email_normalized: &normalized,
            roles: &row.roles,
            inviter_id: row.inviter_id.as_deref(),
            token_digest: &self.crypto.token_digest(&token),
            now: &row.created_at,
            expires_at: &row.expires_at,
            project_id: n.project_id,
            inviter_key_id: row.inviter_key_id.as_deref(),
        };
        let mail = self.seal_mail(
            email.as_str(),
            Some(org_id),
            Mail::Invitation {
                org_name: &access.org_name,
                org_language: access.org_language.as_deref(),
                inviter_name: inviter.map(|u| u.name.as_str()),
                role: roles.solapi_role().as_str(),
                expires_at: &row.expires_at,
                token: &token,
            },
        )?;
        let label = actor.audit_label();
        let details = json!({"roles": row.roles, "projectId": row.project_id});
        let event = || AuditEvent {
            actor: Some(&label),
            org_id: Some(org_id),
            action: "invitation.created",
            target: ("invitation", &row.id),
            details: details.clone(),
        };
        // The common case as one batch (on SQLite one round trip through the single writer):
        // the invitation, its grants, its audit event and its e-mail and webhook deliveries.
        let subscribed = self.subscriptions(self.db.read(), org_id).await?;
        let mut statements = vec![store::invitations::insert(&new)];
        statements.extend(grant_statements(&row.id, org_id, n.grants));
        self.audit_statements(event(), Some(mail.clone()), &subscribed, &mut statements)?;
        match self.db.write_batch_keeping_actors(statements.into()).await {
            Ok(_) => {}
            Err(e) if store::StoreError::is_unique(&e) => {
                // A pending invitation exists (the batch wrote nothing). If it is overdue,
                // record its expiry and try once more, in a transaction of its own.
                let mut tx = self.db.begin_keeping_actors().await?;
                self.expire_pending(&mut tx, org_id, &normalized).await?;
                let inserted = store::invitations::insert_unless_taken(&new)
                    .fetch_all(&mut tx)
                    .await?;
                if inserted.is_empty() {
                    return Err(CoreError::Conflict(Conflict::AlreadyInvited));
                }
                for grant in grant_statements(&row.id, org_id, n.grants) {
                    grant.fetch_all(&mut tx).await?;
                }
                self.audit_queuing(&mut tx, event(), Some(mail)).await?;
                tx.commit().await?;
            }
            Err(e) => return Err(e.into()),
        }
        self.outbox_wakeup.notify_one();
        Ok(Sent {
            invitation: row,
            org_name: access.org_name.clone(),
        })
    }

    /// Every project and team `grants` names must be the organization's.
    pub(super) async fn check_grants(&self, org_id: &str, grants: &Grants) -> CoreResult<()> {
        if !grants.projects.is_empty() {
            let known =
                store::named::of_org(self.db.read(), store::named::Named::Projects, org_id).await?;
            for (id, roles) in &grants.projects {
                if !known.iter().any(|p| &p.id == id) {
                    return Err(CoreError::UnknownReference {
                        kind: "project",
                        id: id.clone(),
                    });
                }
                if roles.is_empty() {
                    return Err(CoreError::invalid(
                        "roles",
                        "at least one project role is required",
                    ));
                }
            }
        }
        if !grants.teams.is_empty() {
            let known =
                store::named::of_org(self.db.read(), store::named::Named::Teams, org_id).await?;
            if let Some(id) = grants
                .teams
                .iter()
                .find(|id| !known.iter().any(|t| &t.id == *id))
            {
                return Err(CoreError::UnknownReference {
                    kind: "team",
                    id: id.clone(),
                });
            }
        }
        Ok(())
    }

    /// Replaces what an invitation grants (inside the caller's transaction).
    pub(super) async fn replace_grants(
        &self,
        conn: &mut AnyConnection,
        invitation_id: &str,
        org_id: &str,
        grants: &Grants,
    ) -> CoreResult<()> {
        store::projects::delete_grants(&mut *conn, invitation_id, None).await?;
        store::teams::delete_grants(&mut *conn, invitation_id, None).await?;
        for grant in grant_statements(invitation_id, org_id, grants) {
            grant.fetch_all(&mut *conn).await?;
        }
        Ok(())
    }

    /// What an invitation grants, as stored.
    pub async fn grants_of(&self, invitation_id: &str) -> CoreResult<Grants> {
        let projects = store::projects::grants_of(self.db.read(), invitation_id)
            .await?
            .into_iter()
            .map(|(p, r)| (p, ProjectRoles::from_stored(&r)))
            .collect();
        let teams = store::teams::grants_of(self.db.read(), invitation_id).await?;
        Ok(Grants { projects, teams })
    }

    /// The person who accepted `claimed` joins: the organization (a project invitation lets an
    /// existing member in, adding nothing to their organization roles), then what it grants.
    async fn join(
        &self,
        conn: &mut AnyConnection,
        claimed: &InvitationRow,
        user_id: &str,
        name: &str,
        now: &str,
    ) -> CoreResult<()> {
        let org_id = &claimed.org_id;
        let is_member = store::orgs::member(&mut *conn, org_id, user_id)
            .await?
            .is_some();
        if !(is_member && claimed.project_id.is_some()) {
            unique_as(
                store::orgs::insert_membership(
                    &mut *conn,
                    org_id,
                    user_id,
                    name,
                    &claimed.roles,
                    now,
                )
                .await,
                Conflict::AlreadyMember,
            )?;
        }
        self.apply_grants(conn, claimed, user_id, now).await
    }

    /// Gives the person who accepted an invitation what it grants: its project roles (added to
    /// any they hold) and its teams. Inside the accepting transaction.
    async fn apply_grants(
        &self,
        conn: &mut AnyConnection,
        claimed: &InvitationRow,
        user_id: &str,
        now: &str,
    ) -> CoreResult<()> {
        let org_id = &claimed.org_id;
        for (project_id, roles) in store::projects::grants_of(&mut *conn, &claimed.id).await? {
            let mut all = ProjectRoles::from_stored(&roles);
            // Added to the person's own roles there; roles through teams stay the team's.
            if let Some(own) =
                store::projects::direct_roles(&mut *conn, &project_id, user_id).await?
            {
                all = all.union(&ProjectRoles::from_stored(&own));
            }
            store::projects::put_roles(
                &mut *conn,
                &project_id,
                org_id,
                store::projects::Holder::User(user_id),
                &all.to_stored(),
                now,
            )
            .await?;
        }
        for team_id in store::teams::grants_of(&mut *conn, &claimed.id).await? {
            store::teams::add_member(&mut *conn, &team_id, org_id, user_id, now).await?;
        }
        Ok(())
    }

    /// Pending invitations of an organization with what each grants (owners; the Atlas list).
    pub async fn list_org_invitations_granting(
        &self,
        actor: &Actor,
        org_id: &str,
        filter: &ListFilter,
    ) -> CoreResult<Vec<(InvitationDetail, Grants)>> {
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ManageInvitations)?;
        access.require_active_org()?;
        let list = store::invitations::pending_details_with_grants_of_org(
            &self.db,
            org_id,
            &self.now_ts(),
            filter,
        )
        .await?;
        Ok(list
            .into_iter()
            .map(|d| {
                let grants = Grants::from_stored(d.grant_projects, d.grant_teams);
                (d.detail, grants)
            })
            .collect())
    }

    /// SOLAPI #24: pending invitations of an organization (owners).
    pub async fn list_org_invitations(
        &self,
        actor: &Actor,
        org_id: &str,
        filter: &ListFilter,
    ) -> CoreResult<Vec<InvitationDetail>> {
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ManageInvitations)?;
        access.require_active_org()?;
        Ok(
            store::invitations::pending_details_of_org(&self.db, org_id, &self.now_ts(), filter)
                .await?,
        )
    }

    /// SOLAPI #26: pending invitations addressed to the caller's e-mail. Only once that e-mail
    /// is verified: otherwise anyone could set their address to someone else's and read that
    /// person's invitations (SOLAPI lets UNVERIFIED members call this; usher does not).
    pub async fn my_invitations(&self, actor: &Actor) -> CoreResult<Vec<InvitationDetail>> {
        let user = actor.person()?;
        if user.status != user_status::ACTIVE {
            return Err(CoreError::Unverified);
        }
        let email = super::email::normalize(&user.email);
        Ok(store::invitations::pending_details_for_email(&self.db, &email, &self.now_ts()).await?)
    }

    /// SOLAPI #27: one pending invitation. Through the token anyone holding it may look (it is
    /// what the e-mail link carries); through the bare id only the organization's owners and the
    /// invitee. Everything else is "not found", so ids cannot be probed.
    pub async fn get_invitation(
        &self,
        actor: Option<&Actor>,
        r: Reference<'_>,
    ) -> CoreResult<InvitationDetail> {
        let row = self.find_invitation(r).await?;
        if let Reference::Id(_) = r {
            let actor = actor.ok_or(CoreError::NotFound)?;
            // The invitee, by a *verified* e-mail (an unverified one proves nothing).
            let is_invitee = actor.user.as_ref().is_some_and(|u| {
                u.status == user_status::ACTIVE
                    && super::email::normalize(&u.email) == super::email::normalize(&row.email)
            });
            let is_owner = match self.access(actor, &row.org_id).await {
                Ok(a) => a.roles.allows(Permission::ManageInvitations),
                Err(CoreError::NotFound) => false,
                Err(e) => return Err(e),
            };
            if !is_invitee && !is_owner {
                return Err(CoreError::NotFound);
            }
        }
        if let Some(e) = ended_from_state(effective_state(&row, &self.now_ts())) {
            return Err(CoreError::InvitationEnded(e));
        }
        store::invitations::detail_by_id(self.db.read(), &row.id)
            .await?
            .ok_or(CoreError::NotFound)
    }

    /// The invitee's page: a pending invitation by its token, in one read. Ended invitations
    /// answer `InvitationEnded`; an unknown token, or anything not shaped like one, `NotFound`.
    pub async fn preview_invitation(&self, token: &str) -> CoreResult<Preview> {
        if !looks_like_token(token) {
            return Err(CoreError::NotFound);
        }
        let digest = self.crypto.token_digest(token);
        let (detail, invitee_has_account) =
            store::invitations::preview_by_token(self.db.read(), &digest)
                .await?
                .ok_or(CoreError::NotFound)?;
        if let Some(e) = ended_from_state(effective_state(&detail.invitation, &self.now_ts())) {
            return Err(CoreError::InvitationEnded(e));
        }
        Ok(Preview {
            detail,
            invitee_has_account,
        })
    }

    /// Signs up through an invitation's token and opens a session for the new person (the pages'
    /// sign-up form: the person arrives signed in).
    pub async fn signup_through_invitation_and_sign_in(
        &self,
        token: &str,
        password: &str,
        confirmation: &str,
        name: Option<&str>,
        (ip, device): (&str, &str),
    ) -> CoreResult<(Joined, super::users::NewSession)> {
        let joined = self
            .signup_through_invitation(Reference::Token(token), password, confirmation, name)
            .await?;
        let user = store::users::by_id(self.db.read(), &joined.user_id)
            .await?
            .ok_or(CoreError::NotFound)?;
        let session = self.open_session(user, ip, device).await?;
        Ok((joined, session))
    }

    /// SOLAPI #28: a signed-in user accepts. The user's e-mail must be the invitation's; through
    /// the bare id it must also be verified, while holding the token proves the mailbox (and so
    /// verifies an unverified user). Of any number of concurrent accepts exactly one wins.
    pub async fn accept_invitation(
        &self,
        actor: &Actor,
        r: Reference<'_>,
    ) -> CoreResult<OrgDetail> {
        if actor.key.is_some() {
            return Err(CoreError::Forbidden(
                "accept with a personal session, not an API key",
            ));
        }
        let user = actor.person()?;
        actor.require_status(user_status::MAY_READ)?;
        let row = self.find_invitation(r).await?;
        if super::email::normalize(&user.email) != super::email::normalize(&row.email) {
            return Err(match r {
                // Through the id, a stranger learns nothing about the invitation.
                Reference::Id(_) => CoreError::NotFound,
                Reference::Token(_) => CoreError::WrongRecipient,
            });
        }
        let via_token = matches!(r, Reference::Token(_));
        if !via_token && user.status != user_status::ACTIVE {
            return Err(CoreError::Unverified);
        }
        let now = self.now_ts();
        let mut tx = self.db.begin().await?;
        let Some(claimed) =
            store::invitations::transition(&mut *tx, &row.id, "ACCEPTED", Some(&user.id), &now)
                .await?
        else {
            let why = self.why_not_pending(&mut tx, &row.id).await?;
            tx.commit().await?;
            return Err(why);
        };
        self.join(&mut tx, &claimed, &user.id, &user.name, &now)
            .await?;
        if via_token && user.status == user_status::UNVERIFIED {
            let verified = store::users::ProfileUpdate {
                status: Some(user_status::ACTIVE),
                ..Default::default()
            };
            store::users::update(&mut *tx, &user.id, &verified, &now).await?;
        }
        let label = actor.audit_label();
        let org = Some(claimed.org_id.as_str());
        self.audit(
            &mut tx,
            Some(&label),
            org,
            "invitation.accepted",
            ("invitation", &claimed.id),
            json!({}),
        )
        .await?;
        self.audit(
            &mut tx,
            Some(&label),
            org,
            "membership.added",
            ("user", &user.id),
            json!({"roles": claimed.roles}),
        )
        .await?;
        tx.commit().await?;
        self.org_detail(&claimed.org_id).await
    }

    /// SOLAPI #4: a new person signs up through an invitation and joins the organization. The
    /// e-mail is the invitation's. Through the token the account is ACTIVE (mailbox proven);
    /// through the bare id it starts UNVERIFIED and a verification e-mail is sent.
    pub async fn signup_through_invitation(
        &self,
        r: Reference<'_>,
        password: &str,
        confirmation: &str,
        name: Option<&str>,
    ) -> CoreResult<Joined> {
        // Input is checked before anything is looked up, so probes learn nothing.
        let name = name
            .map(|n| super::accounts::check_name("name", n))
            .transpose()?;
        self.check_new_password(password, confirmation)?;
        let row = self.find_invitation(r).await?;
        if let Some(e) = ended_from_state(effective_state(&row, &self.now_ts())) {
            return Err(CoreError::InvitationEnded(e));
        }
        let hash = self.hasher.hash(password.to_owned()).await?;
        let via_token = matches!(r, Reference::Token(_));
        let name =
            name.unwrap_or_else(|| row.email.split('@').next().unwrap_or("member").to_owned());

        let now = self.now_ts();
        let user_id = self.new_id();
        let mut tx = self.db.begin().await?;
        let status = if via_token {
            user_status::ACTIVE
        } else {
            user_status::UNVERIFIED
        };
        let new_user = store::users::NewUser {
            id: &user_id,
            email: &row.email,
            email_normalized: &super::email::normalize(&row.email),
            name: &name,
            password_hash: Some(&hash),
            status,
            selected_org_id: Some(&row.org_id),
            now: &now,
        };
        unique_as(
            store::users::insert(&mut *tx, &new_user).await,
            Conflict::EmailTaken,
        )?;
        let Some(claimed) =
            store::invitations::transition(&mut *tx, &row.id, "ACCEPTED", Some(&user_id), &now)
                .await?
        else {
            let why = self.why_not_pending(&mut tx, &row.id).await?;
            drop(tx); // roll back the user; the expiry (if any) is re-applied on the next read
            return Err(why);
        };
        self.join(&mut tx, &claimed, &user_id, &name, &now).await?;
        let actor = format!("user:{user_id}");
        let org = Some(claimed.org_id.as_str());
        self.audit(
            &mut tx,
            Some(&actor),
            None,
            "user.created",
            ("user", &user_id),
            json!({"via": "invitation"}),
        )
        .await?;
        self.audit(
            &mut tx,
            Some(&actor),
            org,
            "invitation.accepted",
            ("invitation", &claimed.id),
            json!({}),
        )
        .await?;
        self.audit(
            &mut tx,
            Some(&actor),
            org,
            "membership.added",
            ("user", &user_id),
            json!({"roles": claimed.roles}),
        )
        .await?;
        if !via_token {
            self.issue_verification(&mut tx, &user_id, &row.email, &name)
                .await?;
        }
        tx.commit().await?;
        self.outbox_wakeup.notify_one();
        Ok(Joined {
            org: self.org_detail(&claimed.org_id).await?,
            user_id,
        })
    }

    /// The people of `org_id`, for its members (Atlas lists pending, expired and declined
    /// invitees as organization users to every member): the members, oldest first, then every
    /// other address whose newest invitation is pending, expired or declined, oldest first. A
    /// newer invitation replaces an older one; a cancelled or accepted one ends the address's
    /// story.
    pub async fn org_people(&self, actor: &Actor, org_id: &str) -> CoreResult<People> {
        let all = usize::MAX;
        let (members, _) = self
            .list_members(actor, org_id, &Default::default(), None, all)
            .await?;
        self.people_with(org_id, members).await
    }

    /// [`Core::org_people`] without the caller's check (the caller has made its own).
    pub(super) async fn org_people_unchecked(&self, org_id: &str) -> CoreResult<People> {
        let members = store::orgs::all_members(self.db.read(), org_id).await?;
        self.people_with(org_id, members).await
    }

    async fn people_with(
        &self,
        org_id: &str,
        members: Vec<crate::store::rows::MemberRow>,
    ) -> CoreResult<People> {
        let invitees = store::invitations::invitees_of_org(&self.db, org_id).await?;
        let member_emails: std::collections::HashSet<String> = members
            .iter()
            .map(|m| super::email::normalize(&m.email))
            .collect();
        let now = self.now_ts();
        let mut invitees: Vec<(Invitee, InviteeState)> = invitees
            .into_iter()
            .filter(|d| !member_emails.contains(&super::email::normalize(&d.invitation.email)))
            .filter_map(|d| {
                let state = match effective_state(&d.invitation, &now) {
                    "PENDING" => InviteeState::Pending,
                    "EXPIRED" => InviteeState::Expired,
                    "REJECTED" => InviteeState::Declined,
                    _ => return None,
                };
                Some((d, state))
            })
            .collect();
        invitees.sort_by(|(a, _), (b, _)| {
            (&a.invitation.created_at, &a.invitation.id)
                .cmp(&(&b.invitation.created_at, &b.invitation.id))
        });
        Ok(People { members, invitees })
    }

    /// A pending invitation of `org_id`, for its owners. Ended, unknown and other
    /// organizations' invitations are all `NotFound` (Terraform reads a 404 as "accepted or
    /// deleted").
    pub async fn org_invitation(
        &self,
        actor: &Actor,
        org_id: &str,
        id: &str,
    ) -> CoreResult<InvitationDetail> {
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ManageInvitations)?;
        let row = store::invitations::detail_by_id(self.db.read(), id)
            .await?
            .filter(|d| d.invitation.org_id == org_id && d.invitation.project_id.is_none())
            .ok_or(CoreError::NotFound)?;
        if effective_state(&row.invitation, &self.now_ts()) != "PENDING" {
            return Err(CoreError::NotFound);
        }
        Ok(row)
    }

    /// Replaces the roles of a pending invitation of `org_id` (Atlas PATCH replaces the set).
    pub async fn set_invitation_roles(
        &self,
        actor: &Actor,
        org_id: &str,
        id: &str,
        roles: Roles,
    ) -> CoreResult<InvitationDetail> {
        if roles.is_empty() {
            return Err(CoreError::invalid("roles", "at least one role is required"));
        }
        let current = self.org_invitation(actor, org_id, id).await?;
        let access = self.access(actor, org_id).await?;
        access.require_active_org()?;
        if roles.contains(Role::Owner) {
            access.require(Permission::GrantOwner)?;
        }
        let now = self.now_ts();
        let mut tx = self.db.begin_keeping_actors().await?;
        if !store::invitations::set_roles(&mut *tx, id, &roles.to_stored(), &now).await? {
            let why = self.why_not_pending(&mut tx, id).await?;
            tx.commit().await?;
            return Err(match why {
                CoreError::InvitationEnded(_) => CoreError::NotFound,
                other => other,
            });
        }
        let label = actor.audit_label();
        let details = json!({"from": current.invitation.roles, "to": roles.to_stored()});
        self.audit(
            &mut tx,
            Some(&label),
            Some(org_id),
            "invitation.updated",
            ("invitation", id),
            details,
        )
        .await?;
        tx.commit().await?;
        store::invitations::detail_by_id(self.db.read(), id)
            .await?
            .ok_or(CoreError::NotFound)
    }

    /// SOLAPI #29: an owner cancels a pending invitation of their organization.
    pub async fn cancel_invitation(&self, actor: &Actor, id: &str) -> CoreResult<InvitationRow> {
        self.cancel_in(actor, None, id).await
    }

    /// Cancels a pending invitation of `org_id` (Atlas names the organization in the path; an
    /// invitation of another organization is not found).
    pub async fn cancel_org_invitation(
        &self,
        actor: &Actor,
        org_id: &str,
        id: &str,
    ) -> CoreResult<InvitationRow> {
        self.cancel_in(actor, Some(org_id), id).await
    }

    async fn cancel_in(
        &self,
        actor: &Actor,
        org_id: Option<&str>,
        id: &str,
    ) -> CoreResult<InvitationRow> {
        if !ids::is_id(id) {
            return Err(CoreError::NotFound);
        }
        actor.require_status(&[user_status::ACTIVE])?;
        let row = self.find_invitation(Reference::Id(id)).await?;
        if org_id.is_some_and(|o| o != row.org_id) {
            return Err(CoreError::NotFound);
        }
        // Atlas: a project invitation is deleted through its project, not its organization.
        if org_id.is_some() && row.project_id.is_some() && row.state == "PENDING" {
            return Err(CoreError::Conflict(Conflict::WrongState));
        }
        let access = self.access(actor, &row.org_id).await?;
        access.require(Permission::ManageInvitations)?;
        access.require_active_org()?;
        self.end_invitation(Some(actor), &row, "CANCELLED", "invitation.cancelled")
            .await
    }

    /// The sweeper: records the expiry of every overdue pending invitation, each with its
    /// `invitation.expired` audit event, in transactions of at most 500. Returns how many.
    pub async fn sweep_expired(&self) -> CoreResult<usize> {
        const BATCH: i64 = 500;
        let mut total = 0;
        loop {
            let mut tx = self.db.begin().await?;
            let expired =
                store::invitations::expire_overdue(&mut *tx, &self.now_ts(), BATCH).await?;
            for (id, org_id) in &expired {
                self.audit(
                    &mut tx,
                    None,
                    Some(org_id),
                    "invitation.expired",
                    ("invitation", id),
                    json!({}),
                )
                .await?;
            }
            tx.commit().await?;
            total += expired.len();
            if (expired.len() as i64) < BATCH {
                return Ok(total);
            }
        }
    }

    /// An owner resends a pending invitation: a new token (the link of every earlier e-mail stops
    /// working), the expiry starts again, and a new e-mail goes out. An invitation that has
    /// already expired is not revived: it answers as expired, and a new invitation replaces it.
    pub async fn resend_invitation(&self, actor: &Actor, id: &str) -> CoreResult<InvitationRow> {
        if !ids::is_id(id) {
            return Err(CoreError::NotFound);
        }
        actor.require_status(&[user_status::ACTIVE])?;
        let detail = store::invitations::detail_by_id(self.db.read(), id)
            .await?
            .ok_or(CoreError::NotFound)?;
        let row = &detail.invitation;
        let access = self.access(actor, &row.org_id).await?;
        access.require(Permission::ManageInvitations)?;
        access.require_active_org()?;
        // An ended invitation is answered as such below, whatever the limits.
        if effective_state(row, &self.now_ts()) == "PENDING" {
            self.check_send_limits(&row.org_id, &super::email::normalize(&row.email))
                .await?;
        }
        let token = random_token();
        let expires_at = self.ts_in(self.settings.invitation_ttl);
        let roles = Roles::from_stored(&row.roles);
        let mail = self.seal_mail(
            &row.email,
            Some(&row.org_id),
            Mail::Invitation {
                org_name: &detail.org_name,
                org_language: detail.org_language.as_deref(),
                inviter_name: detail.inviter_name.as_deref(),
                role: roles.solapi_role().as_str(),
                expires_at: &expires_at,
                token: &token,
            },
        )?;
        let digest = self.crypto.token_digest(&token);
        let mut tx = self.db.begin_keeping_actors().await?;
        let Some(rotated) =
            store::invitations::rotate(&mut *tx, id, &digest, &expires_at, &self.now_ts()).await?
        else {
            let why = self.why_not_pending(&mut tx, id).await?;
            tx.commit().await?;
            return Err(why);
        };
        let label = actor.audit_label();
        let event = AuditEvent {
            actor: Some(&label),
            org_id: Some(&row.org_id),
            action: "invitation.resent",
            target: ("invitation", id),
            details: json!({"expiresAt": expires_at}),
        };
        self.audit_queuing(&mut tx, event, Some(mail)).await?;
        tx.commit().await?;
        self.outbox_wakeup.notify_one();
        Ok(rotated)
    }

    /// The invitee declines: by holding the token, or signed in with the invited e-mail.
    pub async fn decline_invitation(
        &self,
        actor: Option<&Actor>,
        r: Reference<'_>,
    ) -> CoreResult<InvitationRow> {
        let row = self.find_invitation(r).await?;
        if let Reference::Id(_) = r {
            let user = actor
                .and_then(|a| a.user.as_ref())
                .ok_or(CoreError::NotFound)?;
            if super::email::normalize(&user.email) != super::email::normalize(&row.email) {
                return Err(CoreError::NotFound);
            }
        }
        self.end_invitation(actor, &row, "REJECTED", "invitation.rejected")
            .await
    }

    pub(super) async fn end_invitation(
        &self,
        actor: Option<&Actor>,
        row: &InvitationRow,
        to: &str,
        action: &str,
    ) -> CoreResult<InvitationRow> {
        let label = actor.map(Actor::audit_label);
        let event = AuditEvent {
            actor: label.as_deref(),
            org_id: Some(&row.org_id),
            action,
            target: ("invitation", &row.id),
            details: json!({}),
        };
        // As for a create: one batch, its webhook endpoints read before it.
        let subscribed = self.subscriptions(self.db.read(), &row.org_id).await?;
        let mut statements = vec![store::invitations::transition_statement(
            &row.id,
            to,
            None,
            &self.now_ts(),
        )];
        let queued = self.audit_statements(event, None, &subscribed, &mut statements)?;
        let rows = self.db.write_batch_if_found(statements.into()).await?;
        let Some(ended) = rows_as::<InvitationRow>(rows)?.into_iter().next() else {
            // Not pending (any more): say why, recording the expiry of an overdue one.
            let mut tx = self.db.begin_keeping_actors().await?;
            let why = self.why_not_pending(&mut tx, &row.id).await?;
            tx.commit().await?;
            return Err(why);
        };
        if queued {
            self.outbox_wakeup.notify_one();
        }
        Ok(ended)
    }
}

/// The statements that write what an invitation grants in projects and teams.
fn grant_statements(invitation_id: &str, org_id: &str, grants: &Grants) -> Vec<Deferred> {
    let projects = grants.projects.iter().map(|(project_id, roles)| {
        store::projects::put_grant(invitation_id, org_id, project_id, &roles.to_stored())
    });
    let teams = (grants.teams.iter())
        .map(|team_id| store::teams::add_grant(invitation_id, org_id, team_id));
    projects.chain(teams).collect()
}
