//! The resident's mobile form and "my cases".
//!
//! - `GET /report`: the category in two steps of big tiles (`?root=` then `?category=`), plain
//!   links, so it works in any chat app's browser and without JavaScript; then the form for
//!   that category: place (their home pre-selected), what happened, the category's extra
//!   questions, photos, an optional map point and address, and anonymity where the category
//!   allows it. An idempotency key per render makes a double submit file one case.
//! - `POST /report` (multipart): files the case and its photos; then the case page (an
//!   anonymous report keeps no name or phone, but its reporter still follows it).
//! - `GET /my/cases`: the cases they reported, newest first, with state and the latest public
//!   step; a closed case not yet rated says so (the rating form is on the case page).

use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;
use sqlx::Row;

use super::form::{self, errors_for};
use super::multipart::{self, Posted};
use crate::cases::category::CategoryTree;
use crate::cases::lifecycle::{ActionKind, State as CaseState};
use crate::cases::store::{self, Opened, Visibility};
use crate::error::{Error, FieldError, Result};
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/report",
            get(report_page)
                .post(report_save)
                .layer(DefaultBodyLimit::max(crate::web::UPLOAD_LIMIT)),
        )
        .route("/my/cases", get(my_cases))
}

#[derive(Deserialize, Default)]
struct ReportQ {
    #[serde(default)]
    root: String,
    #[serde(default)]
    category: String,
}

async fn report_page(p: Page, Query(q): Query<ReportQ>) -> Result<Response> {
    let tree =
        crate::cases::category_store::offered(&p.ctx.state.db, p.actor.subdistrict_id).await?;
    if form::is_leaf_category(&tree, &q.category) {
        let posted = Posted {
            pairs: vec![("key".into(), crate::auth::random_secret())],
            photos: Vec::new(),
        };
        return Ok(render_form(&p, &tree, &q.category, &posted, &[])
            .await?
            .into_response());
    }
    Ok(choose_category(&p, &tree, &q.root).into_response())
}

/// Step one: the roots as tiles; with `root`, its leaves.
fn choose_category(p: &Page, tree: &CategoryTree, root: &str) -> Markup {
    let ctx = &p.ctx;
    let groups = form::leaf_groups(tree, ctx.lang);
    let roots: Vec<_> = tree.roots().collect();
    let chosen = roots.iter().position(|r| r.code == root);
    let body = html! {
        (form::assets())
        p.intake-nav { a href="/my/cases" { (ctx.t("我反映的事项", "My cases")) } }
        h1 { (ctx.t("我要反映", "Report a problem")) }
        @match chosen {
            None => {
                p { (ctx.t("请选择问题的类别:", "What is it about?")) }
                nav.tiles {
                    @for r in &roots {
                        @if tree.is_leaf(&r.code) {
                            a.tile href={ "/report?category=" (r.code) } { (r.name().get(ctx.lang)) }
                        } @else {
                            a.tile href={ "/report?root=" (r.code) } { (r.name().get(ctx.lang)) }
                        }
                    }
                }
            }
            Some(i) => {
                p { a href="/report" { "‹ " (ctx.t("全部类别", "All categories")) } }
                h2 { (roots[i].name().get(ctx.lang)) }
                nav.tiles {
                    @for (code, name) in groups.iter().find(|(n, _)| n == roots[i].name().get(ctx.lang)).map(|(_, l)| l.as_slice()).unwrap_or(&[]) {
                        a.tile href={ "/report?category=" (code) } { (name) }
                    }
                }
            }
        }
    };
    layout::page(ctx, ctx.t("我要反映", "Report a problem"), body)
}

/// Where the actor may file: their home for residents, else their grid, else what staff reach.
pub async fn places_of(st: &AppState, actor: &crate::access::Actor) -> Result<Vec<(i64, String)>> {
    let mut places = form::resident_places(st, actor).await?;
    for pl in form::grid_places(st, actor).await? {
        if !places.iter().any(|(id, _)| *id == pl.0) {
            places.push(pl);
        }
    }
    if places.is_empty() && form::is_desk_staff(actor) {
        places = form::staff_places(st, actor).await?;
    }
    Ok(places)
}

