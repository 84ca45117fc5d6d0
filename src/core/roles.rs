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
}
