//! Duplicate detection for triage (立案): when a new report comes in, which earlier ones
//! look like the same problem, so staff can merge instead of opening a second case.
//! Merging is the staff's decision; this only suggests, with a score and the reasons
//! behind it, and never drops anything.
//!
//! Pure: the storage layer loads the candidates (see [`Config::candidate_window`]) and the
//! new report; nothing here reads a clock or a database.
//!
//! # When a candidate is suggested
//! 1. **Same place** is required: the same building, or map points at most
//!    [`Config::max_distance_m`] apart (whole metres, inclusive, haversine on WGS-84, see
//!    [`geo`]), or at least the same grid. Two reports in different places are two problems
//!    however alike their words ("垃圾没人清" is said in every grid).
//! 2. **Same category and within the time window** ([`Config::window_ms`], inclusive, either
//!    side of the new report's time). A candidate of another category or outside the window
//!    is still suggested when the texts are nearly identical (similarity at least
//!    [`Config::override_similarity`], 0.9 by default): a resident who files again a week
//!    later, or picks a different category for the same words, is the usual duplicate.
//! 3. The **score** reaches [`Config::min_score`].
//!
//! # The score, in [0, 1]
//! `0.30·place + 0.15·category + 0.45·text + 0.10·time`, where
//! - place: same building 1.0; nearby `1 − 0.4·d/max` (1.0 at the same spot, 0.6 at the
//!   limit); same grid 0.5, or 0.3 when both reports name different buildings. The best
//!   that applies counts.
//! - category: 1 when the same, else 0.
//! - text: the bigram Dice similarity of [`text`].
//! - time: `1 − Δt/window` inside the window, 0 outside.
//!
//! Text carries the most weight because it is what tells two problems in one building
//! apart; place and category are what make a similar text a duplicate. With the defaults,
//! identical reports score 1.0, a paraphrase from the same building a day later about 0.77,
//! and an unrelated report of the same category in the same building the same hour about
//! 0.68 (worth a look: same leaf category, same building, same hour), while the same in
//! another building of the grid stays under the 0.6 bar.

pub mod geo;
pub mod text;

pub use geo::GeoPoint;

use crate::i18n::Text;

/// What a report needs to be compared: a summary, not the whole case.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub id: i64,
    pub category_id: i64,
    pub grid_id: i64,
    pub building_id: Option<i64>,
    pub point: Option<GeoPoint>,
    /// The description as the reporter wrote it.
    pub text: String,
    /// When the report was made (Unix ms; for offline reports the time it really happened).
    pub created_at_ms: i64,
}

pub const HOUR_MS: i64 = 3_600_000;
/// Default time window: 72 hours either side.
pub const DEFAULT_WINDOW_MS: i64 = 72 * HOUR_MS;
/// Default nearby distance, metres.
pub const DEFAULT_MAX_DISTANCE_M: u32 = 50;
/// Default bar a suggestion's score must reach.
pub const DEFAULT_MIN_SCORE: f64 = 0.6;
/// Default similarity from which the texts count as "similar" and get a reason. A close
/// paraphrase scores about 0.55, an unrelated text about the same building about 0.3.
pub const DEFAULT_TEXT_THRESHOLD: f64 = 0.4;
/// Default similarity above which category and window are waived.
pub const DEFAULT_OVERRIDE_SIMILARITY: f64 = 0.9;

const W_PLACE: f64 = 0.30;
const W_CATEGORY: f64 = 0.15;
const W_TEXT: f64 = 0.45;
const W_TIME: f64 = 0.10;

/// Tunables; local practice differs, so all are configurable.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Config {
    /// How far apart in time two reports may be, ms, either side (inclusive).
    pub window_ms: i64,
    /// How far apart two map points may be, whole metres (inclusive).
    pub max_distance_m: u32,
    /// The score a suggestion must reach.
    pub min_score: f64,
    /// The similarity from which a "similar text" reason is given.
    pub text_threshold: f64,
    /// The similarity from which another category or a time outside the window is waived.
    pub override_similarity: f64,
    /// At most this many suggestions, best first.
    pub max_suggestions: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            window_ms: DEFAULT_WINDOW_MS,
            max_distance_m: DEFAULT_MAX_DISTANCE_M,
            min_score: DEFAULT_MIN_SCORE,
            text_threshold: DEFAULT_TEXT_THRESHOLD,
            override_similarity: DEFAULT_OVERRIDE_SIMILARITY,
            max_suggestions: 10,
        }
    }
}

