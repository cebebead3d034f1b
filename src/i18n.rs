//! Two locales: zh-CN (the default) and English. Texts are written side by side where
//! they are used, `Text::new("中文", "English")`, so a reader sees both at once.

use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn from_code(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The first supported language of an `Accept-Language` header.
    pub fn from_accept_language(h: &str) -> Option<Lang> {
        h.split(',')
            .filter_map(|part| Lang::from_code(part.split(';').next().unwrap_or("")))
            .next()
    }
}

tokio::task_local! {
    /// The language of the request being answered (set by the web layer).
    pub static CURRENT: Lang;
}

/// The current request's language, zh-CN outside a request.
pub fn current() -> Lang {
    CURRENT.try_with(|l| *l).unwrap_or_default()
}

/// A text in both locales.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub zh: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

impl Text {
    pub const fn new(zh: &'static str, en: &'static str) -> Text {
        Text {
            zh: Cow::Borrowed(zh),
            en: Cow::Borrowed(en),
        }
    }

    pub fn owned(zh: String, en: String) -> Text {
        Text {
            zh: Cow::Owned(zh),
            en: Cow::Owned(en),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_first_supported() {
        assert_eq!(
            Lang::from_accept_language("fr, en-GB;q=0.8, zh;q=0.5"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language("zh-CN,zh;q=0.9"), Some(Lang::Zh));
        assert_eq!(Lang::from_accept_language("de"), None);
    }
}
