//! SOLAPI response shapes, field for field and in the order of the reference's samples
//! (`reference/solapi-users-v1.md` §1.4). Timestamps are stored in exactly SOLAPI's format
//! (RFC 3339 UTC, milliseconds, `Z`), so they pass through unchanged.

use serde::Serialize;
use utoipa::ToSchema;

use crate::core::accounts::OrgDetail;
use crate::core::roles::Roles;
use crate::store::invitations::InvitationDetail;
use crate::store::rows::{InvitationRow, MemberRow, MyOrgRow, OrgRow, SessionRow, UserRow};

fn solapi_role(stored: &str) -> String {
    Roles::from_stored(stored).solapi_role().as_str().to_owned()
}

/// A login session as SOLAPI lists it (`idAddress` is SOLAPI's own spelling).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginSession {
    pub id_address: String,
    pub device: String,
    pub created_at: String,
}

impl From<&SessionRow> for LoginSession {
    fn from(s: &SessionRow) -> Self {
        LoginSession {
            id_address: s.ip_address.clone(),
            device: s.device.clone(),
            created_at: s.created_at.clone(),
        }
    }
}

/// The member (user) object.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub name: String,
    pub phone_number: Option<String>,
    pub extra_phone_numbers: Vec<String>,
    pub status: String,
    pub selected_account_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub beta_microservices: Option<serde_json::Value>,
    pub app_id: Option<String>,
    pub member_id: String,
    pub email: String,
    pub login_sessions: Vec<LoginSession>,
    pub date_created: String,
    pub date_updated: String,
}

impl Member {
    pub fn new(u: &UserRow, sessions: &[SessionRow]) -> Self {
        Member {
            name: u.name.clone(),
            phone_number: u.phone_number.clone(),
            extra_phone_numbers: serde_json::from_str(&u.extra_phone_numbers).unwrap_or_default(),
            status: u.status.clone(),
            selected_account_id: u.selected_org_id.clone(),
            beta_microservices: None,
            app_id: None,
            member_id: u.id.clone(),
            email: u.email.clone(),
            login_sessions: sessions.iter().map(LoginSession::from).collect(),
            date_created: u.created_at.clone(),
            date_updated: u.updated_at.clone(),
        }
    }
}

/// A member of an account inside the Account object.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountMemberBrief {
    pub date_created: String,
    pub date_updated: String,
    pub member_id: String,
    pub role: String,
    pub name: String,
}

/// The Account object (#4, #13, #15, #16, #17, #28).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub status: String,
    pub account_id: String,
    pub name: String,
    pub members: Vec<AccountMemberBrief>,
    pub date_created: String,
    pub date_updated: String,
}

impl From<&OrgDetail> for Account {
    fn from(d: &OrgDetail) -> Self {
        Account {
            status: d.org.status.clone(),
            account_id: d.org.id.clone(),
            name: d.org.name.clone(),
            members: d
                .members
                .iter()
                .map(|m| AccountMemberBrief {
                    date_created: m.created_at.clone(),
                    date_updated: m.updated_at.clone(),
                    member_id: m.user_id.clone(),
                    role: solapi_role(&m.roles),
                    name: m.name.clone(),
                })
                .collect(),
            date_created: d.org.created_at.clone(),
            date_updated: d.org.updated_at.clone(),
        }
    }
}

/// An account as embedded in invitations.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountBrief {
    pub status: String,
    pub account_id: String,
    pub name: String,
    pub date_created: String,
    pub date_updated: String,
}

impl From<&OrgRow> for AccountBrief {
    fn from(o: &OrgRow) -> Self {
        AccountBrief {
            status: o.status.clone(),
            account_id: o.id.clone(),
            name: o.name.clone(),
            date_created: o.created_at.clone(),
            date_updated: o.updated_at.clone(),
        }
    }
}

/// One of the caller's accounts (#14).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountListItem {
    pub status: String,
    pub account_id: String,
    pub name: String,
    pub date_created: String,
    pub date_updated: String,
    pub my_role: String,
    pub my_name: String,
}

