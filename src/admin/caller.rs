//! Who calls a management route: the bearer-token extractor every protected route uses, with
//! the one permission check of the API, and the client's address.

use super::audit::AuditNote;
use super::error::ApiError;
use crate::accounts::{Permission, Permissions};
use crate::auth::Claims;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The authenticated caller of a management route: who they are and what their role allows.
/// The token is checked against the database on every request, so the claims hold the user's
/// current name and role, and `permissions` what that role grants now.
#[derive(Debug, Clone)]
pub struct Caller {
    pub claims: Claims,
    pub permissions: Permissions,
}

/// Whose records a read or write covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everyone's.
    All,
    /// Only the caller's own client keys (and their logs and usage).
    Own,
}

impl Caller {
    /// The one permission check of the management API: every handler calls this (or
    /// [`Caller::scope`]) before it does anything.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.permissions.contains(&p) {
            Ok(())
        } else {
            Err(ApiError::MissingPermission(p.as_str()))
        }
    }

    pub fn has(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }

    /// For a permission with an own-only variant: everyone's records with `all`, the caller's
    /// own with `own`, refused (naming `own`) with neither.
    pub fn scope(&self, all: Permission, own: Permission) -> Result<Scope, ApiError> {
        if self.has(all) {
            Ok(Scope::All)
        } else if self.has(own) {
            Ok(Scope::Own)
        } else {
            Err(ApiError::MissingPermission(own.as_str()))
        }
    }

    pub fn id(&self) -> i64 {
        self.claims.uid
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        let claims = state.accounts.authenticate(token.trim()).await?;
        if let Some(note) = parts.extensions.get::<AuditNote>() {
            note.actor(Some(claims.uid), Some(&claims.name));
        }
        let permissions = state.accounts.permissions_of(&claims.role).await?;
        Ok(Caller {
            claims,
            permissions,
        })
    }
}

/// The client's address (the TCP peer), which login attempts are counted against.
pub struct PeerAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}
