//! Staff entry of offline contacts (`/cases/desk`): reception visits, home visits, counter
//! visits and phone calls, each with the time it really happened (Shanghai time, not in the
//! future, at most 30 days ago — the store checks), who spoke (optional name and mobile; the
//! mobile is sealed and only its mask is shown), category, place, what was said, photos.
//! For subdistrict and community staff; the channel is the contact type's code.

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

use super::form::{self, errors_for};
use super::multipart::{self, Posted};
use super::rules::{self, ContactType, CONTACT_TYPES};
use crate::cases::category::CategoryTree;
use crate::cases::store;
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Page};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/cases/desk",
        get(desk_page)
            .post(desk_save)
            .layer(DefaultBodyLimit::max(crate::web::UPLOAD_LIMIT)),
    )
}

async fn desk_page(p: Page) -> Result<Markup> {
    if !form::is_desk_staff(&p.actor) {
        return Err(Error::Forbidden);
    }
    let tree =
        crate::cases::category_store::offered(&p.ctx.state.db, p.actor.subdistrict_id).await?;
    let f = Posted {
        pairs: vec![
            ("key".into(), crate::auth::random_secret()),
            (
                "occurred_at".into(),
                rules::local_datetime_value(crate::clock::now_ms()),
            ),
        ],
        photos: Vec::new(),
    };
    render(&p, &tree, &f, &[]).await
}

async fn render(
    p: &Page,
    tree: &CategoryTree,
    f: &Posted,
    errors: &[FieldError],
) -> Result<Markup> {
    let ctx = &p.ctx;
    let places = form::staff_places(&ctx.state, &p.actor).await?;
    let now = rules::local_datetime_value(crate::clock::now_ms());
    let shown = [
        "contact_type",
        "occurred_at",
        "contact_name",
        "contact_phone",
        "category",
        "node_id",
        "title",
        "description",
        "photo",
        "lat_e6",
        "lng_e6",
        "address",
    ];
    let body = html! {
        (form::assets())
        p { a href="/cases" { "‹ " (ctx.t("事项", "Cases")) } }
        h1 { (ctx.t("登记来访来电", "Record a visit or call")) }
        @if !errors.is_empty() {
            p.notice.error role="alert" { (ctx.t("请检查标出的内容。", "Please check the marked fields.")) }
            (form::other_errors(ctx, errors, &shown))
        }
        form.stack.intake method="post" enctype="multipart/form-data" action={ "/cases/desk?_csrf=" (ctx.csrf) } {
            (csrf(ctx))
            input type="hidden" name="key" value=(f.get("key"));
            fieldset.choices {
                legend { (ctx.t("方式", "How")) }
                @for (i, c) in CONTACT_TYPES.iter().enumerate() {
                    label.check {
                        input type="radio" name="contact_type" value=(c.channel()) required
                            checked[f.get("contact_type") == c.channel() || (f.get("contact_type").is_empty() && i == 0)];
                        " " (ctx.text(&c.label()))
                    }
                }
                (errors_for(ctx, errors, "contact_type"))
            }
            label { (ctx.t("发生时间", "When it happened"))
                input type="datetime-local" name="occurred_at" value=(f.get("occurred_at")) max=(now) required;
                (errors_for(ctx, errors, "occurred_at"))
            }
            label { (ctx.t("反映人姓名(可选)", "Who spoke (optional)"))
                input type="text" name="contact_name" value=(f.get("contact_name")) maxlength="200";
                (errors_for(ctx, errors, "contact_name"))
            }
            label { (ctx.t("联系电话(可选)", "Their mobile (optional)"))
                input type="tel" name="contact_phone" value=(f.get("contact_phone")) inputmode="tel";
                (errors_for(ctx, errors, "contact_phone"))
            }
            label { (ctx.t("类别", "Category"))
                (form::category_select(ctx, tree, f.get("category")))
                (errors_for(ctx, errors, "category"))
            }
            (form::per_category_fields(ctx, tree, f.get("category"), &f.pairs, errors))
            label { (ctx.t("地点", "Place"))
                select name="node_id" required {
                    option value="" { (ctx.t("请选择", "Choose")) }
                    @for (id, label) in &places {
                        option value=(id) selected[f.get("node_id") == id.to_string()] { (label) }
                    }
                }
                (errors_for(ctx, errors, "node_id"))
            }
            label { (ctx.t("标题", "Title"))
                input type="text" name="title" value=(f.get("title")) maxlength=(store::MAX_TITLE_CHARS) required;
                (errors_for(ctx, errors, "title"))
            }
            label { (ctx.t("反映内容", "What was said"))
                textarea name="description" rows="5" required { (f.get("description")) }
                (errors_for(ctx, errors, "description"))
            }
            (form::photo_input(ctx, errors, false))
            (form::location_block(ctx, f.get("lat"), f.get("lng"), f.get("address"), errors))
            button.big type="submit" { (ctx.t("登记", "Record")) }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("登记来访来电", "Record a visit or call"),
        body,
    ))
}

async fn desk_save(State(st): State<AppState>, p: Page, req: Request) -> Result<Response> {
    if !form::is_desk_staff(&p.actor) {
        return Err(Error::Forbidden);
    }
    let mut f = multipart::read(req, &st).await?;
    if f.get("key").is_empty() {
        f.pairs.retain(|(k, _)| k != "key");
        f.pairs.push(("key".into(), crate::auth::random_secret()));
    }
    let tree = crate::cases::category_store::offered(&st.db, p.actor.subdistrict_id).await?;
    let category = f.get("category").trim().to_string();
    let (mut new, mut errors) = form::new_case_from(&f, &category, &format!("q.{category}"));
    let contact = ContactType::from_channel(f.get("contact_type"));
    if contact.is_none() {
        errors.push(FieldError::new(
            "contact_type",
            Text::new("请选择来访或来电方式", "choose how the contact came"),
        ));
    }
    match rules::parse_local_datetime(f.get("occurred_at")) {
        Some(at) => new.occurred_at = Some(at),
        None => errors.push(FieldError::new(
            "occurred_at",
            Text::new(
                "请填写发生的日期和时间",
                "enter the date and time it happened",
            ),
        )),
    }
    new.contact_name = f.get("contact_name").to_string();
    new.contact_phone = f.get("contact_phone").to_string();
    let photos = std::mem::take(&mut f.photos);
    let result = match contact {
        Some(c) if errors.is_empty() => {
            super::file_case(&st, &p.actor, new, c.channel(), Some(f.get("key")), photos).await
        }
        _ => Err(Error::Invalid(Vec::new())),
    };
    match result {
        Ok(opened) => Ok(Redirect::to(&format!("/cases/{}", opened.case().id)).into_response()),
        Err(Error::Invalid(mut es)) => {
            errors.append(&mut es);
            let page = render(&p, &tree, &f, &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}
