//! The pure rules of property companies (物业服务企业): contract terms and their checks, the
//! notice periods of dismissal (解聘, Civil Code art. 946: 60 days) and non-renewal (不续聘,
//! art. 947: 90 days), the monthly fee of a room, what an owners' vote must say before a
//! process may rely on it, and the two processes as state machines — the selection (选聘) and
//! the fee adjustment (物业费调价). No I/O, no clock: today comes in as an argument.
//!
//! Dates are calendar days in Asia/Shanghai (`time::Date`); money is integer fen; the fee
//! standard is fen per m² per month; areas are hundredths of m².

use serde::Serialize;
use time::{Date, Duration};

use crate::error::FieldError;
use crate::i18n::Text;
use crate::votes::model::Matter;
use crate::votes::tally::Outcome;

/// Days of written notice before a dismissal takes effect (Civil Code art. 946).
pub const DISMISSAL_NOTICE_DAYS: i64 = 60;
/// Days of written notice before the term ends, for not renewing (Civil Code art. 947).
pub const NON_RENEWAL_NOTICE_DAYS: i64 = 90;
/// The highest fee standard accepted: ¥1,000.00 per m² per month (a typing guard).
pub const MAX_FEE_FEN: i64 = 100_000;
/// The longest term accepted, in years.
pub const MAX_TERM_YEARS: i32 = 20;
/// Default publicity of a cost report, in days (local practice; each process may set its own).
pub const DEFAULT_PUBLICITY_DAYS: i64 = 15;
/// The largest uploaded cost report.
pub const MAX_REPORT_BYTES: usize = 10 * 1024 * 1024;

fn fe(field: &str, zh: &'static str, en: &'static str) -> FieldError {
    FieldError::new(field, Text::new(zh, en))
}

// ---------------------------------------------------------------------------------------------
// Dates and money

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &f).ok()
}

/// `YYYY-MM-DD`.
pub fn fmt_date(d: Date) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    d.format(&f).unwrap_or_default()
}

/// The Shanghai calendar day of an instant (Unix ms).
pub fn day_of(ms: i64) -> Date {
    crate::clock::to_local(ms).date()
}

/// `d` plus `n` calendar days (saturating at the calendar's ends).
pub fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(Duration::days(n))
        .unwrap_or(if n < 0 { Date::MIN } else { Date::MAX })
}

/// Whole calendar days from `a` to `b` (negative when `b` is earlier).
pub fn days_between(a: Date, b: Date) -> i64 {
    (b - a).whole_days()
}

/// Parses an amount of yuan with at most two decimals ("2.5", "2.50", "3") into fen.
/// No floats: the digits are read as text.
pub fn parse_yuan(s: &str) -> Option<i64> {
    let s = s.trim().trim_start_matches('¥').trim();
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
        || whole.len() > 12
    {
        return None;
    }
    let w: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let f: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    w.checked_mul(100)?.checked_add(f)
}

/// Fen as yuan with two decimals: `250` → `2.50`, `-5` → `-0.05`.
pub fn fmt_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Parses a percentage with at most two decimals ("8", "8.5") into basis points (850).
pub fn parse_percent_bp(s: &str) -> Option<i64> {
    parse_yuan(s)
}

/// Basis points as a percentage: `850` → `8.50%`.
pub fn fmt_bp(bp: i64) -> String {
    format!("{}%", fmt_yuan(bp))
}

/// The monthly property fee of a room in fen: area (hundredths of m²) × fee standard (fen per
/// m² per month) ÷ 100, rounded half up to the fen (四舍五入). Negative inputs count as zero.
/// 85.50 m² at ¥2.50 is ¥213.75; 85.55 m² at ¥2.53 is 21,644.15 fen, so ¥216.44.
pub fn monthly_fee(area_hundredths: i64, fee_fen: i64) -> i64 {
    let p = i128::from(area_hundredths.max(0)) * i128::from(fee_fen.max(0));
    i64::try_from((p + 50) / 100).unwrap_or(i64::MAX)
}

/// Whether a unified social credit code (统一社会信用代码, GB 32100-2015) is well formed: 18
/// characters from `0-9A-HJ-NPQRTUWXY`, the last a check character over the first 17.
pub fn credit_code_ok(code: &str) -> bool {
    const CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let v: Vec<u32> = code
        .chars()
        .filter_map(|c| CHARS.find(c).and_then(|i| u32::try_from(i).ok()))
        .collect();
    if code.chars().count() != 18 || v.len() != 18 {
        return false;
    }
    let sum: u32 = v[..17].iter().zip(WEIGHTS).map(|(a, w)| a * w).sum();
    let check = (31 - sum % 31) % 31;
    v[17] == check
}

// ---------------------------------------------------------------------------------------------
// Contracts

/// How the company is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// 包干制: the fees are the company's, who bears the costs and keeps the rest.
    FixedFee,
    /// 酬金制: the fees are the owners'; the company takes a commission (in basis points).
    Commission,
}

impl Model {
    pub const ALL: [Model; 2] = [Model::FixedFee, Model::Commission];

    pub fn parse(s: &str) -> Option<Model> {
        match s.trim() {
            "fixed_fee" => Some(Model::FixedFee),
            "commission" => Some(Model::Commission),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Model::FixedFee => "fixed_fee",
            Model::Commission => "commission",
        }
    }

    pub fn label(self) -> Text {
        match self {
            Model::FixedFee => Text::new("包干制", "fixed fee"),
            Model::Commission => Text::new("酬金制", "commission"),
        }
    }
}

/// What a contract says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub starts_on: Date,
    /// The last day of the term (inclusive).
    pub ends_on: Date,
    /// Fen per m² per month.
    pub fee_standard: i64,
    pub model: Model,
    /// The commission in basis points (酬金制 only).
    pub commission_bp: Option<i64>,
}

/// Checks a fee standard typed as fen per m² per month.
pub fn check_fee(field: &str, fee: i64, errors: &mut Vec<FieldError>) {
    if fee <= 0 || fee > MAX_FEE_FEN {
        errors.push(fe(
            field,
            "物业费标准须大于 0 元、不超过 1000 元/平方米·月",
            "the fee standard must be above ¥0 and at most ¥1,000 per m² per month",
        ));
    }
}

