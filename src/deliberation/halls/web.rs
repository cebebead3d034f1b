//! The halls' pages: `/halls` (the halls in reach, open or closed), `/halls/new`, and
//! `/halls/{id}` — the overview with the five functions as tabs (plain links, so the page works
//! without JavaScript on a phone), each tab with its list and forms. Forms post to
//! `/halls/{id}/…`; the store checks and audits; an invalid form re-renders (422) with what was
//! typed and each message by its field.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;
use sqlx::Row;

use super::rules::{self, Channel, Function, MemberRole, Op, Stance, Standing};
use super::store::{self, Hall, Item, NewAnswer, NewHall, NewItem, NewMember, NewStep, Provenance};
use crate::access::{allows, Action, Target};
use crate::cases::intake::rules::parse_local_datetime;
use crate::clock::format_local;
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/halls", get(list).post(create))
        .route("/halls/new", get(new_page))
        .route("/halls/{id}", get(show))
        .route("/halls/{id}/close", post(close))
        .route("/halls/{id}/members", post(add_member))
        .route(
            "/halls/{id}/members/{member_id}/remove",
            post(remove_member),
        )
        .route("/halls/{id}/items", post(add_item))
        .route("/halls/{id}/items/{item_id}/answers", post(answer))
        .route("/halls/{id}/items/{item_id}/steps", post(step))
        .route(
            "/halls/{id}/items/{item_id}/documents",
            post(add_document).layer(axum::extract::DefaultBodyLimit::max(DOCUMENT_LIMIT)),
        )
        .route("/halls/{id}/documents/{doc_id}", get(document))
}

type Fields = HashMap<String, String>;

fn val<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).map_or("", String::as_str)
}

fn errors_for(ctx: &Ctx, errors: &[FieldError], field: &str) -> Markup {
    html! { @for e in errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } }
}

fn status_tag(ctx: &Ctx, code: &str) -> Markup {
    html! { span.tag { (ctx.text(&rules::status_label(code))) } }
}

#[derive(Deserialize, Default)]
struct ListQ {
    #[serde(default)]
    status: Option<String>,
}

fn runs_any(p: &Page) -> bool {
    p.actor
        .grants
        .iter()
        .any(|g| allows(&p.actor, Action::ReadPeople, Target::Node { path: &g.path }))
}

