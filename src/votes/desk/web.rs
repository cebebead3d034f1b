//! The votes' pages, phone-sized for owners and plain for the staff desk; every page works
//! without JavaScript (choices are radio buttons and check boxes, actions are form posts).
//!
//! - `/votes`: the votes in reach (an owner sees the votes they may cast, with a marker);
//! - `/votes/new` (staff) and `POST /votes`;
//! - `/votes/{id}`: details, the tracker (participation, what the quorum still needs), the
//!   ballot form for an owner in the period, the receipt after voting, and the staff actions
//!   (open with the registry's problems and an explicit override, close, publish, cancel);
//! - `/votes/{id}/paper`: staff enter a paper ballot, or a proxy's with its scanned
//!   authorisation (multipart), and another staff user checks each entry;
//! - `/votes/{id}/receipts`: the public receipts list; `/votes/{id}/notice`: the published result;
//! - `/votes/reelections`: owners' committee re-election periods.
//!
//! Times are typed and shown in Shanghai time. The store decides and audits.

use std::collections::HashMap;

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use super::store::{self, NewOnline, NewPaper, NewReelection, NewVote, ProxyFile, Standing, Vote};
use crate::cases::intake::rules::parse_local_datetime;
use crate::clock::{format_local, now_ms};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::tree::area;
use crate::votes::chain::{self, BallotChannel};
use crate::votes::model::{Choice, Matter};
use crate::votes::rules::{Bound, Fraction, Thresholds};
use crate::votes::tally::{Counts, Form, Outcome, Tally};
use crate::web::errors::Form as FormBody;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

/// A paper ballot form with a scanned proxy of up to 10 MiB.
const PAPER_LIMIT: usize = 12 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/votes", get(list).post(create))
        .route("/votes/new", get(new_page))
        .route("/votes/reelections", get(reelections).post(add_reelection))
        .route("/votes/{id}", get(show))
        .route("/votes/{id}/ballot", post(cast))
        .route("/votes/{id}/open", post(open))
        .route("/votes/{id}/close", post(close))
        .route("/votes/{id}/publish", post(publish))
        .route("/votes/{id}/cancel", post(cancel))
        .route(
            "/votes/{id}/paper",
            get(paper_page).merge(post(enter_paper).layer(DefaultBodyLimit::max(PAPER_LIMIT))),
        )
        .route("/votes/{id}/paper/{pid}/confirm", post(confirm_paper))
        .route("/votes/{id}/paper/{pid}/reject", post(reject_paper))
        .route("/votes/{id}/receipts", get(receipts))
        .route("/votes/{id}/notice", get(notice))
}

type Pairs = Vec<(String, String)>;

fn val<'a>(f: &'a Pairs, k: &str) -> &'a str {
    f.iter()
        .find(|(n, _)| n == k)
        .map_or("", |(_, v)| v.as_str())
}

fn errors_for(ctx: &Ctx, errors: &[FieldError], field: &str) -> Markup {
    html! { @for e in errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } }
}

fn m2(v: u64) -> String {
    area::format(i64::try_from(v).unwrap_or(i64::MAX))
}

fn status_tag(ctx: &Ctx, s: &str) -> Markup {
    html! { span.tag { (ctx.text(&store::status_label(s))) } }
}

fn form_label(f: &Form) -> Text {
    match f {
        Form::YesNo => Text::new("同意 / 反对 / 弃权", "yes / no / abstain"),
        Form::Election { seats, candidates } => Text::owned(
            format!("选举:{candidates} 名候选人,应选 {seats} 名"),
            format!("election: {candidates} candidates, {seats} seats"),
        ),
        Form::Options { count } => Text::owned(
            format!("{count} 个选项中选一"),
            format!("one of {count} options"),
        ),
    }
}

fn bound_text(b: &Bound) -> String {
    let f = b.fraction();
    match b {
        Bound::AtLeast(_) => format!("≥ {}/{}", f.num, f.den),
        Bound::MoreThan(_) => format!("> {}/{}", f.num, f.den),
    }
}

fn outcome_label(o: Outcome) -> Text {
    match o {
        Outcome::NoQuorum => Text::new(
            "未达到法定参与人数,未形成决定",
            "no quorum: nothing was decided",
        ),
        Outcome::Approved => Text::new("通过", "approved"),
        Outcome::Rejected => Text::new("未通过", "rejected"),
        Outcome::Elected => Text::new("选出", "elected"),
        Outcome::Tied => Text::new("末位票数相同,名额待定", "a tie for the last seat"),
        Outcome::Chosen => Text::new("选定", "chosen"),
        Outcome::NoWinner => Text::new("没有选项或候选人获得通过", "nothing passed"),
    }
}

fn choice_label(v: &Vote, c: &Choice) -> String {
    match c {
        Choice::Yes => "同意 / yes".into(),
        Choice::No => "反对 / no".into(),
        Choice::Abstain => "弃权 / abstain".into(),
        Choice::Candidates { ids } => ids
            .iter()
            .map(|i| v.label(*i))
            .collect::<Vec<_>>()
            .join("、"),
        Choice::Option { id: Some(i) } => v.label(*i),
        Choice::Option { id: None } => "弃权 / abstain".into(),
    }
}

#[derive(Deserialize, Default)]
struct ListQ {
    #[serde(default)]
    status: Option<String>,
}

