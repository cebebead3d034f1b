//! The language of a command's report (`--lang zh|en|both`), shared by `vote verify` and
//! `ledger verify`.

use clap::ValueEnum;

use crate::i18n::Lang;

/// The language(s) a report is printed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportLang {
    Zh,
    En,
    Both,
}

impl ReportLang {
    /// From `LANG` (e.g. `zh_CN.UTF-8`, `en_US.UTF-8`); anything else prints both.
    pub fn from_env(lang: Option<&str>) -> ReportLang {
        match lang.and_then(Lang::from_code) {
            Some(Lang::Zh) => ReportLang::Zh,
            Some(Lang::En) => ReportLang::En,
            None => ReportLang::Both,
        }
    }

    pub fn langs(self) -> &'static [Lang] {
        match self {
            ReportLang::Zh => &[Lang::Zh],
            ReportLang::En => &[Lang::En],
            ReportLang::Both => &[Lang::Zh, Lang::En],
        }
    }

    /// One line from a text per language, joined with " / ".
    pub fn line(self, f: impl Fn(Lang) -> String) -> String {
        self.langs()
            .iter()
            .map(|&l| f(l))
            .collect::<Vec<_>>()
            .join(" / ")
    }
}
