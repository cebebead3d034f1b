//! The pure rules of third-party audit engagements: the kinds, accounts, severities and
//! statuses, what an auditor may read (the scope rule), and how long a published report stays
//! up for the owners. No I/O, no clock: "today" comes in as an argument.

use serde::Serialize;
use time::Date;

use crate::i18n::Text;
use crate::tree::model::within;

/// What an engagement is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 年度审计.
    Annual,
    /// 离任审计: at the end of an owners' committee's term.
    TermEnd,
    /// 专项审计: one question (a repair, a contract).
    Special,
}

pub const KINDS: [Kind; 3] = [Kind::Annual, Kind::TermEnd, Kind::Special];

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Annual => "annual",
            Kind::TermEnd => "term_end",
            Kind::Special => "special",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        KINDS.into_iter().find(|k| k.code() == s.trim())
    }
    pub fn label(self) -> Text {
        match self {
            Kind::Annual => Text::new("年度审计", "annual audit"),
            Kind::TermEnd => Text::new("离任审计", "term-end audit"),
            Kind::Special => Text::new("专项审计", "special audit"),
        }
    }
}

/// An account an engagement may cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Account {
    /// 专项维修资金.
    MaintenanceFund,
    /// 公共收益.
    PublicIncome,
}

pub const ACCOUNTS: [Account; 2] = [Account::MaintenanceFund, Account::PublicIncome];

impl Account {
    pub fn code(self) -> &'static str {
        match self {
            Account::MaintenanceFund => "maintenance_fund",
            Account::PublicIncome => "public_income",
        }
    }
    pub fn parse(s: &str) -> Option<Account> {
        ACCOUNTS.into_iter().find(|a| a.code() == s.trim())
    }
    pub fn label(self) -> Text {
        match self {
            Account::MaintenanceFund => Text::new("专项维修资金", "maintenance fund"),
            Account::PublicIncome => Text::new("公共收益", "public income"),
        }
    }
}

/// A set of accounts as stored: the codes, comma-separated, in [`ACCOUNTS`] order, no repeats.
pub fn accounts_code(set: &[Account]) -> String {
    ACCOUNTS
        .into_iter()
        .filter(|a| set.contains(a))
        .map(Account::code)
        .collect::<Vec<_>>()
        .join(",")
}

/// The stored set read back; unknown codes are dropped (they grant nothing).
pub fn parse_accounts(s: &str) -> Vec<Account> {
    let mut v: Vec<Account> = s.split(',').filter_map(Account::parse).collect();
    v.sort();
    v.dedup();
    v
}

/// How serious a finding is: four levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 提示: worth knowing, nothing wrong.
    Advisory,
    /// 一般: a shortcoming to put right.
    Moderate,
    /// 重要: a material weakness or a misstatement.
    Significant,
    /// 重大: a serious irregularity (money missing, use without the owners' decision).
    Critical,
}

pub const SEVERITIES: [Severity; 4] = [
    Severity::Advisory,
    Severity::Moderate,
    Severity::Significant,
    Severity::Critical,
];

impl Severity {
    pub fn code(self) -> &'static str {
        match self {
            Severity::Advisory => "advisory",
            Severity::Moderate => "moderate",
            Severity::Significant => "significant",
            Severity::Critical => "critical",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        SEVERITIES.into_iter().find(|x| x.code() == s.trim())
    }
    pub fn label(self) -> Text {
        match self {
            Severity::Advisory => Text::new("提示", "advisory"),
            Severity::Moderate => Text::new("一般", "moderate"),
            Severity::Significant => Text::new("重要", "significant"),
            Severity::Critical => Text::new("重大", "critical"),
        }
    }
}

/// Where a finding stands: open until someone responds, then responded, closed by the auditor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    Open,
    Responded,
    Closed,
}