async fn list(p: Page, Query(q): Query<ListQ>) -> Result<Markup> {
    let ctx = &p.ctx;
    let status = match q.status.as_deref() {
        Some("closed") => Some("closed"),
        Some("all") => None,
        _ => Some("open"),
    };
    let halls = store::list(&ctx.state.db, &p.actor, status).await?;
    let tab = |code: &str, zh: &'static str, en: &'static str| {
        let current = status.unwrap_or("all") == code;
        html! { a.button.secondary[!current] href={ "/halls?status=" (code) } aria-current=[current.then_some("page")] { (ctx.t(zh, en)) } }
    };
    let body = html! {
        h1 { (ctx.t("议事厅", "Deliberation halls")) }
        p.muted { (ctx.t(
            "议事厅围绕一个地点、一个议题,设接待咨询、矛盾调处、意见反馈、政策宣传、代办跑腿五项功能,线上线下都可参与。",
            "A hall serves one place and one topic with five functions — consultation, mediation, feedback, policy publicity and errand proxy — online and offline.")) }
        nav.shortcuts {
            (tab("open", "进行中", "Open")) (tab("closed", "已结束", "Closed")) (tab("all", "全部", "All"))
            @if runs_any(&p) { a.button href="/halls/new" { (ctx.t("新建议事厅", "New hall")) } }
        }
        @if halls.is_empty() {
            p.notice { (ctx.t("暂无议事厅。", "No halls here yet.")) }
        } @else {
            ul.list {
                @for h in &halls {
                    li {
                        span {
                            a href={ "/halls/" (h.id) } { strong { (h.name) } }
                            " " (status_tag(ctx, &h.status)) br;
                            span.muted { (h.node_name.clone().unwrap_or_default()) " · " (h.topic.chars().take(60).collect::<String>()) }
                        }
                        span.muted {
                            (ctx.t("待答复咨询", "Open questions")) " " (h.counts.consultation_open) br;
                            (ctx.t("未答复意见", "Unanswered feedback")) " " (h.counts.feedback_unanswered)
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("议事厅", "Deliberation halls"),
        body,
    ))
}

async fn render_new(p: &Page, f: &Fields, errors: &[FieldError]) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let places = store::places(db, &p.actor).await?;
    if places.is_empty() {
        return Err(Error::Forbidden);
    }
    let units = crate::cases::routing::store::all_units(db, p.actor.subdistrict_id).await?;
    let body = html! {
        (layout::crumbs(&[("/halls".into(), ctx.t("议事厅", "Deliberation halls").into()),
            (String::new(), ctx.t("新建", "New").into())]))
        h1 { (ctx.t("新建议事厅", "New deliberation hall")) }
        form.stack.card method="post" action="/halls" {
            (csrf(ctx))
            label { (ctx.t("名称", "Name"))
                input type="text" name="name" value=(val(f, "name")) placeholder=(ctx.t("如:章浜电梯议事厅", "e.g. Zhangbang lift hall")) required;
                (errors_for(ctx, errors, "name"))
            }
            label { (ctx.t("议题", "Topic"))
                textarea name="topic" rows="3" required { (val(f, "topic")) }
                (errors_for(ctx, errors, "topic"))
            }
            label { (ctx.t("地点", "Place"))
                select name="node_id" required {
                    option value="" { (ctx.t("请选择", "Choose")) }
                    @for n in &places {
                        option value=(n.id) selected[val(f, "node_id") == n.id.to_string()] {
                            @for _ in 1..n.depth { "— " } (n.name) " · " (ctx.text(&n.kind.label()))
                        }
                    }
                }
                (errors_for(ctx, errors, "node_id"))
            }
            label { (ctx.t("主持单位", "Hosting unit"))
                select name="host_unit_id" {
                    option value="" { (ctx.t("(不指定)", "(none)")) }
                    @for u in &units {
                        option value=(u.id) selected[val(f, "host_unit_id") == u.id.to_string()] {
                            (u.name) " · " (ctx.text(&u.kind_label()))
                        }
                    }
                }
                (errors_for(ctx, errors, "host_unit_id"))
            }
            button type="submit" { (ctx.t("创建", "Create")) }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("新建议事厅", "New deliberation hall"),
        body,
    ))
}

async fn new_page(p: Page) -> Result<Markup> {
    render_new(&p, &Fields::new(), &[]).await
}

/// An optional id typed into a form; a non-number is a field error.
fn opt_id(f: &Fields, field: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let s = val(f, field).trim();
    if s.is_empty() {
        return None;
    }
    match s.parse::<i64>() {
        Ok(v) => Some(v),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                Text::new("请从列表中选择", "choose from the list"),
            ));
            None
        }
    }
}