async fn list(p: Page, Query(q): Query<ListQ>) -> Result<Markup> {
    let ctx = &p.ctx;
    let status = match q.status.as_deref() {
        Some(s @ ("draft" | "open" | "closed" | "published" | "cancelled")) => Some(s),
        _ => None,
    };
    let votes = store::list(&ctx.state.db, &p.actor, status).await?;
    let now = now_ms();
    let body = html! {
        h1 { (ctx.t("业主表决", "Owners' votes")) }
        p.muted { (ctx.t(
            "业主共同决定事项(民法典第二百七十八条):参与表决的专有部分面积和人数均须达到三分之二以上。",
            "Matters owners decide jointly (Civil Code art. 278): owners holding two thirds of the area and two thirds of the owners must take part.")) }
        nav.shortcuts {
            @if store::runs_any(&p.actor) {
                a.button href="/votes/new" { (ctx.t("新建表决", "New vote")) }
                a.button.secondary href="/votes/reelections" { (ctx.t("业委会换届期", "Re-election periods")) }
            }
        }
        @if votes.is_empty() {
            p.notice { (ctx.t("暂无表决。", "No votes here yet.")) }
        } @else {
            ul.list {
                @for (v, s) in &votes {
                    li {
                        span {
                            a href={ "/votes/" (v.id) } { strong { (v.title) } }
                            " " (status_tag(ctx, &v.status))
                            @if !s.voters.is_empty() && v.in_period(now) { " " span.tag { (ctx.t("可投票", "you may vote")) } }
                            br;
                            span.muted { (v.scope_name) " · " (ctx.text(&store::matter_label(v.matter))) }
                        }
                        span.muted {
                            (format_local(v.opens_at)) br; "— " (format_local(v.closes_at))
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(ctx, ctx.t("业主表决", "Owners' votes"), body))
}

async fn render_new(p: &Page, f: &Pairs, errors: &[FieldError]) -> Result<Markup> {
    let ctx = &p.ctx;
    let scopes = store::scopes(&ctx.state.db, &p.actor).await?;
    if scopes.is_empty() {
        return Err(Error::Forbidden);
    }
    let kind = if val(f, "form_kind").is_empty() {
        "yes_no"
    } else {
        val(f, "form_kind")
    };
    let bound_field = |name: &'static str, zh: &'static str, en: &'static str| {
        let kname = format!("{name}_kind");
        html! {
            label { (ctx.t(zh, en))
                span.inline-form {
                    select name=(kname) {
                        option value="at_least" selected[val(f, &kname) != "more_than"] { (ctx.t("以上(≥)", "at least (≥)")) }
                        option value="more_than" selected[val(f, &kname) == "more_than"] { (ctx.t("超过(>)", "more than (>)")) }
                    }
                    input type="text" name=(name) value=(val(f, name)) placeholder="2/3" inputmode="numeric";
                }
                (errors_for(ctx, errors, name))
            }
        }
    };
    let body = html! {
        (layout::crumbs(&[("/votes".into(), ctx.t("业主表决", "Owners' votes").into()),
            (String::new(), ctx.t("新建", "New").into())]))
        h1 { (ctx.t("新建表决", "New vote")) }
        form.stack.card method="post" action="/votes" {
            (csrf(ctx))
            label { (ctx.t("标题", "Title"))
                input type="text" name="title" value=(val(f, "title")) required;
                (errors_for(ctx, errors, "title"))
            }
            label { (ctx.t("说明", "Description"))
                textarea name="description" rows="3" { (val(f, "description")) }
                (errors_for(ctx, errors, "description"))
            }
            label { (ctx.t("表决范围", "Scope"))
                select name="scope_node_id" required {
                    option value="" { (ctx.t("请选择", "Choose")) }
                    @for (id, kind, name, depth) in &scopes {
                        option value=(id) selected[val(f, "scope_node_id") == id.to_string()] {
                            @for _ in 1..*depth { "— " } (name) " · "
                            (crate::tree::NodeKind::parse(kind).map(|k| ctx.text(&k.label()).to_string()).unwrap_or_default())
                        }
                    }
                }
                (errors_for(ctx, errors, "scope_node_id"))
            }
            label { (ctx.t("表决事项", "Matter"))
                select name="matter" required {
                    @for m in Matter::ALL {
                        option value=(chain::matter_code(m)) selected[val(f, "matter") == chain::matter_code(m)] {
                            (ctx.text(&store::matter_label(m)))
                        }
                    }
                }
                (errors_for(ctx, errors, "matter"))
            }
            label { input type="checkbox" name="is_fee_change" value="1" checked[!val(f, "is_fee_change").is_empty()];
                " " (ctx.t("涉及调整物业费", "changes the property fee")) }
            fieldset {
                legend { (ctx.t("表决形式", "Ballot form")) }
                @for (code, zh, en) in [("yes_no", "同意/反对/弃权", "yes / no / abstain"), ("election", "选举(候选人)", "election (candidates)"), ("options", "多选一(如选聘物业)", "one of several (e.g. property companies)")] {
                    label { input type="radio" name="form_kind" value=(code) checked[kind == code]; " " (ctx.t(zh, en)) }
                }
                (errors_for(ctx, errors, "form"))
                label { (ctx.t("候选人或选项(每行一个)", "Candidates or options (one a line)"))
                    textarea name="labels" rows="4" { (val(f, "labels")) }
                    (errors_for(ctx, errors, "labels")) (errors_for(ctx, errors, "candidates")) (errors_for(ctx, errors, "count"))
                }
                label { (ctx.t("应选名额(选举)", "Seats (election)"))
                    input type="number" name="seats" min="1" value=(val(f, "seats"));
                    (errors_for(ctx, errors, "seats"))
                }
            }
            fieldset {
                legend { (ctx.t("表决门槛(留空按民法典第二百七十八条)", "Thresholds (blank: Civil Code art. 278)")) }
                (bound_field("quorum_area", "参与面积", "Participating area"))
                (bound_field("quorum_owners", "参与人数", "Participating owners"))
                (bound_field("approve_area", "同意面积(占参与)", "Approving area (of participants)"))
                (bound_field("approve_owners", "同意人数(占参与)", "Approving owners (of participants)"))
            }
            label { (ctx.t("开始投票(北京时间,留空为开启时)", "Voting opens (Shanghai time; blank: at opening)"))
                input type="datetime-local" name="opens_at" value=(val(f, "opens_at"));
                (errors_for(ctx, errors, "opens_at"))
            }
            label { (ctx.t("截止投票(北京时间)", "Voting closes (Shanghai time)"))
                input type="datetime-local" name="closes_at" value=(val(f, "closes_at")) required;
                (errors_for(ctx, errors, "closes_at"))
            }
            label { (ctx.t("公示天数", "Publicity days"))
                input type="number" name="publicity_days" min="1" max="90" value=(if val(f, "publicity_days").is_empty() { "7" } else { val(f, "publicity_days") });
                (errors_for(ctx, errors, "publicity_days"))
            }
            button type="submit" { (ctx.t("保存草稿", "Save draft")) }
        }
    };
    Ok(layout::page(ctx, ctx.t("新建表决", "New vote"), body))
}

async fn new_page(p: Page) -> Result<Markup> {
    render_new(&p, &Pairs::new(), &[]).await
}

fn parse_bound(f: &Pairs, name: &str, errors: &mut Vec<FieldError>) -> Option<Option<Bound>> {
    let s = val(f, name).trim();
    if s.is_empty() {
        return Some(None);
    }
    let frac = s.split_once('/').and_then(|(a, b)| {
        Some(Fraction::new(
            a.trim().parse().ok()?,
            b.trim().parse().ok()?,
        ))
    });
    let Some(frac) = frac else {
        errors.push(FieldError::new(
            name,
            Text::new("请写成分数,如 2/3", "write a fraction such as 2/3"),
        ));
        return None;
    };
    Some(Some(if val(f, &format!("{name}_kind")) == "more_than" {
        Bound::MoreThan(frac)
    } else {
        Bound::AtLeast(frac)
    }))
}

fn opt_time(f: &Pairs, field: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let s = val(f, field).trim();
    if s.is_empty() {
        return None;
    }
    let t = parse_local_datetime(s);
    if t.is_none() {
        errors.push(FieldError::new(
            field,
            Text::new("时间格式不对", "not a valid date and time"),
        ));
    }
    t
}

fn new_vote_from(f: &Pairs, errors: &mut Vec<FieldError>) -> NewVote {
    let labels: Vec<String> = val(f, "labels").lines().map(str::to_string).collect();
    let kind = if val(f, "form_kind").is_empty() {
        "yes_no"
    } else {
        val(f, "form_kind")
    };
    let form = match kind {
        "election" => {
            let seats = val(f, "seats").trim().parse::<u32>().unwrap_or(0);
            serde_json::json!({ "kind": "election", "seats": seats })
        }
        other => serde_json::json!({ "kind": other }),
    };
    let matter = store::parse_matter(val(f, "matter"));
    let given = [
        parse_bound(f, "quorum_area", errors),
        parse_bound(f, "quorum_owners", errors),
        parse_bound(f, "approve_area", errors),
        parse_bound(f, "approve_owners", errors),
    ];
    let thresholds = match (given.iter().any(|g| matches!(g, Some(Some(_)))), matter) {
        (true, Some(m)) => {
            let law = Thresholds::for_matter(m);
            let pick = |i: usize, d: Bound| given[i].flatten().unwrap_or(d);
            Some(Thresholds {
                quorum_area: pick(0, law.quorum_area),
                quorum_owners: pick(1, law.quorum_owners),
                approve_area: pick(2, law.approve_area),
                approve_owners: pick(3, law.approve_owners),
            })
        }
        _ => None,
    };
    NewVote {
        scope_node_id: val(f, "scope_node_id").trim().parse().ok(),
        title: val(f, "title").to_string(),
        description: val(f, "description").to_string(),
        matter: val(f, "matter").to_string(),
        is_fee_change: !val(f, "is_fee_change").is_empty(),
        form: Some(form),
        labels,
        thresholds,
        opens_at: opt_time(f, "opens_at", errors),
        closes_at: opt_time(f, "closes_at", errors),
        publicity_days: val(f, "publicity_days").trim().parse().ok(),
    }
}

async fn create(p: Page, FormBody(f): FormBody<Pairs>) -> Result<Response> {
    let mut errors = Vec::new();
    let n = new_vote_from(&f, &mut errors);
    let res = match errors.is_empty() {
        true => store::create(&p.ctx.state.db, &p.actor, n, now_ms()).await,
        false => Err(Error::Invalid(errors)),
    };
    match res {
        Ok(v) => Ok(Redirect::to(&format!("/votes/{}", v.id)).into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_new(&p, &f, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
struct ShowQ {
    #[serde(default)]
    receipt: Option<String>,
}

fn tracker_block(ctx: &Ctx, t: &Tally) -> Markup {
    let (p, total) = (t.participating, t.total);
    html! {
        section.card {
            h2 { (ctx.t("参与情况", "Participation")) }
            div.grid {
                div.stat { b { (p.owners) " / " (total.owners) } span { (ctx.t("参与户数", "owners taking part")) } }
                div.stat { b { (m2(p.area)) " / " (m2(total.area)) } span { (ctx.t("参与面积(㎡)", "area taking part (m²)")) } }
            }
            label { (ctx.t("人数", "Owners"))
                progress max=(total.owners.max(1)) value=(p.owners) { (p.owners) "/" (total.owners) } }
            label { (ctx.t("面积", "Area"))
                progress max=(total.area.max(1)) value=(p.area) { (m2(p.area)) "/" (m2(total.area)) } }
            @if t.quorum.met {
                p.success { (ctx.t("已达到法定参与人数和面积。", "The quorum (area and owners) is met.")) }
            } @else {
                p.notice {
                    (ctx.t("距法定参与要求尚差:", "Still needed for the quorum: "))
                    (t.quorum.still_needed.owners.map_or("-".to_string(), |v| v.to_string())) " " (ctx.t("户", "owners")) ", "
                    (t.quorum.still_needed.area.map_or("-".to_string(), m2)) " ㎡"
                }
            }
        }
    }
}

fn result_block(ctx: &Ctx, v: &Vote, t: &Tally) -> Markup {
    let amount = |a: &crate::votes::tally::Amount| {
        format!("{} {} · {} ㎡", a.owners, ctx.t("户", "owners"), m2(a.area))
    };
    html! {
        section.card {
            h2 { (ctx.t("计票结果", "Count")) " — " (ctx.text(&outcome_label(t.outcome))) }
            p { (ctx.text(&t.summary())) }
            div.table-wrap { table {
                @match &t.counts {
                    Counts::YesNo(c) => {
                        tr { th { (ctx.t("同意", "Yes")) } td { (amount(&c.yes)) } }
                        tr { th { (ctx.t("反对", "No")) } td { (amount(&c.no)) } }
                        tr { th { (ctx.t("弃权", "Abstain")) } td { (amount(&c.abstain)) } }
                        tr { th { (ctx.t("无效", "Invalid")) } td { (amount(&c.invalid)) } }
                    }
                    Counts::Election(c) => {
                        @for id in &c.ranking {
                            @if let Some(cc) = c.candidates.iter().find(|x| x.candidate == *id) {
                                tr {
                                    th { (cc.rank) ". " (v.label(cc.candidate)) }
                                    td { (amount(&cc.support))
                                        @if c.elected.contains(id) { " " span.tag { (ctx.t("当选", "elected")) } }
                                        @if c.tied.contains(id) { " " span.tag { (ctx.t("票数相同", "tied")) } } }
                                }
                            }
                        }
                        tr { th { (ctx.t("空白票", "Blank")) } td { (amount(&c.blank)) } }
                    }
                    Counts::Options(c) => {
                        @for o in &c.options {
                            tr { th { (v.label(o.option)) } td { (amount(&o.support))
                                @if c.winner == Some(o.option) { " " span.tag { (ctx.t("选定", "chosen")) } } } }
                        }
                        tr { th { (ctx.t("弃权", "Abstain")) } td { (amount(&c.abstain)) } }
                    }
                }
            } }
        }
    }
}

fn ballot_form(
    ctx: &Ctx,
    v: &Vote,
    s: &Standing,
    voted: &[String],
    names: &HashMap<i64, String>,
) -> Markup {
    let open_keys: Vec<&String> = s.voters.iter().filter(|k| !voted.contains(k)).collect();
    if open_keys.is_empty() {
        return html! { p.success { (ctx.t("您已投票,谢谢参与。", "You have voted. Thank you.")) } };
    }
    let voter_name = |k: &str| -> String {
        v.electorate
            .as_ref()
            .and_then(|e| e.voter(k))
            .map(|x| {
                x.rooms
                    .iter()
                    .map(|r| names.get(&r.0).cloned().unwrap_or_else(|| r.0.to_string()))
                    .collect::<Vec<_>>()
                    .join("、")
            })
            .unwrap_or_default()
    };
    html! {
        form.stack.card method="post" action={ "/votes/" (v.id) "/ballot" } {
            (csrf(ctx))
            h2 { (ctx.t("投票", "Vote")) }
            @if open_keys.len() > 1 {
                fieldset { legend { (ctx.t("为哪一处房屋投票", "Which home this ballot is for")) }
                    @for (i, k) in open_keys.iter().enumerate() {
                        label { input type="radio" name="voter_key" value=(k) checked[i == 0]; " " (voter_name(k)) }
                    }
                }
            } @else {
                input type="hidden" name="voter_key" value=(open_keys[0]);
                p.muted { (ctx.t("房屋:", "Home: ")) (voter_name(open_keys[0])) }
            }
            @match v.form {
                Form::YesNo => {
                    @for (code, zh, en) in [("yes", "同意", "Yes"), ("no", "反对", "No"), ("abstain", "弃权", "Abstain")] {
                        label { input type="radio" name="choice" value=(code) required; " " (ctx.t(zh, en)) }
                    }
                }
                Form::Election { seats, .. } => {
                    input type="hidden" name="choice" value="candidates";
                    p.muted { (ctx.t("最多选择", "Choose at most")) " " (seats) }
                    @for (i, l) in v.labels.iter().enumerate() {
                        label { input type="checkbox" name="cand" value=(i + 1); " " (l) }
                    }
                }
                Form::Options { .. } => {
                    @for (i, l) in v.labels.iter().enumerate() {
                        label { input type="radio" name="choice" value={ "option:" (i + 1) } required; " " (l) }
                    }
                    label { input type="radio" name="choice" value="option:none"; " " (ctx.t("弃权", "Abstain")) }
                }
            }
            p.muted { (ctx.t("选票提交后不能更改。", "A ballot cannot be changed once cast.")) }
            button type="submit" { (ctx.t("提交选票", "Cast ballot")) }
        }
    }
}

fn staff_actions(
    ctx: &Ctx,
    v: &Vote,
    preview: Option<&crate::votes::electorate::Electorate>,
    now: i64,
) -> Markup {
    let post = |path: &str, zh: &'static str, en: &'static str| {
        html! {
            form.inline-form method="post" action={ "/votes/" (v.id) "/" (path) } { (csrf(ctx)) button type="submit" { (ctx.t(zh, en)) } }
        }
    };
    html! {
        section.card {
            h2 { (ctx.t("工作人员操作", "Staff actions")) }
            @if v.status == "draft" {
                @if let Some(e) = preview {
                    p { (ctx.t("开启时将冻结表决名册:", "Opening freezes the electorate: "))
                        (e.total_owners) " " (ctx.t("户", "owners")) ", " (m2(e.total_area)) " ㎡" }
                    @if !e.is_clean() {
                        div.notice { p { (ctx.t("房屋登记存在问题:", "The registry has problems:")) }
                            ul { @for pr in &e.problems { li { (ctx.text(&pr.text())) } } } }
                    }
                }
                form.stack method="post" action={ "/votes/" (v.id) "/open" } {
                    (csrf(ctx))
                    @if preview.is_some_and(|e| !e.is_clean()) {
                        label { input type="checkbox" name="override_problems" value="1"; " " (ctx.t("仍然开启(记入审计日志)", "open anyway (recorded in the audit log)")) }
                        label { (ctx.t("原因", "Reason")) input type="text" name="reason"; }
                    }
                    button type="submit" { (ctx.t("开启表决", "Open the vote")) }
                }
            }
            @if v.status == "open" {
                nav.shortcuts {
                    a.button href={ "/votes/" (v.id) "/paper" } { (ctx.t("录入纸质选票", "Enter paper ballots")) }
                }
                @if now >= v.closes_at { (post("close", "结束并计票", "Close and count")) }
                @else { p.muted { (ctx.t("截止后可计票:", "The count can run after ")) (format_local(v.closes_at)) } }
            }
            @if v.status == "closed" { (post("publish", "公示结果", "Publish the result")) }
            @if v.status == "draft" || v.status == "open" {
                form.inline-form method="post" action={ "/votes/" (v.id) "/cancel" } {
                    (csrf(ctx))
                    input type="text" name="reason" placeholder=(ctx.t("取消原因", "reason for cancelling"));
                    button.secondary type="submit" { (ctx.t("取消表决", "Cancel the vote")) }
                }
            }
        }
    }
}

async fn show(p: Page, Path(id): Path<i64>, Query(q): Query<ShowQ>) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let (v, s) = store::readable(db, &p.actor, id).await?;
    let now = now_ms();
    let box_ = if v.electorate.is_some() {
        store::ballots(db, sid, v.id).await?
    } else {
        Vec::new()
    };
    let t = store::count(&v, &box_);
    let voted: Vec<String> = box_
        .iter()
        .filter(|b| s.voters.contains(&b.voter_key))
        .map(|b| b.voter_key.clone())
        .collect();
    let names = if !s.voters.is_empty() {
        store::room_names(db, sid, &v.scope_path).await?
    } else {
        HashMap::new()
    };
    let preview = if s.staff && v.status == "draft" {
        Some(store::preview_electorate(db, &v, sid).await?)
    } else {
        None
    };
    let th = &v.thresholds;
    let body = html! {
        (layout::crumbs(&[("/votes".into(), ctx.t("业主表决", "Owners' votes").into()), (String::new(), v.title.clone())]))
        h1 { (v.title) " " (status_tag(ctx, &v.status)) }
        @if let Some(code) = q.receipt.as_deref().filter(|c| !c.is_empty()) {
            p.success { (ctx.t("投票成功。您的回执码:", "Your ballot is in the box. Receipt code: ")) strong { (code) }
                " · " a href={ "/votes/" (v.id) "/receipts" } { (ctx.t("在回执列表中核对", "check it in the receipts list")) } }
        }
        @if !v.description.is_empty() { p { (v.description) } }
        div.table-wrap { table.person {
            tr { th { (ctx.t("范围", "Scope")) } td { (v.scope_name) } }
            tr { th { (ctx.t("事项", "Matter")) } td { (ctx.text(&store::matter_label(v.matter))) @if v.is_fee_change { " · " (ctx.t("涉及物业费调整", "fee change")) } } }
            tr { th { (ctx.t("形式", "Form")) } td { (ctx.text(&form_label(&v.form))) } }
            @if !v.labels.is_empty() { tr { th { (ctx.t("候选人/选项", "Candidates / options")) } td { (v.labels.iter().enumerate().map(|(i, l)| format!("{}. {l}", i + 1)).collect::<Vec<_>>().join(";")) } } }
            tr { th { (ctx.t("投票期(北京时间)", "Voting period (Shanghai time)")) } td { (format_local(v.opens_at)) " — " (format_local(v.closes_at)) } }
            tr { th { (ctx.t("门槛", "Thresholds")) } td {
                (ctx.t("参与:面积 ", "Quorum: area ")) (bound_text(&th.quorum_area)) (ctx.t(",人数 ", ", owners ")) (bound_text(&th.quorum_owners)) br;
                (ctx.t("同意:面积 ", "Approval: area ")) (bound_text(&th.approve_area)) (ctx.t(",人数 ", ", owners ")) (bound_text(&th.approve_owners))
                @if !v.below_statute.is_empty() { br; span.error { (ctx.t("低于民法典要求:", "Below the statute: ")) (v.below_statute.join(", ")) } }
            } }
            @if !v.record_date.is_empty() { tr { th { (ctx.t("权益登记日", "Record date")) } td { (v.record_date) } } }
            @if let Some(d) = &v.electorate_digest { tr { th { (ctx.t("名册摘要", "Electorate digest")) } td { code { (d.get(..16).unwrap_or(d)) "…" } } } }
        } }
        @if v.status == "open" && !s.voters.is_empty() {
            @if v.in_period(now) { (ballot_form(ctx, &v, &s, &voted, &names)) }
            @else if now < v.opens_at { p.notice { (ctx.t("投票尚未开始,开始时间:", "Voting opens at ")) (format_local(v.opens_at)) } }
            @else { p.notice { (ctx.t("投票已截止。", "Voting has closed.")) } }
        }
        @if let Some(t) = &t {
            (tracker_block(ctx, t))
            @if (s.sees_running_result() && v.status == "open") || v.status == "closed" || v.status == "published" {
                @if v.status == "open" { p.muted { (ctx.t("以下为实时计票,仅工作人员可见。", "The running count below is shown to staff only.")) } }
                (result_block(ctx, &v, v.result.as_ref().unwrap_or(t)))
            }
        }
        nav.shortcuts {
            @if v.electorate.is_some() { a.button.secondary href={ "/votes/" (v.id) "/receipts" } { (ctx.t("投票回执", "Receipts")) } }
            @if v.status == "published" { a.button.secondary href={ "/votes/" (v.id) "/notice" } { (ctx.t("结果公告", "Notice")) } }
            @if s.exports() && v.electorate.is_some() { a.button.secondary href={ "/api/v1/votes/" (v.id) "/export" } { (ctx.t("导出票箱(JSON)", "Export the box (JSON)")) } }
        }
        @if s.staff { (staff_actions(ctx, &v, preview.as_ref(), now)) }
    };
    Ok(layout::page(ctx, &v.title, body))
}

fn choice_from(f: &Pairs) -> Result<Choice> {
    let c = val(f, "choice").trim();
    let bad = || Error::field("choice", Text::new("请选择", "make a choice"));
    Ok(match c {
        "yes" => Choice::Yes,
        "no" => Choice::No,
        "abstain" => Choice::Abstain,
        "option:none" => Choice::Option { id: None },
        "candidates" => Choice::Candidates {
            ids: f
                .iter()
                .filter(|(k, _)| k == "cand")
                .map(|(_, v)| v.trim().parse::<u32>().map_err(|_| bad()))
                .collect::<Result<_>>()?,
        },
        other => match other
            .strip_prefix("option:")
            .and_then(|n| n.parse::<u32>().ok())
        {
            Some(n) => Choice::Option { id: Some(n) },
            None => return Err(bad()),
        },
    })
}

async fn cast(p: Page, Path(id): Path<i64>, FormBody(f): FormBody<Pairs>) -> Result<Response> {
    let choice = choice_from(&f)?;
    let key = Some(val(&f, "voter_key").to_string()).filter(|k| !k.is_empty());
    let r = store::cast_online(
        &p.ctx.state.db,
        &p.actor,
        id,
        NewOnline {
            voter_key: key,
            choice,
        },
        now_ms(),
    )
    .await?;
    Ok(Redirect::to(&format!("/votes/{id}?receipt={}", r.code)).into_response())
}

async fn open(p: Page, Path(id): Path<i64>, FormBody(f): FormBody<Pairs>) -> Result<Response> {
    store::open(
        &p.ctx.state.db,
        &p.actor,
        id,
        !val(&f, "override_problems").is_empty(),
        val(&f, "reason"),
        now_ms(),
    )
    .await?;
    Ok(Redirect::to(&format!("/votes/{id}")).into_response())
}

async fn close(p: Page, Path(id): Path<i64>) -> Result<Response> {
    store::close(&p.ctx.state.db, &p.actor, id, now_ms()).await?;
    Ok(Redirect::to(&format!("/votes/{id}")).into_response())
}

async fn publish(p: Page, Path(id): Path<i64>) -> Result<Response> {
    store::publish(&p.ctx.state.db, &p.actor, id, now_ms()).await?;
    Ok(Redirect::to(&format!("/votes/{id}/notice")).into_response())
}

async fn cancel(p: Page, Path(id): Path<i64>, FormBody(f): FormBody<Pairs>) -> Result<Response> {
    store::cancel(&p.ctx.state.db, &p.actor, id, val(&f, "reason"), now_ms()).await?;
    Ok(Redirect::to(&format!("/votes/{id}")).into_response())
}

async fn paper_page(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    render_paper(&p, id, &Pairs::new(), &[]).await
}

async fn render_paper(p: &Page, id: i64, f: &Pairs, errors: &[FieldError]) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let (v, s) = store::readable(db, &p.actor, id).await?;
    if !s.staff {
        return Err(Error::Forbidden);
    }
    let names = store::room_names(db, sid, &v.scope_path).await?;
    let box_ = store::ballots(db, sid, v.id).await?;
    let papers = store::papers(db, sid, v.id, false).await?;
    let voted: Vec<&str> = box_.iter().map(|b| b.voter_key.as_str()).collect();
    let labels: Vec<(String, String, bool)> = v
        .electorate
        .as_ref()
        .map(|e| {
            e.voters
                .iter()
                .map(|x| {
                    let rooms = x
                        .rooms
                        .iter()
                        .map(|r| names.get(&r.0).cloned().unwrap_or_else(|| r.0.to_string()))
                        .collect::<Vec<_>>()
                        .join("、");
                    (
                        x.key.clone(),
                        rooms,
                        x.castable() && !voted.contains(&x.key.as_str()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let voters: Vec<(&String, &String)> = labels
        .iter()
        .filter(|l| l.2)
        .map(|l| (&l.0, &l.1))
        .collect();
    let label_of = |key: &str| -> String {
        labels
            .iter()
            .find(|l| l.0 == key)
            .map_or_else(|| key.to_string(), |l| l.1.clone())
    };
    let choices: Vec<(String, String)> = match v.form {
        Form::YesNo => vec![
            ("yes".into(), "同意 / yes".into()),
            ("no".into(), "反对 / no".into()),
            ("abstain".into(), "弃权 / abstain".into()),
        ],
        Form::Options { .. } => v
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| (format!("option:{}", i + 1), l.clone()))
            .chain([("option:none".to_string(), "弃权 / abstain".to_string())])
            .collect(),
        Form::Election { .. } => Vec::new(),
    };
    let body = html! {
        (layout::crumbs(&[("/votes".into(), ctx.t("业主表决", "Owners' votes").into()),
            (format!("/votes/{}", v.id), v.title.clone()), (String::new(), ctx.t("纸质选票", "Paper ballots").into())]))
        h1 { (ctx.t("录入纸质选票", "Enter paper ballots")) }
        p.muted { (ctx.t("纸质选票和书面委托投票由一名工作人员录入,另一名工作人员复核后才计入票箱。",
            "Paper and proxy ballots are entered by one staff member and go into the box only after another one checks them.")) }
        @if v.status != "open" { p.notice { (ctx.t("表决不在进行中。", "The vote is not open.")) } }
        @else {
            form.stack.card method="post" enctype="multipart/form-data" action={ "/votes/" (v.id) "/paper?_csrf=" (ctx.csrf) } {
                (csrf(ctx))
                label { (ctx.t("业主(房屋)", "Owner (home)"))
                    select name="voter_key" required {
                        option value="" { (ctx.t("请选择", "Choose")) }
                        @for (k, label) in &voters { option value=(k) selected[val(f, "voter_key") == k.as_str()] { (label) } }
                    }
                    (errors_for(ctx, errors, "voter_key"))
                }
                fieldset { legend { (ctx.t("选票内容", "The ballot says")) }
                    @if let Form::Election { .. } = v.form {
                        input type="hidden" name="choice" value="candidates";
                        @for (i, l) in v.labels.iter().enumerate() { label { input type="checkbox" name="cand" value=(i + 1); " " (l) } }
                    } @else {
                        @for (code, label) in &choices { label { input type="radio" name="choice" value=(code) checked[val(f, "choice") == code]; " " (label) } }
                    }
                    (errors_for(ctx, errors, "choice"))
                }
                fieldset { legend { (ctx.t("书面委托(如有)", "Written proxy (if any)")) }
                    label { (ctx.t("受托人姓名", "Proxy holder's name")) input type="text" name="proxy_holder" value=(val(f, "proxy_holder")); (errors_for(ctx, errors, "proxy_holder")) }
                    label { (ctx.t("授权委托书扫描件(JPEG、PNG、WebP 或 PDF,10 MB 以内)", "Scanned authorisation (JPEG, PNG, WebP or PDF, up to 10 MiB)"))
                        input type="file" name="proxy_file" accept="image/jpeg,image/png,image/webp,application/pdf"; (errors_for(ctx, errors, "proxy_file")) }
                }
                button type="submit" { (ctx.t("录入,等待复核", "Enter for checking")) }
            }
        }
        h2 { (ctx.t("待复核与已处理", "Waiting for a check, and handled")) }
        @if papers.is_empty() { p.muted { (ctx.t("暂无。", "None yet.")) } }
        ul.list {
            @for x in &papers {
                li {
                    span {
                        strong { (label_of(&x.voter_key)) }
                        " " span.tag { (ctx.text(&(if x.channel == "proxy" { BallotChannel::Proxy } else { BallotChannel::Paper }).label())) }
                        br; span.muted { (choice_label(&v, &x.choice)) " · " (ctx.t("录入:", "entered by ")) (x.entered_by_name) " · " (format_local(x.entered_at))
                            @if !x.proxy_holder.is_empty() { " · " (ctx.t("受托人:", "proxy: ")) (x.proxy_holder) }
                            @if let Some(sha) = &x.proxy_sha256 { " · " a href={ "/api/v1/votes/" (v.id) "/proxies/" (sha) } { (ctx.t("委托书", "authorisation")) } } }
                    }
                    span {
                        @if x.status == "pending" {
                            @if x.entered_by != p.actor.user_id {
                                form.inline-form method="post" action={ "/votes/" (v.id) "/paper/" (x.id) "/confirm" } { (csrf(ctx)) button type="submit" { (ctx.t("复核无误,计入票箱", "Checked: put it in the box")) } }
                            } @else { span.muted { (ctx.t("须由另一名工作人员复核", "another staff member must check it")) } }
                            form.inline-form method="post" action={ "/votes/" (v.id) "/paper/" (x.id) "/reject" } { (csrf(ctx))
                                input type="text" name="note" placeholder=(ctx.t("退回原因", "why")); button.secondary type="submit" { (ctx.t("退回", "Reject")) } }
                        } @else { (ctx.text(&match x.status.as_str() { "confirmed" => Text::new("已计入票箱", "in the box"), _ => Text::new("已退回", "rejected") })) }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("录入纸质选票", "Enter paper ballots"),
        body,
    ))
}

/// Reads the paper form: url-encoded, or multipart with the scanned proxy.
async fn read_paper(req: Request, st: &AppState) -> Result<(Pairs, Option<Vec<u8>>)> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        let FormBody(pairs) = FormBody::<Pairs>::from_request(req, st).await?;
        return Ok((pairs, None));
    }
    let reject = |status, text: String| crate::web::errors::map_rejection(status, &text);
    let mut mp = Multipart::from_request(req, st)
        .await
        .map_err(|r| reject(r.status(), r.body_text()))?;
    let (mut pairs, mut file) = (Pairs::new(), None);
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(reject(e.status(), e.body_text())),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "proxy_file" {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| reject(e.status(), e.body_text()))?;
            if !bytes.is_empty() {
                file = Some(bytes.to_vec());
            }
        } else {
            let v = field
                .text()
                .await
                .map_err(|e| reject(e.status(), e.body_text()))?;
            pairs.push((name, v));
        }
    }
    Ok((pairs, file))
}

async fn enter_paper(p: Page, Path(id): Path<i64>, req: Request) -> Result<Response> {
    let (f, file) = read_paper(req, &p.ctx.state).await?;
    let res = match choice_from(&f) {
        Ok(choice) => {
            let n = NewPaper {
                voter_key: val(&f, "voter_key").to_string(),
                choice,
                proxy_holder: Some(val(&f, "proxy_holder").to_string()),
            };
            store::enter_paper(
                &p.ctx.state.db,
                &p.actor,
                id,
                n,
                file.map(|bytes| ProxyFile { bytes }),
                now_ms(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match res {
        Ok(_) => Ok(Redirect::to(&format!("/votes/{id}/paper")).into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_paper(&p, id, &f, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

async fn confirm_paper(p: Page, Path((id, pid)): Path<(i64, i64)>) -> Result<Response> {
    store::confirm_paper(&p.ctx.state.db, &p.actor, id, pid, now_ms()).await?;
    Ok(Redirect::to(&format!("/votes/{id}/paper")).into_response())
}

async fn reject_paper(
    p: Page,
    Path((id, pid)): Path<(i64, i64)>,
    FormBody(f): FormBody<Pairs>,
) -> Result<Response> {
    store::reject_paper(
        &p.ctx.state.db,
        &p.actor,
        id,
        pid,
        val(&f, "note"),
        now_ms(),
    )
    .await?;
    Ok(Redirect::to(&format!("/votes/{id}/paper")).into_response())
}

async fn receipts(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    let ctx = &p.ctx;
    let (v, _) = store::readable(&ctx.state.db, &p.actor, id).await?;
    let box_ = store::ballots(&ctx.state.db, p.actor.subdistrict_id, v.id).await?;
    let list = chain::receipts(&box_);
    let body = html! {
        (layout::crumbs(&[("/votes".into(), ctx.t("业主表决", "Owners' votes").into()),
            (format!("/votes/{}", v.id), v.title.clone()), (String::new(), ctx.t("回执", "Receipts").into())]))
        h1 { (ctx.t("投票回执", "Ballot receipts")) }
        p.muted { (ctx.t("每张选票都有回执码,按投入票箱的顺序列出,不显示投票人和选择。每张选票的哈希都包含前一张的哈希,任何改动都会被发现。",
            "Every ballot has a receipt code, listed in the order it entered the box, without voter or choice. Each ballot's hash covers the one before it, so any change shows.")) }
        @if let Some(h) = &v.chain_head { p { (ctx.t("票箱末尾哈希:", "Head hash: ")) code { (h) } } }
        div.table-wrap { table {
            tr { th { (ctx.t("序号", "Seq")) } th { (ctx.t("回执码", "Code")) } th { (ctx.t("时间", "Time")) } }
            @for r in &list { tr { td { (r.seq) } td { code { (r.code) } } td { (format_local(r.cast_at_ms)) } } }
        } }
    };
    Ok(layout::page(
        ctx,
        ctx.t("投票回执", "Ballot receipts"),
        body,
    ))
}

async fn notice(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    let ctx = &p.ctx;
    let (v, _) = store::readable(&ctx.state.db, &p.actor, id).await?;
    let (Some(t), "published") = (&v.result, v.status.as_str()) else {
        return Err(Error::NotFound);
    };
    let body = html! {
        (layout::crumbs(&[("/votes".into(), ctx.t("业主表决", "Owners' votes").into()),
            (format!("/votes/{}", v.id), v.title.clone()), (String::new(), ctx.t("公告", "Notice").into())]))
        h1 { (ctx.t("表决结果公告", "Notice of the result")) }
        p { strong { (v.title) } br; (v.scope_name) " · " (ctx.text(&store::matter_label(v.matter))) }
        p { (ctx.t("投票期(北京时间):", "Voting period (Shanghai time): ")) (format_local(v.opens_at)) " — " (format_local(v.closes_at)) }
        (result_block(ctx, &v, t))
        @if let Some(u) = v.publicity_until { p.notice { (ctx.t("公示期至:", "Publicity period until: ")) (format_local(u)) } }
        @if let Some(h) = &v.chain_head { p.muted { (ctx.t("票箱末尾哈希:", "Head hash: ")) code { (h) } " · "
            a href={ "/votes/" (v.id) "/receipts" } { (ctx.t("核对回执", "check receipts")) } } }
    };
    Ok(layout::page(
        ctx,
        ctx.t("表决结果公告", "Notice of the result"),
        body,
    ))
}

async fn render_reelections(p: &Page, f: &Pairs, errors: &[FieldError]) -> Result<Markup> {
    let ctx = &p.ctx;
    let list = store::reelections(&ctx.state.db, &p.actor).await?;
    let scopes = store::scopes(&ctx.state.db, &p.actor).await?;
    let body = html! {
        (layout::crumbs(&[("/votes".into(), ctx.t("业主表决", "Owners' votes").into()), (String::new(), ctx.t("换届期", "Re-election periods").into())]))
        h1 { (ctx.t("业委会换届期", "Owners' committee re-election periods")) }
        p.muted { (ctx.text(&crate::votes::rules::REELECTION_REFUSAL)) }
        ul.list { @for r in &list { li { span {
            @if let Some(c) = r.committee_id { a href={ "/committees/" (c) } { strong { (r.node_name) } } }
            @else { strong { (r.node_name) } }
            br; span.muted { (r.starts_on) " — "
                @if r.ends_on.is_empty() { (ctx.t("至换届备案", "until the filing")) } @else { (r.ends_on) }
                " · " (r.note) }
        } } } }
        @if !scopes.is_empty() {
            form.stack.card method="post" action="/votes/reelections" {
                (csrf(ctx))
                label { (ctx.t("地点", "Place"))
                    select name="node_id" required { @for (id, _, name, depth) in &scopes {
                        option value=(id) selected[val(f, "node_id") == id.to_string()] { @for _ in 1..*depth { "— " } (name) } } }
                    (errors_for(ctx, errors, "node_id")) }
                label { (ctx.t("开始日期", "Starts on")) input type="date" name="starts_on" value=(val(f, "starts_on")) required; (errors_for(ctx, errors, "starts_on")) }
                label { (ctx.t("结束日期", "Ends on")) input type="date" name="ends_on" value=(val(f, "ends_on")) required; (errors_for(ctx, errors, "ends_on")) }
                label { (ctx.t("备注", "Note")) input type="text" name="note" value=(val(f, "note")); }
                button type="submit" { (ctx.t("登记换届期", "Record the period")) }
            }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("业委会换届期", "Re-election periods"),
        body,
    ))
}

async fn reelections(p: Page) -> Result<Markup> {
    render_reelections(&p, &Pairs::new(), &[]).await
}

async fn add_reelection(p: Page, FormBody(f): FormBody<Pairs>) -> Result<Response> {
    let n = NewReelection {
        node_id: val(&f, "node_id").trim().parse().ok(),
        starts_on: val(&f, "starts_on").to_string(),
        ends_on: val(&f, "ends_on").to_string(),
        note: val(&f, "note").to_string(),
    };
    match store::add_reelection(&p.ctx.state.db, &p.actor, n, now_ms()).await {
        Ok(_) => Ok(Redirect::to("/votes/reelections").into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_reelections(&p, &f, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}