impl Terms {
    /// Checks the term, the fee standard and the model's commission; errors name the fields
    /// `ends_on`, `fee_standard` and `commission_bp`.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.ends_on <= self.starts_on {
            errors.push(fe(
                "ends_on",
                "合同终止日须晚于起始日",
                "the term must end after it starts",
            ));
        } else if self.ends_on.year() - self.starts_on.year() > MAX_TERM_YEARS {
            errors.push(fe(
                "ends_on",
                "合同期限不超过 20 年",
                "the term is at most 20 years",
            ));
        }
        errors.extend(check_offer(
            self.fee_standard,
            self.model,
            self.commission_bp,
        ));
        errors
    }
}

/// Checks an offered fee standard with its model and commission (a contract's or a bid's);
/// errors name `fee_standard` and `commission_bp`.
pub fn check_offer(fee_standard: i64, model: Model, commission_bp: Option<i64>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check_fee("fee_standard", fee_standard, &mut errors);
    match (model, commission_bp) {
        (Model::FixedFee, None) => {}
        (Model::FixedFee, Some(_)) => errors.push(fe(
            "commission_bp",
            "包干制合同没有酬金比例",
            "a fixed-fee contract has no commission rate",
        )),
        (Model::Commission, Some(bp)) if (1..=10_000).contains(&bp) => {}
        (Model::Commission, _) => errors.push(fe(
            "commission_bp",
            "酬金制须填写酬金比例(大于 0,不超过 100%)",
            "a commission contract needs its rate (above 0, at most 100%)",
        )),
    }
    errors
}

/// A notice given on a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// 解聘: the owners decided (matter 4) to dismiss the company.
    Dismissal,
    /// 不续聘: the term will not be renewed.
    NonRenewal,
}

impl NoticeKind {
    pub fn parse(s: &str) -> Option<NoticeKind> {
        match s.trim() {
            "dismissal" => Some(NoticeKind::Dismissal),
            "non_renewal" => Some(NoticeKind::NonRenewal),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Dismissal => "dismissal",
            NoticeKind::NonRenewal => "non_renewal",
        }
    }

    pub fn label(self) -> Text {
        match self {
            NoticeKind::Dismissal => Text::new("解聘", "dismissal"),
            NoticeKind::NonRenewal => Text::new("不续聘", "non-renewal"),
        }
    }
}

/// A notice as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    /// The day the written notice was served.
    pub given_on: Date,
    /// Dismissal: the first day the company no longer serves. Non-renewal: the day after the
    /// term's last day.
    pub effective_on: Date,
}

/// The earliest day a dismissal noticed on `given_on` may take effect: 60 calendar days later
/// (`effective_on − given_on ≥ 60`). Noticed 2026-01-01, it takes effect 2026-03-02 at the
/// earliest.
pub fn earliest_dismissal(given_on: Date) -> Date {
    add_days(given_on, DISMISSAL_NOTICE_DAYS)
}

/// The last day a non-renewal notice may be served for a term ending `ends_on`: 90 calendar
/// days before (`ends_on − given_on ≥ 90`). For a term ending 2026-12-31 that is 2026-10-02.
pub fn latest_non_renewal_notice(ends_on: Date) -> Date {
    add_days(ends_on, -NON_RENEWAL_NOTICE_DAYS)
}

fn date_text(zh: &str, en: &str, d: Date) -> Text {
    Text::owned(
        format!("{zh}{}", fmt_date(d)),
        format!("{en}{}", fmt_date(d)),
    )
}

/// Checks a dismissal notice served `given_on`, taking effect `effective_on`, on a contract
/// with `terms` and no notice yet; `today` is the Shanghai date. Errors name `given_on` and
/// `effective_on`.
pub fn check_dismissal(
    terms: &Terms,
    given_on: Date,
    effective_on: Date,
    today: Date,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check_given(terms, given_on, today, &mut errors);
    let earliest = earliest_dismissal(given_on);
    if effective_on < earliest {
        errors.push(FieldError::new(
            "effective_on",
            date_text(
                "解聘须提前 60 日书面通知,最早生效日为 ",
                "a dismissal needs 60 days' written notice; the earliest effective date is ",
                earliest,
            ),
        ));
    } else if effective_on > terms.ends_on {
        errors.push(FieldError::new(
            "effective_on",
            date_text(
                "合同本就于此日届满:",
                "the contract ends anyway on ",
                terms.ends_on,
            ),
        ));
    }
    errors
}

/// Checks a non-renewal notice served `given_on` on a contract with `terms`.
pub fn check_non_renewal(terms: &Terms, given_on: Date, today: Date) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check_given(terms, given_on, today, &mut errors);
    let latest = latest_non_renewal_notice(terms.ends_on);
    if errors.is_empty() && given_on > latest {
        errors.push(FieldError::new(
            "given_on",
            date_text(
                "不续聘须在合同期满前 90 日书面通知,最迟通知日为 ",
                "not renewing needs written notice 90 days before the term ends; the last day to give it was ",
                latest,
            ),
        ));
    }
    errors
}

fn check_given(terms: &Terms, given_on: Date, today: Date, errors: &mut Vec<FieldError>) {
    if given_on > today {
        errors.push(fe(
            "given_on",
            "通知日期不能晚于今天",
            "the notice cannot be dated in the future",
        ));
    } else if given_on < terms.starts_on || given_on > terms.ends_on {
        errors.push(fe(
            "given_on",
            "通知日期须在合同期内",
            "the notice must be given during the term",
        ));
    }
}

/// The notice a check accepted, as stored.
pub fn notice(
    kind: NoticeKind,
    terms: &Terms,
    given_on: Date,
    effective_on: Option<Date>,
) -> Notice {
    Notice {
        kind,
        given_on,
        effective_on: match kind {
            NoticeKind::Dismissal => effective_on.unwrap_or(earliest_dismissal(given_on)),
            NoticeKind::NonRenewal => add_days(terms.ends_on, 1),
        },
    }
}

/// The last day the company serves under a contract.
pub fn last_day(terms: &Terms, notice: Option<&Notice>) -> Date {
    match notice {
        Some(n) if n.kind == NoticeKind::Dismissal => {
            add_days(n.effective_on, -1).min(terms.ends_on)
        }
        _ => terms.ends_on,
    }
}