/// An optional `datetime-local` typed into a form (Shanghai time).
fn opt_time(f: &Fields, field: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
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

fn said_from(f: &Fields, errors: &mut Vec<FieldError>) -> Provenance {
    Provenance {
        channel: val(f, "channel").to_string(),
        speaker: val(f, "speaker").to_string(),
        occurred_at: opt_time(f, "occurred_at", errors),
    }
}

/// Merges the form's own parse errors with the store's answer.
async fn run<T, Fut>(parse_errors: Vec<FieldError>, call: Fut) -> Result<T>
where
    Fut: std::future::Future<Output = Result<T>>,
{
    if !parse_errors.is_empty() {
        return Err(Error::Invalid(parse_errors));
    }
    call.await
}

async fn create(p: Page, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let new = NewHall {
        name: val(&f, "name").into(),
        topic: val(&f, "topic").into(),
        node_id: opt_id(&f, "node_id", &mut errors),
        host_unit_id: opt_id(&f, "host_unit_id", &mut errors),
    };
    match run(errors, store::create(&p.ctx.state.db, &p.actor, new)).await {
        Ok(h) => Ok(Redirect::to(&format!("/halls/{}", h.id)).into_response()),
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
    tab: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

/// A form that failed, to show again with what was typed.
struct Failed<'a> {
    form: &'a str,
    fields: &'a Fields,
    errors: &'a [FieldError],
}

fn tab_of(s: Option<&str>) -> Option<Function> {
    s.and_then(Function::parse)
}

fn channel_fields(ctx: &Ctx, s: Standing, f: &Fields, errors: &[FieldError]) -> Markup {
    if !rules::may(s, Op::RecordOffline) {
        return html! {};
    }
    html! {
        fieldset {
            legend { (ctx.t("渠道(代为登记线下意见时填写)", "Channel (when recording an offline contribution)")) }
            label { (ctx.t("渠道", "Channel"))
                select name="channel" {
                    @for c in rules::CHANNELS {
                        option value=(c.as_str()) selected[val(f, "channel") == c.as_str()] { (ctx.text(&c.label())) }
                    }
                }
                (errors_for(ctx, errors, "channel"))
            }
            label { (ctx.t("代谁登记(姓名)", "On behalf of (name)"))
                input type="text" name="speaker" value=(val(f, "speaker"));
                (errors_for(ctx, errors, "speaker"))
            }
            label { (ctx.t("实际发生时间", "When it really happened"))
                input type="datetime-local" name="occurred_at" value=(val(f, "occurred_at"));
                (errors_for(ctx, errors, "occurred_at"))
            }
        }
    }
}

fn provenance_line(ctx: &Ctx, channel: &str, speaker: &str, at: i64) -> Markup {
    let c = Channel::parse(channel).unwrap_or(Channel::Online);
    html! {
        span.muted {
            (speaker) " · " (ctx.text(&c.label()))
            @if c.offline() { " · " (ctx.t("工作人员代为登记", "recorded by staff")) }
            " · " (format_local(at))
        }
    }
}

fn item_form(
    ctx: &Ctx,
    h: &Hall,
    s: Standing,
    function: Function,
    failed: Option<&Failed<'_>>,
    members: &[store::Member],
) -> Markup {
    if h.status != "open" || !rules::may(s, Op::Contribute(function)) {
        return html! {};
    }
    let empty = Fields::new();
    let (f, errors): (&Fields, &[FieldError]) = match failed {
        Some(x) if x.form == "item" => (x.fields, x.errors),
        _ => (&empty, &[]),
    };
    let heading = match function {
        Function::Consultation => ctx.t("我要咨询", "Ask a question"),
        Function::Feedback => ctx.t("提出意见", "Give feedback"),
        Function::Publicity => ctx.t("发布政策或通知", "Publish a document or notice"),
        Function::Mediation => ctx.t("安排调处", "Schedule a mediation session"),
        Function::Errand => ctx.t("申请代办", "Request an errand"),
    };
    html! {
        h3 { (heading) }
        form.stack.card method="post" action={ "/halls/" (h.id) "/items" } {
            (csrf(ctx))
            input type="hidden" name="function" value=(function.as_str());
            @match function {
                Function::Consultation => {
                    label { (ctx.t("问题", "Question"))
                        textarea name="body" rows="3" required { (val(f, "body")) }
                        (errors_for(ctx, errors, "body"))
                    }
                }
                Function::Feedback => {
                    label { (ctx.t("态度", "Stance"))
                        select name="stance" {
                            @for x in rules::STANCES {
                                option value=(x.as_str()) selected[val(f, "stance") == x.as_str()] { (ctx.text(&x.label())) }
                            }
                        }
                        (errors_for(ctx, errors, "stance"))
                    }
                    label { (ctx.t("意见", "Opinion"))
                        textarea name="body" rows="3" required { (val(f, "body")) }
                        (errors_for(ctx, errors, "body"))
                    }
                }
                Function::Publicity => {
                    label { (ctx.t("标题", "Title"))
                        input type="text" name="title" value=(val(f, "title")) required;
                        (errors_for(ctx, errors, "title"))
                    }
                    label { (ctx.t("正文", "Text"))
                        textarea name="body" rows="5" { (val(f, "body")) }
                        (errors_for(ctx, errors, "body"))
                    }
                    label { (ctx.t("链接(可选)", "Link (optional)"))
                        input type="text" name="link" value=(val(f, "link")) placeholder="https://";
                        (errors_for(ctx, errors, "link"))
                    }
                }
                Function::Mediation => {
                    label { (ctx.t("纠纷事由", "The dispute"))
                        input type="text" name="title" value=(val(f, "title")) required;
                        (errors_for(ctx, errors, "title"))
                    }
                    label { (ctx.t("当事各方(每行一个)", "Parties (one a line)"))
                        textarea name="parties" rows="3" required { (val(f, "parties")) }
                        (errors_for(ctx, errors, "parties"))
                    }
                    label { (ctx.t("调解员(成员)", "Mediator (a member)"))
                        select name="mediator_member_id" {
                            option value="" { (ctx.t("(填写姓名)", "(type a name)")) }
                            @for m in members {
                                option value=(m.id) selected[val(f, "mediator_member_id") == m.id.to_string()] { (m.name) }
                            }
                        }
                        (errors_for(ctx, errors, "mediator_member_id"))
                    }
                    label { (ctx.t("或调解员姓名", "Or the mediator's name"))
                        input type="text" name="mediator_name" value=(val(f, "mediator_name"));
                        (errors_for(ctx, errors, "mediator_name"))
                    }
                    label { (ctx.t("时间", "When"))
                        input type="datetime-local" name="scheduled_at" value=(val(f, "scheduled_at"));
                        (errors_for(ctx, errors, "scheduled_at"))
                    }
                    label { (ctx.t("地点", "Where"))
                        input type="text" name="venue" value=(val(f, "venue"));
                        (errors_for(ctx, errors, "venue"))
                    }
                    label { (ctx.t("说明", "Notes"))
                        textarea name="body" rows="2" { (val(f, "body")) }
                        (errors_for(ctx, errors, "body"))
                    }
                }
                Function::Errand => {
                    label { (ctx.t("代办事项", "What to do"))
                        textarea name="body" rows="3" required { (val(f, "body")) }
                        (errors_for(ctx, errors, "body"))
                    }
                    @if s.staff {
                        label { (ctx.t("为谁代办", "Done for"))
                            input type="text" name="on_behalf_of" value=(val(f, "on_behalf_of"));
                            (errors_for(ctx, errors, "on_behalf_of"))
                        }
                    }
                }
            }
            @if !matches!(function, Function::Publicity | Function::Mediation) { (channel_fields(ctx, s, f, errors)) }
            @if errors.iter().any(|e| e.field == "function") { (errors_for(ctx, errors, "function")) }
            button type="submit" { (ctx.t("提交", "Submit")) }
        }
    }
}

fn answer_form(ctx: &Ctx, h: &Hall, s: Standing, it: &Item, failed: Option<&Failed<'_>>) -> Markup {
    if h.status != "open" || !rules::may(s, Op::Answer) {
        return html! {};
    }
    let key = format!("answer:{}", it.id);
    let empty = Fields::new();
    let (f, errors): (&Fields, &[FieldError]) = match failed {
        Some(x) if x.form == key => (x.fields, x.errors),
        _ => (&empty, &[]),
    };
    html! {
        form.stack method="post" action={ "/halls/" (h.id) "/items/" (it.id) "/answers" } {
            (csrf(ctx))
            label { (ctx.t("答复", "Answer"))
                textarea name="body" rows="2" required { (val(f, "body")) }
                (errors_for(ctx, errors, "body"))
            }
            button type="submit" { (ctx.t("答复", "Answer")) }
        }
    }
}

fn step_form(ctx: &Ctx, h: &Hall, s: Standing, it: &Item, failed: Option<&Failed<'_>>) -> Markup {
    if h.status != "open" || !rules::may(s, Op::Run) {
        return html! {};
    }
    let key = format!("step:{}", it.id);
    let empty = Fields::new();
    let (f, errors): (&Fields, &[FieldError]) = match failed {
        Some(x) if x.form == key => (x.fields, x.errors),
        _ => (&empty, &[]),
    };
    let choices: Vec<&str> = if it.function == "errand" {
        rules::ERRAND_STATUSES
            .into_iter()
            .filter(|to| rules::errand_step(&it.status, to).is_ok())
            .collect()
    } else if matches!(it.status.as_str(), "pending" | "adjourned") {
        rules::MEDIATION_OUTCOMES.to_vec()
    } else {
        Vec::new()
    };
    if choices.is_empty() {
        return html! {};
    }
    html! {
        form.stack method="post" action={ "/halls/" (h.id) "/items/" (it.id) "/steps" } {
            (csrf(ctx))
            label { (if it.function == "errand" { ctx.t("下一步", "Next step") } else { ctx.t("调处结果", "Outcome") })
                select name="status" {
                    @for c in &choices { option value=(c) selected[val(f, "status") == *c] { (ctx.text(&rules::status_label(c))) } }
                }
                (errors_for(ctx, errors, "status")) (errors_for(ctx, errors, "outcome"))
            }
            @if it.function == "mediation" {
                label { (ctx.t("协议内容(达成一致时)", "Agreement (when agreed)"))
                    textarea name="agreement" rows="2" { (val(f, "agreement")) }
                    (errors_for(ctx, errors, "agreement"))
                }
            }
            label { (ctx.t("备注", "Note"))
                input type="text" name="note" value=(val(f, "note"));
                (errors_for(ctx, errors, "note"))
            }
            button type="submit" { (ctx.t("保存", "Save")) }
        }
    }
}

/// A document upload's body: the file plus the form's few fields.
const DOCUMENT_LIMIT: usize = super::documents::MAX_BYTES + 64 * 1024;

fn documents_list(h: &Hall, it: &Item) -> Markup {
    html! {
        @if !it.documents.is_empty() {
            ul.documents {
                @for d in &it.documents {
                    li {
                        a href={ "/halls/" (h.id) "/documents/" (d.id) } { (d.file_name) }
                        " " small { "(" (size_label(d.size)) ")" }
                    }
                }
            }
        }
    }
}

fn size_label(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!(
            "{}.{} MB",
            bytes / (1024 * 1024),
            bytes % (1024 * 1024) * 10 / (1024 * 1024)
        )
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

fn document_form(
    ctx: &Ctx,
    h: &Hall,
    s: Standing,
    it: &Item,
    failed: Option<&Failed<'_>>,
) -> Markup {
    if h.status != "open" || !rules::may(s, Op::Run) || it.function != "publicity" {
        return html! {};
    }
    let key = format!("document:{}", it.id);
    let errors: &[FieldError] = match failed {
        Some(x) if x.form == key => x.errors,
        _ => &[],
    };
    html! {
        form.stack method="post" enctype="multipart/form-data"
            action={ "/halls/" (h.id) "/items/" (it.id) "/documents?_csrf=" (ctx.csrf) } {
            label { (ctx.t("附上文件(PDF、图片、Word、Excel,不超过 10 MB)", "Attach a file (PDF, image, Word, Excel; at most 10 MB)"))
                input type="file" name="file" required
                    accept="application/pdf,image/jpeg,image/png,image/webp,.docx,.xlsx,.pptx";
                (errors_for(ctx, errors, "file"))
            }
            button type="submit" { (ctx.t("上传", "Upload")) }
        }
    }
}

async fn add_document(
    p: Page,
    Path((id, item_id)): Path<(i64, i64)>,
    mut mp: axum::extract::Multipart,
) -> Result<Response> {
    let reject = |status, text: String| crate::web::errors::map_rejection(status, &text);
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(reject(e.status(), e.body_text())),
        };
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("").to_string();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| reject(e.status(), e.body_text()))?;
            file = Some((name, bytes.to_vec()));
        }
    }
    let (name, bytes) = file.unwrap_or_default();
    let r = super::documents::add(&p.ctx.state.db, &p.actor, id, item_id, &name, bytes).await;
    let key = format!("document:{item_id}");
    after(&p, id, "publicity", &key, &Fields::new(), r.map(|_| ())).await
}

