//! Roles and permissions: the one table every face and every check reads.
//!
//! A membership (and an invitation, and an organization-owned API key) carries a *set* of
//! canonical roles. Each face names them in its own dialect; a role a dialect has no name for is
//! shown as that dialect's plain member role (see `docs/roles.md`).

use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// SOLAPI OWNER ≡ Atlas ORG_OWNER.
    Owner,
    /// SOLAPI DEVELOPER (no Atlas name: shown as ORG_MEMBER there).
    Developer,
    /// SOLAPI MEMBER ≡ Atlas ORG_MEMBER.
    Member,
    GroupCreator,
    BillingAdmin,
    BillingReadOnly,
    StreamProcessingAdmin,
    ReadOnly,
}

/// What a caller may do inside one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read the organization and its members (every member).
    ReadOrganization,
    /// Rename, reactivate the organization; change roles; remove members.
    ManageOrganization,
    /// List, send, cancel invitations (owners: pending e-mail addresses are personal data).
    ManageInvitations,
    /// Grant the owner role (owners only).
    GrantOwner,
    /// Create, list and revoke API keys (SOLAPI `role-credentials:write`).
    ManageCredentials,
    /// Create projects (issue of the Atlas face; here so the table is complete).
    CreateProjects,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Owner,
        Role::Developer,
        Role::Member,
        Role::GroupCreator,
        Role::BillingAdmin,
        Role::BillingReadOnly,
        Role::StreamProcessingAdmin,
        Role::ReadOnly,
    ];

    /// The stored name (also the key of the table in docs/roles.md).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "OWNER",
            Role::Developer => "DEVELOPER",
            Role::Member => "MEMBER",
            Role::GroupCreator => "GROUP_CREATOR",
            Role::BillingAdmin => "BILLING_ADMIN",
            Role::BillingReadOnly => "BILLING_READ_ONLY",
            Role::StreamProcessingAdmin => "STREAM_PROCESSING_ADMIN",
            Role::ReadOnly => "READ_ONLY",
        }
    }

    pub fn from_stored(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The permission table. Every member may read; owners manage; developers manage credentials;
    /// group creators create projects.
    #[expect(
        clippy::match_like_matches_macro,
        reason = "the permission table reads best as a table"
    )]
    pub fn grants(self, p: Permission) -> bool {
        use Permission::*;
        match (self, p) {
            (_, ReadOrganization) => true,
            (Role::Owner, _) => true,
            (Role::Developer, ManageCredentials) => true,
            (Role::GroupCreator, CreateProjects) => true,
            _ => false,
        }
    }
}

/// A non-empty set of roles.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Roles(BTreeSet<Role>);

impl Roles {
    pub fn one(r: Role) -> Roles {
        Roles(BTreeSet::from([r]))
    }

    pub fn allows(&self, p: Permission) -> bool {
        self.0.iter().any(|r| r.grants(p))
    }