/// Where a contract stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Signed, the term not begun.
    Upcoming,
    /// In its term (perhaps under notice).
    Active,
    /// The term ran out.
    Ended,
    /// Dismissed, from the notice's effective day.
    Dismissed,
    /// Not renewed, after the term's last day.
    NotRenewed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Upcoming => "upcoming",
            Status::Active => "active",
            Status::Ended => "ended",
            Status::Dismissed => "dismissed",
            Status::NotRenewed => "not_renewed",
        }
    }

    pub fn label(self) -> Text {
        match self {
            Status::Upcoming => Text::new("未开始", "upcoming"),
            Status::Active => Text::new("履行中", "active"),
            Status::Ended => Text::new("已到期", "ended"),
            Status::Dismissed => Text::new("已解聘", "dismissed"),
            Status::NotRenewed => Text::new("未续聘", "not renewed"),
        }
    }
}

/// The status of a contract on `day`.
pub fn status_on(terms: &Terms, notice: Option<&Notice>, day: Date) -> Status {
    if day < terms.starts_on {
        return Status::Upcoming;
    }
    if day <= last_day(terms, notice) {
        return Status::Active;
    }
    match notice.map(|n| n.kind) {
        Some(NoticeKind::Dismissal) => Status::Dismissed,
        Some(NoticeKind::NonRenewal) => Status::NotRenewed,
        None => Status::Ended,
    }
}

/// Whether two service periods `[a0, a1]` and `[b0, b1]` (inclusive days) share a day.
pub fn overlaps(a0: Date, a1: Date, b0: Date, b1: Date) -> bool {
    a0 <= b1 && b0 <= a1
}

/// The fee standard on `day`: the contract's own, replaced by each completed adjustment
/// (effective day, new fee) that has taken effect by then, the latest winning.
pub fn fee_on(base: i64, adjustments: &[(Date, i64)], day: Date) -> i64 {
    let mut best: Option<(Date, i64)> = None;
    for &(from, fee) in adjustments {
        if from <= day && best.is_none_or(|(b, _)| from >= b) {
            best = Some((from, fee));
        }
    }
    best.map_or(base, |(_, f)| f)
}

// ---------------------------------------------------------------------------------------------
// Owners' votes a process relies on

/// What a process step needs a vote for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Approving a selection plan (选聘方案): matter 4, yes / no.
    SelectionPlan,
    /// Choosing the company: matter 4, yes / no on one bid, or a choice among the bids.
    Selection,
    /// Dismissing the company: matter 4, yes / no.
    Dismissal,
    /// A fee adjustment: a fee-change vote, yes / no.
    FeeChange,
}

/// What the process needs to know of a vote (from `votes::desk::store::Vote`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteFacts {
    pub scope_path: String,
    pub matter: Matter,
    pub is_fee_change: bool,
    /// `yes_no`, `election` or `options`.
    pub form: &'static str,
    pub status: String,
    pub outcome: Option<Outcome>,
    /// The chosen option (options form).
    pub winner: Option<u32>,
    pub opened_on: Option<Date>,
    pub published_on: Option<Date>,
}

/// Whether the vote approves what the step needs: scoped to the estate, of the right matter,
/// counted (closed or published) and approving. Gives the chosen option for a choice among
/// bids. The refusal says why, in both languages.
pub fn check_vote(purpose: Purpose, v: &VoteFacts, estate_path: &str) -> Result<Option<u32>, Text> {
    if v.scope_path != estate_path {
        return Err(Text::new(
            "该表决的范围不是本小区",
            "that vote is not scoped to this estate",
        ));
    }
    match purpose {
        Purpose::FeeChange if !v.is_fee_change => {
            return Err(Text::new(
                "该表决不是物业费调整表决",
                "that vote is not a fee-change vote",
            ))
        }
        Purpose::SelectionPlan | Purpose::Selection | Purpose::Dismissal
            if v.matter != Matter::PropertyCompany =>
        {
            return Err(Text::new(
                "该表决的事项不是选聘或解聘物业服务企业(第四项)",
                "that vote is not on hiring or dismissing the property company (matter 4)",
            ))
        }
        _ => {}
    }
    if !matches!(v.status.as_str(), "closed" | "published") {
        return Err(Text::new(
            "该表决尚未计票,计票通过后才能进入下一步",
            "that vote has not been counted yet; the step follows an approving count",
        ));
    }
    let options_ok = purpose == Purpose::Selection && v.form == "options";
    if v.form != "yes_no" && !options_ok {
        return Err(Text::new(
            "该表决的形式不适用于这一步",
            "that vote's form does not fit this step",
        ));
    }
    match v.outcome {
        Some(Outcome::Approved) if v.form == "yes_no" => Ok(None),
        Some(Outcome::Chosen) if options_ok && v.winner.is_some() => Ok(v.winner),
        Some(Outcome::NoQuorum) => Err(Text::new(
            "该表决未达到参与人数和面积要求,未形成决定",
            "that vote missed its quorum: nothing was decided",
        )),
        _ => Err(Text::new("该表决未获通过", "that vote did not approve it")),
    }
}

// ---------------------------------------------------------------------------------------------
// The selection process (物业选聘)

/// The steps of a selection, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectionStep {
    PlanDrafted,
    PlanApproved,
    BidsInvited,
    BidsReceived,
    Selected,
    ContractSigned,
    Cancelled,
}

impl SelectionStep {
    pub const ORDER: [SelectionStep; 6] = [
        SelectionStep::PlanDrafted,
        SelectionStep::PlanApproved,
        SelectionStep::BidsInvited,
        SelectionStep::BidsReceived,
        SelectionStep::Selected,
        SelectionStep::ContractSigned,
    ];

    pub fn parse(s: &str) -> Option<SelectionStep> {
        Self::ORDER
            .into_iter()
            .chain([SelectionStep::Cancelled])
            .find(|x| x.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SelectionStep::PlanDrafted => "plan_drafted",
            SelectionStep::PlanApproved => "plan_approved",
            SelectionStep::BidsInvited => "bids_invited",
            SelectionStep::BidsReceived => "bids_received",
            SelectionStep::Selected => "selected",
            SelectionStep::ContractSigned => "contract_signed",
            SelectionStep::Cancelled => "cancelled",
        }
    }

