//! Storage: one handle over embedded SQLite or PostgreSQL.
//!
//! SQL is written once in the portable subset and runs through sqlx's `Any` driver.
//! On SQLite there is one writer connection (every write transaction queues for it) and a
//! pool of read-only readers; on PostgreSQL both are the same pool. Only integers, text and
//! blobs cross the boundary, so both engines decode alike.

pub mod batch;
pub mod bulk;
pub mod ids;
pub mod memo;
mod migrate;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::ConnectOptions;
use sqlx::{Any, AnyPool, Executor, Transaction};

pub use ids::next_id;

/// Which engine a [`Db`] talks to; SQL that a dialect forces is chosen by this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// SQLite's `synchronous` setting. `Full` makes every acknowledged commit survive power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    #[default]
    Full,
    Normal,
}

impl FromStr for Synchronous {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "full" => Ok(Self::Full),
            "normal" => Ok(Self::Normal),
            other => Err(format!(
                "unknown synchronous setting {other:?} (full or normal)"
            )),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct DbOptions {
    pub synchronous: Synchronous,
    /// PostgreSQL only: run in this schema (tests use a fresh one each).
    pub schema: Option<String>,
    pub readers: Option<u32>,
}

pub type Tx = Transaction<'static, Any>;

#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    dialect: Dialect,
    writer: AnyPool,
    reader: AnyPool,
    sqlite_path: Option<PathBuf>,
    url: String,
    /// The group-commit writer, started on first use (see [`batch`]).
    batch: std::sync::OnceLock<batch::Sender>,
    /// The caches of [`memo`], one per type.
    memos: std::sync::Mutex<
        std::collections::HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>,
    >,
}

/// Where a `--database` value points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            bail!("the database URL {url:?} names no file");
        }
        if path.contains("://") {
            bail!(
                "unsupported database URL {url:?}: use a file path, sqlite://PATH or postgres://…"
            );
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }
}

/// Connection options that never log statements (they are not useful in production logs).
fn quiet(url: &str) -> anyhow::Result<AnyConnectOptions> {
    Ok(AnyConnectOptions::from_str(url)?.disable_statement_logging())
}

