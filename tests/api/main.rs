//! Black-box tests: each starts the real server on a random port against a real database
//! (SQLite by default; PostgreSQL when `USHER_TEST_DATABASE_URL` is set) and talks HTTP.

mod accounts;
mod atlas;
mod atlas_api_keys;
mod atlas_matrix;
mod atlas_projects;
mod atlas_schema;
mod atlas_service_accounts;
mod atlas_users;
mod auth_hmac;
mod bad_input;
mod browser;
mod cli;
mod delivery;
mod fault;
mod helpers;
mod invitations;
mod limits;
mod mail_content;
mod members;
mod migrate_data;
mod native;
mod operations;
mod pages;
mod resend;
mod roles;
mod scale_out;
mod smtp;
mod solapi_sdk;
mod webhooks;