impl FindingStatus {
    pub fn code(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::Responded => "responded",
            FindingStatus::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<FindingStatus> {
        [
            FindingStatus::Open,
            FindingStatus::Responded,
            FindingStatus::Closed,
        ]
        .into_iter()
        .find(|x| x.code() == s)
    }
    pub fn label(self) -> Text {
        match self {
            FindingStatus::Open => Text::new("待回应", "open"),
            FindingStatus::Responded => Text::new("已回应", "responded"),
            FindingStatus::Closed => Text::new("已关闭", "closed"),
        }
    }
    /// A response may be added until the auditor closes the finding.
    pub fn takes_responses(self) -> bool {
        self != FindingStatus::Closed
    }
}

/// The status an engagement shows, from its dates and its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Before the access window.
    Upcoming,
    /// Inside the access window: auditors read and record findings.
    Fieldwork,
    /// Report submitted, not yet published.
    Reported,
    /// Report published (owners read it for 30 days).
    Published,
    /// The window is over and no report came.
    Ended,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Upcoming => "upcoming",
            Status::Fieldwork => "fieldwork",
            Status::Reported => "reported",
            Status::Published => "published",
            Status::Ended => "ended",
        }
    }
    pub fn label(self) -> Text {
        match self {
            Status::Upcoming => Text::new("未开始", "upcoming"),
            Status::Fieldwork => Text::new("审计中", "in fieldwork"),
            Status::Reported => Text::new("报告待公示", "report submitted"),
            Status::Published => Text::new("报告已公示", "report published"),
            Status::Ended => Text::new("已结束(无报告)", "ended without a report"),
        }
    }
}

/// The status of an engagement with access window `starts_on..=ends_on` on `today`.
pub fn status(
    starts_on: Date,
    ends_on: Date,
    reported: bool,
    published: bool,
    today: Date,
) -> Status {
    if published {
        Status::Published
    } else if reported {
        Status::Reported
    } else if today < starts_on {
        Status::Upcoming
    } else if today > ends_on {
        Status::Ended
    } else {
        Status::Fieldwork
    }
}

/// An engagement's scope as the access rule sees it.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The users named as auditors.
    pub auditors: &'a [i64],
    /// The estate's materialised path; records under it are in scope.
    pub estate_path: &'a str,
    pub accounts: &'a [Account],
    /// The records' value dates, both included.
    pub period_from: Date,
    pub period_to: Date,
    /// The access window, both included.
    pub starts_on: Date,
    pub ends_on: Date,
}

/// One record an auditor asks for: a fund posting, an income entry, or (with `value_date`
/// `None`) a whole account of one place — a building's fund page, the income list.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub account: Account,
    /// The building's (or estate's) path the record belongs to.
    pub path: &'a str,
    pub value_date: Option<Date>,
}

/// Why an auditor may not read a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    NotNamed,
    BeforeStart,
    AfterEnd,
    AccountNotInScope,
    PlaceNotInScope,
    OutsidePeriod,
}

impl Denial {
    /// What the 403 says.
    pub fn reason(self) -> Text {
        match self {
            Denial::NotNamed => Text::new(
                "您不是这次审计的审计人员",
                "you are not an auditor of this engagement",
            ),
            Denial::BeforeStart => Text::new("审计尚未开始", "the engagement has not started yet"),
            Denial::AfterEnd => Text::new("审计已结束", "the engagement has ended"),
            Denial::AccountNotInScope => Text::new(
                "该账目不在审计范围内",
                "this account is not in the engagement's scope",
            ),
            Denial::PlaceNotInScope => Text::new(
                "该地点不在审计范围内",
                "this place is not in the engagement's scope",
            ),
            Denial::OutsidePeriod => Text::new(
                "该记录不在审计期间内",
                "this record is outside the audited period",
            ),
        }
    }
}

/// Whether `user_id` may act as an auditor of the engagement on `today` at all: named, and
/// inside the access window.
pub fn in_window(scope: &Scope<'_>, user_id: i64, today: Date) -> Result<(), Denial> {
    if user_id == 0 || !scope.auditors.contains(&user_id) {
        return Err(Denial::NotNamed);
    }
    if today < scope.starts_on {
        return Err(Denial::BeforeStart);
    }
    if today > scope.ends_on {
        return Err(Denial::AfterEnd);
    }
    Ok(())
}

/// Whether a value date lies in the audited period.
pub fn in_period(scope: &Scope<'_>, d: Date) -> bool {
    scope.period_from <= d && d <= scope.period_to
}