async fn render_form(
    p: &Page,
    tree: &CategoryTree,
    category: &str,
    f: &Posted,
    errors: &[FieldError],
) -> Result<Markup> {
    let ctx = &p.ctx;
    let places = places_of(&ctx.state, &p.actor).await?;
    let Some(cat) = tree.get(category) else {
        return Err(Error::NotFound);
    };
    let anonymous_allowed = tree.resolve(category).is_some_and(|r| r.anonymous_allowed);
    let shown = [
        "category",
        "node_id",
        "title",
        "description",
        "photo",
        "lat_e6",
        "lng_e6",
        "address",
        "anonymous",
    ];
    let body = html! {
        (form::assets())
        p.intake-nav { a href="/report" { "‹ " (ctx.t("重选类别", "Change category")) } " · " a href="/my/cases" { (ctx.t("我反映的事项", "My cases")) } }
        h1 { (ctx.t("我要反映", "Report a problem")) }
        p.chosen { span.tag { (tree.path_name(category, ctx.lang)) } }
        @if !errors.is_empty() {
            p.notice.error role="alert" { (ctx.t("请检查标出的内容。", "Please check the marked fields.")) }
            @if !f.photos.is_empty() { p.notice { (ctx.t("照片需要重新选择。", "Please choose the photos again.")) } }
            (form::other_errors(ctx, errors, &shown))
        }
        @if places.is_empty() {
            p.notice { (ctx.t("您的账户还没有关联住户,暂时无法在线反映。请联系居委会或网格员。",
                "Your account is not linked to a household yet, so you cannot report online. Please contact your community office or grid member.")) }
        } @else {
            form.stack.intake method="post" enctype="multipart/form-data" action={ "/report?_csrf=" (ctx.csrf) } {
                (csrf(ctx))
                input type="hidden" name="key" value=(f.get("key"));
                input type="hidden" name="category" value=(category);
                (errors_for(ctx, errors, "category"))
                label { (ctx.t("地点", "Place"))
                    select name="node_id" required {
                        @for (id, label) in &places {
                            option value=(id) selected[f.get("node_id") == id.to_string()] { (label) }
                        }
                    }
                    (errors_for(ctx, errors, "node_id"))
                }
                label { (ctx.t("一句话说明", "In one line"))
                    input type="text" name="title" value=(f.get("title")) maxlength=(store::MAX_TITLE_CHARS) required
                        placeholder=(ctx.t("例如:楼道灯不亮", "e.g. the stairway light is out"));
                    (errors_for(ctx, errors, "title"))
                }
                label { (ctx.t("详细情况", "What happened"))
                    textarea name="description" rows="4" required { (f.get("description")) }
                    (errors_for(ctx, errors, "description"))
                }
                (form::field_inputs(ctx, cat, "attribute", &f.pairs, errors))
                (form::photo_input(ctx, errors, false))
                (form::location_block(ctx, f.get("lat"), f.get("lng"), f.get("address"), errors))
                @if anonymous_allowed {
                    label.check {
                        input type="checkbox" name="anonymous" value="1" checked[f.has("anonymous")];
                        " " (ctx.t("匿名反映", "Report anonymously"))
                    }
                    small.muted { (ctx.t("匿名时事项不保留、也不向办理人员显示您的姓名和电话;您仍可在“我反映的事项”里跟进和评价。",
                        "An anonymous report keeps and shows no name or phone; you can still follow and rate it under My cases.")) }
                }
                (errors_for(ctx, errors, "anonymous"))
                button.big type="submit" { (ctx.t("提交", "Submit")) }
            }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("我要反映", "Report a problem"),
        body,
    ))
}

