//! How alike two short Chinese descriptions are, without a word tokenizer.
//!
//! Residents describe one problem in many ways ("3号楼门口垃圾堆了好几天没人清理", "三号楼门前
//! 垃圾好几天没清"). Chinese has no spaces and a dictionary segmenter is a heavy dependency that
//! still trips over place names, so we compare **character bigrams**, the usual tokenizer-free
//! measure for CJK text: two descriptions that share many adjacent character pairs talk about
//! the same thing.
//!
//! Steps:
//! 1. [`normalise`]: full-width ASCII → half-width, Latin lower-cased, everything that is not
//!    a letter, digit or CJK character dropped (punctuation, whitespace, emoji), common filler
//!    words dropped (greetings, thanks, modal particles), and the Chinese digits 〇零一…九 and 两
//!    written as 0–9 so "三号楼" meets "3号楼". 十/百 are left alone: turning them into numbers
//!    needs positional parsing and they are rare in building numbers.
//! 2. [`similarity`]: the Sørensen–Dice coefficient over the **multisets** of bigrams,
//!    `2·|A∩B| / (|A|+|B|)`. Dice rather than Jaccard because it rewards shared pairs more
//!    and so spreads short paraphrases better: the pair above scores 0.56 with Dice and 0.39
//!    with Jaccard, while an unrelated report about the same building stays near 0.3 with
//!    both. A text of one character is its own single "bigram".
//!
//! The result is symmetric, in [0, 1], exactly 1 for two equal texts that keep at least one
//! character after normalisation, and 0 when either side normalises to nothing (an empty or
//! punctuation-only description says nothing, so it matches nothing).

/// Filler words of more than one character, removed before the single ones.
const FILLER_WORDS: [&str; 8] = [
    "您好", "你好", "谢谢", "感谢", "麻烦", "请问", "一下", "辛苦",
];

/// Single-character fillers: the structural particle 的, aspect 了, modal particles, and 请.
const FILLER_CHARS: [char; 12] = [
    '的', '了', '呢', '啊', '吧', '吗', '呀', '哦', '嘛', '哈', '啦', '请',
];

/// The text in the form that [`similarity`] compares (see the module doc for the steps).
pub fn normalise(text: &str) -> String {
    let mut chars: Vec<char> = text
        .chars()
        .map(half_width)
        .filter(|c| c.is_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    // Dropping a filler can bring two halves of another together ("谢的谢"), so repeat until
    // nothing changes; this keeps `normalise` idempotent. Each round that changes anything
    // shortens the text, so the loop ends.
    loop {
        let shorter = drop_fillers(&chars);
        if shorter.len() == chars.len() {
            break;
        }
        chars = shorter;
    }
    chars
        .into_iter()
        .map(|c| chinese_digit(c).unwrap_or(c))
        .collect()
}

/// One pass of filler removal, longest words first.
fn drop_fillers(chars: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    'outer: while i < chars.len() {
        for w in FILLER_WORDS {
            let n = w.chars().count();
            if chars.len() - i >= n && w.chars().eq(chars[i..i + n].iter().copied()) {
                i += n;
                continue 'outer;
            }
        }
        if !FILLER_CHARS.contains(&chars[i]) {
            out.push(chars[i]);
        }
        i += 1;
    }
    out
}

/// Full-width forms (U+FF01–U+FF5E) and the ideographic space map to their ASCII twins.
fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

fn chinese_digit(c: char) -> Option<char> {
    Some(match c {
        '〇' | '零' => '0',
        '一' => '1',
        '二' | '两' => '2',
        '三' => '3',
        '四' => '4',
        '五' => '5',
        '六' => '6',
        '七' => '7',
        '八' => '8',
        '九' => '9',
        _ => return None,
    })
}

/// The sorted multiset of character bigrams of an already normalised text.
fn bigrams(norm: &str) -> Vec<(char, char)> {
    let chars: Vec<char> = norm.chars().collect();
    let mut grams: Vec<(char, char)> = match chars.len() {
        0 => Vec::new(),
        // '\0' never survives normalisation, so this "bigram" only meets itself.
        1 => vec![(chars[0], '\0')],
        _ => chars.windows(2).map(|w| (w[0], w[1])).collect(),
    };
    grams.sort_unstable();
    grams
}

