//! Drafting a meeting's agenda from live data.
//!
//! The caller loads what is live for one community (its overdue cases, the hall topics waiting
//! for a decision, the follow-up actions still open from the last meeting and, for the quarterly
//! review and the annual evaluation, the measures) into an [`AgendaInput`]; [`draft`] puts it in
//! the order that meeting kind wants, with limits, and [`render_agenda`] /
//! [`render_minutes_template`] turn it into plain text for the meeting page and the minutes.
//!
//! Pure: no clock, no I/O. The rates are exact fractions
//! ([`crate::cases::measures::facts::Ratio`]) compared with integers, never floats.

use std::cmp::Ordering;

use time::Date;

use crate::cases::calendar::format_date;
use crate::cases::measures::facts::Ratio;
use crate::deliberation::cadence::MeetingKind;
use crate::i18n::{Lang, Text};

/// A case of the community past its due instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueCase {
    pub case_id: i64,
    /// `2026-000123`.
    pub number: String,
    pub title: String,
    pub days_overdue: u32,
    /// The unit that owns it now.
    pub owner_unit: String,
}

/// A topic of a deliberation hall waiting for a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallTopic {
    pub hall_id: i64,
    pub topic_id: i64,
    pub hall_name: String,
    pub topic: String,
    /// The local day it started waiting.
    pub since: Date,
}

/// A follow-up action decided at an earlier meeting and not yet done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAction {
    pub action_id: i64,
    pub title: String,
    /// Who carries it (a person or a unit).
    pub owner: String,
    pub due: Option<Date>,
    pub overdue: bool,
}

/// The three rates (三率) as exact fractions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    pub response: Ratio,
    pub resolution: Ratio,
    pub satisfaction: Ratio,
}

/// One grid's line of the annual scorecard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridLine {
    pub grid_id: i64,
    pub grid_name: String,
    pub rates: Rates,
    /// Cases of the period, for context.
    pub cases: i64,
}

/// The measures a quarterly review or annual evaluation looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measures {
    /// `2026 年第 3 季度` / `Q3 2026`, as the caller names the period.
    pub period: Text,
    pub community: Rates,
    pub grids: Vec<GridLine>,
}

/// Everything an agenda is drafted from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaInput {
    pub kind: MeetingKind,
    pub overdue_cases: Vec<OverdueCase>,
    pub hall_topics: Vec<HallTopic>,
    pub open_actions: Vec<OpenAction>,
    /// Used by the quarterly review and the annual evaluation only.
    pub measures: Option<Measures>,
}

/// How many entries of each section are listed before one "and N more" item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub open_actions: usize,
    pub overdue_cases: usize,
    pub hall_topics: usize,
    pub grids: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            open_actions: 30,
            overdue_cases: 20,
            hall_topics: 20,
            grids: 50,
        }
    }
}

/// The parts of an agenda.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    OpenActions,
    OverdueCases,
    HallTopics,
    Measures,
    Scorecard,
    OtherBusiness,
}

impl Section {
    pub fn code(self) -> &'static str {
        match self {
            Section::OpenActions => "open_actions",
            Section::OverdueCases => "overdue_cases",
            Section::HallTopics => "hall_topics",
            Section::Measures => "measures",
            Section::Scorecard => "scorecard",
            Section::OtherBusiness => "other_business",
        }
    }

    pub fn label(self) -> Text {
        match self {
            Section::OpenActions => Text::new("上次会议待办事项", "Open actions from last time"),
            Section::OverdueCases => Text::new("超期未办结事项", "Overdue cases"),
            Section::HallTopics => Text::new("议事厅待决议题", "Hall topics awaiting a decision"),
            Section::Measures => Text::new("“三率”回顾", "Review of the three rates"),
            Section::Scorecard => Text::new("网格年度考评", "Grid scorecard"),
            Section::OtherBusiness => Text::new("其他事项", "Any other business"),
        }
    }
}