    pub fn contains(&self, r: Role) -> bool {
        self.0.contains(&r)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    /// Space-separated, as stored. The owner query relies on the delimiters (see store).
    pub fn to_stored(&self) -> String {
        self.0
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Unknown names are skipped: a role removed from the code must not make rows unreadable.
    pub fn from_stored(s: &str) -> Roles {
        Roles(s.split_whitespace().filter_map(Role::from_stored).collect())
    }

    /// The SOLAPI view: a single role, the strongest the set contains.
    pub fn solapi_role(&self) -> Role {
        if self.contains(Role::Owner) {
            Role::Owner
        } else if self.contains(Role::Developer) {
            Role::Developer
        } else {
            Role::Member
        }
    }
}

impl FromIterator<Role> for Roles {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Self {
        Roles(iter.into_iter().collect())
    }
}

/// Atlas project roles, stored by these names (SOLAPI has no projects). The list of the June
/// 2025 specification; today's leaves them free strings, usher keeps the known ones.
pub const PROJECT_ROLES: [&str; 11] = [
    "GROUP_BACKUP_MANAGER",
    "GROUP_CLUSTER_MANAGER",
    "GROUP_DATA_ACCESS_ADMIN",
    "GROUP_DATA_ACCESS_READ_ONLY",
    "GROUP_DATA_ACCESS_READ_WRITE",
    "GROUP_DATABASE_ACCESS_ADMIN",
    "GROUP_OBSERVABILITY_VIEWER",
    "GROUP_OWNER",
    "GROUP_READ_ONLY",
    "GROUP_SEARCH_INDEX_EDITOR",
    "GROUP_STREAM_PROCESSING_OWNER",
];

/// The project role that manages a project: its settings, people, invitations and teams (Atlas'
/// "Project Owner" and "Project Access Manager" requirements).
pub const PROJECT_OWNER: &str = "GROUP_OWNER";

/// A set of project roles (possibly empty: a caller with none in a project).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProjectRoles(BTreeSet<&'static str>);

impl ProjectRoles {
    /// Known names only; the first unknown one is the error.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<ProjectRoles, &'a str> {
        let mut set = BTreeSet::new();
        for n in names {
            set.insert(*PROJECT_ROLES.iter().find(|r| **r == n).ok_or(n)?);
        }
        Ok(ProjectRoles(set))
    }

    /// Unknown names are skipped, as for [`Roles::from_stored`].
    pub fn from_stored(s: &str) -> ProjectRoles {
        ProjectRoles(
            s.split_whitespace()
                .filter_map(|n| PROJECT_ROLES.iter().find(|r| **r == n).copied())
                .collect(),
        )
    }

    pub fn to_stored(&self) -> String {
        self.0.iter().copied().collect::<Vec<_>>().join(" ")
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    pub fn union(&self, other: &ProjectRoles) -> ProjectRoles {
        ProjectRoles(self.0.union(&other.0).copied().collect())
    }

    pub fn with(&self, name: &'static str) -> ProjectRoles {
        let mut s = self.0.clone();
        s.insert(name);
        ProjectRoles(s)
    }

    pub fn without(&self, name: &str) -> ProjectRoles {
        ProjectRoles(self.0.iter().copied().filter(|r| *r != name).collect())
    }
}

/// What a caller may do inside one project: read it, or manage it. Organization owners manage
/// every project of their organization and organization read-only members read every one
/// (as in Atlas); otherwise the caller's own and their teams' project roles decide.
pub fn project_permission(org: &Roles, project: &ProjectRoles) -> (bool, bool) {
    let manage = org.contains(Role::Owner) || project.contains(PROJECT_OWNER);
    let read = manage || org.contains(Role::ReadOnly) || !project.is_empty();
    (read, manage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_manage_and_grant_ownership() {
        for r in Role::ALL {
            assert!(r.grants(Permission::ReadOrganization));
            assert_eq!(
                r.grants(Permission::ManageInvitations),
                r == Role::Owner,
                "{r:?}"
            );
            assert_eq!(r.grants(Permission::GrantOwner), r == Role::Owner, "{r:?}");
        }
        assert!(Role::Developer.grants(Permission::ManageCredentials));
        assert!(!Role::Member.grants(Permission::ManageCredentials));
    }

    #[test]
    fn role_sets_round_trip_and_show_the_strongest_solapi_role() {
        let s = Roles::from_stored("MEMBER BILLING_ADMIN");
        assert_eq!(Roles::from_stored(&s.to_stored()), s);
        assert_eq!(s.solapi_role(), Role::Member);
        assert_eq!(
            Roles::from_stored("DEVELOPER MEMBER").solapi_role(),
            Role::Developer
        );
        assert!(Roles::from_stored("NOT_A_ROLE").is_empty());
    }

    #[test]
    fn project_owners_and_organization_owners_manage_projects_and_read_only_members_read_them() {
        let none = ProjectRoles::default();
        let owner = ProjectRoles::parse(["GROUP_OWNER"]).unwrap();
        let reader = ProjectRoles::parse(["GROUP_READ_ONLY"]).unwrap();
        let member = Roles::one(Role::Member);
        assert_eq!(project_permission(&member, &none), (false, false));
        assert_eq!(project_permission(&member, &reader), (true, false));
        assert_eq!(project_permission(&member, &owner), (true, true));
        assert_eq!(
            project_permission(&Roles::one(Role::Owner), &none),
            (true, true)
        );
        assert_eq!(
            project_permission(&Roles::one(Role::ReadOnly), &none),
            (true, false)
        );
        assert_eq!(ProjectRoles::parse(["GROUP_NOPE"]), Err("GROUP_NOPE"));
        assert_eq!(
            ProjectRoles::from_stored(&owner.union(&reader).to_stored()),
            owner.union(&reader)
        );
    }
}