impl Config {
    /// The creation times (inclusive, Unix ms) within which candidates count as being in
    /// the window. The storage layer should load at least the same grid's (or, with a
    /// point, the surrounding area's) reports of this span, plus, for the near-identical
    /// text override, a wider span of the same place if it wants those too.
    pub fn candidate_window(&self, created_at_ms: i64) -> (i64, i64) {
        (
            created_at_ms.saturating_sub(self.window_ms),
            created_at_ms.saturating_add(self.window_ms),
        )
    }
}

/// Why a candidate was suggested.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    SameBuilding,
    /// Map points this many whole metres apart, within the limit.
    Nearby {
        metres: u32,
    },
    SameGrid,
    SameCategory,
    /// Bigram similarity of the texts, at least the configured threshold.
    SimilarText {
        similarity: f64,
    },
    /// Created this many minutes apart, inside the window.
    CloseInTime {
        minutes: i64,
    },
}

impl Reason {
    /// The label staff read next to a suggestion.
    pub fn label(&self) -> Text {
        match self {
            Reason::SameBuilding => Text::new("同一楼栋", "same building"),
            Reason::Nearby { metres } => {
                Text::owned(format!("相距 {metres} 米"), format!("{metres} m apart"))
            }
            Reason::SameGrid => Text::new("同一网格", "same grid"),
            Reason::SameCategory => Text::new("同一类别", "same category"),
            Reason::SimilarText { similarity } => Text::owned(
                format!("描述相似度 {similarity:.2}"),
                format!("text similarity {similarity:.2}"),
            ),
            Reason::CloseInTime { minutes } => {
                let m = *minutes;
                if m < 60 {
                    Text::owned(format!("相隔 {m} 分钟"), format!("{m} min apart"))
                } else if m < 48 * 60 {
                    let h = m / 60;
                    Text::owned(format!("相隔 {h} 小时"), format!("{h} h apart"))
                } else {
                    let d = m / (24 * 60);
                    Text::owned(format!("相隔 {d} 天"), format!("{d} days apart"))
                }
            }
        }
    }
}

/// One merge suggestion.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Suggestion {
    /// The candidate report's id.
    pub id: i64,
    /// In [0, 1], higher is more likely the same problem.
    pub score: f64,
    /// Text similarity, in [0, 1], shown even when under the reason threshold.
    pub similarity: f64,
    /// Whole metres between the two points, when both have one.
    pub distance_m: Option<u32>,
    /// Strongest first: place, category, text, time.
    pub reasons: Vec<Reason>,
}

/// Merge suggestions for `new` among `candidates`, best first (score descending, then the
/// closer in time, then the lower id, so the order is stable). `new` itself, if among the
/// candidates, is skipped.
pub fn suggest(new: &Report, candidates: &[Report], cfg: &Config) -> Vec<Suggestion> {
    let new_norm = text::normalise(&new.text);
    let mut out: Vec<(i64, Suggestion)> = candidates
        .iter()
        .filter(|c| c.id != new.id)
        .filter_map(|c| {
            let dt = (c.created_at_ms - new.created_at_ms).saturating_abs();
            compare(new, &new_norm, c, dt, cfg).map(|s| (dt, s))
        })
        .collect();
    out.sort_by(|(dta, a), (dtb, b)| {
        b.score
            .total_cmp(&a.score)
            .then(dta.cmp(dtb))
            .then(a.id.cmp(&b.id))
    });
    out.truncate(cfg.max_suggestions);
    out.into_iter().map(|(_, s)| s).collect()
}