/// The sections of each meeting kind, in order.
pub fn sections(kind: MeetingKind) -> &'static [Section] {
    use Section::*;
    match kind {
        MeetingKind::WeeklyMeeting => &[OpenActions, OverdueCases, HallTopics, OtherBusiness],
        MeetingKind::MonthlyConsultation => &[HallTopics, OpenActions, OverdueCases, OtherBusiness],
        MeetingKind::QuarterlyReview => &[
            Measures,
            OpenActions,
            OverdueCases,
            HallTopics,
            OtherBusiness,
        ],
        MeetingKind::AnnualEvaluation => &[
            Scorecard,
            Measures,
            OpenActions,
            HallTopics,
            OverdueCases,
            OtherBusiness,
        ],
    }
}

/// What an item points at, so the page can link it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceRef {
    Case(i64),
    HallTopic { hall_id: i64, topic_id: i64 },
    Action(i64),
    Grid(i64),
}

/// What an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    OpenAction,
    OverdueCase,
    HallTopic,
    /// The community's three rates.
    Measures,
    /// One grid of the scorecard, with its rank (1 = best).
    GridScore {
        rank: usize,
    },
    /// Entries left out past the limit.
    More {
        hidden: usize,
    },
    OtherBusiness,
}

/// One line of an agenda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaItem {
    pub section: Section,
    pub kind: ItemKind,
    pub title: Text,
    pub detail: Text,
    pub source: Option<SourceRef>,
}

fn same(s: &str) -> Text {
    Text::owned(s.to_string(), s.to_string())
}

/// `a/b` against `c/d` exactly; a fraction without a denominator is below every other.
pub fn cmp_ratio(a: Ratio, b: Ratio) -> Ordering {
    match (a.denominator > 0, b.denominator > 0) {
        (false, false) => Ordering::Equal,
        (false, true) => Ordering::Less,
        (true, false) => Ordering::Greater,
        (true, true) => {
            let l = i128::from(a.numerator) * i128::from(b.denominator);
            let r = i128::from(b.numerator) * i128::from(a.denominator);
            l.cmp(&r)
        }
    }
}

/// Best grid first: satisfaction, then resolution, then response (each compared exactly),
/// then by name and id so the order never depends on the input's.
fn cmp_grids(a: &GridLine, b: &GridLine) -> Ordering {
    cmp_ratio(b.rates.satisfaction, a.rates.satisfaction)
        .then_with(|| cmp_ratio(b.rates.resolution, a.rates.resolution))
        .then_with(|| cmp_ratio(b.rates.response, a.rates.response))
        .then_with(|| a.grid_name.cmp(&b.grid_name))
        .then_with(|| a.grid_id.cmp(&b.grid_id))
}

fn rates_text(r: &Rates) -> Text {
    let f = |x: Ratio| format!("{}（{}/{}）", x.percent_text(), x.numerator, x.denominator);
    let e = |x: Ratio| format!("{} ({}/{})", x.percent_text(), x.numerator, x.denominator);
    Text::owned(
        format!(
            "响应率 {}；解决率 {}；满意率 {}",
            f(r.response),
            f(r.resolution),
            f(r.satisfaction)
        ),
        format!(
            "response {}; resolution {}; satisfaction {}",
            e(r.response),
            e(r.resolution),
            e(r.satisfaction)
        ),
    )
}

fn more(section: Section, hidden: usize) -> AgendaItem {
    AgendaItem {
        section,
        kind: ItemKind::More { hidden },
        title: Text::owned(
            format!("另有 {hidden} 项未列出"),
            format!("and {hidden} more"),
        ),
        detail: Text::new("", ""),
        source: None,
    }
}

fn limited(section: Section, mut items: Vec<AgendaItem>, limit: usize) -> Vec<AgendaItem> {
    if items.len() > limit {
        let hidden = items.len() - limit;
        items.truncate(limit);
        items.push(more(section, hidden));
    }
    items
}