/// Size of the multiset intersection of two sorted lists.
fn common(a: &[(char, char)], b: &[(char, char)]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Dice similarity of two raw texts' bigrams, in [0, 1] (see the module doc).
pub fn similarity(a: &str, b: &str) -> f64 {
    similarity_normalised(&normalise(a), &normalise(b))
}

/// [`similarity`] of two texts already passed through [`normalise`]: lets a caller
/// normalise the new report once and compare it with many candidates.
pub fn similarity_normalised(a: &str, b: &str) -> f64 {
    let (ga, gb) = (bigrams(a), bigrams(b));
    if ga.is_empty() || gb.is_empty() {
        return 0.0;
    }
    (2 * common(&ga, &gb)) as f64 / (ga.len() + gb.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_width_case_punctuation_fillers_and_digits() {
        assert_eq!(normalise("ＡＢＣ１２３"), "abc123");
        assert_eq!(normalise("  Lift  B-2！！"), "liftb2");
        assert_eq!(
            normalise("您好，请问3号楼的电梯坏了吗？谢谢！"),
            "3号楼电梯坏"
        );
        assert_eq!(normalise("三号楼两个单元"), "3号楼2个单元");
        assert_eq!(normalise("垃圾\u{3000}堆积😡"), "垃圾堆积");
        assert_eq!(normalise("，。！？、…… ——"), "");
        assert_eq!(normalise(""), "");
        // 十 is left as it is.
        assert_eq!(normalise("十号楼"), "十号楼");
        // Fillers brought together by removing another one go too.
        assert_eq!(normalise("谢的谢路灯"), "路灯");
    }

    #[test]
    fn identical_texts_score_one() {
        let t = "3号楼门口垃圾堆了好几天没人清理";
        assert_eq!(similarity(t, t), 1.0);
        // Punctuation, width and fillers do not matter.
        assert_eq!(
            similarity("３号楼门口垃圾，没人清理！", "3号楼门口垃圾没人清理了"),
            1.0
        );
        assert_eq!(similarity("灯", "灯"), 1.0);
    }

    #[test]
    fn paraphrase_scores_above_the_default_threshold() {
        let s = similarity(
            "3号楼门口垃圾堆了好几天没人清理",
            "三号楼门前垃圾好几天没清",
        );
        // 7 shared of 14 + 11 bigrams.
        assert!((s - 14.0 / 25.0).abs() < 1e-12, "{s}");
        assert!(s >= super::super::DEFAULT_TEXT_THRESHOLD);
    }

    #[test]
    fn unrelated_texts_score_low() {
        let s = similarity("3号楼电梯坏了", "3号楼门口垃圾没人清理");
        assert!(s < super::super::DEFAULT_TEXT_THRESHOLD, "{s}");
        assert_eq!(similarity("路灯不亮", "垃圾满溢"), 0.0);
        assert_eq!(similarity("灯", "路灯"), 0.0);
    }

    #[test]
    fn empty_and_punctuation_only_texts_match_nothing() {
        assert_eq!(similarity("", ""), 0.0);
        assert_eq!(similarity("", "垃圾"), 0.0);
        assert_eq!(similarity("！！！", "！！！"), 0.0);
        assert_eq!(similarity("您好谢谢", "您好谢谢"), 0.0);
    }

    #[test]
    fn repeated_bigrams_count_as_a_multiset() {
        // "哈" is a filler, so use another repeated character.
        // "好好好" has bigrams {好好 ×2}; "好好" has {好好 ×1}: Dice = 2·1/3.
        assert!((similarity("好好好", "好好") - 2.0 / 3.0).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn similarity_is_symmetric_and_bounded(a in "\\PC{0,30}", b in "\\PC{0,30}") {
            let (ab, ba) = (similarity(&a, &b), similarity(&b, &a));
            prop_assert_eq!(ab, ba);
            prop_assert!((0.0..=1.0).contains(&ab));
        }

        #[test]
        fn similarity_is_one_for_identical_non_empty_text(a in "[\\u4e00-\\u9fa5a-z0-9，。！ ]{1,30}") {
            let s = similarity(&a, &a);
            if normalise(&a).is_empty() {
                prop_assert_eq!(s, 0.0);
            } else {
                prop_assert_eq!(s, 1.0);
            }
        }

        #[test]
        fn chinese_samples_mix(a in "[垃圾电梯路灯楼门口坏清理3号]{0,12}", b in "[垃圾电梯路灯楼门口坏清理3号]{0,12}") {
            let s = similarity(&a, &b);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert_eq!(s, similarity(&b, &a));
        }

        #[test]
        fn normalise_is_idempotent(a in "\\PC{0,30}") {
            let n = normalise(&a);
            prop_assert_eq!(normalise(&n), n);
        }
    }
}
