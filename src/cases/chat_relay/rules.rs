//! The relay's pure rules: what a relayed chat message must look like, which messages are
//! chit-chat (kept in the log, never a draft), which category a message probably belongs to,
//! and the draft's title. No I/O; the category tree comes in as an argument.

use super::super::category::CategoryTree;
use crate::error::FieldError;
use crate::i18n::Text;

/// A draft's title: the message's first characters.
pub const TITLE_CHARS: usize = 30;
/// The category of a draft no keyword points to (the seed's "other enquiries").
pub const DEFAULT_CATEGORY: &str = "policy.other";
/// Fewer meaningful characters than this (after fillers are removed) is chit-chat, unless a
/// category keyword appears.
pub const MIN_MEANINGFUL_CHARS: usize = 4;
pub const MAX_GROUP_ID_CHARS: usize = 99;
pub const MAX_MESSAGE_ID_CHARS: usize = 100;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_MESSAGE_CHARS: usize = 5000;
pub const MAX_IMAGES: usize = 9;
pub const MAX_URL_CHARS: usize = 1000;

/// Words and interjections that carry no report: acknowledgements, greetings, laughter.
/// Longer ones first, so `辛苦了` goes before `了`.
const FILLERS: &[&str] = &[
    "没问题",
    "大家好",
    "早上好",
    "晚上好",
    "辛苦了",
    "辛苦",
    "收到",
    "好的",
    "好滴",
    "好嘞",
    "谢谢",
    "感谢",
    "多谢",
    "哈哈",
    "呵呵",
    "嘿嘿",
    "在吗",
    "你好",
    "可以",
    "okay",
    "thanks",
    "thank",
    "you",
    "ok",
    "嗯",
    "哦",
    "噢",
    "啊",
    "呀",
    "哈",
    "呵",
    "嘿",
    "好",
    "的",
    "了",
];

/// A relayed message as the bot sends it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RelayMessage {
    pub group_id: String,
    #[serde(default)]
    pub group_name: String,
    #[serde(default)]
    pub sender_id: String,
    #[serde(default)]
    pub sender_name: String,
    pub text: String,
    /// When it was sent, Unix ms.
    pub sent_at: i64,
    pub message_id: String,
    #[serde(default)]
    pub images: Vec<String>,
}

fn too_long(field: &str, max: usize) -> FieldError {
    FieldError::new(
        field,
        Text::owned(
            format!("不能超过 {max} 个字符"),
            format!("must be at most {max} characters"),
        ),
    )
}

fn required(field: &str) -> FieldError {
    FieldError::new(field, Text::new("请填写", "is required"))
}

/// Checks a message; returns it trimmed, or every problem at once.
pub fn check(m: &RelayMessage) -> Result<RelayMessage, Vec<FieldError>> {
    let mut errors = Vec::new();
    let t = RelayMessage {
        group_id: m.group_id.trim().to_string(),
        group_name: m.group_name.trim().to_string(),
        sender_id: m.sender_id.trim().to_string(),
        sender_name: m.sender_name.trim().to_string(),
        text: m.text.trim().to_string(),
        sent_at: m.sent_at,
        message_id: m.message_id.trim().to_string(),
        images: m.images.iter().map(|u| u.trim().to_string()).collect(),
    };
    for (field, value, max) in [
        ("group_id", &t.group_id, MAX_GROUP_ID_CHARS),
        ("message_id", &t.message_id, MAX_MESSAGE_ID_CHARS),
    ] {
        if value.is_empty() {
            errors.push(required(field));
        } else if value.chars().count() > max {
            errors.push(too_long(field, max));
        } else if value.chars().any(char::is_control) {
            errors.push(FieldError::new(
                field,
                Text::new("不能含控制字符", "must not contain control characters"),
            ));
        }
    }
    for (field, value) in [
        ("group_name", &t.group_name),
        ("sender_id", &t.sender_id),
        ("sender_name", &t.sender_name),
    ] {
        if value.chars().count() > MAX_NAME_CHARS {
            errors.push(too_long(field, MAX_NAME_CHARS));
        }
    }
    if t.text.is_empty() && t.images.is_empty() {
        errors.push(required("text"));
    } else if t.text.chars().count() > MAX_MESSAGE_CHARS {
        errors.push(too_long("text", MAX_MESSAGE_CHARS));
    }
    // Any instant from 2000 to 2100 is a plausible sending time.
    if !(946_684_800_000..=4_102_444_800_000).contains(&t.sent_at) {
        errors.push(FieldError::new(
            "sent_at",
            Text::new(
                "发送时间须为毫秒时间戳",
                "must be the sending time in Unix milliseconds",
            ),
        ));
    }
    if t.images.len() > MAX_IMAGES {
        errors.push(FieldError::new(
            "images",
            Text::owned(
                format!("最多 {MAX_IMAGES} 张图片"),
                format!("at most {MAX_IMAGES} images"),
            ),
        ));
    }
    for u in &t.images {
        let ok = u.chars().count() <= MAX_URL_CHARS
            && url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https"));
        if !ok {
            errors.push(FieldError::new(
                "images",
                Text::new("图片须为 http(s) 网址", "each image must be an http(s) URL"),
            ));
            break;
        }
    }
    if errors.is_empty() {
        Ok(t)
    } else {
        Err(errors)
    }
}

