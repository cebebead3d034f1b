//! Correction pages for the tree: rename a node, correct a room. Each change is audited
//! with before and after (through `tree::api`).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use super::api::{authorised_node, rename_node, update_room_at};
use super::area;
use super::store;
use super::web::{parse_room_form, RoomForm};
use crate::access::Action;
use crate::error::{Error, FieldError, Result};
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tree/{id}/edit", get(node_form).post(node_save))
        .route("/rooms/{id}/edit", get(room_form).post(room_save))
}

fn errors_for(ctx: &Ctx, errors: &[FieldError], field: &str) -> Markup {
    html! { @for e in errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } }
}

#[derive(Deserialize, Default)]
struct NodeForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    code: String,
}

fn node_page(ctx: &Ctx, node: &store::Node, f: &NodeForm, errors: &[FieldError]) -> Markup {
    let body = html! {
        p { a href={ "/tree/" (node.id) } { "‹ " (node.name) } }
        h1 { (ctx.t("修改名称", "Rename")) }
        form.stack.card method="post" action={ "/tree/" (node.id) "/edit" } {
            (csrf(ctx))
            label { (ctx.t("名称", "Name")) input type="text" name="name" value=(f.name) required; (errors_for(ctx, errors, "name")) }
            label { (ctx.t("代码(可选)", "Code (optional)")) input type="text" name="code" value=(f.code); (errors_for(ctx, errors, "code")) }
            button type="submit" { (ctx.t("保存", "Save")) }
        }
    };
    layout::page(ctx, ctx.t("修改名称", "Rename"), body)
}

async fn node_form(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    let node = authorised_node(&p.ctx.state, &p.actor, id, Action::EditRegistry).await?;
    let f = NodeForm {
        name: node.name.clone(),
        code: node.code.clone().unwrap_or_default(),
    };
    Ok(node_page(&p.ctx, &node, &f, &[]))
}

async fn node_save(p: Page, Path(id): Path<i64>, Form(f): Form<NodeForm>) -> Result<Response> {
    match rename_node(&p.ctx.state, &p.actor, id, &f.name, Some(&f.code)).await {
        Ok(_) => Ok(Redirect::to(&format!("/tree/{id}")).into_response()),
        Err(Error::Invalid(errors)) => {
            let node = store::node(&p.ctx.state.db, p.actor.subdistrict_id, id).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                node_page(&p.ctx, &node, &f, &errors),
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}

fn room_page(ctx: &Ctx, room: &store::Room, f: &RoomForm, errors: &[FieldError]) -> Markup {
    let body = html! {
        p { a href={ "/rooms/" (room.id) } { "‹ " (room.number) } }
        h1 { (ctx.t("更正房屋信息", "Correct the room")) }
        form.stack.card method="post" action={ "/rooms/" (room.id) "/edit" } {
            (csrf(ctx))
            label { (ctx.t("室号", "Room number")) input type="text" name="number" value=(f.number) required; (errors_for(ctx, errors, "number")) }
            label { (ctx.t("楼层", "Floor")) input type="number" name="floor" value=(f.floor); (errors_for(ctx, errors, "floor")) }
            label { (ctx.t("登记面积(m²)", "Registered area (m²)")) input type="text" inputmode="decimal" name="registered_area" value=(f.registered_area); (errors_for(ctx, errors, "registered_area")) }
            label { (ctx.t("实测面积(m²)", "Surveyed area (m²)")) input type="text" inputmode="decimal" name="surveyed_area" value=(f.surveyed_area); (errors_for(ctx, errors, "surveyed_area")) }
            label { (ctx.t("合同面积(m²)", "Contract area (m²)")) input type="text" inputmode="decimal" name="contract_area" value=(f.contract_area); (errors_for(ctx, errors, "contract_area")) }
            label { span { input type="checkbox" name="developer_unsold" value="1" checked[f.developer_unsold.is_some()]; " " (ctx.t("开发商未售", "Unsold by the developer")) } }
            button type="submit" { (ctx.t("保存", "Save")) }
        }
    };
    layout::page(ctx, ctx.t("更正房屋信息", "Correct the room"), body)
}

async fn room_form(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    let room = store::room(&p.ctx.state.db, p.actor.subdistrict_id, id).await?;
    authorised_node(&p.ctx.state, &p.actor, room.node_id, Action::EditRegistry).await?;
    let a = |v: Option<i64>| v.map(area::format).unwrap_or_default();
    let f = RoomForm {
        number: room.number.clone(),
        floor: room.floor.map(|f| f.to_string()).unwrap_or_default(),
        registered_area: a(room.registered_area),
        surveyed_area: a(room.surveyed_area),
        contract_area: a(room.contract_area),
        developer_unsold: room.developer_unsold.then(|| "1".to_string()),
    };
    Ok(room_page(&p.ctx, &room, &f, &[]))
}

async fn room_save(p: Page, Path(id): Path<i64>, Form(f): Form<RoomForm>) -> Result<Response> {
    let result = match parse_room_form(&f) {
        Ok(new) => update_room_at(&p.ctx.state, &p.actor, id, &new).await,
        Err(errors) => Err(Error::Invalid(errors)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/rooms/{id}")).into_response()),
        Err(Error::Invalid(errors)) => {
            let room = store::room(&p.ctx.state.db, p.actor.subdistrict_id, id).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                room_page(&p.ctx, &room, &f, &errors),
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}
