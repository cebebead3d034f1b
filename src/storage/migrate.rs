//! Schema migrations, run at every start-up. Each migration is one file written for both
//! engines (with `{int}`, `{blob}`, `{strict}` placeholders) or a pair of dialect files.
//! `schema_migrations` is the one table without a tenant key: it describes the database.

use anyhow::Context;
use sqlx::Row;

use super::{Db, Dialect};

struct Migration {
    version: i64,
    name: &'static str,
    both: Option<&'static str>,
    sqlite: Option<&'static str>,
    postgres: Option<&'static str>,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        both: Some(include_str!("migrations/0001_foundation.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 2,
        name: "audit_append_only",
        both: None,
        sqlite: Some(include_str!("migrations/0002_audit_append_only.sqlite.sql")),
        postgres: Some(include_str!(
            "migrations/0002_audit_append_only.postgres.sql"
        )),
    },
    Migration {
        version: 3,
        name: "calendar_years",
        both: Some(include_str!("migrations/0003_calendar_years.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 4,
        name: "cases",
        both: Some(include_str!("migrations/0004_cases.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 5,
        name: "case_intake",
        both: Some(include_str!("migrations/0005_case_intake.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 6,
        name: "case_attachments",
        both: Some(include_str!("migrations/0006_case_attachments.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 7,
        name: "notifications",
        both: Some(include_str!("migrations/0007_notifications.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 8,
        name: "categories",
        both: Some(include_str!("migrations/0008_categories.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 9,
        name: "routing_rules",
        both: Some(include_str!("migrations/0009_routing_rules.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 10,
        name: "case_measures",
        both: Some(include_str!("migrations/0010_case_measures.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 11,
        name: "chat_relay",
        both: Some(include_str!("migrations/0011_chat_relay.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 12,
        name: "deliberation_halls",
        both: Some(include_str!("migrations/0012_deliberation_halls.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 13,
        name: "five_step",
        both: Some(include_str!("migrations/0013_five_step.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 14,
        name: "owners_votes",
        both: Some(include_str!("migrations/0014_owners_votes.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 15,
        name: "maintenance_fund",
        both: Some(include_str!("migrations/0015_maintenance_fund.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 16,
        name: "owners_committees",
        both: Some(include_str!("migrations/0016_owners_committees.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 17,
        name: "joint_office",
        both: Some(include_str!("migrations/0017_joint_office.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 18,
        name: "mediation",
        both: Some(include_str!("migrations/0018_mediation.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 19,
        name: "property_companies",
        both: Some(include_str!("migrations/0019_property_companies.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 20,
        name: "vote_electorates",
        both: Some(include_str!("migrations/0020_vote_electorates.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 21,
        name: "hall_documents",
        both: Some(include_str!("migrations/0021_hall_documents.sql")),
        sqlite: None,
        postgres: None,
    },
    Migration {
        version: 22,
        name: "fund_append_only",
        both: None,
        sqlite: Some(include_str!("migrations/0022_fund_append_only.sqlite.sql")),
        postgres: Some(include_str!(
            "migrations/0022_fund_append_only.postgres.sql"
        )),
    },
    Migration {
        version: 23,
        name: "public_income",
        both: None,
        sqlite: Some(include_str!("migrations/0023_public_income.sqlite.sql")),
        postgres: Some(include_str!("migrations/0023_public_income.postgres.sql")),
    },
    Migration {
        version: 24,
        name: "audit_engagements",
        both: Some(include_str!("migrations/0024_audit_engagements.sql")),
        sqlite: None,
        postgres: None,
    },
];

/// Fills the placeholders for one dialect.
pub(crate) fn render(sql: &str, dialect: Dialect) -> String {
    let (int, blob, strict) = match dialect {
        Dialect::Sqlite => ("INTEGER", "BLOB", " STRICT"),
        Dialect::Postgres => ("BIGINT", "BYTEA", ""),
    };
    sql.replace("{int}", int)
        .replace("{blob}", blob)
        .replace("{strict}", strict)
}

pub(super) async fn run(db: &Db) -> anyhow::Result<()> {
    let create = render(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version {int} NOT NULL PRIMARY KEY, \
         name TEXT NOT NULL, applied_at {int} NOT NULL){strict}",
        db.dialect(),
    );
    sqlx::raw_sql(&create)
        .execute(db.write())
        .await
        .context("creating schema_migrations")?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
        .fetch_all(db.write())
        .await?
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect();
    for m in MIGRATIONS {
        if applied.contains(&m.version) {
            continue;
        }
        let sql = match (m.both, db.dialect()) {
            (Some(s), d) => render(s, d),
            (None, Dialect::Sqlite) => m.sqlite.expect("sqlite migration").to_string(),
            (None, Dialect::Postgres) => m.postgres.expect("postgres migration").to_string(),
        };
        let mut tx = db.begin().await?;
        sqlx::raw_sql(&sql)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("migration {} ({})", m.version, m.name))?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(crate::clock::now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(
            migration.version = m.version,
            migration.name = m.name,
            "applied migration"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_for_each_dialect() {
        let s = "CREATE TABLE t (a {int}, b {blob}){strict}";
        assert_eq!(
            render(s, Dialect::Sqlite),
            "CREATE TABLE t (a INTEGER, b BLOB) STRICT"
        );
        assert_eq!(
            render(s, Dialect::Postgres),
            "CREATE TABLE t (a BIGINT, b BYTEA)"
        );
    }

    #[test]
    fn versions_are_unique_and_ordered() {
        for w in MIGRATIONS.windows(2) {
            assert!(w[0].version < w[1].version);
        }
    }
}
