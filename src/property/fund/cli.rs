//! `redbutler ledger …`: commands on a maintenance fund ledger that need no database.
//!
//! `redbutler ledger verify FILE` re-checks a fund export (`redbutler-fund-export/2`, or an
//! older `/1` file; [`super::export`] describes both): the genesis and every hash of the
//! chain, the head, the ledger rules for every entry, the withdrawals' authorities, every
//! room balance and the totals. One line per check; exit 0 only when every check passed.

use std::path::Path;

use anyhow::anyhow;

use super::export::{self, Report};
pub use crate::cli::report::ReportLang;
use crate::i18n::Lang;

#[derive(clap::Subcommand, Debug)]
pub enum LedgerCommand {
    /// Re-check a fund ledger's export: the hash chain, every entry and the balances
    Verify {
        /// The export file (JSON Lines, or an older JSON export; from the building's fund page or
        /// `GET /api/v1/fund/buildings/{id}/export`)
        file: std::path::PathBuf,
        /// Language of the report: zh (中文), en, or both; default from LANG, else both
        #[arg(long, value_enum)]
        lang: Option<ReportLang>,
    },
}

/// Runs a ledger command.
pub fn run(cmd: &LedgerCommand) -> anyhow::Result<()> {
    match cmd {
        LedgerCommand::Verify { file, lang } => {
            let lang =
                lang.unwrap_or_else(|| ReportLang::from_env(std::env::var("LANG").ok().as_deref()));
            let (lines, outcome) = verify_path(file, lang)?;
            for l in lines {
                println!("{l}");
            }
            outcome
        }
    }
}

/// Reads and verifies one export: the report's lines, and Ok only if every check passed
/// (else an error with a one-line summary). An unreadable or malformed file is an error
/// before any line.
pub fn verify_path(
    file: &Path,
    lang: ReportLang,
) -> anyhow::Result<(Vec<String>, anyhow::Result<()>)> {
    let shown = file.display();
    let bytes = std::fs::read(file).map_err(|e| {
        anyhow!(lang.line(|l| match l {
            Lang::Zh => format!("无法读取文件 {shown}：{e}"),
            Lang::En => format!("cannot read {shown}: {e}"),
        }))
    })?;
    let checked = export::verify_bytes(&bytes)
        .map_err(|e| anyhow!(lang.line(|l| format!("{shown}: {}", e.get(l)))))?;
    // The file is no longer needed: free it before the report is written.
    drop(bytes);
    let (fund, report) = (&checked.fund, &checked.report);
    let mut lines = vec![lang.line(|l| match l {
        Lang::Zh => format!(
            "维修资金账户:楼栋 {}「{}」({}),{} 户,{} 笔分录",
            fund.building_id,
            fund.building_name,
            fund.subdistrict_code,
            checked.rooms,
            checked.entries
        ),
        Lang::En => format!(
            "maintenance fund of building {} \"{}\" ({}), {} rooms, {} entries",
            fund.building_id,
            fund.building_name,
            fund.subdistrict_code,
            checked.rooms,
            checked.entries
        ),
    })];
    for (i, &l) in lang.langs().iter().enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        lines.extend(report.render(l));
    }
    let outcome = if report.ok {
        Ok(())
    } else {
        Err(anyhow!(lang.line(|l| summary(report, l))))
    };
    Ok((lines, outcome))
}

/// "fund ledger NOT verified: 2 check(s) failed, first: entry hash chain (entry 3)".
fn summary(report: &Report, lang: Lang) -> String {
    let failed = report.checks.iter().filter(|c| !c.ok).count();
    let first = report.first_failure().map(|c| {
        let label = c.label.get(lang);
        match (c.at, lang) {
            (Some(s), Lang::Zh) => format!("{label}（第 {s} 笔分录）"),
            (Some(s), Lang::En) => format!("{label} (entry {s})"),
            (None, _) => label.to_owned(),
        }
    });
    let first = first.unwrap_or_default();
    match lang {
        Lang::Zh => format!("维修资金账核验未通过：{failed} 项检查不一致，首项：{first}"),
        Lang::En => format!("fund ledger NOT verified: {failed} check(s) failed, first: {first}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_comes_from_the_environment() {
        assert_eq!(ReportLang::from_env(Some("zh_CN.UTF-8")), ReportLang::Zh);
        assert_eq!(ReportLang::from_env(Some("en_US.UTF-8")), ReportLang::En);
        assert_eq!(ReportLang::from_env(None), ReportLang::Both);
    }

    #[test]
    fn a_missing_file_is_a_clear_error() {
        let err = verify_path(Path::new("/nonexistent/fund.json"), ReportLang::Both)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("无法读取文件 /nonexistent/fund.json"), "{err}");
        assert!(err.contains("cannot read /nonexistent/fund.json"), "{err}");
    }
}