/// The letters and digits of a text, lower-cased (emoji, punctuation and spaces dropped).
fn meaningful(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a message is chit-chat by its text alone: nothing but emoji and punctuation, or
/// too few characters once acknowledgements, greetings and laughter are taken out.
pub fn looks_like_chit_chat(text: &str) -> bool {
    let mut rest = meaningful(text);
    if rest.is_empty() {
        return true;
    }
    for f in FILLERS {
        rest = rest.replace(f, "");
    }
    rest.chars().count() < MIN_MEANINGFUL_CHARS
}

/// The category a message's words point to: each leaf scores its own keywords and name
/// found in the text (twice their length) and its ancestors' (once their length); the best
/// score wins, ties go to the earlier category of the tree. `None` when nothing matches.
pub fn guess_category(tree: &CategoryTree, text: &str) -> Option<String> {
    let text = text.to_lowercase();
    let score = |words: &mut dyn Iterator<Item = &String>| -> usize {
        words
            .filter(|w| !w.trim().is_empty() && text.contains(&w.to_lowercase()))
            .map(|w| w.chars().count())
            .sum()
    };
    let mut best: Option<(usize, &str)> = None;
    for c in tree.categories.iter().filter(|c| tree.is_leaf(&c.code)) {
        let own = score(&mut c.keywords.iter().chain(std::iter::once(&c.name_zh)));
        let inherited: usize = tree
            .ancestors(&c.code)
            .into_iter()
            .filter(|a| a.code != c.code)
            .map(|a| score(&mut a.keywords.iter().chain(std::iter::once(&a.name_zh))))
            .sum();
        let s = own * 2 + inherited;
        if s > 0 && best.is_none_or(|(b, _)| s > b) {
            best = Some((s, &c.code));
        }
    }
    best.map(|(_, code)| code.to_string())
}

/// The category for a draft nothing points to: [`DEFAULT_CATEGORY`] when the tree has it as
/// a leaf, else the tree's first leaf.
pub fn fallback_category(tree: &CategoryTree) -> Option<String> {
    if tree.is_leaf(DEFAULT_CATEGORY) && tree.get(DEFAULT_CATEGORY).is_some() {
        return Some(DEFAULT_CATEGORY.to_string());
    }
    tree.categories
        .iter()
        .find(|c| tree.is_leaf(&c.code))
        .map(|c| c.code.clone())
}

/// Whether a draft can be filed under a category as it stands: a chat message cannot fill
/// in a category's required attributes, so such a category is only suggested.
pub fn draftable(tree: &CategoryTree, code: &str) -> bool {
    tree.is_leaf(code)
        && tree
            .get(code)
            .is_some_and(|c| !c.fields.iter().any(|f| f.required && f.variable))
}

/// What the relay does with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Triage {
    /// Kept in the log only.
    ChitChat,
    /// Becomes a draft in this category (`guessed`: a keyword pointed to it). `suggested` is
    /// the category the keywords pointed to when it needs attributes a message cannot give
    /// (the draft is then filed under the fallback, and triage re-files it).
    Draft {
        category: String,
        guessed: bool,
        suggested: Option<String>,
    },
}

