//! The grid member's quick report, photo first, which also works without signal.
//!
//! - `GET /quick`: the photo input first, then the category (the last one this person used),
//!   the grid from their grant, one line of text, an optional map point. The page carries its
//!   CSRF token and an idempotency key for `quick.js`.
//! - `POST /quick` (multipart): the same report without JavaScript; back to `/quick` with the
//!   case number.
//! - `GET /sw.js`: the service worker (scope `/`), which keeps this page and its assets so it
//!   opens offline; reports made offline wait in IndexedDB (see `static/quick.js`).

use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;
use sqlx::Row;

use super::form::{self, errors_for};
use super::multipart::{self, Posted};
use super::rules;
use crate::access::Actor;
use crate::cases::category::CategoryTree;
use crate::cases::store;
use crate::error::{Error, FieldError, Result};
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Page};

const SW: &str = include_str!("../../web/static/sw.js");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/quick",
            get(quick_page)
                .post(quick_save)
                .layer(DefaultBodyLimit::max(crate::web::UPLOAD_LIMIT)),
        )
        .route("/sw.js", get(service_worker))
}

async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (
                header::HeaderName::from_static("service-worker-allowed"),
                "/",
            ),
        ],
        SW,
    )
        .into_response()
}

/// The category of the person's latest report, if it is still a leaf.
async fn last_category(st: &AppState, actor: &Actor, tree: &CategoryTree) -> Result<String> {
    let row = sqlx::query(
        "SELECT category FROM cases WHERE subdistrict_id = $1 AND reporter_user_id = $2 \
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(actor.subdistrict_id)
    .bind(actor.user_id)
    .fetch_optional(st.db.read())
    .await?;
    Ok(row
        .map(|r| r.get::<String, _>(0))
        .filter(|c| form::is_leaf_category(tree, c))
        .unwrap_or_default())
}

#[derive(Deserialize, Default)]
struct QuickQ {
    #[serde(default)]
    sent: String,
}

async fn quick_page(p: Page, Query(q): Query<QuickQ>) -> Result<Markup> {
    let st = &p.ctx.state;
    let tree = crate::cases::category_store::offered(&st.db, p.actor.subdistrict_id).await?;
    let f = Posted {
        pairs: vec![
            ("key".into(), crate::auth::random_secret()),
            ("category".into(), last_category(st, &p.actor, &tree).await?),
        ],
        photos: Vec::new(),
    };
    render(&p, &tree, &f, &[], &q.sent).await
}

async fn render(
    p: &Page,
    tree: &CategoryTree,
    f: &Posted,
    errors: &[FieldError],
    sent: &str,
) -> Result<Markup> {
    let ctx = &p.ctx;
    let mut places = form::grid_places(&ctx.state, &p.actor).await?;
    if places.is_empty() && form::is_desk_staff(&p.actor) {
        places = form::staff_places(&ctx.state, &p.actor).await?;
    }
    let category = f.get("category");
    let shown = [
        "category",
        "node_id",
        "description",
        "title",
        "photo",
        "lat_e6",
        "lng_e6",
        "address",
    ];
    let body = html! {
        (form::assets())
        script src="/static/quick.js" defer {}
        h1 { (ctx.t("随手拍", "Quick report")) }
        @if !sent.is_empty() {
            p.success role="status" { (ctx.t("已提交,事项编号 ", "Sent: case ")) (sent) }
        }
        div.queue data-queue hidden
            data-label-zh="待发送 {n} 条" data-label-en="{n} waiting to be sent"
            data-sent-zh="已发送 {n} 条" data-sent-en="{n} sent"
            data-delete-zh="删除" data-delete-en="Remove"
            data-confirm-zh="删除这条未发送的上报?" data-confirm-en="Remove this unsent report?"
            data-lang=(ctx.lang.code()) {
            span data-queue-count {}
            " " button.secondary type="button" data-sync { (ctx.t("立即发送", "Send now")) }
            ul.list data-queue-list {}
        }
        p.status data-status role="status" {}
        @if !errors.is_empty() {
            p.notice.error role="alert" { (ctx.t("请检查标出的内容。", "Please check the marked fields.")) }
            (form::other_errors(ctx, errors, &shown))
        }
        @if places.is_empty() {
            p.notice { (ctx.t("随手拍供网格员使用:您的账户没有网格。", "Quick reports are for grid members: your account has no grid.")) }
        } @else {
            form.stack.intake.quick method="post" enctype="multipart/form-data"
                action={ "/quick?_csrf=" (ctx.csrf) }
                data-quick data-csrf=(ctx.csrf) data-api="/api/v1/cases?channel=grid_quick"
                data-saved=(ctx.t("已保存,联网后自动发送", "Saved; it will be sent when online"))
                data-offline=(ctx.t("当前无网络", "Offline"))
                data-failed=(ctx.t("发送失败:", "Sending failed: ")) {
                (csrf(ctx))
                input type="hidden" name="key" value=(f.get("key"));
                (form::photo_input(ctx, errors, true))
                label { (ctx.t("类别", "Category"))
                    (form::category_select(ctx, tree, category))
                    (errors_for(ctx, errors, "category"))
                }
                (form::per_category_fields(ctx, tree, category, &f.pairs, errors))
                label { (ctx.t("网格", "Grid"))
                    select name="node_id" required {
                        @for (id, label) in &places {
                            option value=(id) selected[f.get("node_id") == id.to_string()] { (label) }
                        }
                    }
                    (errors_for(ctx, errors, "node_id"))
                }
                label { (ctx.t("一句话描述", "One line"))
                    input type="text" name="description" value=(f.get("description")) maxlength=(store::MAX_TITLE_CHARS) required
                        placeholder=(ctx.t("例如:3号楼门口垃圾满溢", "e.g. bins overflowing at building 3"));
                    (errors_for(ctx, errors, "description"))
                    (errors_for(ctx, errors, "title"))
                }
                (form::location_block(ctx, f.get("lat"), f.get("lng"), f.get("address"), errors))
                button.big type="submit" data-submit { (ctx.t("提交", "Submit")) }
            }
        }
        p { a href="/cases" { (ctx.t("查看事项", "See cases")) } }
    };
    Ok(layout::page(ctx, ctx.t("随手拍", "Quick report"), body))
}

async fn quick_save(State(st): State<AppState>, p: Page, req: Request) -> Result<Response> {
    let mut f = multipart::read(req, &st).await?;
    if f.get("key").is_empty() {
        f.pairs.retain(|(k, _)| k != "key");
        f.pairs.push(("key".into(), crate::auth::random_secret()));
    }
    let tree = crate::cases::category_store::offered(&st.db, p.actor.subdistrict_id).await?;
    let category = f.get("category").trim().to_string();
    let (mut new, mut errors) = form::new_case_from(&f, &category, &format!("q.{category}"));
    let line = f.get("description").trim().to_string();
    new.title = rules::quick_title(&line, store::MAX_TITLE_CHARS);
    new.description = line;
    let photos = std::mem::take(&mut f.photos);
    let result = if errors.is_empty() {
        super::file_case(&st, &p.actor, new, "grid_quick", Some(f.get("key")), photos).await
    } else {
        Err(Error::Invalid(Vec::new()))
    };
    match result {
        Ok(opened) => {
            let number: String =
                url::form_urlencoded::byte_serialize(opened.case().number.as_bytes()).collect();
            Ok(Redirect::to(&format!("/quick?sent={number}")).into_response())
        }
        Err(Error::Invalid(mut es)) => {
            errors.append(&mut es);
            // Field errors of the category's questions name `attribute[code]`.
            let page = render(&p, &tree, &f, &errors, "").await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}