impl From<&MyOrgRow> for AccountListItem {
    fn from(o: &MyOrgRow) -> Self {
        AccountListItem {
            status: o.status.clone(),
            account_id: o.id.clone(),
            name: o.name.clone(),
            date_created: o.created_at.clone(),
            date_updated: o.updated_at.clone(),
            my_role: solapi_role(&o.my_roles),
            my_name: o.my_name.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountList {
    pub limit: i64,
    pub account_list: Vec<AccountListItem>,
    pub start_key: Option<String>,
    pub next_key: Option<String>,
}

/// An account member (#20, #22; #21 and #23 leave out `email`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountMember {
    pub member_id: String,
    pub role: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub date_created: String,
    pub date_updated: String,
}

impl AccountMember {
    pub fn new(m: &MemberRow, with_email: bool) -> Self {
        AccountMember {
            member_id: m.user_id.clone(),
            role: solapi_role(&m.roles),
            name: m.name.clone(),
            email: with_email.then(|| m.email.clone()),
            date_created: m.created_at.clone(),
            date_updated: m.updated_at.clone(),
        }
    }
}

/// An item of the member list (#19).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberListItem {
    pub member_id: String,
    pub role: String,
    pub name: String,
    pub email: String,
    pub status: String,
    pub date_created: String,
    pub date_updated: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberList {
    pub data: Vec<MemberListItem>,
    pub next_key: Option<String>,
}

impl MemberList {
    pub fn new(rows: &[MemberRow], next_key: Option<String>) -> Self {
        MemberList {
            data: rows
                .iter()
                .map(|m| MemberListItem {
                    member_id: m.user_id.clone(),
                    role: solapi_role(&m.roles),
                    name: m.name.clone(),
                    email: m.email.clone(),
                    status: m.user_status.clone(),
                    date_created: m.created_at.clone(),
                    date_updated: m.updated_at.clone(),
                })
                .collect(),
            next_key,
        }
    }
}

/// The invitation object (#25 send, #29 cancel). `memberId` is the inviter.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub app_id: Option<String>,
    pub invitation_id: String,
    pub account_id: String,
    pub member_id: Option<String>,
    pub email: String,
    pub role: String,
    pub date_created: String,
    pub date_updated: String,
}

impl From<&InvitationRow> for Invitation {
    fn from(i: &InvitationRow) -> Self {
        Invitation {
            app_id: None,
            invitation_id: i.id.clone(),
            account_id: i.org_id.clone(),
            member_id: i.inviter_id.clone(),
            email: i.email.clone(),
            role: solapi_role(&i.roles),
            date_created: i.created_at.clone(),
            date_updated: i.updated_at.clone(),
        }
    }
}

/// The inviter as embedded in invitation views: the member object plus `isAdmin`. Phone numbers
/// and login sessions are left out: invitees must not learn them (docs/solapi.md).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    #[serde(flatten)]
    pub member: Member,
    pub is_admin: bool,
}

fn owner_of(d: &InvitationDetail) -> Option<Owner> {
    let id = d.invitation.inviter_id.clone()?;
    Some(Owner {
        member: Member {
            name: d.inviter_name.clone().unwrap_or_default(),
            phone_number: None,
            extra_phone_numbers: Vec::new(),
            status: d.inviter_status.clone().unwrap_or_default(),
            selected_account_id: d.inviter_selected_org_id.clone(),
            beta_microservices: None,
            app_id: None,
            member_id: id,
            email: d.inviter_email.clone().unwrap_or_default(),
            login_sessions: Vec::new(),
            date_created: d.inviter_created_at.clone().unwrap_or_default(),
            date_updated: d.inviter_updated_at.clone().unwrap_or_default(),
        },
        is_admin: false,
    })
}

fn account_of(d: &InvitationDetail) -> AccountBrief {
    AccountBrief {
        status: d.org_status.clone(),
        account_id: d.invitation.org_id.clone(),
        name: d.org_name.clone(),
        date_created: d.org_created_at.clone(),
        date_updated: d.org_updated_at.clone(),
    }
}

/// An item of #24 and #26 (a bare JSON array of these).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationListItem {
    pub invitation_id: String,
    pub email: String,
    pub role: String,
    pub date_created: String,
    pub date_updated: String,
    pub owner: Option<Owner>,
    pub account: AccountBrief,
}

impl From<&InvitationDetail> for InvitationListItem {
    fn from(d: &InvitationDetail) -> Self {
        InvitationListItem {
            invitation_id: d.invitation.id.clone(),
            email: d.invitation.email.clone(),
            role: solapi_role(&d.invitation.roles),
            date_created: d.invitation.created_at.clone(),
            date_updated: d.invitation.updated_at.clone(),
            owner: owner_of(d),
            account: account_of(d),
        }
    }
}

/// #27: one invitation, expanded.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationExpanded {
    pub app_id: Option<String>,
    pub invitation_id: String,
    pub role: String,
    pub email: String,
    pub date_created: String,
    pub date_updated: String,
    pub account: AccountBrief,
    pub owner: Option<Owner>,
}

impl From<&InvitationDetail> for InvitationExpanded {
    fn from(d: &InvitationDetail) -> Self {
        InvitationExpanded {
            app_id: None,
            invitation_id: d.invitation.id.clone(),
            role: solapi_role(&d.invitation.roles),
            email: d.invitation.email.clone(),
            date_created: d.invitation.created_at.clone(),
            date_updated: d.invitation.updated_at.clone(),
            account: account_of(d),
            owner: owner_of(d),
        }
    }
}

/// #1 sign-up answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Signup {
    pub account: Account,
    pub member: Member,
}

/// #2 e-mail existence answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailExistence {
    pub email: String,
    pub result: bool,
}

/// #11 reset-request answer. `hashId` is always null: SOLAPI returns the reset secret here, which
/// would let anyone reset anyone's password; usher sends it only by e-mail (docs/solapi.md).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResetRequest {
    #[serde(rename = "_id")]
    pub id: String,
    pub email: String,
    pub date_created: String,
    pub date_updated: String,
    pub hash_id: Option<String>,
}

/// #18 answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Success {
    pub success: bool,
}
