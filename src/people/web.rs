//! The person page: masked by default, each sensitive field opened in full only with a
//! reason, and each opening logged. Also the people search of a node.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use super::api::{authorised_person, parse_field};
use super::store;
use crate::access::{allows, Action, Target};
use crate::error::{Error, Result};
use crate::pii::Field;
use crate::tree::api::authorised_node;
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/people/{id}", get(person_page))
        .route("/people/{id}/reveal", post(reveal).get(back_to_person))
        .route("/tree/{id}/people", get(search))
        .merge(super::edit::routes())
}

pub fn relation_label(ctx: &Ctx, r: &str) -> String {
    let (zh, en) = match r {
        "head" => ("户主", "head"),
        "spouse" => ("配偶", "spouse"),
        "child" => ("子女", "child"),
        "parent" => ("父母", "parent"),
        "grandchild" => ("孙辈", "grandchild"),
        "other" => ("其他", "other"),
        other => (other, other),
    };
    ctx.t(zh, en).to_string()
}

fn gender_label(ctx: &Ctx, g: &str) -> String {
    match g {
        "M" => ctx.t("男", "male").into(),
        "F" => ctx.t("女", "female").into(),
        _ => String::new(),
    }
}

/// A field just opened, or a reason that was refused.
struct Opened {
    field: Field,
    value: Option<String>,
    error: Option<String>,
    reason: String,
}

async fn render(p: &Page, id: i64, opened: Option<Opened>) -> Result<Markup> {
    let ctx = &p.ctx;
    let st = &ctx.state;
    let sid = p.actor.subdistrict_id;
    let person = authorised_person(st, &p.actor, id, Action::ReadPeople).await?;
    let paths = store::places(&st.db, sid, id).await?;
    let households = store::households_of_person(&st.db, sid, id).await?;
    let rooms = store::rooms_owned(&st.db, sid, id).await?;
    let housemate = match p.actor.person_id {
        Some(me) if me != id => store::housemates(&st.db, sid, me, id).await?,
        _ => false,
    };
    let target = Target::Person {
        person_id: id,
        paths: &paths,
        housemate_of_actor: housemate,
    };
    let row = |field: Field, masked: &str| -> Markup {
        let may = allows(&p.actor, Action::RevealPii(field), target);
        let this = opened.as_ref().filter(|o| o.field == field);
        html! {
            tr {
                th { (ctx.text(&field.label())) }
                td {
                    @if let Some(v) = this.and_then(|o| o.value.as_deref()) {
                        span.revealed data-field=(field.as_str()) { (v) }
                        " " small.muted { (ctx.t("(已记录本次查看)", "(this viewing is logged)")) }
                    } @else {
                        span.masked data-field=(field.as_str()) { @if masked.is_empty() { span.muted { "—" } } @else { (masked) } }
                    }
                    @if may && !masked.is_empty() && this.and_then(|o| o.value.as_deref()).is_none() {
                        form.inline-form.reveal method="post" action={ "/people/" (id) "/reveal" } {
                            (csrf(ctx))
                            input type="hidden" name="field" value=(field.as_str());
                            input type="text" name="reason" placeholder=(ctx.t("查看原因", "Reason")) value=(this.map(|o| o.reason.as_str()).unwrap_or("")) required minlength="2" maxlength="200";
                            button.secondary type="submit" { (ctx.t("显示完整", "Show in full")) }
                            @if let Some(e) = this.and_then(|o| o.error.as_deref()) { span.error { (e) } }
                        }
                    }
                }
            }
        }
    };
    let can_edit = allows(&p.actor, Action::EditRegistry, target);
    let body = html! {
        @if can_edit { p.actions { a href={ "/people/" (id) "/edit" } { (ctx.t("更正个人信息", "Correct personal data")) } } }
        h1 { (person.name) }
        p.muted { (ctx.t("个人信息默认遮挡显示;查看完整信息须说明原因,每次查看都会记入审计日志。", "Personal data is masked; opening a field in full needs a reason, and every opening is logged.")) }
        div.table-wrap { table.person {
            tr { th { (ctx.t("性别", "Gender")) } td { (gender_label(ctx, &person.gender)) } }
            tr { th { (ctx.t("出生年份", "Birth year")) } td { @if let Some(y) = person.birth_year { (y) } } }
            (row(Field::Phone, &person.phone))
            (row(Field::IdNumber, &person.id_number))
            (row(Field::Address, &person.address))
        } }
        @if !households.is_empty() {
            h2 { (ctx.t("所在户", "Household")) }
            @for h in &households {
                div.card {
                    strong { @if let Some(r) = h.room_id { a href={ "/rooms/" (r) } { (h.label) } } @else { (h.label) } }
                    ul { @for m in &h.members { li {
                        @if m.person.id == id { strong { (m.person.name_masked) } } @else { a href={ "/people/" (m.person.id) } { (m.person.name_masked) } }
                        " " span.muted { (relation_label(ctx, &m.relation)) }
                    } } }
                }
            }
        }
        @if !rooms.is_empty() {
            h2 { (ctx.t("名下房屋", "Rooms owned")) }
            ul.list { @for (r, _) in &rooms { li { a href={ "/rooms/" (r.id) } { (r.number) } span.muted { @if let Some(a) = r.effective_area() { (crate::tree::area::format(a)) " m²" } } } } }
        }
    };
    Ok(layout::page(ctx, &person.name_masked, body))
}

