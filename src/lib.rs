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