fn compare(new: &Report, new_norm: &str, c: &Report, dt: i64, cfg: &Config) -> Option<Suggestion> {
    let mut reasons = Vec::new();

    // Place.
    let distance_m = match (new.point, c.point) {
        (Some(a), Some(b)) => Some(geo::whole_metres(a, b)),
        _ => None,
    };
    let same_building = new.building_id.is_some() && new.building_id == c.building_id;
    let nearby = distance_m.filter(|d| *d <= cfg.max_distance_m);
    let same_grid = new.grid_id == c.grid_id;
    let mut place: f64 = 0.0;
    if same_building {
        place = 1.0;
        reasons.push(Reason::SameBuilding);
    }
    if let Some(d) = nearby {
        let max = f64::from(cfg.max_distance_m.max(1));
        place = place.max(1.0 - 0.4 * f64::from(d) / max);
        reasons.push(Reason::Nearby { metres: d });
    }
    if same_grid {
        let other_building =
            matches!((new.building_id, c.building_id), (Some(a), Some(b)) if a != b);
        place = place.max(if other_building { 0.3 } else { 0.5 });
        reasons.push(Reason::SameGrid);
    }
    if place == 0.0 {
        return None;
    }

    // Category, text, time.
    let same_category = new.category_id == c.category_id;
    let similarity = text::similarity_normalised(new_norm, &text::normalise(&c.text));
    let in_window = dt <= cfg.window_ms;
    if !(same_category && in_window) && similarity < cfg.override_similarity {
        return None;
    }
    if same_category {
        reasons.push(Reason::SameCategory);
    }
    if similarity >= cfg.text_threshold && similarity > 0.0 {
        reasons.push(Reason::SimilarText { similarity });
    }
    let time = if in_window && cfg.window_ms > 0 {
        1.0 - dt as f64 / cfg.window_ms as f64
    } else if in_window {
        1.0
    } else {
        0.0
    };
    if in_window {
        reasons.push(Reason::CloseInTime {
            minutes: dt / 60_000,
        });
    }

    let score = W_PLACE * place
        + W_CATEGORY * f64::from(u8::from(same_category))
        + W_TEXT * similarity
        + W_TIME * time;
    // Guard against rounding just over 1.
    let score = score.clamp(0.0, 1.0);
    (score >= cfg.min_score).then_some(Suggestion {
        id: c.id,
        score,
        similarity,
        distance_m,
        reasons,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: i64 = 1_767_225_600_000; // 2026-01-01 08:00 Shanghai
    const BASE: GeoPoint = GeoPoint {
        lat_e6: 31_230_000,
        lng_e6: 121_470_000,
    };

    fn report(id: i64, text: &str) -> Report {
        Report {
            id,
            category_id: 7,
            grid_id: 100,
            building_id: Some(1001),
            point: None,
            text: text.to_string(),
            created_at_ms: T0,
        }
    }

    /// A point `m` metres north of BASE, to the nearest micro-degree.
    fn north_of_base(m: f64) -> GeoPoint {
        let per_micro = geo::EARTH_RADIUS_M * std::f64::consts::PI / 180.0 / 1e6;
        GeoPoint {
            lat_e6: BASE.lat_e6 + (m / per_micro).round() as i32,
            lng_e6: BASE.lng_e6,
        }
    }

    fn ids(s: &[Suggestion]) -> Vec<i64> {
        s.iter().map(|s| s.id).collect()
    }

    const GARBAGE: &str = "3号楼门口垃圾堆了好几天没人清理";

    #[test]
    fn identical_report_scores_one_with_all_reasons() {
        let new = report(1, GARBAGE);
        let old = report(2, GARBAGE);
        let s = suggest(&new, &[old], &Config::default());
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].id, 2);
        assert!((s[0].score - 1.0).abs() < 1e-12);
        assert_eq!(s[0].similarity, 1.0);
        assert_eq!(
            s[0].reasons,
            vec![
                Reason::SameBuilding,
                Reason::SameGrid,
                Reason::SameCategory,
                Reason::SimilarText { similarity: 1.0 },
                Reason::CloseInTime { minutes: 0 },
            ]
        );
        let labels: Vec<String> = s[0]
            .reasons
            .iter()
            .map(|r| r.label().zh.into_owned())
            .collect();
        assert_eq!(
            labels,
            [
                "同一楼栋",
                "同一网格",
                "同一类别",
                "描述相似度 1.00",
                "相隔 0 分钟"
            ]
        );
    }

    #[test]
    fn the_new_report_itself_is_skipped() {
        let new = report(1, GARBAGE);
        assert!(suggest(&new, std::slice::from_ref(&new), &Config::default()).is_empty());
    }

    #[test]
    fn paraphrase_in_the_same_building_is_suggested() {
        let new = report(1, "3号楼门口垃圾堆了好几天没人清理");
        let mut old = report(2, "三号楼门前垃圾好几天没清");
        old.created_at_ms = T0 - 24 * HOUR_MS;
        let s = suggest(&new, &[old], &Config::default());
        assert_eq!(s.len(), 1);
        assert!((s[0].similarity - 0.56).abs() < 1e-9);
        assert!(s[0].reasons.contains(&Reason::SimilarText {
            similarity: s[0].similarity
        }));
        assert!(s[0]
            .reasons
            .contains(&Reason::CloseInTime { minutes: 24 * 60 }));
        assert_eq!(s[0].reasons.last().unwrap().label().zh, "相隔 24 小时");
        assert!(s[0].score > 0.75 && s[0].score < 0.8, "{}", s[0].score);
        let label = Reason::SimilarText { similarity: 0.82 }.label();
        assert_eq!(label.zh, "描述相似度 0.82");
        assert_eq!(label.en, "text similarity 0.82");
    }

    #[test]
    fn different_places_are_not_suggested() {
        let new = report(1, GARBAGE);
        let mut old = report(2, GARBAGE);
        old.grid_id = 200;
        old.building_id = Some(2001);
        assert!(suggest(&new, &[old.clone()], &Config::default()).is_empty());
        // Even with far-apart points.
        let mut new_p = new.clone();
        new_p.point = Some(BASE);
        old.point = Some(north_of_base(500.0));
        assert!(suggest(&new_p, &[old.clone()], &Config::default()).is_empty());
        // But a point across the grid boundary within the distance counts.
        old.point = Some(north_of_base(20.0));
        let s = suggest(&new_p, &[old], &Config::default());
        assert_eq!(ids(&s), [2]);
        assert_eq!(s[0].reasons[0], Reason::Nearby { metres: 20 });
        assert_eq!(s[0].reasons[0].label().zh, "相距 20 米");
        assert_eq!(s[0].distance_m, Some(20));
    }

    #[test]
    fn another_building_in_the_same_grid_weighs_less() {
        let new = report(1, "3号楼电梯坏了");
        let mut same = report(2, "3号楼门口垃圾没人清理");
        same.created_at_ms = T0;
        let mut other = same.clone();
        other.id = 3;
        other.building_id = Some(1002);
        let s = suggest(&new, &[same, other.clone()], &Config::default());
        // Unrelated text: the same building still gets a look, the other building does not.
        assert_eq!(ids(&s), [2]);
        // With no building on either side, the grid counts a bit more than a known other
        // building, but not enough for an unrelated text.
        let mut a = new.clone();
        a.building_id = None;
        other.building_id = None;
        assert!(suggest(&a, &[other], &Config::default()).is_empty());
    }

    #[test]
    fn window_is_inclusive_and_overridden_by_near_identical_text() {
        let new = report(1, GARBAGE);
        let cfg = Config::default();
        let mut edge = report(2, "3号楼门口垃圾好多");
        edge.created_at_ms = T0 - DEFAULT_WINDOW_MS;
        let mut past = edge.clone();
        past.id = 3;
        past.created_at_ms = T0 - DEFAULT_WINDOW_MS - 1;
        let mut future = edge.clone();
        future.id = 4;
        future.created_at_ms = T0 + DEFAULT_WINDOW_MS;
        let s = suggest(&new, &[edge, past, future], &cfg);
        assert_eq!(ids(&s), [2, 4]);
        assert_eq!(s[0].reasons.last().unwrap().label().zh, "相隔 3 天");

        // A week later with the same words: still suggested, without a time reason.
        let mut week = report(5, "3号楼门口垃圾堆了好几天没人清理!!");
        week.created_at_ms = T0 - 7 * 24 * HOUR_MS;
        let s = suggest(&new, &[week.clone()], &cfg);
        assert_eq!(ids(&s), [5]);
        assert!(!s[0]
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::CloseInTime { .. })));
        assert!((s[0].score - 0.9).abs() < 1e-9);
        // A week later with merely similar words: not suggested.
        week.text = "三号楼门前垃圾好几天没清".into();
        assert!(suggest(&new, &[week], &cfg).is_empty());
    }

    #[test]
    fn other_category_needs_near_identical_text() {
        let new = report(1, GARBAGE);
        let mut same_words = report(2, GARBAGE);
        same_words.category_id = 8;
        let mut paraphrase = report(3, "三号楼门前垃圾好几天没清");
        paraphrase.category_id = 8;
        let s = suggest(&new, &[same_words, paraphrase], &Config::default());
        assert_eq!(ids(&s), [2]);
        assert!(!s[0].reasons.contains(&Reason::SameCategory));
    }

    #[test]
    fn distance_boundaries_49_50_51() {
        let mut new = report(1, GARBAGE);
        new.grid_id = 1;
        new.building_id = None;
        new.point = Some(BASE);
        let cands: Vec<Report> = [49.0, 50.0, 51.0]
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut r = report(10 + i as i64, GARBAGE);
                r.grid_id = 2;
                r.building_id = None;
                r.point = Some(north_of_base(*m));
                assert_eq!(geo::whole_metres(BASE, r.point.unwrap()), *m as u32);
                r
            })
            .collect();
        let s = suggest(&new, &cands, &Config::default());
        assert_eq!(ids(&s), [10, 11]);
        assert_eq!(s[0].reasons[0], Reason::Nearby { metres: 49 });
        assert_eq!(s[1].reasons[0], Reason::Nearby { metres: 50 });
        assert!(s[0].score > s[1].score);
        // With the limit raised to 51 the third comes in; the 51 m one reports its distance.
        let cfg = Config {
            max_distance_m: 51,
            ..Config::default()
        };
        let s = suggest(&new, &cands, &cfg);
        assert_eq!(ids(&s), [10, 11, 12]);
        assert_eq!(s[2].distance_m, Some(51));
    }

    #[test]
    fn empty_and_punctuation_only_texts() {
        let cfg = Config::default();
        // Nothing to compare: same building, same category, same hour is not enough.
        let new = report(1, "");
        assert!(suggest(&new, &[report(2, "")], &cfg).is_empty());
        let new = report(1, "！！！。。。");
        let s_old = report(2, "？？？");
        assert!(suggest(&new, &[s_old], &cfg).is_empty());
        // A lower bar shows them, with no text reason.
        let low = Config {
            min_score: 0.5,
            ..Config::default()
        };
        let s = suggest(&new, &[report(2, "？？？")], &low);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].similarity, 0.0);
        assert!(!s[0]
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::SimilarText { .. })));
    }

    #[test]
    fn ordered_by_score_then_time_then_id() {
        let new = report(1, GARBAGE);
        let s = suggest(&new, &suggest_input(), &Config::default());
        assert_eq!(ids(&s), [4, 2, 3, 5]);
        assert!(s.windows(2).all(|w| w[0].score >= w[1].score));
        let capped = Config {
            max_suggestions: 2,
            ..Config::default()
        };
        assert_eq!(ids(&suggest(&new, &suggest_input(), &capped)), [4, 2]);
    }

    fn suggest_input() -> Vec<Report> {
        let mut a = report(5, "三号楼门前垃圾好几天没清");
        a.created_at_ms = T0 - HOUR_MS;
        let mut c = report(3, GARBAGE);
        c.created_at_ms = T0 + HOUR_MS;
        let mut d = report(2, GARBAGE);
        d.created_at_ms = T0 - HOUR_MS;
        vec![a, report(4, GARBAGE), c, d]
    }

    #[test]
    fn time_labels() {
        let l = |m| Reason::CloseInTime { minutes: m }.label();
        assert_eq!(l(59).zh, "相隔 59 分钟");
        assert_eq!(l(60).en, "1 h apart");
        assert_eq!(l(47 * 60 + 59).zh, "相隔 47 小时");
        assert_eq!(l(48 * 60).zh, "相隔 2 天");
        assert_eq!(Reason::Nearby { metres: 35 }.label().zh, "相距 35 米");
        assert_eq!(Reason::SameBuilding.label().en, "same building");
    }

    #[test]
    fn candidate_window_spans_both_sides() {
        let cfg = Config::default();
        assert_eq!(
            cfg.candidate_window(T0),
            (T0 - DEFAULT_WINDOW_MS, T0 + DEFAULT_WINDOW_MS)
        );
        assert_eq!(cfg.candidate_window(i64::MAX).1, i64::MAX);
    }

    #[test]
    fn zero_window_and_zero_distance_do_not_divide_by_zero() {
        let cfg = Config {
            window_ms: 0,
            max_distance_m: 0,
            ..Config::default()
        };
        let mut new = report(1, GARBAGE);
        new.point = Some(BASE);
        let mut old = report(2, GARBAGE);
        old.point = Some(BASE);
        let s = suggest(&new, &[old], &cfg);
        assert_eq!(s.len(), 1);
        assert!(s[0].score.is_finite() && s[0].score <= 1.0);
    }

    proptest! {
        #[test]
        fn suggestions_are_sorted_bounded_and_above_the_bar(
            texts in proptest::collection::vec("[垃圾电梯路灯楼门口坏清理3号没人]{0,10}", 1..12),
            offsets in proptest::collection::vec(-100i64..100, 12),
            buildings in proptest::collection::vec(proptest::option::of(1000i64..1003), 12),
            cats in proptest::collection::vec(6i64..9, 12),
        ) {
            let new = report(0, GARBAGE);
            let cands: Vec<Report> = texts.iter().enumerate().map(|(i, t)| Report {
                id: i as i64 + 1,
                category_id: cats[i],
                grid_id: 100,
                building_id: buildings[i],
                point: None,
                text: t.clone(),
                created_at_ms: T0 + offsets[i] * HOUR_MS,
            }).collect();
            let cfg = Config::default();
            let s = suggest(&new, &cands, &cfg);
            prop_assert!(s.len() <= cfg.max_suggestions);
            for w in s.windows(2) {
                prop_assert!(w[0].score >= w[1].score);
            }
            for x in &s {
                prop_assert!(x.score >= cfg.min_score && x.score <= 1.0);
                prop_assert!((0.0..=1.0).contains(&x.similarity));
                prop_assert!(!x.reasons.is_empty());
            }
        }
    }
}