fn action_items(actions: &[OpenAction], limit: usize) -> Vec<AgendaItem> {
    let mut sorted: Vec<&OpenAction> = actions.iter().collect();
    // Overdue first, then by due day (undated last), then as decided (id).
    sorted.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then_with(|| match (a.due, b.due) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            })
            .then_with(|| a.action_id.cmp(&b.action_id))
    });
    let items = sorted
        .into_iter()
        .map(|a| {
            let (due_zh, due_en) = match a.due {
                Some(d) => (
                    format!("；期限 {}", format_date(d)),
                    format!("; due {}", format_date(d)),
                ),
                None => (String::new(), String::new()),
            };
            let (late_zh, late_en) = if a.overdue {
                ("（已逾期）", " (overdue)")
            } else {
                ("", "")
            };
            AgendaItem {
                section: Section::OpenActions,
                kind: ItemKind::OpenAction,
                title: same(&a.title),
                detail: Text::owned(
                    format!("负责：{}{due_zh}{late_zh}", a.owner),
                    format!("owner: {}{due_en}{late_en}", a.owner),
                ),
                source: Some(SourceRef::Action(a.action_id)),
            }
        })
        .collect();
    limited(Section::OpenActions, items, limit)
}

fn case_items(cases: &[OverdueCase], limit: usize) -> Vec<AgendaItem> {
    let mut sorted: Vec<&OverdueCase> = cases.iter().collect();
    // Oldest (most overdue) first; the case number breaks ties (earlier cases first).
    sorted.sort_by(|a, b| {
        b.days_overdue
            .cmp(&a.days_overdue)
            .then_with(|| a.number.cmp(&b.number))
            .then_with(|| a.case_id.cmp(&b.case_id))
    });
    let items = sorted
        .into_iter()
        .map(|c| AgendaItem {
            section: Section::OverdueCases,
            kind: ItemKind::OverdueCase,
            title: Text::owned(
                format!("{} {}", c.number, c.title),
                format!("{} {}", c.number, c.title),
            ),
            detail: Text::owned(
                format!("超期 {} 天；承办：{}", c.days_overdue, c.owner_unit),
                format!(
                    "{} day{} overdue; owner: {}",
                    c.days_overdue,
                    if c.days_overdue == 1 { "" } else { "s" },
                    c.owner_unit
                ),
            ),
            source: Some(SourceRef::Case(c.case_id)),
        })
        .collect();
    limited(Section::OverdueCases, items, limit)
}

fn topic_items(topics: &[HallTopic], limit: usize) -> Vec<AgendaItem> {
    let mut sorted: Vec<&HallTopic> = topics.iter().collect();
    sorted.sort_by(|a, b| {
        a.since
            .cmp(&b.since)
            .then_with(|| a.hall_id.cmp(&b.hall_id))
            .then_with(|| a.topic_id.cmp(&b.topic_id))
    });
    let items = sorted
        .into_iter()
        .map(|t| AgendaItem {
            section: Section::HallTopics,
            kind: ItemKind::HallTopic,
            title: same(&t.topic),
            detail: Text::owned(
                format!("{}；{} 起待决", t.hall_name, format_date(t.since)),
                format!(
                    "{}; awaiting a decision since {}",
                    t.hall_name,
                    format_date(t.since)
                ),
            ),
            source: Some(SourceRef::HallTopic {
                hall_id: t.hall_id,
                topic_id: t.topic_id,
            }),
        })
        .collect();
    limited(Section::HallTopics, items, limit)
}

fn measures_items(m: Option<&Measures>) -> Vec<AgendaItem> {
    let Some(m) = m else {
        return Vec::new();
    };
    vec![AgendaItem {
        section: Section::Measures,
        kind: ItemKind::Measures,
        title: Text::owned(
            format!("{}本社区“三率”", m.period.zh),
            format!("The three rates of the community, {}", m.period.en),
        ),
        detail: rates_text(&m.community),
        source: None,
    }]
}

fn scorecard_items(m: Option<&Measures>, limit: usize) -> Vec<AgendaItem> {
    let Some(m) = m else {
        return Vec::new();
    };
    let mut grids: Vec<&GridLine> = m.grids.iter().collect();
    grids.sort_by(|a, b| cmp_grids(a, b));
    let items = grids
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let rank = i + 1;
            let r = rates_text(&g.rates);
            AgendaItem {
                section: Section::Scorecard,
                kind: ItemKind::GridScore { rank },
                title: Text::owned(
                    format!("第 {rank} 名 {}", g.grid_name),
                    format!("#{rank} {}", g.grid_name),
                ),
                detail: Text::owned(
                    format!("{}；事项 {} 件", r.zh, g.cases),
                    format!("{}; {} cases", r.en, g.cases),
                ),
                source: Some(SourceRef::Grid(g.grid_id)),
            }
        })
        .collect();
    limited(Section::Scorecard, items, limit)
}