    pub fn label(self) -> Text {
        match self {
            SelectionStep::PlanDrafted => Text::new("拟定选聘方案", "plan drafted"),
            SelectionStep::PlanApproved => Text::new("方案经业主表决通过", "plan approved by vote"),
            SelectionStep::BidsInvited => Text::new("发布招标/邀请", "bids invited"),
            SelectionStep::BidsReceived => Text::new("投标截止", "bids received"),
            SelectionStep::Selected => Text::new("业主表决选定", "chosen by vote"),
            SelectionStep::ContractSigned => Text::new("签订物业服务合同", "contract signed"),
            SelectionStep::Cancelled => Text::new("已终止", "cancelled"),
        }
    }

    /// Whether the process is over.
    pub fn done(self) -> bool {
        matches!(
            self,
            SelectionStep::ContractSigned | SelectionStep::Cancelled
        )
    }

    /// Whether the next step needs an owners' vote.
    pub fn awaits_vote(self) -> bool {
        matches!(
            self,
            SelectionStep::PlanDrafted | SelectionStep::BidsReceived
        )
    }
}

/// A move of a selection. Votes are checked with [`check_vote`] before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectionAction {
    ApprovePlan,
    InviteBids {
        invited_on: Date,
        closes_on: Date,
        today: Date,
    },
    CloseBids {
        bids: usize,
        closes_on: Date,
        today: Date,
    },
    Select,
    SignContract,
    Cancel,
}

impl SelectionAction {
    pub fn name(&self) -> &'static str {
        match self {
            SelectionAction::ApprovePlan => "approve_plan",
            SelectionAction::InviteBids { .. } => "invite_bids",
            SelectionAction::CloseBids { .. } => "close_bids",
            SelectionAction::Select => "select",
            SelectionAction::SignContract => "sign_contract",
            SelectionAction::Cancel => "cancel",
        }
    }
}

fn out_of_order(now: Text, action: &str) -> Text {
    Text::owned(
        format!("当前步骤为「{}」,不能执行「{action}」", now.zh),
        format!("the process is at “{}”; “{action}” does not apply", now.en),
    )
}

/// The next step of a selection, or why not.
pub fn selection_next(step: SelectionStep, a: SelectionAction) -> Result<SelectionStep, Text> {
    use SelectionAction as A;
    use SelectionStep as S;
    if step.done() {
        return Err(Text::new("选聘已结束", "the selection is over"));
    }
    match (step, a) {
        (_, A::Cancel) => Ok(S::Cancelled),
        (S::PlanDrafted, A::ApprovePlan) => Ok(S::PlanApproved),
        (
            S::PlanApproved,
            A::InviteBids {
                invited_on,
                closes_on,
                today,
            },
        ) => {
            if invited_on > today {
                Err(Text::new(
                    "发布日期不能晚于今天",
                    "the invitation cannot be dated in the future",
                ))
            } else if closes_on < invited_on {
                Err(Text::new(
                    "投标截止日不能早于发布日",
                    "bids cannot close before they are invited",
                ))
            } else {
                Ok(S::BidsInvited)
            }
        }
        (
            S::BidsInvited,
            A::CloseBids {
                bids,
                closes_on,
                today,
            },
        ) => {
            if today <= closes_on {
                Err(date_text(
                    "投标截止日后才能结束收标,截止日为 ",
                    "bidding closes after its last day, ",
                    closes_on,
                ))
            } else if bids == 0 {
                Err(Text::new("尚未收到投标", "no bid has been received"))
            } else {
                Ok(S::BidsReceived)
            }
        }
        (S::BidsReceived, A::Select) => Ok(S::Selected),
        (S::Selected, A::SignContract) => Ok(S::ContractSigned),
        (s, a) => Err(out_of_order(s.label(), a.name())),
    }
}

/// Whether a bid received on `received_on` may be recorded at `step` (bidding open, the day
/// between the invitation and the closing day).
pub fn bid_allowed(
    step: SelectionStep,
    invited_on: Date,
    closes_on: Date,
    received_on: Date,
) -> Result<(), Text> {
    if step != SelectionStep::BidsInvited {
        return Err(Text::new(
            "只有招标期间可以登记投标",
            "bids are recorded only while bidding is open",
        ));
    }
    if received_on < invited_on || received_on > closes_on {
        return Err(Text::owned(
            format!(
                "投标日期须在 {} 至 {} 之间",
                fmt_date(invited_on),
                fmt_date(closes_on)
            ),
            format!(
                "a bid is received between {} and {}",
                fmt_date(invited_on),
                fmt_date(closes_on)
            ),
        ));
    }
    Ok(())
}

/// Which bid a chosen option names: the bid whose company name is the option's label, else
/// the only bid whose company name the label contains. `bids` are (bid id, company name).
pub fn bid_for_label(label: &str, bids: &[(i64, String)]) -> Option<i64> {
    let label = label.trim();
    if let Some((id, _)) = bids.iter().find(|(_, n)| n.trim() == label) {
        return Some(*id);
    }
    let mut hits = bids
        .iter()
        .filter(|(_, n)| !n.trim().is_empty() && label.contains(n.trim()));
    match (hits.next(), hits.next()) {
        (Some((id, _)), None) => Some(*id),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The fee adjustment process (物业费调价)

/// The steps of a fee adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeStep {
    Drafted,
    ReportPublished,
    Voted,
    Effective,
    Cancelled,
}

impl FeeStep {
    pub const ORDER: [FeeStep; 4] = [
        FeeStep::Drafted,
        FeeStep::ReportPublished,
        FeeStep::Voted,
        FeeStep::Effective,
    ];

    pub fn parse(s: &str) -> Option<FeeStep> {
        Self::ORDER
            .into_iter()
            .chain([FeeStep::Cancelled])
            .find(|x| x.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FeeStep::Drafted => "drafted",
            FeeStep::ReportPublished => "report_published",
            FeeStep::Voted => "voted",
            FeeStep::Effective => "effective",
            FeeStep::Cancelled => "cancelled",
        }
    }

    pub fn label(self) -> Text {
        match self {
            FeeStep::Drafted => Text::new("拟定调价方案", "drafted"),
            FeeStep::ReportPublished => Text::new("成本报告已公示", "cost report published"),
            FeeStep::Voted => Text::new("业主表决通过", "approved by vote"),
            FeeStep::Effective => Text::new("新标准生效", "in effect"),
            FeeStep::Cancelled => Text::new("已终止", "cancelled"),
        }
    }

    pub fn done(self) -> bool {
        matches!(self, FeeStep::Effective | FeeStep::Cancelled)
    }

    pub fn awaits_vote(self) -> bool {
        self == FeeStep::ReportPublished
    }
}

/// The basis of a fee adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// 经审计的物业服务成本报告.
    AuditedCostReport,
    /// 第三方评估.
    ThirdPartyAssessment,
}

