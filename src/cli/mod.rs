//! The `redbutler` command line: serve, migrate, demo, user, token, backup.

mod commands;
pub mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{self, FileConfig, Resolved};
use crate::storage::Synchronous;

#[derive(Parser, Debug)]
#[command(
    name = "redbutler",
    version,
    about = "红管家 Red Butler: grassroots community governance for subdistricts"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Database: an SQLite file path (default ./redbutler.db) or postgres://user@host/db
    #[arg(long, global = true, env = "REDBUTLER_DATABASE")]
    pub database: Option<String>,
    /// Optional TOML configuration file
    #[arg(long, global = true, env = "REDBUTLER_CONFIG")]
    pub config: Option<PathBuf>,
    /// File holding the 32-byte sealing key for personal data (hex or base64); the key itself
    /// may instead be given in REDBUTLER_SECRET_KEY
    #[arg(long, global = true, env = "REDBUTLER_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// SQLite durability: full (every commit survives power loss) or normal
    #[arg(long, global = true, env = "REDBUTLER_SQLITE_SYNCHRONOUS")]
    pub sqlite_synchronous: Option<Synchronous>,
    /// Subdistrict code to act in (default: the first one)
    #[arg(long, global = true, env = "REDBUTLER_SUBDISTRICT")]
    pub subdistrict: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (UI and API)
    Serve(ServeArgs),
    /// Create or update the database schema, then exit
    Migrate,
    /// Load the demo subdistrict (or a district of N of them with --scale N)
    Demo(DemoArgs),
    /// Manage users: add, set passwords, grant and revoke roles
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens
    #[command(subcommand)]
    Token(TokenCommand),
    /// Write a consistent copy of the database while the server runs
    Backup(BackupArgs),
    /// Owners' votes: re-check an export
    #[command(subcommand)]
    Vote(crate::votes::cli::VoteCommand),
    /// Maintenance fund: re-check a ledger export
    #[command(subcommand)]
    Ledger(crate::property::fund::cli::LedgerCommand),
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, env = "REDBUTLER_LISTEN")]
    pub listen: Option<String>,
    /// Load the demo subdistrict into an empty database first, and print the demo accounts
    #[arg(long)]
    pub demo: bool,
    /// Mark cookies Secure (set this when the server sits behind TLS)
    #[arg(long, env = "REDBUTLER_SECURE_COOKIES")]
    pub secure_cookies: bool,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Multiply the subdistrict into a district of N subdistricts (for load tests)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub scale: u32,
    /// SQLite only: delete the database file first and load afresh
    #[arg(long)]
    pub fresh: bool,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input
    Add {
        username: String,
        /// Name shown in the UI (default: the user name)
        #[arg(long)]
        display_name: Option<String>,
        /// Link the account to a registered person (residents, owners)
        #[arg(long)]
        person_id: Option<i64>,
    },
    /// Set a user's password, read from standard input; ends the user's sessions
    Password { username: String },
    /// Grant a role at a node (--node), a room (--room) or to an organisation (--org)
    Grant {
        username: String,
        /// One of: subdistrict_admin, subdistrict_staff, community_staff, grid_leader, grid_member,
        /// building_leader, village_group_leader, resident, owner, owners_committee_member,
        /// property_staff, auditor, lawyer, social_org, pairing_unit
        role: String,
        #[arg(long)]
        node: Option<i64>,
        #[arg(long)]
        room: Option<i64>,
        #[arg(long)]
        org: Option<i64>,
    },
    /// Revoke one grant (see `user list`)
    Revoke { username: String, grant_id: i64 },
    /// List users and their grants
    List,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Print a new API token for a user on standard output
    Create {
        #[arg(long)]
        user: String,
        /// What the token is for
        #[arg(long, default_value = "command line")]
        name: String,
    },
    /// Revoke a token by its id
    Revoke { id: i64 },
}

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// Where to write the copy (must not exist)
    pub path: PathBuf,
}

pub fn resolve(g: &Global) -> anyhow::Result<(Resolved, FileConfig)> {
    let file = FileConfig::load(g.config.as_deref())?;
    let resolved = Resolved {
        database: g
            .database
            .clone()
            .or_else(|| file.database.clone())
            .unwrap_or_else(|| config::DEFAULT_DATABASE.into()),
        synchronous: g
            .sqlite_synchronous
            .or(file.sqlite_synchronous)
            .unwrap_or_default(),
        secret_key: std::env::var("REDBUTLER_SECRET_KEY")
            .ok()
            .filter(|s| !s.is_empty())
            .or_else(|| file.secret_key.clone()),
        secret_key_file: g
            .secret_key_file
            .clone()
            .or_else(|| file.secret_key_file.clone()),
    };
    Ok((resolved, file))
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("REDBUTLER_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