impl Db {
    /// Opens the database and brings its schema up to date.
    pub async fn open(url: &str, options: &DbOptions) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let db = match Location::parse(url)? {
            Location::Sqlite(path) => Self::open_sqlite(path, options).await?,
            Location::Postgres(url) => Self::open_postgres(&url, options).await?,
        };
        migrate::run(&db).await?;
        Ok(db)
    }

    async fn open_sqlite(path: PathBuf, options: &DbOptions) -> anyhow::Result<Db> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
        }
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let sync = match options.synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        let pragmas = format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA busy_timeout=10000; \
             PRAGMA foreign_keys=ON; PRAGMA cache_size=-16000; PRAGMA temp_store=MEMORY;"
        );
        let writer_pragmas = pragmas.clone();
        // A local file's connections do not go stale, and a test before each acquire is one
        // more round trip to the connection's worker thread for every statement.
        let writer = AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(60))
            .idle_timeout(None)
            .max_lifetime(None)
            .after_connect(move |conn, _| {
                let p = writer_pragmas.clone();
                Box::pin(async move {
                    conn.execute(sqlx::raw_sql(&p)).await?;
                    Ok(())
                })
            })
            .connect_with(quiet(&url)?)
            .await
            .with_context(|| format!("opening SQLite database {}", path.display()))?;
        let reader_pragmas = format!("{pragmas} PRAGMA query_only=ON;");
        let reader = AnyPoolOptions::new()
            .max_connections(options.readers.unwrap_or(4))
            .min_connections(0)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                let p = reader_pragmas.clone();
                Box::pin(async move {
                    conn.execute(sqlx::raw_sql(&p)).await?;
                    Ok(())
                })
            })
            .connect_lazy_with(quiet(&url)?);
        Ok(Db {
            inner: Arc::new(Inner {
                dialect: Dialect::Sqlite,
                writer,
                reader,
                sqlite_path: Some(path),
                url,
                batch: Default::default(),
                memos: Default::default(),
            }),
        })
    }

    async fn open_postgres(url: &str, options: &DbOptions) -> anyhow::Result<Db> {
        let schema = options.schema.clone();
        if let Some(s) = &schema {
            if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                bail!("schema name {s:?} must be letters, digits and underscores");
            }
        }
        let pool = AnyPoolOptions::new()
            .max_connections(options.readers.unwrap_or(8) + 2)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                let schema = schema.clone();
                Box::pin(async move {
                    let mut sql = String::from("SET TIME ZONE 'UTC';");
                    if let Some(s) = schema {
                        sql.push_str(&format!("SET search_path TO {s};"));
                    }
                    conn.execute(sqlx::raw_sql(&sql)).await?;
                    Ok(())
                })
            })
            .connect_with(quiet(url)?)
            .await
            .context("connecting to PostgreSQL")?;
        Ok(Db {
            inner: Arc::new(Inner {
                dialect: Dialect::Postgres,
                writer: pool.clone(),
                reader: pool,
                sqlite_path: None,
                url: url.to_string(),
                batch: Default::default(),
                memos: Default::default(),
            }),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.inner.dialect
    }

    /// This database's cache of type `T` (see [`memo`]), made on first use.
    pub fn memo<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let id = std::any::TypeId::of::<T>();
        let mut memos = self
            .inner
            .memos
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let any = memos
            .entry(id)
            .or_insert_with(|| Arc::new(T::default()) as Arc<dyn std::any::Any + Send + Sync>)
            .clone();
        drop(memos);
        match any.downcast::<T>() {
            Ok(t) => t,
            Err(_) => unreachable!("memos are keyed by their type"),
        }
    }

    /// The pool for reads. On SQLite its connections refuse writes.
    pub fn read(&self) -> &AnyPool {
        &self.inner.reader
    }

    /// The pool for writes (on SQLite: one connection).
    pub fn write(&self) -> &AnyPool {
        &self.inner.writer
    }

    fn batcher(&self) -> &batch::Sender {
        self.inner
            .batch
            .get_or_init(|| batch::Sender::start(self.inner.writer.clone()))
    }

    /// Starts a write transaction. Every operation is one transaction: all or nothing.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.inner.writer.begin().await
    }

    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        self.inner.sqlite_path.as_deref()
    }

    /// Answers once the database does: what `/healthz` asks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(self.read())
            .await
            .map(|_| ())
    }

    /// Refreshes the query planner's statistics (SQLite needs them for good plans).
    pub async fn analyze(&self) -> Result<(), sqlx::Error> {
        let sql = match self.dialect() {
            Dialect::Sqlite => "PRAGMA analysis_limit=1000; ANALYZE;",
            Dialect::Postgres => "ANALYZE",
        };
        sqlx::raw_sql(sql).execute(self.write()).await.map(|_| ())
    }

    /// A consistent copy of the whole database, taken while the server keeps running.
    pub async fn backup(&self, target: &std::path::Path) -> anyhow::Result<()> {
        if target.exists() {
            bail!("{} exists already; choose a new file", target.display());
        }
        match self.dialect() {
            Dialect::Sqlite => {
                let t = target.to_str().context("backup path must be valid UTF-8")?;
                // Readers are query-only, and VACUUM INTO counts as a write there.
                sqlx::query("VACUUM INTO $1")
                    .bind(t)
                    .execute(self.write())
                    .await
                    .context("VACUUM INTO")?;
                Ok(())
            }
            Dialect::Postgres => {
                let status = std::process::Command::new("pg_dump")
                    .arg("--format=custom")
                    .arg("--file")
                    .arg(target)
                    .arg(&self.inner.url)
                    .status()
                    .context("running pg_dump (install the PostgreSQL client tools)")?;
                if !status.success() {
                    bail!("pg_dump failed with {status}");
                }
                Ok(())
            }
        }
    }

    pub async fn close(&self) {
        self.inner.writer.close().await;
        self.inner.reader.close().await;
    }
}

/// Reads an integer column that may be NULL.
pub fn opt_i64(row: &AnyRow, col: &str) -> Option<i64> {
    use sqlx::Row;
    row.try_get::<Option<i64>, _>(col).ok().flatten()
}

/// True when the error is a unique-key violation (both engines).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation() || d.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

/// The engine a transaction runs on.
pub fn dialect_of(tx: &mut Tx) -> Dialect {
    if (**tx).backend_name().eq_ignore_ascii_case("sqlite") {
        Dialect::Sqlite
    } else {
        Dialect::Postgres
    }
}
