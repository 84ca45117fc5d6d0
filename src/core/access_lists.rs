//! IP access lists of organization API keys (Atlas' `…/apiKeys/{apiUserId}/accessList`). A key
//! with entries is accepted only from an address inside one of them, in both dialects; a key
//! without entries from anywhere.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::json;

use super::roles::Permission;
use super::{Actor, Core, CoreError, CoreResult, user_status};
use crate::store::{self, access_lists::AccessEntryRow, rows::ApiKeyRow};

/// An entry as a request gives it: one address, or a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessEntry {
    Address(IpAddr),
    Network(IpNet),
}

impl AccessEntry {
    /// The network it admits: an address is its own /32 (or /128); a network is taken by its
    /// prefix (`10.1.2.3/24` is `10.1.2.0/24`).
    pub fn network(self) -> IpNet {
        match self {
            AccessEntry::Address(ip) => IpNet::from(ip),
            AccessEntry::Network(n) => n.trunc(),
        }
    }

    /// An address (`192.168.0.229`) or a network (`10.0.0.0/24`), as a path segment names an
    /// entry.
    pub fn parse(s: &str) -> Option<AccessEntry> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            Some(AccessEntry::Address(ip))
        } else {
            s.parse::<IpNet>().ok().map(AccessEntry::Network)
        }
    }
}

impl Core {
    /// The networks a key may be used from (empty: any).
    pub(super) async fn access_networks(&self, key_id: &str) -> CoreResult<Vec<IpNet>> {
        Ok(store::access_lists::of_key(self.db.read(), key_id)
            .await?
            .iter()
            .filter_map(|e| e.cidr.parse().ok())
            .collect())
    }

    /// A programmatic key of `org_id` and its access list (members read them).
    pub async fn key_access_list(
        &self,
        actor: &Actor,
        org_id: &str,
        atlas_id: &str,
    ) -> CoreResult<(ApiKeyRow, Vec<AccessEntryRow>)> {
        let key = self.org_api_key(actor, org_id, atlas_id).await?;
        let entries = store::access_lists::of_key(self.db.read(), &key.id).await?;
        Ok((key, entries))
    }

    /// Owners add entries to a key's access list (entries it has already are left as they are).
    pub async fn add_key_access(
        &self,
        actor: &Actor,
        org_id: &str,
        atlas_id: &str,
        entries: &[AccessEntry],
    ) -> CoreResult<Vec<AccessEntryRow>> {
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ManageOrganization)?;
        access.require_active_org()?;
        let (key, _) = self.key_access_list(actor, org_id, atlas_id).await?;
        let now = self.now_ts();
        let mut tx = self.db.begin().await?;
        for e in entries {
            let row = AccessEntryRow {
                key_id: key.id.clone(),
                cidr: e.network().to_string(),
                ip_address: match e {
                    AccessEntry::Address(ip) => Some(ip.to_string()),
                    AccessEntry::Network(_) => None,
                },
                created_at: now.clone(),
            };
            if store::access_lists::insert(&mut *tx, &row).await? {
                self.audit(
                    &mut tx,
                    Some(&actor.audit_label()),
                    Some(org_id),
                    "api_key.access_added",
                    ("api_key", &key.id),
                    json!({"cidr": row.cidr}),
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(store::access_lists::of_key(self.db.read(), &key.id).await?)
    }

    /// Owners remove an entry (named by its address or network).
    pub async fn remove_key_access(
        &self,
        actor: &Actor,
        org_id: &str,
        atlas_id: &str,
        entry: AccessEntry,
    ) -> CoreResult<()> {
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ManageOrganization)?;
        let (key, _) = self.key_access_list(actor, org_id, atlas_id).await?;
        let cidr = entry.network().to_string();
        let mut tx = self.db.begin().await?;
        if !store::access_lists::delete(&mut *tx, &key.id, &cidr).await? {
            return Err(CoreError::NotFound);
        }
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "api_key.access_removed",
            ("api_key", &key.id),
            json!({"cidr": cidr}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_its_own_network_and_a_network_is_taken_by_its_prefix() {
        let a = AccessEntry::parse("192.168.0.229").unwrap();
        assert_eq!(a.network().to_string(), "192.168.0.229/32");
        let n = AccessEntry::parse("10.1.2.3/24").unwrap();
        assert_eq!(n.network().to_string(), "10.1.2.0/24");
        assert_eq!(AccessEntry::parse("10.0.0.0/33"), None);
        assert_eq!(AccessEntry::parse("example.com"), None);
    }
}
