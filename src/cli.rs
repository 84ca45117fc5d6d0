//! The `usher` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{LogFormat, Overrides};

/// usher: organization membership and invitations, speaking the SOLAPI users API v1.
#[derive(Debug, Parser)]
#[command(name = "usher", version)]
pub struct Cli {
    /// A TOML configuration file (keys as in docs/configuration.md).
    #[arg(long, global = true, env = "USHER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Folder for the SQLite database, the master key and the mail folder [default: ./usher-data].
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… [default: sqlite://<data-dir>/usher.db].
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// Log format [default: text].
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the server (migrating the database first; on an empty database, creates a first owner).
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<String>,
    },
    /// Applies database migrations and exits.
    Migrate,
    /// Prints the OpenAPI document of every endpoint.
    Openapi {
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Administration: accounts, keys, configuration.
    #[command(subcommand)]
    Admin(Admin),
}

#[derive(Debug, Subcommand)]
pub enum Admin {
    /// Prints the effective configuration, secrets masked.
    Config,
    /// Creates an owner, an organization and an API key (safe while the server runs).
    Bootstrap {
        #[arg(long)]
        email: String,
        /// Default: a generated password, printed once.
        #[arg(long)]
        password: Option<String>,
        #[arg(long)]
        org_name: Option<String>,
        /// Print one JSON object: userId, email, password, organizationId, apiKey, apiSecret.
        #[arg(long)]
        json: bool,
    },
    /// Creates an active user.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        password: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Creates an organization owned by an existing user.
    CreateOrg {
        #[arg(long)]
        name: String,
        #[arg(long)]
        owner_email: String,
    },
    /// Adds an existing user to an organization with a role (OWNER, DEVELOPER, MEMBER).
    AddMember {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
    /// Creates an API key acting as a member of an organization; prints the secret once.
    CreateApiKey {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long)]
        json: bool,
    },
    /// Outgoing messages: what is waiting, sent or parked (and why), and re-queueing.
    #[command(subcommand)]
    Outbox(Outbox),
    /// Copies every organization, member, invitation, key, session, webhook and message into an
    /// empty database (SQLite ↔ PostgreSQL), verified by row counts and checksums before it is
    /// committed. Stop the servers writing to the source first; run the new server with the same
    /// master key (docs/migrate-data.md).
    MigrateData {
        /// The database to copy [default: the configured one, --database-url or
        /// USHER_DATABASE_URL or sqlite://<data-dir>/usher.db]. Never changed.
        #[arg(long)]
        from: Option<String>,
        /// The database to copy into: migrated if needed, and refused unless it holds no usher
        /// data.
        #[arg(long)]
        to: String,
        /// Print one JSON object (tables with rows and checksums on both sides) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum Outbox {
    /// Lists messages, newest first (at most 500), without their content.
    List {
        /// Only PENDING, SENT or PARKED messages.
        #[arg(long)]
        state: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Queues parked messages again, due now, with a fresh attempt count.
    Retry {
        /// The message to re-queue.
        #[arg(
            long,
            conflicts_with = "all_parked",
            required_unless_present = "all_parked"
        )]
        id: Option<String>,
        /// Every parked message.
        #[arg(long)]
        all_parked: bool,
    },
}

impl Cli {
    pub fn overrides(&self) -> Overrides {
        let listen = match &self.command {
            Command::Serve { listen } => listen.clone(),
            _ => None,
        };
        Overrides {
            listen,
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            log_format: self.log_format,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
