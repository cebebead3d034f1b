//! Correcting a person's data (PIPL: people may have their data corrected). Editors see
//! masks, so sensitive fields are typed only when they change; every correction is audited
//! with the masked values before and after.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

use super::api::authorised_person;
use super::store::{self, PersonChanges, PersonView};
use crate::access::Action;
use crate::error::{Error, FieldError, Result};
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new().route("/people/{id}/edit", get(form).post(save))
}

fn page(ctx: &Ctx, person: &PersonView, f: &PersonChanges, errors: &[FieldError]) -> Markup {
    let err = |field: &str| html! { @for e in errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } };
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let gender = f.gender.clone().unwrap_or_else(|| person.gender.clone());
    let keep = ctx.t("不修改请留空", "leave blank to keep");
    let body = html! {
        p { a href={ "/people/" (person.id) } { "‹ " (person.name_masked) } }
        h1 { (ctx.t("更正个人信息", "Correct personal data")) }
        form.stack.card method="post" action={ "/people/" (person.id) "/edit" } {
            (csrf(ctx))
            label { (ctx.t("姓名", "Name")) input type="text" name="name" value=(f.name.clone().unwrap_or_else(|| person.name.clone())) required; (err("name")) }
            label { (ctx.t("性别", "Gender"))
                select name="gender" {
                    option value="" selected[gender.is_empty()] { "—" }
                    option value="M" selected[gender == "M"] { (ctx.t("男", "male")) }
                    option value="F" selected[gender == "F"] { (ctx.t("女", "female")) }
                }
                (err("gender"))
            }
            label { (ctx.t("手机号", "Phone")) " " small.muted { (person.phone) }
                input type="text" inputmode="tel" name="phone" value=(v(&f.phone)) placeholder=(keep) autocomplete="off"; (err("phone")) }
            label { (ctx.t("身份证号", "ID number")) " " small.muted { (person.id_number) }
                input type="text" name="id_number" value=(v(&f.id_number)) placeholder=(keep) autocomplete="off"; (err("id_number")) }
            label { (ctx.t("地址", "Address")) " " small.muted { (person.address) }
                input type="text" name="address" value=(v(&f.address)) placeholder=(keep) autocomplete="off"; (err("address")) }
            button type="submit" { (ctx.t("保存", "Save")) }
        }
    };
    layout::page(ctx, ctx.t("更正个人信息", "Correct personal data"), body)
}

async fn form(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    let person = authorised_person(&p.ctx.state, &p.actor, id, Action::EditRegistry).await?;
    Ok(page(&p.ctx, &person, &PersonChanges::default(), &[]))
}

async fn save(p: Page, Path(id): Path<i64>, Form(f): Form<PersonChanges>) -> Result<Response> {
    let person = authorised_person(&p.ctx.state, &p.actor, id, Action::EditRegistry).await?;
    match store::update_person(&p.ctx.state.db, &p.ctx.state.seal, &p.actor, id, &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/people/{id}")).into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&p.ctx, &person, &f, &errors),
        )
            .into_response()),
        Err(e) => Err(e),
    }
}