/// The scope rule: an auditor reads record R iff they are named on the engagement, today is
/// within its dates, R's account is in its accounts, R's place is within its estate, and R's
/// value date (when R is one record) is within its period.
pub fn auditor_may_read(
    scope: &Scope<'_>,
    user_id: i64,
    r: &Record<'_>,
    today: Date,
) -> Result<(), Denial> {
    in_window(scope, user_id, today)?;
    if !scope.accounts.contains(&r.account) {
        return Err(Denial::AccountNotInScope);
    }
    if scope.estate_path.is_empty() || r.path.is_empty() || !within(r.path, scope.estate_path) {
        return Err(Denial::PlaceNotInScope);
    }
    match r.value_date {
        Some(d) if !in_period(scope, d) => Err(Denial::OutsidePeriod),
        _ => Ok(()),
    }
}

/// How many days after the publication day a report stays up for the owners. Counted the
/// Civil Code way (art. 201): the day of publication is not counted, so the 30th day is
/// `published_on + 30`, and it is included.
pub const PUBLICATION_DAYS: i64 = 30;

/// The last day owners read a report published on `published_on`.
pub fn last_public_day(published_on: Date) -> Date {
    published_on
        .checked_add(time::Duration::days(PUBLICATION_DAYS))
        .unwrap_or(Date::MAX)
}

/// Whether owners read a report published on `published_on` on `today`.
pub fn publicly_visible(published_on: Date, today: Date) -> bool {
    published_on <= today && today <= last_public_day(published_on)
}