async fn document(p: Page, Path((id, doc_id)): Path<(i64, i64)>) -> Result<Response> {
    let (d, bytes) = super::documents::file(&p.ctx.state.db, &p.actor, id, doc_id).await?;
    Ok(super::documents::response(&d, bytes))
}

fn item_card(ctx: &Ctx, h: &Hall, s: Standing, it: &Item, failed: Option<&Failed<'_>>) -> Markup {
    html! {
        div.card id={ "item-" (it.id) } {
            p {
                @if let Some(x) = Stance::parse(&it.stance) { span.tag { (ctx.text(&x.label())) } " " }
                strong { (it.headline()) } " " (status_tag(ctx, &it.status))
            }
            @if !it.title.is_empty() && !it.body.is_empty() { p { (it.body) } }
            @else if it.title.is_empty() && it.body.chars().count() > 40 { p { (it.body) } }
            @if !it.link.is_empty() { p { a href=(it.link) rel="noopener noreferrer" { (it.link) } } }
            (documents_list(h, it))
            @if it.function == "mediation" {
                dl.facts {
                    dt { (ctx.t("当事各方", "Parties")) } dd { (it.parties.join("、")) }
                    dt { (ctx.t("调解员", "Mediator")) } dd { (it.mediator_name) }
                    @if let Some(at) = it.scheduled_at { dt { (ctx.t("时间", "When")) } dd { (format_local(at)) } }
                    @if !it.venue.is_empty() { dt { (ctx.t("地点", "Where")) } dd { (it.venue) } }
                    @if !it.agreement.is_empty() { dt { (ctx.t("协议", "Agreement")) } dd { (it.agreement) } }
                }
            }
            @if it.function == "errand" { p { (ctx.t("为", "For")) " " strong { (it.on_behalf_of) } } }
            p { (provenance_line(ctx, &it.channel, &it.speaker, it.occurred_at)) }
            @if !it.replies.is_empty() {
                ol.timeline {
                    @for r in &it.replies {
                        li {
                            @if r.kind == "answer" {
                                strong { (ctx.t("答复", "Answer")) }
                                @if let Some(m) = &r.member_name { " · " (m) }
                                " " (r.body)
                            } @else {
                                (status_tag(ctx, &r.status_to)) " " (r.body)
                            }
                            br; (provenance_line(ctx, &r.channel, &r.speaker, r.occurred_at))
                        }
                    }
                }
            }
            @if rules::Function::parse(&it.function).is_some_and(Function::answered) { (answer_form(ctx, h, s, it, failed)) }
            @if matches!(it.function.as_str(), "errand" | "mediation") { (step_form(ctx, h, s, it, failed)) }
            (document_form(ctx, h, s, it, failed))
        }
    }
}

