//! Organizations (SOLAPI accounts) and memberships.

use serde_json::json;

use super::roles::{Permission, Role, Roles};
use super::{Actor, Conflict, Core, CoreError, CoreResult, user_status};
use crate::store::{
    self, WriteTx,
    rows::{MemberRow, MyOrgRow, OrgRow},
};

/// An organization with its members (the SOLAPI "Account" object).
#[derive(Debug, Clone)]
pub struct OrgDetail {
    pub org: OrgRow,
    pub members: Vec<MemberRow>,
}

/// Filters of a member list; all exact matches, all optional.
#[derive(Debug, Default, Clone)]
pub struct MemberFilter {
    pub member_id: Option<String>,
    pub role: Option<Role>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub status: Option<String>,
    pub created_at: Option<String>,
}

impl MemberFilter {
    fn matches(&self, m: &MemberRow) -> bool {
        self.member_id.as_ref().is_none_or(|v| *v == m.user_id)
            && self
                .role
                .is_none_or(|r| Roles::from_stored(&m.roles).solapi_role() == r)
            && self.name.as_ref().is_none_or(|v| *v == m.name)
            && self
                .email
                .as_ref()
                .is_none_or(|v| super::email::normalize(v) == super::email::normalize(&m.email))
            && self.status.as_ref().is_none_or(|v| *v == m.user_status)
            && self.created_at.as_ref().is_none_or(|v| *v == m.created_at)
    }
}

/// A change to a membership; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct MemberChange {
    /// SOLAPI's one visible role, replacing OWNER/DEVELOPER/MEMBER and keeping the others.
    pub role: Option<Role>,
    /// The whole set, replaced (Atlas); takes precedence over `role`.
    pub roles: Option<Roles>,
    pub name: Option<String>,
}

/// Validates a display name: trimmed, 1–100 characters, no control characters (they would end up
/// in e-mail headers and pages).
pub fn check_name(field: &'static str, raw: &str) -> CoreResult<String> {
    let s = raw.trim();
    if s.is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            field,
            "must be 1 to 100 characters without control characters",
        ));
    }
    Ok(s.to_owned())
}

/// SOLAPI's default account name: `<member name>님의 계정`.
pub fn default_org_name(member_name: &str) -> String {
    format!("{member_name}님의 계정")
}

impl Core {
    /// Creates an organization owned by `user` inside the caller's transaction.
    pub(crate) async fn insert_org_with_owner(
        &self,
        tx: &mut WriteTx,
        user_id: &str,
        member_name: &str,
        org_name: &str,
        actor: &str,
    ) -> CoreResult<String> {
        let org_id = self.new_id();
        let now = self.now_ts();
        store::orgs::insert(&mut **tx, &org_id, org_name, &now).await?;
        store::orgs::insert_membership(
            &mut **tx,
            &org_id,
            user_id,
            member_name,
            Role::Owner.as_str(),
            &now,
        )
        .await?;
        self.audit(
            tx,
            Some(actor),
            Some(&org_id),
            "organization.created",
            ("organization", &org_id),
            json!({}),
        )
        .await?;
        self.audit(
            tx,
            Some(actor),
            Some(&org_id),
            "membership.added",
            ("user", user_id),
            json!({"roles": ["OWNER"]}),
        )
        .await?;
        Ok(org_id)
    }

    pub async fn org_detail(&self, org_id: &str) -> CoreResult<OrgDetail> {
        let org = store::orgs::by_id(self.db.read(), org_id)
            .await?
            .ok_or(CoreError::NotFound)?;
        let members = store::orgs::members(self.db.read(), org_id, None, 10_000).await?;
        Ok(OrgDetail { org, members })
    }

    /// SOLAPI #13: a signed-in member creates an organization and becomes its owner.
    pub async fn create_org(&self, actor: &Actor, name: Option<&str>) -> CoreResult<OrgDetail> {
        actor.require_status(&[user_status::ACTIVE])?;
        let user = actor.person()?;
        let name = match name {
            Some(n) => check_name("name", n)?,
            None => default_org_name(&user.name),
        };
        let mut tx = self.db.begin().await?;
        let org_id = self
            .insert_org_with_owner(&mut tx, &user.id, &user.name, &name, &actor.audit_label())
            .await?;
        tx.commit().await?;
        self.org_detail(&org_id).await
    }

