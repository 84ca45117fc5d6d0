//! The core's one error type. Faces render it in their own vocabulary, each in one place.

use super::password::PolicyError;

/// Which uniqueness or state rule a request ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// The e-mail already belongs to a user.
    EmailTaken,
    /// The invitee is already a member of the organization.
    AlreadyMember,
    /// A pending invitation for this e-mail exists in the organization.
    AlreadyInvited,
    /// The change would leave the organization without an owner.
    LastOwner,
    /// The name is taken by another project or team of the organization.
    NameTaken,
    /// The state the request needs is not the state the entity is in (e.g. activate an active member).
    WrongState,
}

/// A terminal invitation state a request ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Accepted,
    Cancelled,
    Rejected,
    Expired,
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Unknown, or not visible to the caller (cross-organization access is always "not found").
    #[error("not found")]
    NotFound,
    /// The request names something the organization does not have: `kind` is "project", "team"
    /// or "user", `id` what the request said.
    #[error("unknown {kind} {id}")]
    UnknownReference { kind: &'static str, id: String },
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("invalid {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("password: {0}")]
    Password(#[from] PolicyError),
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    #[error("invitation is {0:?}")]
    InvitationEnded(Ended),
    /// The signed-in user is not the person the invitation was sent to.
    #[error("invitation is addressed to another e-mail")]
    WrongRecipient,
    #[error("e-mail not verified")]
    Unverified,
    #[error("sign-up is closed")]
    SignupClosed,
    #[error("wrong e-mail or password")]
    BadCredentials,
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl CoreError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> CoreError {
        CoreError::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for CoreError {
    fn from(e: sqlx::Error) -> Self {
        CoreError::Internal(e.into())
    }
}

impl From<crate::core::crypto::DecryptError> for CoreError {
    fn from(e: crate::core::crypto::DecryptError) -> Self {
        CoreError::Internal(e.into())
    }
}

pub type CoreResult<T> = Result<T, CoreError>;

/// Runs a store write whose unique violation means `conflict` (e.g. an e-mail already taken):
/// the database decides, the code never checks first.
pub fn unique_as<T>(result: Result<T, sqlx::Error>, conflict: Conflict) -> CoreResult<T> {
    result.map_err(|e| match crate::store::StoreError::classify(e) {
        crate::store::StoreError::Unique(_) => CoreError::Conflict(conflict),
        crate::store::StoreError::Other(e) => CoreError::from(e),
    })
}