async fn render_hall(
    p: &Page,
    id: i64,
    tab: Option<&str>,
    failed: Option<&Failed<'_>>,
    saved: bool,
) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let (h, s) = store::readable(db, &p.actor, id).await?;
    let members = store::members(db, sid, id).await?;
    let function = tab_of(tab);
    let members_tab = tab == Some("members");
    let mut items = match function {
        Some(f) => store::items(db, sid, id, Some(f)).await?,
        None => Vec::new(),
    };
    store::mask_for(&mut items, &p.actor, s);
    let c = &h.counts;
    let count_of = |f: Function| -> (i64, i64) {
        match f {
            Function::Consultation => (c.consultation_open, c.consultation_total),
            Function::Mediation => (c.mediation_pending, c.mediation_total),
            Function::Feedback => (c.feedback_unanswered, c.feedback_total),
            Function::Publicity => (0, c.publicity_total),
            Function::Errand => (c.errand_open, c.errand_total),
        }
    };
    let title = h.name.clone();
    let member_markup = if members_tab && rules::may(s, Op::Run) && h.status == "open" {
        member_form(p, &h, failed).await?
    } else {
        html! {}
    };
    let body = html! {
        (layout::crumbs(&[("/halls".into(), ctx.t("议事厅", "Deliberation halls").into()), (String::new(), h.name.clone())]))
        h1 { (h.name) " " (status_tag(ctx, &h.status)) }
        @if saved { p.success role="status" { (ctx.t("已保存。", "Saved.")) } }
        dl.facts {
            dt { (ctx.t("议题", "Topic")) } dd { (h.topic) }
            dt { (ctx.t("地点", "Place")) } dd { (h.node_name.clone().unwrap_or_default()) }
            @if let Some(u) = &h.host_unit_name { dt { (ctx.t("主持单位", "Hosting unit")) } dd { (u) } }
            dt { (ctx.t("成立时间", "Opened")) } dd { (format_local(h.created_at)) }
            @if h.status == "closed" { dt { (ctx.t("结果", "Outcome")) } dd { (h.outcome) } }
        }
        nav.shortcuts aria-label=(ctx.t("五项功能", "The five functions")) {
            a.button.secondary[tab.is_some()] href={ "/halls/" (h.id) } { (ctx.t("概览", "Overview")) }
            @for f in rules::FUNCTIONS {
                @let (open, _) = count_of(f);
                a.button.secondary[function != Some(f)] href={ "/halls/" (h.id) "?tab=" (f.as_str()) } {
                    (ctx.text(&f.label())) @if open > 0 { " (" (open) ")" }
                }
            }
            a.button.secondary[!members_tab] href={ "/halls/" (h.id) "?tab=members" } { (ctx.t("成员", "Members")) " (" (members.len()) ")" }
        }
        @if tab.is_none() {
            div.grid {
                @for f in rules::FUNCTIONS {
                    @let (open, total) = count_of(f);
                    a.stat href={ "/halls/" (h.id) "?tab=" (f.as_str()) } {
                        b { (total) }
                        span { (ctx.text(&f.label())) }
                        @if open > 0 {
                            br; span.error { (match f {
                                Function::Consultation => ctx.t("待答复 ", "unanswered "),
                                Function::Feedback => ctx.t("未答复 ", "unanswered "),
                                Function::Mediation => ctx.t("待调处 ", "pending "),
                                _ => ctx.t("办理中 ", "open "),
                            }) (open) }
                        }
                    }
                }
            }
            @if h.status == "open" && rules::may(s, Op::Run) {
                @let empty = Fields::new();
                @let (f, errors): (&Fields, &[FieldError]) = match failed { Some(x) if x.form == "close" => (x.fields, x.errors), _ => (&empty, &[]) };
                h2 { (ctx.t("结束议事厅", "Close the hall")) }
                form.stack.card method="post" action={ "/halls/" (h.id) "/close" } {
                    (csrf(ctx))
                    label { (ctx.t("结果摘要", "Outcome summary"))
                        textarea name="outcome" rows="3" required { (val(f, "outcome")) }
                        (errors_for(ctx, errors, "outcome"))
                    }
                    button.secondary type="submit" { (ctx.t("结束", "Close")) }
                }
            }
        }
        @if let Some(f) = function {
            h2 { (ctx.text(&f.label())) }
            @if f.answered() {
                p.muted { (ctx.t("未答复", "Unanswered")) " " (count_of(f).0) " / " (count_of(f).1) }
            }
            (item_form(ctx, &h, s, f, failed, &members))
            @if items.is_empty() { p.notice { (ctx.t("暂无记录。", "Nothing here yet.")) } }
            @for it in &items { (item_card(ctx, &h, s, it, failed)) }
        }
        @if members_tab {
            h2 { (ctx.t("成员", "Members")) }
            ul.list {
                @for m in &members {
                    li {
                        span { strong { (m.name) } " " span.tag { (ctx.text(&MemberRole::parse(&m.role).map_or(Text::owned(m.role.clone(), m.role.clone()), MemberRole::label))) }
                            @if !m.label.is_empty() { " " span.muted { (m.label) } } }
                        @if rules::may(s, Op::Run) && h.status == "open" {
                            form.inline-form method="post" action={ "/halls/" (h.id) "/members/" (m.id) "/remove" } {
                                (csrf(ctx)) button.secondary type="submit" { (ctx.t("移除", "Remove")) }
                            }
                        }
                    }
                }
            }
            (member_markup)
        }
    };
    Ok(layout::page(ctx, &title, body))
}

