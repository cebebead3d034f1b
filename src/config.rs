//! Configuration: flags, then `REDBUTLER_*` environment variables, then an optional TOML
//! file (`--config`), then defaults. Secrets (the sealing key) are never logged or printed.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

use crate::pii::Seal;
use crate::storage::{DbOptions, Location, Synchronous};

pub const DEFAULT_DATABASE: &str = "redbutler.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The optional TOML file. Unknown keys are refused, so a typo is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub database: Option<String>,
    pub listen: Option<String>,
    /// 32 bytes, hex or base64. Prefer `secret_key_file`.
    pub secret_key: Option<String>,
    pub secret_key_file: Option<PathBuf>,
    pub sqlite_synchronous: Option<Synchronous>,
    pub secure_cookies: Option<bool>,
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> anyhow::Result<FileConfig> {
        let Some(path) = path else {
            return Ok(FileConfig::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("in config file {}", path.display()))
    }
}

/// Everything the process needs to open storage, resolved from all sources.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub database: String,
    pub synchronous: Synchronous,
    pub secret_key: Option<String>,
    pub secret_key_file: Option<PathBuf>,
}

impl Resolved {
    pub fn db_options(&self) -> DbOptions {
        DbOptions {
            synchronous: self.synchronous,
            ..Default::default()
        }
    }

    /// The sealing key: given in configuration, or read from (or created in) the key file,
    /// which defaults to the SQLite file's name with `.key` appended.
    pub fn seal(&self) -> anyhow::Result<Seal> {
        if let Some(k) = &self.secret_key {
            return Ok(Seal::from_key(
                &Seal::parse_key(k).context("REDBUTLER_SECRET_KEY / secret_key")?,
            ));
        }
        let path = match &self.secret_key_file {
            Some(p) => p.clone(),
            None => match Location::parse(&self.database)? {
                Location::Sqlite(p) => {
                    let mut s = p.into_os_string();
                    s.push(".key");
                    PathBuf::from(s)
                }
                Location::Postgres(_) => bail!(
                    "PostgreSQL needs a sealing key: set REDBUTLER_SECRET_KEY_FILE (or --secret-key-file, or secret_key_file in the config file)"
                ),
            },
        };
        Seal::load_or_create(&path)
    }
}