/// The agenda of a meeting, section by section in the order of [`sections`], each section
/// sorted (open actions overdue first then by due day; overdue cases most overdue first; hall
/// topics longest waiting first; grids best first) and cut at its limit with one "and N more"
/// item. Empty sections are left out; "any other business" always closes the agenda. Measures
/// are used only by the quarterly review and the annual evaluation.
pub fn draft(input: &AgendaInput, limits: &Limits) -> Vec<AgendaItem> {
    let mut out = Vec::new();
    let measures = match input.kind {
        MeetingKind::QuarterlyReview | MeetingKind::AnnualEvaluation => input.measures.as_ref(),
        _ => None,
    };
    for section in sections(input.kind) {
        let items = match section {
            Section::OpenActions => action_items(&input.open_actions, limits.open_actions),
            Section::OverdueCases => case_items(&input.overdue_cases, limits.overdue_cases),
            Section::HallTopics => topic_items(&input.hall_topics, limits.hall_topics),
            Section::Measures => measures_items(measures),
            Section::Scorecard => scorecard_items(measures, limits.grids),
            Section::OtherBusiness => vec![AgendaItem {
                section: Section::OtherBusiness,
                kind: ItemKind::OtherBusiness,
                title: Section::OtherBusiness.label(),
                detail: Text::new("", ""),
                source: None,
            }],
        };
        out.extend(items);
    }
    out
}

const ZH_NUMERALS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

fn section_heading(i: usize, section: Section, lang: Lang) -> String {
    let label = section.label();
    match lang {
        Lang::Zh => format!(
            "{}、{}",
            ZH_NUMERALS.get(i).copied().unwrap_or("十"),
            label.zh
        ),
        Lang::En => format!("{}. {}", i + 1, label.en),
    }
}

/// Groups consecutive items by section, keeping the order.
fn grouped(items: &[AgendaItem]) -> Vec<(Section, Vec<&AgendaItem>)> {
    let mut groups: Vec<(Section, Vec<&AgendaItem>)> = Vec::new();
    for item in items {
        match groups.last_mut() {
            Some((s, v)) if *s == item.section => v.push(item),
            _ => groups.push((item.section, vec![item])),
        }
    }
    groups
}

fn item_line(n: usize, item: &AgendaItem, lang: Lang) -> String {
    let title = item.title.get(lang);
    let detail = item.detail.get(lang);
    let numbered = !matches!(item.kind, ItemKind::More { .. });
    let head = if numbered {
        format!("  {n}. {title}")
    } else {
        format!("  …… {title}")
    };
    if detail.is_empty() {
        head
    } else {
        let sep = match lang {
            Lang::Zh => "——",
            Lang::En => " — ",
        };
        format!("{head}{sep}{detail}")
    }
}

fn heading(kind: MeetingKind, community: &str, date: Date, lang: Lang) -> String {
    let label = kind.label();
    match lang {
        Lang::Zh => format!("{community}{}议程（{}）", label.zh, format_date(date)),
        Lang::En => format!("{community}: {} agenda ({})", label.en, format_date(date)),
    }
}

/// The agenda as plain text (lines end with `\n`): a heading, then numbered sections
/// (一、二、… / 1. 2. …) with their items numbered inside each section.
pub fn render_agenda(
    kind: MeetingKind,
    community: &str,
    date: Date,
    items: &[AgendaItem],
    lang: Lang,
) -> String {
    let mut out = heading(kind, community, date, lang);
    out.push('\n');
    for (i, (section, group)) in grouped(items).into_iter().enumerate() {
        out.push('\n');
        out.push_str(&section_heading(i, section, lang));
        out.push('\n');
        if section == Section::OtherBusiness {
            continue;
        }
        for (j, item) in group.into_iter().enumerate() {
            out.push_str(&item_line(j + 1, item, lang));
            out.push('\n');
        }
    }
    out
}