async fn member_form(p: &Page, h: &Hall, failed: Option<&Failed<'_>>) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let users = crate::auth::users::list(db, sid).await?;
    let orgs =
        sqlx::query("SELECT id, name FROM orgs WHERE subdistrict_id = $1 ORDER BY kind, name")
            .bind(sid)
            .fetch_all(db.read())
            .await?;
    let empty = Fields::new();
    let (f, errors): (&Fields, &[FieldError]) = match failed {
        Some(x) if x.form == "member" => (x.fields, x.errors),
        _ => (&empty, &[]),
    };
    Ok(html! {
        h3 { (ctx.t("添加成员", "Add a member")) }
        form.stack.card method="post" action={ "/halls/" (h.id) "/members" } {
            (csrf(ctx))
            label { (ctx.t("角色", "Role"))
                select name="role" {
                    @for r in rules::MEMBER_ROLES { option value=(r.as_str()) selected[val(f, "role") == r.as_str()] { (ctx.text(&r.label())) } }
                }
                (errors_for(ctx, errors, "role"))
            }
            label { (ctx.t("单位", "Organisation"))
                select name="org_id" {
                    option value="" { (ctx.t("(无)", "(none)")) }
                    @for o in &orgs {
                        @let oid: i64 = o.get(0);
                        option value=(oid) selected[val(f, "org_id") == oid.to_string()] { (o.get::<String, _>(1)) }
                    }
                }
                (errors_for(ctx, errors, "org_id"))
            }
            label { (ctx.t("用户(可代表议事厅答复)", "User (may answer for the hall)"))
                select name="user_id" {
                    option value="" { (ctx.t("(无)", "(none)")) }
                    @for u in users.iter().filter(|u| !u.disabled) {
                        option value=(u.id) selected[val(f, "user_id") == u.id.to_string()] { (u.display_name) " (" (u.username) ")" }
                    }
                }
                (errors_for(ctx, errors, "user_id"))
            }
            label { (ctx.t("名称", "Name"))
                input type="text" name="name" value=(val(f, "name")) placeholder=(ctx.t("不填则用单位或用户名称", "blank: the organisation's or user's name"));
                (errors_for(ctx, errors, "name"))
            }
            label { (ctx.t("说明(如:加装电梯第三方)", "Label (e.g. lift company)"))
                input type="text" name="label" value=(val(f, "label"));
                (errors_for(ctx, errors, "label"))
            }
            button type="submit" { (ctx.t("添加", "Add")) }
        }
    })
}

