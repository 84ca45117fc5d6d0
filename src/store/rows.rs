//! Row types, decoded by name. Only types `sqlx::Any` carries on both backends: TEXT and i64.

use serde::de::SeqAccess;

use super::json_rows::{FromJsonColumns, column};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub status: String,
    pub phone_number: Option<String>,
    pub extra_phone_numbers: String,
    pub selected_org_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    /// Language of the e-mails it sends; `None`: the server's default.
    pub language: Option<String>,
}

/// A membership joined with its user (what member lists show).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub org_id: String,
    pub user_id: String,
    pub name: String,
    pub roles: String,
    pub email: String,
    pub user_status: String,
    pub created_at: String,
    pub updated_at: String,
}

/// An organization as one of the caller's accounts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MyOrgRow {
    pub id: String,
    pub name: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    pub my_roles: String,
    pub my_name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvitationRow {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub roles: String,
    pub inviter_id: Option<String>,
    pub state: String,
    pub created_at: String,
    pub updated_at: String,
    pub expires_at: String,
    pub accepted_by: Option<String>,
    /// Set for a project invitation (issued through that project); `None`: an organization one.
    pub project_id: Option<String>,
    /// The organization key or service account that sent it, when no person did.
    pub inviter_key_id: Option<String>,
}

/// In the order of `invitation_columns!` and of the invitation detail's columns.
impl FromJsonColumns for InvitationRow {
    fn take<'de, A: SeqAccess<'de>>(c: &mut A) -> Result<Self, A::Error> {
        Ok(InvitationRow {
            id: column(c)?,
            org_id: column(c)?,
            email: column(c)?,
            roles: column(c)?,
            inviter_id: column(c)?,
            state: column(c)?,
            created_at: column(c)?,
            updated_at: column(c)?,
            expires_at: column(c)?,
            accepted_by: column(c)?,
            project_id: column(c)?,
            inviter_key_id: column(c)?,
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub org_id: String,
    pub user_id: Option<String>,
    pub roles: String,
    pub description: String,
    pub secret_encrypted: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    /// The id Atlas clients use (`apiUserId`); only for keys made through the Atlas face.
    pub atlas_id: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub user_id: String,
    pub ip_address: String,
    pub device: String,
    pub created_at: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserTokenRow {
    pub id: String,
    pub user_id: String,
    pub purpose: String,
    pub email: String,
    pub created_at: String,
    pub expires_at: String,
    pub used_at: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub purpose: String,
    pub recipient: String,
    pub payload_encrypted: String,
    pub attempts: i64,
}

/// In the order of the outbox claim's `RETURNING`.
impl FromJsonColumns for OutboxRow {
    fn take<'de, A: SeqAccess<'de>>(c: &mut A) -> Result<Self, A::Error> {
        Ok(OutboxRow {
            id: column(c)?,
            kind: column(c)?,
            purpose: column(c)?,
            recipient: column(c)?,
            payload_encrypted: column(c)?,
            attempts: column(c)?,
        })
    }
}
