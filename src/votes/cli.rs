//! `redbutler vote …`: commands on owners' votes that need no database.
//!
//! `redbutler vote verify FILE` re-checks a vote's export (`redbutler-vote-export/1`): the
//! electorate digest, the ballot chain and its head, who voted and how, and a full recount
//! against the published result. It prints one line per check and exits 0 only when every
//! check passed.

use std::path::Path;

use anyhow::anyhow;
use clap::Subcommand;

pub use crate::cli::report::ReportLang;
use crate::i18n::Lang;
use crate::votes::export::{self, Report};
use crate::votes::verify;

#[derive(Subcommand, Debug)]
pub enum VoteCommand {
    /// Re-check a vote's export: the ballot chain, the electorate and the tally
    Verify {
        /// The export file (JSON, from the vote's page or `GET /api/v1/votes/{id}/export`)
        file: std::path::PathBuf,
        /// Language of the report: zh (中文), en, or both; default from LANG, else both
        #[arg(long, value_enum)]
        lang: Option<ReportLang>,
    },
}

/// Runs a vote subcommand; needs no database.
pub fn run(cmd: &VoteCommand) -> anyhow::Result<()> {
    match cmd {
        VoteCommand::Verify { file, lang } => {
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
    let x = verify::read_export(&bytes)
        .map_err(|e| anyhow!(lang.line(|l| format!("{shown}: {}", e.message().get(l)))))?;
    let report = export::verify(&x, &verify::recount);
    let mut lines = vec![lang.line(|l| match l {
        Lang::Zh => format!(
            "表决 {}「{}」（{}），{} 个投票单位，{} 张选票",
            x.header.vote_id,
            x.header.title,
            x.header.subdistrict_code,
            x.electorate.len(),
            x.ballots.len()
        ),
        Lang::En => format!(
            "vote {} \"{}\" ({}), {} voter units, {} ballots",
            x.header.vote_id,
            x.header.title,
            x.header.subdistrict_code,
            x.electorate.len(),
            x.ballots.len()
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
        Err(anyhow!(lang.line(|l| summary(&report, l))))
    };
    Ok((lines, outcome))
}

/// "NOT verified: 2 check(s) failed, first: ballot hash chain (ballot 3)".
fn summary(report: &Report, lang: Lang) -> String {
    let failed = report.checks.iter().filter(|c| !c.ok).count();
    let first = report.first_failure.as_ref().map(|c| {
        let label = c.label.get(lang);
        match (c.at, lang) {
            (Some(i), Lang::Zh) => format!("{label}（第 {} 张选票）", i + 1),
            (Some(i), Lang::En) => format!("{label} (ballot {})", i + 1),
            (None, _) => label.to_owned(),
        }
    });
    let first = first.unwrap_or_default();
    match lang {
        Lang::Zh => format!("表决导出核验未通过：{failed} 项检查不一致，首项：{first}"),
        Lang::En => format!("vote export NOT verified: {failed} check(s) failed, first: {first}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_comes_from_the_environment() {
        assert_eq!(ReportLang::from_env(Some("zh_CN.UTF-8")), ReportLang::Zh);
        assert_eq!(ReportLang::from_env(Some("en_US.UTF-8")), ReportLang::En);
        assert_eq!(ReportLang::from_env(Some("C.UTF-8")), ReportLang::Both);
        assert_eq!(ReportLang::from_env(None), ReportLang::Both);
    }

    #[test]
    fn a_missing_file_is_a_clear_error() {
        let err = verify_path(Path::new("/nonexistent/vote.json"), ReportLang::Both)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("无法读取文件 /nonexistent/vote.json"), "{err}");
        assert!(err.contains("cannot read /nonexistent/vote.json"), "{err}");
    }
}