/// Decides a message: a category keyword makes even a short message a draft (`井盖!`);
/// otherwise chit-chat stays in the log; the rest are drafts in the fallback category.
/// Images alone make a draft (someone photographed something).
pub fn triage(tree: &CategoryTree, text: &str, has_images: bool) -> Triage {
    if meaningful(text).is_empty() && !has_images {
        return Triage::ChitChat;
    }
    let guess = guess_category(tree, text);
    if guess.is_none() && looks_like_chit_chat(text) && !has_images {
        return Triage::ChitChat;
    }
    match guess {
        Some(category) if draftable(tree, &category) => Triage::Draft {
            category,
            guessed: true,
            suggested: None,
        },
        suggested => match fallback_category(tree) {
            Some(category) => Triage::Draft {
                category,
                guessed: false,
                suggested,
            },
            None => Triage::ChitChat,
        },
    }
}

/// A draft's title: the first [`TITLE_CHARS`] characters with line breaks and runs of
/// spaces folded into one space; an image-only message gets a fixed title.
pub fn title(text: &str) -> String {
    let folded: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let t: String = folded.chars().take(TITLE_CHARS).collect();
    if t.is_empty() {
        "群聊图片 / chat photo".to_string()
    } else {
        t
    }
}

/// The draft's description: the text (cut to `max` characters) and the image links.
pub fn description(m: &RelayMessage, max: usize) -> String {
    let mut d = m.text.clone();
    for u in &m.images {
        d.push('\n');
        d.push_str(u);
    }
    if d.trim().is_empty() {
        d = title(&m.text);
    }
    if d.chars().count() > max {
        d = d.chars().take(max).collect();
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seeded() -> CategoryTree {
        CategoryTree::seeded()
    }

    fn msg(text: &str) -> RelayMessage {
        RelayMessage {
            group_id: "g1".into(),
            group_name: "章浜一网格居民群".into(),
            sender_id: "u1".into(),
            sender_name: "张阿姨".into(),
            text: text.into(),
            sent_at: 1_767_225_600_000,
            message_id: "m1".into(),
            images: vec![],
        }
    }

    #[test]
    fn keywords_point_to_their_category() {
        let t = seeded();
        let g = |s: &str| guess_category(&t, s);
        assert_eq!(
            g("3号楼门口垃圾两天没人清运了").as_deref(),
            Some("env.garbage")
        );
        assert_eq!(g("电梯坏了,一直停运").as_deref(), Some("lift.fault"));
        assert_eq!(
            g("有人被困在电梯里,困人了!").as_deref(),
            Some("lift.trapped")
        );
        assert_eq!(g("小区路灯不亮").as_deref(), Some("facilities.streetlight"));
        assert_eq!(g("楼道里有人飞线充电").as_deref(), Some("safety.ebike"));
        assert_eq!(g("楼上装修噪音太吵").as_deref(), Some("neighbour.noise"));
        assert_eq!(g("今天天气不错").as_deref(), None);
        assert_eq!(g("").as_deref(), None);
    }

    #[test]
    fn an_ancestor_keyword_alone_picks_the_first_child() {
        // "电梯" is the root's keyword only: every lift leaf scores alike, the first wins.
        let t = seeded();
        assert_eq!(guess_category(&t, "电梯").as_deref(), Some("lift.fault"));
    }

    #[test]
    fn guesses_are_always_leaves() {
        let t = seeded();
        for c in &t.categories {
            for k in &c.keywords {
                if let Some(g) = guess_category(&t, k) {
                    assert!(t.is_leaf(&g), "{k} -> {g}");
                }
            }
        }
    }

    #[test]
    fn the_fallback_is_other_enquiries() {
        let t = seeded();
        assert_eq!(fallback_category(&t).as_deref(), Some(DEFAULT_CATEGORY));
        let empty = CategoryTree::default();
        assert_eq!(fallback_category(&empty), None);
    }

    #[test]
    fn chit_chat_is_short_or_only_fillers() {
        for s in [
            "",
            "   ",
            "👍",
            "👍👍🙏",
            "!!!",
            "好的",
            "收到,谢谢!",
            "哈哈哈哈",
            "OK",
            "ok 👌",
            "+1",
            "嗯嗯",
            "辛苦了",
            "大家早上好",
            "在吗",
            "好的好的收到",
        ] {
            assert!(looks_like_chit_chat(s), "{s:?}");
        }
        for s in [
            "明天几点开会",
            "小区东门的栏杆断了",
            "请问社区什么时候发口罩",
            "Is the north gate open",
        ] {
            assert!(!looks_like_chit_chat(s), "{s:?}");
        }
    }

    #[test]
    fn triage_keeps_chit_chat_and_drafts_the_rest() {
        let t = seeded();
        assert_eq!(triage(&t, "收到👍", false), Triage::ChitChat);
        assert_eq!(triage(&t, "🙏🙏", false), Triage::ChitChat);
        assert_eq!(
            triage(&t, "井盖!", false),
            Triage::Draft {
                category: "facilities.manhole".into(),
                guessed: true,
                suggested: None,
            }
        );
        assert_eq!(
            triage(&t, "漏水!", false),
            Triage::Draft {
                category: DEFAULT_CATEGORY.into(),
                guessed: false,
                suggested: Some("property.leak".into()),
            }
        );
        assert_eq!(
            triage(&t, "小区东门的栏杆断了", false),
            Triage::Draft {
                category: DEFAULT_CATEGORY.into(),
                guessed: false,
                suggested: None,
            }
        );
        // A photo with no words is worth a look.
        assert_eq!(
            triage(&t, "", true),
            Triage::Draft {
                category: DEFAULT_CATEGORY.into(),
                guessed: false,
                suggested: None,
            }
        );
        // Garbage collection needs the kind of waste, which a chat message does not give:
        // filed under the fallback, the guess kept as a suggestion for triage.
        assert!(!draftable(&t, "env.garbage"));
        assert!(!draftable(&t, "property.leak"));
        assert!(draftable(&t, "facilities.manhole"));
        assert!(!draftable(&t, "env"), "a group is no category");
        assert_eq!(
            triage(&t, "垃圾两天没人清运", false),
            Triage::Draft {
                category: DEFAULT_CATEGORY.into(),
                guessed: false,
                suggested: Some("env.garbage".into()),
            }
        );
        // No categories at all: nothing can be drafted.
        assert_eq!(
            triage(&CategoryTree::default(), "小区东门的栏杆断了", false),
            Triage::ChitChat
        );
    }

    #[test]
    fn titles_are_the_first_thirty_characters() {
        let long = "一二三四五六七八九十".repeat(5);
        assert_eq!(title(&long).chars().count(), TITLE_CHARS);
        assert_eq!(title("电梯\n\n  坏了"), "电梯 坏了");
        assert_eq!(title("  短  "), "短");
        assert!(!title("").is_empty());
    }

    #[test]
    fn descriptions_carry_the_images_and_fit() {
        let mut m = msg("井盖没了");
        m.images = vec!["https://img.example.cn/a.jpg".into()];
        assert_eq!(
            description(&m, 2000),
            "井盖没了\nhttps://img.example.cn/a.jpg"
        );
        let m = msg(&"长".repeat(3000));
        assert_eq!(description(&m, 2000).chars().count(), 2000);
    }

    #[test]
    fn a_good_message_passes_and_is_trimmed() {
        let mut m = msg("  电梯坏了  ");
        m.group_id = " g1 ".into();
        let c = check(&m).unwrap();
        assert_eq!(c.text, "电梯坏了");
        assert_eq!(c.group_id, "g1");
    }

    #[test]
    fn bad_messages_name_every_field() {
        let m = RelayMessage {
            group_id: "".into(),
            group_name: "群".repeat(101),
            sender_id: "".into(),
            sender_name: "".into(),
            text: "".into(),
            sent_at: 12,
            message_id: "x".repeat(101),
            images: vec!["javascript:alert(1)".into()],
        };
        let errs = check(&m).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in ["group_id", "message_id", "group_name", "sent_at", "images"] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        // Text may be empty only with an image.
        let mut m = msg("");
        assert!(check(&m).is_err());
        m.images = vec!["https://img.example.cn/a.jpg".into()];
        assert!(check(&m).is_ok());
        let mut m = msg("x");
        m.images = vec!["https://a.cn/x.jpg".into(); MAX_IMAGES + 1];
        assert!(check(&m).is_err());
        let mut m = msg("x");
        m.group_id = "g\u{0}1".into();
        assert!(check(&m).is_err());
    }

    proptest! {
        #[test]
        fn triage_never_panics_and_drafts_are_leaves(s in "\\PC{0,60}", img in any::<bool>()) {
            let t = seeded();
            match triage(&t, &s, img) {
                Triage::ChitChat => {}
                Triage::Draft { category, .. } => prop_assert!(t.is_leaf(&category)),
            }
            prop_assert!(title(&s).chars().count() <= TITLE_CHARS.max(20));
        }

        #[test]
        fn emoji_and_punctuation_alone_are_chit_chat(s in "[😀👍🙏!?。,~ ]{0,12}") {
            prop_assert_eq!(triage(&seeded(), &s, false), Triage::ChitChat);
        }
    }
}