/// The minutes template: the agenda's heading and items, with places to write attendance,
/// the discussion, the decision and the follow-up actions of each item.
pub fn render_minutes_template(
    kind: MeetingKind,
    community: &str,
    date: Date,
    items: &[AgendaItem],
    lang: Lang,
) -> String {
    let t = |zh: &'static str, en: &'static str| Text::new(zh, en).get(lang).to_string();
    let label = kind.label();
    let mut out = match lang {
        Lang::Zh => format!("{community}{}会议记录（{}）\n", label.zh, format_date(date)),
        Lang::En => format!(
            "{community}: minutes of the {} ({})\n",
            label.en.to_lowercase(),
            format_date(date)
        ),
    };
    out.push('\n');
    for line in [
        t("时间：", "Time:"),
        t("地点：", "Place:"),
        t("主持人：", "Chair:"),
        t("记录人：", "Minutes taken by:"),
        t("出席：", "Present:"),
        t("缺席：", "Absent:"),
    ] {
        out.push_str(&line);
        out.push('\n');
    }
    let blanks = [
        t("    讨论情况：", "    Discussion:"),
        t("    决定：", "    Decision:"),
        t(
            "    后续行动（事项、负责人、期限）：",
            "    Follow-up (action, owner, due):",
        ),
    ];
    for (i, (section, group)) in grouped(items).into_iter().enumerate() {
        out.push('\n');
        out.push_str(&section_heading(i, section, lang));
        out.push('\n');
        if section == Section::OtherBusiness {
            for b in &blanks {
                out.push_str(b);
                out.push('\n');
            }
            continue;
        }
        for (j, item) in group.into_iter().enumerate() {
            out.push_str(&item_line(j + 1, item, lang));
            out.push('\n');
            if matches!(item.kind, ItemKind::More { .. }) {
                continue;
            }
            for b in &blanks {
                out.push_str(b);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn case(id: i64, days: u32) -> OverdueCase {
        OverdueCase {
            case_id: id,
            number: format!("2026-{id:06}"),
            title: format!("楼道堆物 {id}"),
            days_overdue: days,
            owner_unit: "东方居委会".into(),
        }
    }

    fn topic(id: i64, since: Date) -> HallTopic {
        HallTopic {
            hall_id: 7,
            topic_id: id,
            hall_name: "加装电梯议事厅".into(),
            topic: format!("3 号楼加装电梯方案 {id}"),
            since,
        }
    }

    fn action(id: i64, due: Option<Date>, overdue: bool) -> OpenAction {
        OpenAction {
            action_id: id,
            title: format!("回访居民 {id}"),
            owner: "王网格员".into(),
            due,
            overdue,
        }
    }

    fn rates(a: (i64, i64), b: (i64, i64), c: (i64, i64)) -> Rates {
        Rates {
            response: Ratio::new(a.0, a.1),
            resolution: Ratio::new(b.0, b.1),
            satisfaction: Ratio::new(c.0, c.1),
        }
    }

    fn grid(id: i64, name: &str, r: Rates) -> GridLine {
        GridLine {
            grid_id: id,
            grid_name: name.into(),
            rates: r,
            cases: 10,
        }
    }

    fn input(kind: MeetingKind) -> AgendaInput {
        AgendaInput {
            kind,
            overdue_cases: vec![case(1, 2), case(2, 9), case(3, 9)],
            hall_topics: vec![
                topic(11, date!(2026 - 11 - 20)),
                topic(12, date!(2026 - 10 - 02)),
            ],
            open_actions: vec![
                action(21, None, false),
                action(22, Some(date!(2026 - 12 - 10)), false),
                action(23, Some(date!(2026 - 11 - 30)), true),
                action(24, Some(date!(2026 - 12 - 05)), false),
            ],
            measures: Some(Measures {
                period: Text::new("2026 年第 4 季度", "Q4 2026"),
                community: rates((90, 100), (7, 8), (2, 3)),
                grids: vec![
                    grid(31, "一网格", rates((1, 2), (1, 2), (2, 3))),
                    grid(32, "二网格", rates((1, 1), (1, 1), (1, 1))),
                    grid(33, "三网格", rates((1, 2), (3, 4), (4, 6))),
                    grid(34, "四网格", rates((0, 0), (0, 0), (0, 0))),
                ],
            }),
        }
    }

    fn sources(items: &[AgendaItem]) -> Vec<Option<SourceRef>> {
        items.iter().map(|i| i.source).collect()
    }

    fn section_order(items: &[AgendaItem]) -> Vec<Section> {
        let mut v: Vec<Section> = Vec::new();
        for i in items {
            if v.last() != Some(&i.section) {
                v.push(i.section);
            }
        }
        v
    }

    #[test]
    fn weekly_meeting_lists_actions_then_oldest_cases_then_topics() {
        let items = draft(&input(MeetingKind::WeeklyMeeting), &Limits::default());
        use SourceRef::*;
        assert_eq!(
            sources(&items),
            vec![
                Some(Action(23)), // overdue first
                Some(Action(24)),
                Some(Action(22)),
                Some(Action(21)), // undated last
                Some(Case(2)),    // 9 days, earlier number
                Some(Case(3)),
                Some(Case(1)),
                Some(HallTopic {
                    hall_id: 7,
                    topic_id: 12
                }), // waiting longest
                Some(HallTopic {
                    hall_id: 7,
                    topic_id: 11
                }),
                None,
            ]
        );
        assert_eq!(items.last().map(|i| i.kind), Some(ItemKind::OtherBusiness));
        // No measures at a weekly meeting, even when given.
        assert!(items.iter().all(|i| i.section != Section::Measures));
        assert_eq!(
            items[0].detail.zh,
            "负责：王网格员；期限 2026-11-30（已逾期）"
        );
        assert_eq!(
            items[0].detail.en,
            "owner: 王网格员; due 2026-11-30 (overdue)"
        );
        assert_eq!(items[4].title.zh, "2026-000002 楼道堆物 2");
        assert_eq!(items[4].detail.en, "9 days overdue; owner: 东方居委会");
        assert_eq!(items[7].detail.zh, "加装电梯议事厅；2026-10-02 起待决");
    }

    #[test]
    fn each_kind_has_its_order() {
        let l = Limits::default();
        use Section::*;
        assert_eq!(
            section_order(&draft(&input(MeetingKind::MonthlyConsultation), &l)),
            vec![HallTopics, OpenActions, OverdueCases, OtherBusiness]
        );
        assert_eq!(
            section_order(&draft(&input(MeetingKind::QuarterlyReview), &l)),
            vec![
                Measures,
                OpenActions,
                OverdueCases,
                HallTopics,
                OtherBusiness
            ]
        );
        assert_eq!(
            section_order(&draft(&input(MeetingKind::AnnualEvaluation), &l)),
            vec![
                Scorecard,
                Measures,
                OpenActions,
                HallTopics,
                OverdueCases,
                OtherBusiness
            ]
        );
        for kind in crate::deliberation::cadence::ALL_MEETING_KINDS {
            let got = section_order(&draft(&input(kind), &l));
            let want: Vec<_> = sections(kind)
                .iter()
                .copied()
                .filter(|s| kind == MeetingKind::AnnualEvaluation || *s != Scorecard)
                .collect();
            assert_eq!(got, want, "{kind:?}");
        }
    }

    #[test]
    fn quarterly_review_opens_with_exact_rates() {
        let items = draft(&input(MeetingKind::QuarterlyReview), &Limits::default());
        assert_eq!(items[0].kind, ItemKind::Measures);
        assert_eq!(items[0].title.zh, "2026 年第 4 季度本社区“三率”");
        assert_eq!(
            items[0].detail.zh,
            "响应率 90.0%（90/100）；解决率 87.5%（7/8）；满意率 66.7%（2/3）"
        );
        assert_eq!(
            items[0].detail.en,
            "response 90.0% (90/100); resolution 87.5% (7/8); satisfaction 66.7% (2/3)"
        );
        // Without measures the section is left out.
        let mut i = input(MeetingKind::QuarterlyReview);
        i.measures = None;
        assert_eq!(
            draft(&i, &Limits::default())[0].section,
            Section::OpenActions
        );
    }

    #[test]
    fn annual_scorecard_ranks_grids_exactly() {
        let items = draft(&input(MeetingKind::AnnualEvaluation), &Limits::default());
        let card: Vec<_> = items
            .iter()
            .filter(|i| i.section == Section::Scorecard)
            .map(|i| (i.kind, i.source))
            .collect();
        // 二 (1/1) first; 一 and 三 tie on satisfaction (2/3 = 4/6), 三 resolves more (3/4);
        // 四 has no data and comes last.
        assert_eq!(
            card,
            vec![
                (ItemKind::GridScore { rank: 1 }, Some(SourceRef::Grid(32))),
                (ItemKind::GridScore { rank: 2 }, Some(SourceRef::Grid(33))),
                (ItemKind::GridScore { rank: 3 }, Some(SourceRef::Grid(31))),
                (ItemKind::GridScore { rank: 4 }, Some(SourceRef::Grid(34))),
            ]
        );
        assert_eq!(items[0].title.zh, "第 1 名 二网格");
        assert_eq!(items[0].title.en, "#1 二网格");
        assert!(items[3].detail.zh.starts_with("响应率 —（0/0）"));
    }

    #[test]
    fn ratios_compare_exactly_beyond_float_precision() {
        let big = 9_007_199_254_740_993; // 2^53 + 1
        let a = Ratio::new(big - 1, big);
        let b = Ratio::new(big - 2, big - 1);
        assert_eq!(cmp_ratio(a, b), Ordering::Greater);
        assert_eq!(
            cmp_ratio(Ratio::new(2, 3), Ratio::new(4, 6)),
            Ordering::Equal
        );
        assert_eq!(
            cmp_ratio(Ratio::new(0, 0), Ratio::new(0, 5)),
            Ordering::Less
        );
    }

    #[test]
    fn long_lists_end_with_one_more_item() {
        let mut i = input(MeetingKind::WeeklyMeeting);
        i.overdue_cases = (1..=25).map(|n| case(n, 30 - n as u32)).collect();
        let items = draft(&i, &Limits::default());
        let cases: Vec<_> = items
            .iter()
            .filter(|x| x.section == Section::OverdueCases)
            .collect();
        assert_eq!(cases.len(), 21);
        assert_eq!(cases[0].source, Some(SourceRef::Case(1)));
        assert_eq!(cases[19].source, Some(SourceRef::Case(20)));
        assert_eq!(cases[20].kind, ItemKind::More { hidden: 5 });
        assert_eq!(cases[20].title.zh, "另有 5 项未列出");
        assert_eq!(cases[20].title.en, "and 5 more");
        // Exactly at the limit: no extra item.
        i.overdue_cases.truncate(20);
        let n = draft(&i, &Limits::default())
            .iter()
            .filter(|x| x.section == Section::OverdueCases)
            .count();
        assert_eq!(n, 20);
    }

    #[test]
    fn an_empty_agenda_keeps_any_other_business() {
        let i = AgendaInput {
            kind: MeetingKind::MonthlyConsultation,
            overdue_cases: vec![],
            hall_topics: vec![],
            open_actions: vec![],
            measures: None,
        };
        let items = draft(&i, &Limits::default());
        assert_eq!(items.len(), 1);
        assert_eq!(
            render_agenda(i.kind, "东方社区", date!(2026 - 12 - 08), &items, Lang::Zh),
            "东方社区每月协商议程（2026-12-08）\n\n一、其他事项\n"
        );
    }

    #[test]
    fn renders_the_agenda_in_both_languages() {
        let mut i = input(MeetingKind::WeeklyMeeting);
        i.open_actions.truncate(1);
        i.overdue_cases = vec![case(1, 1), case(2, 3)];
        i.hall_topics.truncate(1);
        let limits = Limits {
            overdue_cases: 1,
            ..Limits::default()
        };
        let items = draft(&i, &limits);
        let d = date!(2026 - 12 - 03);
        assert_eq!(
            render_agenda(i.kind, "东方社区", d, &items, Lang::Zh),
            concat!(
                "东方社区每周例会议程（2026-12-03）\n",
                "\n",
                "一、上次会议待办事项\n",
                "  1. 回访居民 21——负责：王网格员\n",
                "\n",
                "二、超期未办结事项\n",
                "  1. 2026-000002 楼道堆物 2——超期 3 天；承办：东方居委会\n",
                "  …… 另有 1 项未列出\n",
                "\n",
                "三、议事厅待决议题\n",
                "  1. 3 号楼加装电梯方案 11——加装电梯议事厅；2026-11-20 起待决\n",
                "\n",
                "四、其他事项\n",
            )
        );
        assert_eq!(
            render_agenda(i.kind, "Dongfang", d, &items, Lang::En),
            concat!(
                "Dongfang: Weekly meeting agenda (2026-12-03)\n",
                "\n",
                "1. Open actions from last time\n",
                "  1. 回访居民 21 — owner: 王网格员\n",
                "\n",
                "2. Overdue cases\n",
                "  1. 2026-000002 楼道堆物 2 — 3 days overdue; owner: 东方居委会\n",
                "  …… and 1 more\n",
                "\n",
                "3. Hall topics awaiting a decision\n",
                "  1. 3 号楼加装电梯方案 11 — 加装电梯议事厅; awaiting a decision since 2026-11-20\n",
                "\n",
                "4. Any other business\n",
            )
        );
    }

    #[test]
    fn minutes_template_leaves_room_for_each_item() {
        let mut i = input(MeetingKind::MonthlyConsultation);
        i.open_actions.clear();
        i.overdue_cases.clear();
        i.hall_topics.truncate(1);
        let items = draft(&i, &Limits::default());
        let text =
            render_minutes_template(i.kind, "东方社区", date!(2026 - 12 - 08), &items, Lang::Zh);
        assert_eq!(
            text,
            concat!(
                "东方社区每月协商会议记录（2026-12-08）\n",
                "\n",
                "时间：\n地点：\n主持人：\n记录人：\n出席：\n缺席：\n",
                "\n",
                "一、议事厅待决议题\n",
                "  1. 3 号楼加装电梯方案 11——加装电梯议事厅；2026-11-20 起待决\n",
                "    讨论情况：\n    决定：\n    后续行动（事项、负责人、期限）：\n",
                "\n",
                "二、其他事项\n",
                "    讨论情况：\n    决定：\n    后续行动（事项、负责人、期限）：\n",
            )
        );
        let en =
            render_minutes_template(i.kind, "Dongfang", date!(2026 - 12 - 08), &items, Lang::En);
        assert!(en.starts_with("Dongfang: minutes of the monthly consultation (2026-12-08)\n"));
        assert!(en.contains("    Follow-up (action, owner, due):\n"));
    }

    proptest! {
        #[test]
        fn drafting_is_deterministic_limited_and_keeps_every_entry_once(
            days in proptest::collection::vec(0u32..60, 0..40),
            limit in 1usize..25,
            reverse in any::<bool>(),
        ) {
            let mut i = input(MeetingKind::WeeklyMeeting);
            i.overdue_cases = days.iter().enumerate().map(|(n, d)| case(n as i64 + 1, *d)).collect();
            let limits = Limits { overdue_cases: limit, ..Limits::default() };
            let a = draft(&i, &limits);
            if reverse {
                i.overdue_cases.reverse();
            }
            let b = draft(&i, &limits);
            prop_assert_eq!(&a, &b);
            let cases: Vec<_> = a.iter().filter(|x| x.section == Section::OverdueCases).collect();
            let listed: Vec<_> = cases.iter().filter(|x| x.kind == ItemKind::OverdueCase).collect();
            prop_assert_eq!(listed.len(), days.len().min(limit));
            let hidden = cases.iter().find_map(|x| match x.kind {
                ItemKind::More { hidden } => Some(hidden),
                _ => None,
            }).unwrap_or(0);
            prop_assert_eq!(listed.len() + hidden, days.len());
            // Most overdue first.
            let shown: Vec<u32> = listed.iter().filter_map(|x| match x.source {
                Some(SourceRef::Case(id)) => days.get(id as usize - 1).copied(),
                _ => None,
            }).collect();
            prop_assert!(shown.windows(2).all(|w| w[0] >= w[1]));
        }
    }
}