    /// SOLAPI #15: any member reads the organization.
    pub async fn get_org(&self, actor: &Actor, org_id: &str) -> CoreResult<OrgDetail> {
        actor.require_status(user_status::MAY_READ)?;
        self.access(actor, org_id)
            .await?
            .require(Permission::ReadOrganization)?;
        self.org_detail(org_id).await
    }

    /// SOLAPI #14: the caller's organizations, keyset-paginated by id.
    pub async fn my_orgs(
        &self,
        actor: &Actor,
        start_key: Option<&str>,
        limit: i64,
    ) -> CoreResult<(Vec<MyOrgRow>, Option<String>)> {
        actor.require_status(user_status::MAY_READ)?;
        let user = actor.person()?;
        let mut rows =
            store::orgs::orgs_of_user(self.db.read(), &user.id, start_key, limit + 1).await?;
        // An API key sees only its own organization.
        if let Some(k) = &actor.key {
            rows.retain(|r| r.id == k.org_id);
        }
        let next = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| r.id.clone())
        } else {
            None
        };
        Ok((rows, next))
    }

    /// SOLAPI #16 (rename) and #17 (reactivate): owners only.
    pub async fn update_org(
        &self,
        actor: &Actor,
        org_id: &str,
        name: Option<&str>,
        activate: bool,
    ) -> CoreResult<OrgDetail> {
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ManageOrganization)?;
        let name = name.map(|n| check_name("name", n)).transpose()?;
        if activate {
            if access.org_status != "INACTIVE" {
                return Err(CoreError::Conflict(Conflict::WrongState));
            }
        } else {
            access.require_active_org()?;
        }
        let mut tx = self.db.begin().await?;
        let status = activate.then_some("ACTIVE");
        store::orgs::update(&mut *tx, org_id, name.as_deref(), status, &self.now_ts()).await?;
        let action = if activate {
            "organization.activated"
        } else {
            "organization.updated"
        };
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            action,
            ("organization", org_id),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        self.org_detail(org_id).await
    }

    /// An owner sets the language of the organization's e-mails (`None`: the server's default).
    pub async fn set_org_language(
        &self,
        actor: &Actor,
        org_id: &str,
        language: Option<&str>,
    ) -> CoreResult<()> {
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ManageOrganization)?;
        access.require_active_org()?;
        if language.is_some_and(|l| super::mail::Language::parse(l).is_none()) {
            return Err(CoreError::invalid("language", "must be en, ko or null"));
        }
        let mut tx = self.db.begin().await?;
        store::orgs::set_language(&mut *tx, org_id, language, &self.now_ts()).await?;
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "organization.language_set",
            ("organization", org_id),
            json!({"language": language}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// SOLAPI #18: makes `org_id` the caller's current organization.
    pub async fn switch_org(&self, actor: &Actor, org_id: &str) -> CoreResult<()> {
        actor.require_status(&[user_status::ACTIVE])?;
        let user = actor.person()?;
        self.access(actor, org_id).await?;
        let update = store::users::ProfileUpdate {
            selected_org_id: Some(org_id),
            ..Default::default()
        };
        let mut tx = self.db.begin().await?;
        store::users::update(&mut *tx, &user.id, &update, &self.now_ts()).await?;
        let details = json!({"fields": ["selectedAccountId"]});
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "user.updated",
            ("user", &user.id),
            details,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// SOLAPI #19: members of an organization, filtered, `limit` per page.
    pub async fn list_members(
        &self,
        actor: &Actor,
        org_id: &str,
        filter: &MemberFilter,
        start_key: Option<&str>,
        limit: usize,
    ) -> CoreResult<(Vec<MemberRow>, Option<String>)> {
        actor.require_status(user_status::MAY_READ)?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ReadOrganization)?;
        access.require_active_org()?;
        let mut out = Vec::new();
        let mut cursor = start_key.map(str::to_owned);
        loop {
            let batch =
                store::orgs::members(self.db.read(), org_id, cursor.as_deref(), 500).await?;
            let exhausted = batch.len() < 500;
            cursor = batch.last().map(|m| m.user_id.clone());
            out.extend(batch.into_iter().filter(|m| filter.matches(m)));
            if out.len() > limit || exhausted {
                break;
            }
        }
        let next = if out.len() > limit {
            out.truncate(limit);
            out.last().map(|m| m.user_id.clone())
        } else {
            None
        };
        Ok((out, next))
    }

    /// SOLAPI #20 and #22: one member, visible to every member.
    pub async fn get_member(
        &self,
        actor: &Actor,
        org_id: &str,
        member_id: &str,
    ) -> CoreResult<MemberRow> {
        actor.require_status(user_status::MAY_READ)?;
        self.access(actor, org_id)
            .await?
            .require(Permission::ReadOrganization)?;
        store::orgs::member(self.db.read(), org_id, member_id)
            .await?
            .ok_or(CoreError::NotFound)
    }

    /// SOLAPI #21 and #23. Owners change anyone's role and name; a member may change their own
    /// name. Only an owner grants the owner role, and the last owner cannot be demoted.
    pub async fn update_member(
        &self,
        actor: &Actor,
        org_id: &str,
        member_id: &str,
        change: &MemberChange,
    ) -> CoreResult<MemberRow> {
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require_active_org()?;
        let is_self = actor.user.as_ref().is_some_and(|u| u.id == member_id);
        let is_owner = access.roles.allows(Permission::ManageOrganization);
        if (change.role.is_some() || change.roles.is_some()) && !is_owner {
            return Err(CoreError::Forbidden("only an owner changes roles"));
        }
        if !is_owner && !is_self {
            return Err(CoreError::Forbidden("only an owner changes another member"));
        }
        let name = change
            .name
            .as_deref()
            .map(|n| check_name("name", n))
            .transpose()?;

        let mut tx = self.db.begin().await?;
        store::orgs::lock(&mut *tx, org_id).await?;
        let current = store::orgs::member(&mut *tx, org_id, member_id)
            .await?
            .ok_or(CoreError::NotFound)?;
        if change.roles.as_ref().is_some_and(Roles::is_empty) {
            return Err(CoreError::invalid(
                "roles",
                "a member keeps at least one role",
            ));
        }
        let roles = match (&change.roles, change.role) {
            (Some(set), _) => Some(set.to_stored()),
            (None, Some(r)) => {
                Some(with_solapi_role(&Roles::from_stored(&current.roles), r).to_stored())
            }
            (None, None) => None,
        };
        store::orgs::update_membership(
            &mut *tx,
            org_id,
            member_id,
            name.as_deref(),
            roles.as_deref(),
            &self.now_ts(),
        )
        .await?;
        if store::orgs::owner_count(&mut *tx, org_id).await? == 0 {
            return Err(CoreError::Conflict(Conflict::LastOwner));
        }
        let details = json!({"roles": roles, "name": name});
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "membership.updated",
            ("user", member_id),
            details,
        )
        .await?;
        let updated = store::orgs::member(&mut *tx, org_id, member_id)
            .await?
            .ok_or(CoreError::NotFound)?;
        tx.commit().await?;
        Ok(updated)
    }

    /// An owner removes a member, or a member leaves. Never the last owner. The member's API keys
    /// for this organization go with the membership.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        org_id: &str,
        member_id: &str,
    ) -> CoreResult<MemberRow> {
        actor.require_status(user_status::MAY_READ)?;
        let access = self.access(actor, org_id).await?;
        let is_self = actor.user.as_ref().is_some_and(|u| u.id == member_id);
        if !is_self {
            access.require(Permission::ManageOrganization)?;
        }
        let mut tx = self.db.begin().await?;
        store::orgs::lock(&mut *tx, org_id).await?;
        let current = store::orgs::member(&mut *tx, org_id, member_id)
            .await?
            .ok_or(CoreError::NotFound)?;
        store::orgs::delete_membership(&mut *tx, org_id, member_id).await?;
        if store::orgs::owner_count(&mut *tx, org_id).await? == 0 {
            return Err(CoreError::Conflict(Conflict::LastOwner));
        }
        store::users::clear_selected_org(&mut *tx, member_id, org_id).await?;
        let keys = store::credentials::delete_of_member(&mut *tx, org_id, member_id).await?;
        let label = actor.audit_label();
        self.audit(
            &mut tx,
            Some(&label),
            Some(org_id),
            "membership.removed",
            ("user", member_id),
            json!({"apiKeys": keys}),
        )
        .await?;
        tx.commit().await?;
        Ok(current)
    }
}

/// Replaces the SOLAPI-visible role (OWNER / DEVELOPER / MEMBER) in a role set, keeping roles
/// SOLAPI has no name for (e.g. Atlas billing roles).
pub fn with_solapi_role(current: &Roles, role: Role) -> Roles {
    let kept = current
        .iter()
        .filter(|r| !matches!(r, Role::Owner | Role::Developer | Role::Member));
    Roles::from_iter(kept.chain(std::iter::once(role)))
}