/// The checks on an engagement's dates: the period ends on or after it starts, the window too.
pub fn dates_ok(from: Date, to: Date) -> bool {
    from <= to
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    const ESTATE: &str = "/1/10/";
    const BUILDING_IN: &str = "/1/10/100/1000/";
    const BUILDING_OUT: &str = "/1/11/100/1001/";

    fn scope(auditors: &[i64]) -> Scope<'_> {
        Scope {
            auditors,
            estate_path: ESTATE,
            accounts: &[Account::MaintenanceFund],
            period_from: date!(2025 - 01 - 01),
            period_to: date!(2025 - 12 - 31),
            starts_on: date!(2026 - 03 - 01),
            ends_on: date!(2026 - 03 - 31),
        }
    }

    fn rec(account: Account, path: &str, d: Option<Date>) -> Record<'_> {
        Record {
            account,
            path,
            value_date: d,
        }
    }

    const IN_WINDOW: Date = date!(2026 - 03 - 15);

    #[test]
    fn a_named_auditor_reads_in_scope_records_in_the_window() {
        let a = [7];
        let s = scope(&a);
        let r = rec(
            Account::MaintenanceFund,
            BUILDING_IN,
            Some(date!(2025 - 06 - 30)),
        );
        assert_eq!(auditor_may_read(&s, 7, &r, IN_WINDOW), Ok(()));
        // The whole account of an in-scope building (no single date).
        let whole = rec(Account::MaintenanceFund, BUILDING_IN, None);
        assert_eq!(auditor_may_read(&s, 7, &whole, IN_WINDOW), Ok(()));
        // The estate itself is in scope.
        let estate = rec(Account::MaintenanceFund, ESTATE, None);
        assert_eq!(auditor_may_read(&s, 7, &estate, IN_WINDOW), Ok(()));
    }

    #[test]
    fn window_edges_are_included_and_outside_is_refused() {
        let a = [7];
        let s = scope(&a);
        let r = rec(
            Account::MaintenanceFund,
            BUILDING_IN,
            Some(date!(2025 - 06 - 30)),
        );
        assert_eq!(auditor_may_read(&s, 7, &r, date!(2026 - 03 - 01)), Ok(()));
        assert_eq!(auditor_may_read(&s, 7, &r, date!(2026 - 03 - 31)), Ok(()));
        assert_eq!(
            auditor_may_read(&s, 7, &r, date!(2026 - 02 - 28)),
            Err(Denial::BeforeStart)
        );
        assert_eq!(
            auditor_may_read(&s, 7, &r, date!(2026 - 04 - 01)),
            Err(Denial::AfterEnd)
        );
    }

    #[test]
    fn only_named_auditors() {
        let a = [7, 8];
        let s = scope(&a);
        let r = rec(Account::MaintenanceFund, BUILDING_IN, None);
        assert_eq!(auditor_may_read(&s, 8, &r, IN_WINDOW), Ok(()));
        assert_eq!(
            auditor_may_read(&s, 9, &r, IN_WINDOW),
            Err(Denial::NotNamed)
        );
        // The command line's user 0 is never an auditor.
        let z = [0];
        let s0 = scope(&z);
        assert_eq!(
            auditor_may_read(&s0, 0, &r, IN_WINDOW),
            Err(Denial::NotNamed)
        );
        let none: [i64; 0] = [];
        assert_eq!(
            auditor_may_read(&scope(&none), 7, &r, IN_WINDOW),
            Err(Denial::NotNamed)
        );
    }

    #[test]
    fn account_place_and_period_are_each_enforced() {
        let a = [7];
        let s = scope(&a);
        let d = Some(date!(2025 - 06 - 30));
        assert_eq!(
            auditor_may_read(
                &s,
                7,
                &rec(Account::PublicIncome, BUILDING_IN, d),
                IN_WINDOW
            ),
            Err(Denial::AccountNotInScope)
        );
        assert_eq!(
            auditor_may_read(
                &s,
                7,
                &rec(Account::MaintenanceFund, BUILDING_OUT, d),
                IN_WINDOW
            ),
            Err(Denial::PlaceNotInScope)
        );
        // A sibling whose id only shares a prefix is not inside: "/1/101/" vs "/1/10/".
        assert_eq!(
            auditor_may_read(
                &s,
                7,
                &rec(Account::MaintenanceFund, "/1/101/5/", d),
                IN_WINDOW
            ),
            Err(Denial::PlaceNotInScope)
        );
        // The parent of the estate is not inside it.
        assert_eq!(
            auditor_may_read(&s, 7, &rec(Account::MaintenanceFund, "/1/", d), IN_WINDOW),
            Err(Denial::PlaceNotInScope)
        );
        assert_eq!(
            auditor_may_read(&s, 7, &rec(Account::MaintenanceFund, "", d), IN_WINDOW),
            Err(Denial::PlaceNotInScope)
        );
        for (day, ok) in [
            (date!(2024 - 12 - 31), false),
            (date!(2025 - 01 - 01), true),
            (date!(2025 - 12 - 31), true),
            (date!(2026 - 01 - 01), false),
        ] {
            let r = rec(Account::MaintenanceFund, BUILDING_IN, Some(day));
            let want = if ok {
                Ok(())
            } else {
                Err(Denial::OutsidePeriod)
            };
            assert_eq!(auditor_may_read(&s, 7, &r, IN_WINDOW), want, "{day}");
        }
    }

    #[test]
    fn the_first_failing_condition_is_reported_in_order() {
        // Not named wins over everything else; the window over the scope.
        let a = [7];
        let s = scope(&a);
        let bad = rec(
            Account::PublicIncome,
            BUILDING_OUT,
            Some(date!(2020 - 01 - 01)),
        );
        assert_eq!(
            auditor_may_read(&s, 9, &bad, date!(2027 - 01 - 01)),
            Err(Denial::NotNamed)
        );
        assert_eq!(
            auditor_may_read(&s, 7, &bad, date!(2027 - 01 - 01)),
            Err(Denial::AfterEnd)
        );
        assert_eq!(
            auditor_may_read(&s, 7, &bad, IN_WINDOW),
            Err(Denial::AccountNotInScope)
        );
        for d in [
            Denial::NotNamed,
            Denial::BeforeStart,
            Denial::AfterEnd,
            Denial::AccountNotInScope,
            Denial::PlaceNotInScope,
            Denial::OutsidePeriod,
        ] {
            assert!(!d.reason().zh.is_empty() && !d.reason().en.is_empty());
        }
    }

    fn day_strategy() -> impl Strategy<Value = Date> {
        (0i64..2000).prop_map(|n| date!(2024 - 01 - 01) + time::Duration::days(n))
    }

    proptest! {
        /// The rule is exactly the conjunction of its five conditions.
        #[test]
        fn the_rule_is_the_conjunction(
            named in any::<bool>(),
            fund in any::<bool>(),
            income in any::<bool>(),
            income_record in any::<bool>(),
            inside in any::<bool>(),
            value in day_strategy(),
            today in day_strategy(),
            p in (day_strategy(), day_strategy()),
            w in (day_strategy(), day_strategy()),
        ) {
            let auditors = if named { vec![7] } else { vec![8] };
            let mut accounts = Vec::new();
            if fund { accounts.push(Account::MaintenanceFund); }
            if income { accounts.push(Account::PublicIncome); }
            let s = Scope {
                auditors: &auditors,
                estate_path: ESTATE,
                accounts: &accounts,
                period_from: p.0.min(p.1),
                period_to: p.0.max(p.1),
                starts_on: w.0.min(w.1),
                ends_on: w.0.max(w.1),
            };
            let account = if income_record { Account::PublicIncome } else { Account::MaintenanceFund };
            let r = rec(account, if inside { BUILDING_IN } else { BUILDING_OUT }, Some(value));
            let expected = named
                && s.starts_on <= today && today <= s.ends_on
                && accounts.contains(&account)
                && inside
                && s.period_from <= value && value <= s.period_to;
            prop_assert_eq!(auditor_may_read(&s, 7, &r, today).is_ok(), expected);
        }

        #[test]
        fn a_report_is_up_for_exactly_31_calendar_days(published in day_strategy(), offset in -40i64..80) {
            let today = published + time::Duration::days(offset);
            prop_assert_eq!(publicly_visible(published, today), (0..=30).contains(&offset));
        }
    }

    #[test]
    fn the_thirtieth_day_is_the_last() {
        let p = date!(2026 - 01 - 31);
        assert_eq!(last_public_day(p), date!(2026 - 03 - 02));
        assert!(publicly_visible(p, p));
        assert!(publicly_visible(p, date!(2026 - 03 - 02)));
        assert!(!publicly_visible(p, date!(2026 - 03 - 03)));
        assert!(!publicly_visible(p, date!(2026 - 01 - 30)));
    }

    #[test]
    fn codes_round_trip() {
        for k in KINDS {
            assert_eq!(Kind::parse(k.code()), Some(k));
        }
        for a in ACCOUNTS {
            assert_eq!(Account::parse(a.code()), Some(a));
        }
        for s in SEVERITIES {
            assert_eq!(Severity::parse(s.code()), Some(s));
            assert!(!s.label().zh.is_empty());
        }
        for f in [
            FindingStatus::Open,
            FindingStatus::Responded,
            FindingStatus::Closed,
        ] {
            assert_eq!(FindingStatus::parse(f.code()), Some(f));
        }
        assert_eq!(Kind::parse("monthly"), None);
        assert_eq!(Severity::parse("huge"), None);
        assert!(!FindingStatus::Closed.takes_responses());
        assert!(FindingStatus::Responded.takes_responses());
    }

    #[test]
    fn account_sets_are_stored_in_order_without_repeats() {
        let set = [
            Account::PublicIncome,
            Account::MaintenanceFund,
            Account::PublicIncome,
        ];
        assert_eq!(accounts_code(&set), "maintenance_fund,public_income");
        assert_eq!(
            parse_accounts("public_income,maintenance_fund,bogus,public_income"),
            vec![Account::MaintenanceFund, Account::PublicIncome]
        );
        assert_eq!(accounts_code(&[]), "");
        assert!(parse_accounts("").is_empty());
    }

    #[test]
    fn statuses_follow_dates_then_the_report() {
        let (a, b) = (date!(2026 - 03 - 01), date!(2026 - 03 - 31));
        assert_eq!(
            status(a, b, false, false, date!(2026 - 02 - 28)),
            Status::Upcoming
        );
        assert_eq!(status(a, b, false, false, a), Status::Fieldwork);
        assert_eq!(status(a, b, false, false, b), Status::Fieldwork);
        assert_eq!(
            status(a, b, false, false, date!(2026 - 04 - 01)),
            Status::Ended
        );
        assert_eq!(status(a, b, true, false, a), Status::Reported);
        assert_eq!(
            status(a, b, true, true, date!(2027 - 01 - 01)),
            Status::Published
        );
        assert!(dates_ok(a, a) && dates_ok(a, b) && !dates_ok(b, a));
    }
}