async fn person_page(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    render(&p, id, None).await
}

#[derive(Deserialize)]
struct RevealForm {
    #[serde(default)]
    field: String,
    #[serde(default)]
    reason: String,
}

/// A reload of the result address lands on the (masked) person page again.
async fn back_to_person(Path(id): Path<i64>) -> axum::response::Redirect {
    axum::response::Redirect::to(&format!("/people/{id}"))
}

async fn reveal(p: Page, Path(id): Path<i64>, Form(f): Form<RevealForm>) -> Result<Response> {
    let field = parse_field(&f.field)?;
    authorised_person(&p.ctx.state, &p.actor, id, Action::RevealPii(field)).await?;
    match store::reveal(
        &p.ctx.state.db,
        &p.ctx.state.seal,
        &p.actor,
        id,
        field,
        &f.reason,
    )
    .await
    {
        Ok(value) => {
            let page = render(
                &p,
                id,
                Some(Opened {
                    field,
                    value: Some(value),
                    error: None,
                    reason: f.reason,
                }),
            )
            .await?;
            Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], page).into_response())
        }
        Err(Error::Invalid(errors)) => {
            let msg = errors.first().map(|e| p.ctx.text(&e.message).to_string());
            let page = render(
                &p,
                id,
                Some(Opened {
                    field,
                    value: None,
                    error: msg,
                    reason: f.reason,
                }),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
struct SearchQ {
    q: Option<String>,
    page: Option<i64>,
}

async fn search(p: Page, Path(id): Path<i64>, Query(q): Query<SearchQ>) -> Result<Markup> {
    let ctx = &p.ctx;
    let node = authorised_node(&ctx.state, &p.actor, id, Action::ReadPeople).await?;
    let page = q.page.unwrap_or(0).max(0);
    let query = q.q.clone().unwrap_or_default();
    let list = store::people_under(
        &ctx.state.db,
        p.actor.subdistrict_id,
        &node.path,
        Some(query.as_str()).filter(|s| !s.trim().is_empty()),
        51,
        page * 50,
    )
    .await?;
    let body = html! {
        h1 { (node.name) " · " (ctx.t("居民", "Residents")) }
        form.inline-form method="get" action={ "/tree/" (id) "/people" } {
            input type="text" name="q" value=(query) placeholder=(ctx.t("按姓氏或姓名查找", "Search by name"));
            button type="submit" { (ctx.t("查找", "Search")) }
        }
        ul.list { @for person in list.iter().take(50) { li {
            a href={ "/people/" (person.id) } { (person.name_masked) }
            span.muted { (gender_label(ctx, &person.gender)) " " @if let Some(y) = person.birth_year { (y) } " · " (person.phone) }
        } } }
        @if list.len() > 50 { p { a href={ "/tree/" (id) "/people?q=" (query) "&page=" (page + 1) } { (ctx.t("下一页", "Next")) " ›" } } }
    };
    Ok(layout::page(ctx, ctx.t("居民", "Residents"), body))
}