impl ReportKind {
    pub const ALL: [ReportKind; 2] = [
        ReportKind::AuditedCostReport,
        ReportKind::ThirdPartyAssessment,
    ];

    pub fn parse(s: &str) -> Option<ReportKind> {
        match s.trim() {
            "audited_cost_report" => Some(ReportKind::AuditedCostReport),
            "third_party_assessment" => Some(ReportKind::ThirdPartyAssessment),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::AuditedCostReport => "audited_cost_report",
            ReportKind::ThirdPartyAssessment => "third_party_assessment",
        }
    }

    pub fn label(self) -> Text {
        match self {
            ReportKind::AuditedCostReport => Text::new("经审计的成本报告", "audited cost report"),
            ReportKind::ThirdPartyAssessment => {
                Text::new("第三方评估报告", "third-party assessment")
            }
        }
    }
}

/// The last day of a publicity of `days` days published on `published_on`: the day of
/// publication is not counted (Civil Code art. 201), so it ends at 24:00 of
/// `published_on + days`. Published 2026-03-01 for 15 days, it runs to 2026-03-16.
pub fn publicity_last_day(published_on: Date, days: i64) -> Date {
    add_days(published_on, days)
}

/// A move of a fee adjustment. The vote is checked with [`check_vote`] before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeAction {
    PublishReport {
        published_on: Date,
        days: i64,
        today: Date,
    },
    /// `vote_opened_on`: the Shanghai day the vote opened; `publicity_last_day` of the report.
    RecordVote {
        vote_opened_on: Option<Date>,
        publicity_last_day: Date,
    },
    /// `vote_published_on`: the day the vote's result was published as a notice.
    TakeEffect {
        effective_on: Date,
        vote_published_on: Option<Date>,
    },
    Cancel,
}

impl FeeAction {
    pub fn name(&self) -> &'static str {
        match self {
            FeeAction::PublishReport { .. } => "publish_report",
            FeeAction::RecordVote { .. } => "record_vote",
            FeeAction::TakeEffect { .. } => "take_effect",
            FeeAction::Cancel => "cancel",
        }
    }
}

/// The next step of a fee adjustment, or why not.
pub fn fee_next(step: FeeStep, a: FeeAction) -> Result<FeeStep, Text> {
    use FeeAction as A;
    use FeeStep as S;
    if step.done() {
        return Err(Text::new("调价流程已结束", "the fee adjustment is over"));
    }
    match (step, a) {
        (_, A::Cancel) => Ok(S::Cancelled),
        (
            S::Drafted,
            A::PublishReport {
                published_on,
                days,
                today,
            },
        ) => {
            if published_on > today {
                Err(Text::new(
                    "公示日期不能晚于今天",
                    "the publication cannot be dated in the future",
                ))
            } else if !(1..=90).contains(&days) {
                Err(Text::new(
                    "公示期为 1 到 90 天",
                    "the publicity period is 1 to 90 days",
                ))
            } else {
                Ok(S::ReportPublished)
            }
        }
        (
            S::ReportPublished,
            A::RecordVote {
                vote_opened_on,
                publicity_last_day,
            },
        ) => match vote_opened_on {
            Some(d) if d > publicity_last_day => Ok(S::Voted),
            _ => Err(date_text(
                "成本报告公示期满后才能表决;公示期至 ",
                "the vote must open after the cost report's publicity, which runs to ",
                publicity_last_day,
            )),
        },
        (
            S::Voted,
            A::TakeEffect {
                effective_on,
                vote_published_on,
            },
        ) => match vote_published_on {
            None => Err(Text::new(
                "表决结果公告后才能确定生效日期",
                "the effective date follows the publication of the vote's result",
            )),
            Some(p) if effective_on < p => Err(date_text(
                "生效日期不能早于表决结果公告日 ",
                "the new fee cannot take effect before the result was published on ",
                p,
            )),
            Some(_) => Ok(S::Effective),
        },
        (s, a) => Err(out_of_order(s.label(), a.name())),
    }
}