async fn report_save(State(st): State<AppState>, p: Page, req: Request) -> Result<Response> {
    let mut f = multipart::read(req, &st).await?;
    if f.get("key").is_empty() {
        f.pairs.retain(|(k, _)| k != "key");
        f.pairs.push(("key".into(), crate::auth::random_secret()));
    }
    let tree = crate::cases::category_store::offered(&st.db, p.actor.subdistrict_id).await?;
    let category = f.get("category").trim().to_string();
    if !form::is_leaf_category(&tree, &category) {
        return Ok(Redirect::to("/report").into_response());
    }
    let (new, mut errors) = form::new_case_from(&f, &category, "attribute");
    let anonymous = new.anonymous;
    let photos = std::mem::take(&mut f.photos);
    let result = if errors.is_empty() {
        super::file_case(
            &st,
            &p.actor,
            new,
            "mobile",
            Some(f.get("key")),
            photos.clone(),
        )
        .await
    } else {
        Err(Error::Invalid(Vec::new()))
    };
    match result {
        Ok(opened) => Ok(after_filing(&p, &opened, anonymous).await?),
        Err(Error::Invalid(mut es)) => {
            errors.append(&mut es);
            f.photos = photos;
            let page = render_form(&p, &tree, &category, &f, &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

/// The case page when the reporter may see it, else a page with the case's number.
pub async fn after_filing(p: &Page, opened: &Opened, anonymous: bool) -> Result<Response> {
    let c = opened.case();
    match store::readable(&p.ctx.state.db, &p.actor, c.id).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{}", c.id)).into_response()),
        Err(Error::Forbidden) => {
            let ctx = &p.ctx;
            let body = html! {
                (form::assets())
                h1 { (ctx.t("已收到您的反映", "Your report was received")) }
                p.success { (ctx.t("事项编号:", "Case number: ")) b { (c.number) } }
                @if anonymous {
                    p { (ctx.t("这是匿名反映。需要时请凭编号咨询居委会。",
                        "This was an anonymous report. Quote the number to your community office if needed.")) }
                }
                p { a.button href="/report" { (ctx.t("再反映一件", "Report another")) } }
            };
            Ok(layout::page(ctx, ctx.t("已收到", "Received"), body).into_response())
        }
        Err(e) => Err(e),
    }
}

/// One of the reporter's cases in the list.
struct MyRow {
    id: i64,
    number: String,
    title: String,
    state: String,
    created_at: i64,
    rated: bool,
    last: Option<(String, i64)>,
}

async fn my_cases(p: Page) -> Result<Markup> {
    let ctx = &p.ctx;
    let st = &ctx.state;
    let sid = p.actor.subdistrict_id;
    let rows = sqlx::query(
        "SELECT id FROM cases WHERE subdistrict_id = $1 AND reporter_user_id = $2 \
         ORDER BY created_at DESC, id DESC LIMIT 100",
    )
    .bind(sid)
    .bind(p.actor.user_id)
    .fetch_all(st.db.read())
    .await?;
    let mut list = Vec::new();
    for r in rows {
        let id: i64 = r.get("id");
        let (c, _, vis) = store::readable(&st.db, &p.actor, id).await?;
        let timeline = store::timeline(&st.db, sid, id, vis != Visibility::Staff).await?;
        let last = timeline
            .iter()
            .rev()
            .find(|e| e.public)
            .map(|e| (ctx.text(&e.event.kind().label()).to_string(), e.at));
        list.push(MyRow {
            id,
            number: c.number.clone(),
            title: c.title.clone(),
            state: c.state.clone(),
            created_at: c.created_at,
            rated: c.lifecycle.rating.is_some(),
            last,
        });
    }
    let label = |code: &str| match CaseState::from_code(code) {
        Some(s) => ctx.text(&s.label()).to_string(),
        None => code.to_string(),
    };
    let to_rate = |r: &MyRow| {
        !r.rated && CaseState::from_code(&r.state).is_some_and(|s| s.allows(ActionKind::Evaluate))
    };
    let body = html! {
        (form::assets())
        p.intake-nav { a.button href="/report" { (ctx.t("我要反映", "Report a problem")) } }
        h1 { (ctx.t("我反映的事项", "My cases")) }
        @if list.is_empty() {
            p.notice { (ctx.t("您还没有反映过事项。", "You have not reported anything yet.")) }
        } @else {
            ul.list.my-cases {
                @for r in &list {
                    li {
                        a href={ "/cases/" (r.id) } {
                            span.muted { (r.number) } " " b { (r.title) }
                        }
                        span.tag { (label(&r.state)) }
                        @if to_rate(r) { " " a.tag.rate href={ "/cases/" (r.id) "#act" } { (ctx.t("待评价", "Please rate")) } }
                        br;
                        span.muted {
                            (crate::clock::format_local(r.created_at))
                            @if let Some((what, at)) = &r.last { " · " (what) " " (crate::clock::format_local(*at)) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(ctx, ctx.t("我反映的事项", "My cases"), body))
}
