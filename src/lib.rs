//! usher: organization membership and invitations, speaking the SOLAPI users API v1 (and, in
//! later work, the Atlas Admin API v2) over one core. See `docs/architecture.md`.
//!
//! Layers, top to bottom: `faces` (wire dialects) → `auth` (credentials → [`core::Actor`]) →
//! `core` (rules, transactions) → `store` (SQL over SQLite and PostgreSQL); `delivery` drains
//! the outbox the core writes.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod core;
pub mod delivery;
pub mod faces;
pub mod http;
pub mod store;
pub mod telemetry;

/// Makes ring the process's TLS provider (SMTP over TLS and webhooks use rustls; so does every
/// HTTP client in the process, which refuses to start without one). Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