/// Sniffs an uploaded report: PDF, JPEG, PNG or WebP, at most 10 MiB.
pub fn sniff_report(bytes: &[u8]) -> Result<&'static str, Text> {
    if bytes.len() > MAX_REPORT_BYTES {
        return Err(Text::new(
            "报告文件不超过 10 MiB",
            "the report file is at most 10 MiB",
        ));
    }
    if bytes.starts_with(b"%PDF-") {
        Ok("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok("image/png")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Ok("image/webp")
    } else {
        Err(Text::new(
            "报告须为 PDF、JPEG、PNG 或 WebP 文件",
            "the report must be a PDF, JPEG, PNG or WebP file",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn terms() -> Terms {
        Terms {
            starts_on: date!(2024 - 01 - 01),
            ends_on: date!(2026 - 12 - 31),
            fee_standard: 250,
            model: Model::FixedFee,
            commission_bp: None,
        }
    }

    fn fields(e: &[FieldError]) -> Vec<&str> {
        e.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn yuan_parse_and_format_without_floats() {
        assert_eq!(parse_yuan("2.5"), Some(250));
        assert_eq!(parse_yuan("2.50"), Some(250));
        assert_eq!(parse_yuan("¥3"), Some(300));
        assert_eq!(parse_yuan(".05"), Some(5));
        assert_eq!(parse_yuan("2.505"), None);
        assert_eq!(parse_yuan("-1"), None);
        assert_eq!(parse_yuan(""), None);
        assert_eq!(parse_yuan("."), None);
        assert_eq!(parse_yuan("1e3"), None);
        assert_eq!(fmt_yuan(250), "2.50");
        assert_eq!(fmt_yuan(5), "0.05");
        assert_eq!(fmt_yuan(-5), "-0.05");
        assert_eq!(fmt_bp(850), "8.50%");
        assert_eq!(parse_percent_bp("8.5"), Some(850));
    }

    #[test]
    fn monthly_fee_rounds_half_up_to_the_fen() {
        assert_eq!(monthly_fee(8_550, 250), 21_375);
        assert_eq!(monthly_fee(8_555, 253), 21_644); // 21,644.15
        assert_eq!(monthly_fee(8_550, 251), 21_461); // 21,460.50 rounds up
        assert_eq!(monthly_fee(8_549, 251), 21_458); // 21,457.99
        assert_eq!(monthly_fee(0, 250), 0);
        assert_eq!(monthly_fee(-5, 250), 0);
        assert_eq!(monthly_fee(i64::MAX, MAX_FEE_FEN), i64::MAX);
    }

    fn with_check(first17: &str) -> String {
        const CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
        for c in CHARS.chars() {
            let s = format!("{first17}{c}");
            if credit_code_ok(&s) {
                return s;
            }
        }
        panic!("no check character")
    }

    #[test]
    fn credit_codes_carry_their_check_character() {
        let good = with_check("91310118MA1JL0000");
        assert!(credit_code_ok(&good));
        // Exactly one check character fits.
        let wrong: Vec<_> = "0123456789ABCDEFGHJKLMNPQRTUWXY"
            .chars()
            .map(|c| format!("91310118MA1JL0000{c}"))
            .filter(|s| credit_code_ok(s))
            .collect();
        assert_eq!(wrong, vec![good.clone()]);
        assert!(!credit_code_ok(&good[..17]));
        assert!(!credit_code_ok(&format!("{good}0")));
        assert!(!credit_code_ok("91310118MA1JL0000I")); // I is not in the alphabet
        assert!(!credit_code_ok("９1310118MA1JL00000"));
    }

    #[test]
    fn terms_are_checked() {
        assert!(terms().check().is_empty());
        let mut t = terms();
        t.ends_on = t.starts_on;
        assert_eq!(fields(&t.check()), ["ends_on"]);
        t.ends_on = date!(2045 - 01 - 01);
        assert_eq!(fields(&t.check()), ["ends_on"]);
        let mut t = terms();
        t.fee_standard = 0;
        assert_eq!(fields(&t.check()), ["fee_standard"]);
        t.fee_standard = MAX_FEE_FEN + 1;
        assert_eq!(fields(&t.check()), ["fee_standard"]);
        t.fee_standard = MAX_FEE_FEN;
        assert!(t.check().is_empty());
        t.commission_bp = Some(800);
        assert_eq!(fields(&t.check()), ["commission_bp"]);
        t.model = Model::Commission;
        assert!(t.check().is_empty());
        t.commission_bp = None;
        assert_eq!(fields(&t.check()), ["commission_bp"]);
        t.commission_bp = Some(0);
        assert_eq!(fields(&t.check()), ["commission_bp"]);
        t.commission_bp = Some(10_001);
        assert_eq!(fields(&t.check()), ["commission_bp"]);
        t.commission_bp = Some(10_000);
        assert!(t.check().is_empty());
        assert_eq!(Model::parse("commission"), Some(Model::Commission));
        assert_eq!(Model::parse("x"), None);
    }

    #[test]
    fn dismissal_needs_sixty_days_exactly() {
        let t = terms();
        let today = date!(2026 - 06 - 01);
        let given = date!(2026 - 01 - 01);
        assert_eq!(earliest_dismissal(given), date!(2026 - 03 - 02));
        assert!(check_dismissal(&t, given, date!(2026 - 03 - 02), today).is_empty());
        assert_eq!(
            fields(&check_dismissal(&t, given, date!(2026 - 03 - 01), today)),
            ["effective_on"]
        );
        // Across a leap February: 2024-01-01 + 60 days is 2024-03-01.
        assert_eq!(
            earliest_dismissal(date!(2024 - 01 - 01)),
            date!(2024 - 03 - 01)
        );
        // Not after the term's end, not from the future, not before the term.
        assert_eq!(
            fields(&check_dismissal(
                &t,
                date!(2026 - 11 - 01),
                date!(2027 - 01 - 01),
                date!(2026 - 11 - 02)
            )),
            ["effective_on"]
        );
        assert!(check_dismissal(
            &t,
            date!(2026 - 11 - 01),
            date!(2026 - 12 - 31),
            date!(2026 - 11 - 02)
        )
        .is_empty());
        assert_eq!(
            fields(&check_dismissal(
                &t,
                date!(2026 - 06 - 02),
                date!(2026 - 09 - 01),
                today
            )),
            ["given_on"]
        );
        assert_eq!(
            fields(&check_dismissal(
                &t,
                date!(2023 - 12 - 31),
                date!(2024 - 06 - 01),
                today
            )),
            ["given_on"]
        );
    }

    #[test]
    fn non_renewal_needs_ninety_days_exactly() {
        let t = terms();
        let today = date!(2026 - 12 - 01);
        assert_eq!(latest_non_renewal_notice(t.ends_on), date!(2026 - 10 - 02));
        assert!(check_non_renewal(&t, date!(2026 - 10 - 02), today).is_empty());
        assert_eq!(
            fields(&check_non_renewal(&t, date!(2026 - 10 - 03), today)),
            ["given_on"]
        );
        assert_eq!(
            fields(&check_non_renewal(&t, date!(2026 - 12 - 02), today)),
            ["given_on"]
        );
        let n = notice(NoticeKind::NonRenewal, &t, date!(2026 - 10 - 02), None);
        assert_eq!(n.effective_on, date!(2027 - 01 - 01));
    }

    #[test]
    fn status_follows_the_days() {
        let t = terms();
        assert_eq!(status_on(&t, None, date!(2023 - 12 - 31)), Status::Upcoming);
        assert_eq!(status_on(&t, None, date!(2024 - 01 - 01)), Status::Active);
        assert_eq!(status_on(&t, None, date!(2026 - 12 - 31)), Status::Active);
        assert_eq!(status_on(&t, None, date!(2027 - 01 - 01)), Status::Ended);
        let d = notice(
            NoticeKind::Dismissal,
            &t,
            date!(2026 - 01 - 01),
            Some(date!(2026 - 03 - 02)),
        );
        assert_eq!(last_day(&t, Some(&d)), date!(2026 - 03 - 01));
        assert_eq!(
            status_on(&t, Some(&d), date!(2026 - 03 - 01)),
            Status::Active
        );
        assert_eq!(
            status_on(&t, Some(&d), date!(2026 - 03 - 02)),
            Status::Dismissed
        );
        let n = notice(NoticeKind::NonRenewal, &t, date!(2026 - 09 - 01), None);
        assert_eq!(
            status_on(&t, Some(&n), date!(2026 - 12 - 31)),
            Status::Active
        );
        assert_eq!(
            status_on(&t, Some(&n), date!(2027 - 01 - 01)),
            Status::NotRenewed
        );
        assert!(overlaps(
            t.starts_on,
            t.ends_on,
            date!(2026 - 12 - 31),
            date!(2027 - 12 - 31)
        ));
        assert!(!overlaps(
            t.starts_on,
            t.ends_on,
            date!(2027 - 01 - 01),
            date!(2027 - 12 - 31)
        ));
    }

    #[test]
    fn the_fee_on_a_day_follows_the_adjustments_in_effect() {
        let adj = [(date!(2026 - 03 - 01), 280), (date!(2025 - 01 - 01), 260)];
        assert_eq!(fee_on(250, &adj, date!(2024 - 12 - 31)), 250);
        assert_eq!(fee_on(250, &adj, date!(2025 - 01 - 01)), 260);
        assert_eq!(fee_on(250, &adj, date!(2026 - 02 - 28)), 260);
        assert_eq!(fee_on(250, &adj, date!(2026 - 03 - 01)), 280);
        assert_eq!(fee_on(250, &[], date!(2026 - 03 - 01)), 250);
    }

    fn facts() -> VoteFacts {
        VoteFacts {
            scope_path: "/1/10/".into(),
            matter: Matter::PropertyCompany,
            is_fee_change: false,
            form: "yes_no",
            status: "published".into(),
            outcome: Some(Outcome::Approved),
            winner: None,
            opened_on: Some(date!(2026 - 04 - 01)),
            published_on: Some(date!(2026 - 04 - 20)),
        }
    }

    #[test]
    fn a_vote_counts_only_when_counted_approving_and_on_the_right_matter() {
        let e = "/1/10/";
        assert_eq!(check_vote(Purpose::SelectionPlan, &facts(), e), Ok(None));
        assert_eq!(check_vote(Purpose::Dismissal, &facts(), e), Ok(None));
        assert!(check_vote(Purpose::SelectionPlan, &facts(), "/1/11/").is_err());
        assert!(check_vote(Purpose::FeeChange, &facts(), e).is_err());
        let mut v = facts();
        v.status = "closed".into();
        assert!(check_vote(Purpose::SelectionPlan, &v, e).is_ok());
        v.status = "open".into();
        assert!(check_vote(Purpose::SelectionPlan, &v, e)
            .unwrap_err()
            .en
            .contains("not been counted"));
        let mut v = facts();
        v.outcome = Some(Outcome::Rejected);
        assert!(check_vote(Purpose::SelectionPlan, &v, e)
            .unwrap_err()
            .en
            .contains("did not approve"));
        v.outcome = Some(Outcome::NoQuorum);
        assert!(check_vote(Purpose::SelectionPlan, &v, e)
            .unwrap_err()
            .en
            .contains("quorum"));
        let mut v = facts();
        v.matter = Matter::OtherMajor;
        assert!(check_vote(Purpose::Selection, &v, e).is_err());
        v.is_fee_change = true;
        assert_eq!(check_vote(Purpose::FeeChange, &v, e), Ok(None));
        // A choice among bids: only for the selection itself.
        let mut v = facts();
        v.form = "options";
        v.outcome = Some(Outcome::Chosen);
        v.winner = Some(2);
        assert_eq!(check_vote(Purpose::Selection, &v, e), Ok(Some(2)));
        assert!(check_vote(Purpose::SelectionPlan, &v, e).is_err());
        v.outcome = Some(Outcome::NoWinner);
        v.winner = None;
        assert!(check_vote(Purpose::Selection, &v, e).is_err());
        let mut v = facts();
        v.form = "election";
        assert!(check_vote(Purpose::Selection, &v, e).is_err());
    }

    #[test]
    fn selection_moves_in_order_and_refuses_the_rest() {
        use SelectionAction as A;
        use SelectionStep as S;
        let today = date!(2026 - 05 - 10);
        let invite = A::InviteBids {
            invited_on: date!(2026 - 04 - 01),
            closes_on: date!(2026 - 04 - 30),
            today,
        };
        let close = |bids| A::CloseBids {
            bids,
            closes_on: date!(2026 - 04 - 30),
            today,
        };
        let all = [
            A::ApprovePlan,
            invite,
            close(2),
            A::Select,
            A::SignContract,
            A::Cancel,
        ];
        let happy = [
            (S::PlanDrafted, 0),
            (S::PlanApproved, 1),
            (S::BidsInvited, 2),
            (S::BidsReceived, 3),
            (S::Selected, 4),
        ];
        for (step, ok) in happy {
            for (i, a) in all.iter().enumerate() {
                let r = selection_next(step, *a);
                if i == ok {
                    assert_eq!(r, Ok(S::ORDER[ok + 1]), "{step:?} {a:?}");
                } else if *a == A::Cancel {
                    assert_eq!(r, Ok(S::Cancelled));
                } else {
                    assert!(r.is_err(), "{step:?} {a:?}");
                }
            }
        }
        for done in [S::ContractSigned, S::Cancelled] {
            for a in all {
                assert!(selection_next(done, a).is_err());
            }
        }
        // Refusals inside a step.
        assert!(selection_next(S::BidsInvited, close(0))
            .unwrap_err()
            .en
            .contains("no bid"));
        let early = A::CloseBids {
            bids: 1,
            closes_on: date!(2026 - 05 - 10),
            today,
        };
        assert!(selection_next(S::BidsInvited, early).is_err());
        let next_day = A::CloseBids {
            bids: 1,
            closes_on: date!(2026 - 05 - 09),
            today,
        };
        assert_eq!(
            selection_next(S::BidsInvited, next_day),
            Ok(S::BidsReceived)
        );
        let future = A::InviteBids {
            invited_on: date!(2026 - 05 - 11),
            closes_on: date!(2026 - 06 - 01),
            today,
        };
        assert!(selection_next(S::PlanApproved, future).is_err());
        let backwards = A::InviteBids {
            invited_on: date!(2026 - 05 - 01),
            closes_on: date!(2026 - 04 - 30),
            today,
        };
        assert!(selection_next(S::PlanApproved, backwards).is_err());
        assert!(
            S::PlanDrafted.awaits_vote()
                && S::BidsReceived.awaits_vote()
                && !S::BidsInvited.awaits_vote()
        );
        for s in S::ORDER.into_iter().chain([S::Cancelled]) {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn bids_come_while_bidding_is_open_and_labels_name_them() {
        let (a, b) = (date!(2026 - 04 - 01), date!(2026 - 04 - 30));
        assert!(bid_allowed(SelectionStep::BidsInvited, a, b, a).is_ok());
        assert!(bid_allowed(SelectionStep::BidsInvited, a, b, b).is_ok());
        assert!(bid_allowed(SelectionStep::BidsInvited, a, b, add_days(b, 1)).is_err());
        assert!(bid_allowed(SelectionStep::BidsInvited, a, b, add_days(a, -1)).is_err());
        assert!(bid_allowed(SelectionStep::BidsReceived, a, b, a).is_err());
        let bids = vec![
            (1, "甲物业".to_string()),
            (2, "乙物业".to_string()),
            (3, "甲物业服务".to_string()),
        ];
        assert_eq!(bid_for_label("乙物业", &bids), Some(2));
        assert_eq!(bid_for_label(" 甲物业 ", &bids), Some(1));
        assert_eq!(bid_for_label("选乙物业(投标2)", &bids), Some(2));
        assert_eq!(
            bid_for_label("甲物业服务有限公司", &bids),
            None,
            "two names fit"
        );
        assert_eq!(bid_for_label("丙物业", &bids), None);
    }

    #[test]
    fn fee_adjustment_moves_in_order_with_publicity_and_effective_date() {
        use FeeAction as A;
        use FeeStep as S;
        let today = date!(2026 - 03 - 01);
        let publish = A::PublishReport {
            published_on: date!(2026 - 03 - 01),
            days: 15,
            today,
        };
        let last = publicity_last_day(date!(2026 - 03 - 01), 15);
        assert_eq!(last, date!(2026 - 03 - 16));
        let vote = A::RecordVote {
            vote_opened_on: Some(date!(2026 - 03 - 17)),
            publicity_last_day: last,
        };
        let eff = A::TakeEffect {
            effective_on: date!(2026 - 05 - 01),
            vote_published_on: Some(date!(2026 - 04 - 01)),
        };
        let all = [publish, vote, eff, A::Cancel];
        for (ok, step) in [S::Drafted, S::ReportPublished, S::Voted]
            .into_iter()
            .enumerate()
        {
            for (i, a) in all.iter().enumerate() {
                let r = fee_next(step, *a);
                if i == ok {
                    assert_eq!(r, Ok(S::ORDER[ok + 1]));
                } else if *a == A::Cancel {
                    assert_eq!(r, Ok(S::Cancelled));
                } else {
                    assert!(r.is_err(), "{step:?} {a:?}");
                }
            }
        }
        for done in [S::Effective, S::Cancelled] {
            for a in all {
                assert!(fee_next(done, a).is_err());
            }
        }
        // The vote opens only after the publicity's last day.
        let on_last = A::RecordVote {
            vote_opened_on: Some(last),
            publicity_last_day: last,
        };
        assert!(fee_next(S::ReportPublished, on_last)
            .unwrap_err()
            .zh
            .contains("2026-03-16"));
        let unopened = A::RecordVote {
            vote_opened_on: None,
            publicity_last_day: last,
        };
        assert!(fee_next(S::ReportPublished, unopened).is_err());
        // The effective date is not before the vote's publication; the same day is fine.
        let p = date!(2026 - 04 - 01);
        let before = A::TakeEffect {
            effective_on: date!(2026 - 03 - 31),
            vote_published_on: Some(p),
        };
        assert!(fee_next(S::Voted, before).is_err());
        let same = A::TakeEffect {
            effective_on: p,
            vote_published_on: Some(p),
        };
        assert_eq!(fee_next(S::Voted, same), Ok(S::Effective));
        let unpublished = A::TakeEffect {
            effective_on: p,
            vote_published_on: None,
        };
        assert!(fee_next(S::Voted, unpublished).is_err());
        // Publication: not in the future, 1 to 90 days.
        for (d, days) in [(date!(2026 - 03 - 02), 15), (today, 0), (today, 91)] {
            let a = A::PublishReport {
                published_on: d,
                days,
                today,
            };
            assert!(fee_next(S::Drafted, a).is_err());
        }
        for s in S::ORDER.into_iter().chain([S::Cancelled]) {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        assert_eq!(
            ReportKind::parse("third_party_assessment"),
            Some(ReportKind::ThirdPartyAssessment)
        );
    }

    #[test]
    fn reports_are_sniffed() {
        assert_eq!(sniff_report(b"%PDF-1.7 ..."), Ok("application/pdf"));
        assert_eq!(sniff_report(&[0xFF, 0xD8, 0xFF, 0xE0]), Ok("image/jpeg"));
        assert!(sniff_report(b"GIF89a").is_err());
        assert!(sniff_report(&vec![b'%'; MAX_REPORT_BYTES + 1]).is_err());
    }

    #[test]
    fn dates_parse_and_days_count() {
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_date(" 2024-02-29 "), Some(date!(2024 - 02 - 29)));
        assert_eq!(fmt_date(date!(2026 - 03 - 02)), "2026-03-02");
        assert_eq!(
            days_between(date!(2026 - 01 - 01), date!(2026 - 03 - 02)),
            60
        );
        // 2026-01-01T00:00:00Z is 08:00 in Shanghai; 15:59:59Z is still that day.
        assert_eq!(day_of(1_767_225_600_000), date!(2026 - 01 - 01));
        assert_eq!(
            day_of(1_767_225_600_000 + 16 * 3_600_000 - 1),
            date!(2026 - 01 - 01)
        );
        assert_eq!(
            day_of(1_767_225_600_000 + 16 * 3_600_000),
            date!(2026 - 01 - 02)
        );
        assert_eq!(add_days(Date::MAX, 1), Date::MAX);
    }
}