async fn show(p: Page, Path(id): Path<i64>, Query(q): Query<ShowQ>) -> Result<Markup> {
    render_hall(&p, id, q.tab.as_deref(), None, q.saved.is_some()).await
}

/// After a form: back to its tab, or the page again with the errors (422).
async fn after(
    p: &Page,
    id: i64,
    tab: &str,
    form: &str,
    fields: &Fields,
    result: Result<()>,
) -> Result<Response> {
    match result {
        Ok(()) => {
            let q = if tab.is_empty() {
                "?saved=1".to_string()
            } else {
                format!("?tab={tab}&saved=1")
            };
            Ok(Redirect::to(&format!("/halls/{id}{q}")).into_response())
        }
        Err(Error::Invalid(errors)) => {
            let failed = Failed {
                form,
                fields,
                errors: &errors,
            };
            let page = render_hall(
                p,
                id,
                (!tab.is_empty()).then_some(tab),
                Some(&failed),
                false,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn close(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let r = store::close(&p.ctx.state.db, &p.actor, id, val(&f, "outcome")).await;
    after(&p, id, "", "close", &f, r.map(|_| ())).await
}

async fn add_member(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let m = NewMember {
        user_id: opt_id(&f, "user_id", &mut errors),
        org_id: opt_id(&f, "org_id", &mut errors),
        name: val(&f, "name").into(),
        role: val(&f, "role").into(),
        label: val(&f, "label").into(),
    };
    let r = run(errors, store::add_member(&p.ctx.state.db, &p.actor, id, m)).await;
    after(&p, id, "members", "member", &f, r.map(|_| ())).await
}

async fn remove_member(p: Page, Path((id, member_id)): Path<(i64, i64)>) -> Result<Response> {
    store::remove_member(&p.ctx.state.db, &p.actor, id, member_id).await?;
    Ok(Redirect::to(&format!("/halls/{id}?tab=members&saved=1")).into_response())
}

async fn add_item(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let new = NewItem {
        function: val(&f, "function").into(),
        stance: val(&f, "stance").into(),
        title: val(&f, "title").into(),
        body: val(&f, "body").into(),
        link: val(&f, "link").into(),
        parties: val(&f, "parties").lines().map(str::to_string).collect(),
        mediator_member_id: opt_id(&f, "mediator_member_id", &mut errors),
        mediator_name: val(&f, "mediator_name").into(),
        scheduled_at: opt_time(&f, "scheduled_at", &mut errors),
        venue: val(&f, "venue").into(),
        on_behalf_of: val(&f, "on_behalf_of").into(),
        said: said_from(&f, &mut errors),
    };
    let tab = Function::parse(val(&f, "function")).map_or("", Function::as_str);
    let r = run(errors, store::add_item(&p.ctx.state.db, &p.actor, id, new)).await;
    after(&p, id, tab, "item", &f, r.map(|_| ())).await
}

async fn tab_of_item(p: &Page, id: i64, item_id: i64) -> Result<String> {
    Ok(
        store::item(&p.ctx.state.db, p.actor.subdistrict_id, id, item_id)
            .await?
            .function,
    )
}

async fn answer(
    p: Page,
    Path((id, item_id)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Result<Response> {
    let mut errors = Vec::new();
    let a = NewAnswer {
        body: val(&f, "body").into(),
        member_id: opt_id(&f, "member_id", &mut errors),
        said: said_from(&f, &mut errors),
    };
    let r = run(
        errors,
        store::answer(&p.ctx.state.db, &p.actor, id, item_id, a),
    )
    .await;
    let tab = tab_of_item(&p, id, item_id).await?;
    after(
        &p,
        id,
        &tab,
        &format!("answer:{item_id}"),
        &f,
        r.map(|_| ()),
    )
    .await
}

async fn step(
    p: Page,
    Path((id, item_id)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Result<Response> {
    let mut errors = Vec::new();
    let st = NewStep {
        status: val(&f, "status").into(),
        note: val(&f, "note").into(),
        agreement: val(&f, "agreement").into(),
        said: said_from(&f, &mut errors),
    };
    let r = run(
        errors,
        store::step(&p.ctx.state.db, &p.actor, id, item_id, st),
    )
    .await;
    let tab = tab_of_item(&p, id, item_id).await?;
    after(&p, id, &tab, &format!("step:{item_id}"), &f, r.map(|_| ())).await
}
