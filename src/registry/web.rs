//! Registry pages: choose a place, upload a sheet (dry run first), follow the import's
//! progress, read its report, run the real import of the same upload; templates and exports.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use super::api::{download, format_of, FormatQ};
use super::export;
use super::import::{self, FileFormat};
use super::jobs::{Job, Upload};
use crate::access::{self, Action, Actor, Target};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::tree::store::Node;
use crate::tree::NodeKind;
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/registry", get(index))
        .route(
            "/registry/import",
            post(upload).layer(DefaultBodyLimit::max(crate::web::UPLOAD_LIMIT)),
        )
        .route("/registry/jobs/{id}", get(job_page))
        .route("/registry/jobs/{id}/apply", post(apply))
        .route("/registry/template", get(template))
        .route("/registry/export", get(export_file))
}

/// The places an actor may act on with `action`: the subdistrict, its communities and
/// villages, and the nodes of their grants.
async fn places(st: &AppState, actor: &Actor, action: Action) -> Result<Vec<Node>> {
    let sid = actor.subdistrict_id;
    let mut candidates = vec![crate::tree::store::node(&st.db, sid, sid).await?];
    for c in crate::tree::store::children(&st.db, sid, sid).await? {
        candidates.push(c.node);
    }
    for g in &actor.grants {
        if let Some(id) = g.node_id {
            if !candidates.iter().any(|n| n.id == id) {
                if let Ok(n) = crate::tree::store::node(&st.db, sid, id).await {
                    if n.kind != NodeKind::Subdistrict || n.id == sid {
                        candidates.push(n);
                    }
                }
            }
        }
    }
    Ok(candidates
        .into_iter()
        .filter(|n| access::allows(actor, action, Target::Node { path: &n.path }))
        .collect())
}

fn place_label(p: &Page, n: &Node) -> String {
    format!("{}({})", n.name, p.ctx.text(&n.kind.label()))
}

async fn index(State(st): State<AppState>, p: Page) -> Result<Response> {
    let edit = places(&st, &p.actor, Action::EditRegistry).await?;
    let exp = places(&st, &p.actor, Action::ExportRegistry).await?;
    if edit.is_empty() && exp.is_empty() {
        return Err(Error::Forbidden);
    }
    let ctx = &p.ctx;
    let jobs = st.imports.of_user(p.actor.subdistrict_id, p.actor.user_id);
    let body = html! {
        h1 { (ctx.t("台账导入导出", "Registry import and export")) }
        p.muted { (ctx.t(
            "一行一位住户(无人居住的房屋一行、人员列留空)。表头用中文或英文列名均可,列的顺序不限。先“仅检查”,确认无误后再正式导入。",
            "One row per resident (an empty room is one row with the person columns empty). Headers in Chinese or English, in any order. Check first, then import for real."
        )) }
        section.card {
            h2 { (ctx.t("下载模板", "Template")) }
            p {
                a.button href="/registry/template?format=xlsx" { (ctx.t("XLSX 模板", "XLSX template")) }
                " "
                a href="/registry/template?format=csv" { (ctx.t("CSV 模板(UTF-8)", "CSV template (UTF-8)")) }
            }
            details {
                summary { (ctx.t("列说明", "Columns")) }
                div.table-wrap { table {
                    thead { tr { th { (ctx.t("表头", "Header")) } th { (ctx.t("英文列名", "Key")) } th { (ctx.t("必填", "Required")) } } }
                    tbody { @for c in super::format::COLUMNS {
                        tr { td { (c.header()) } td { code { (c.key()) } } td { @if super::format::REQUIRED.contains(&c) { (ctx.t("是", "yes")) } } }
                    } }
                } }
            }
        }
        @if !edit.is_empty() {
            section.card {
                h2 { (ctx.t("导入", "Import")) }
                form.stack method="post" enctype="multipart/form-data" action={"/registry/import?_csrf=" (ctx.csrf)} {
                    (csrf(ctx))
                    label { (ctx.t("导入到", "Import into"))
                        select name="node_id" required {
                            @for n in &edit { option value=(n.id) { (place_label(&p, n)) } }
                        }
                    }
                    label { (ctx.t("文件(XLSX 或 UTF-8 CSV,最大 64 MB)", "File (XLSX or UTF-8 CSV, at most 64 MB)"))
                        input type="file" name="file" accept=".xlsx,.xls,.csv,text/csv" required;
                    }
                    label.check {
                        span { input type="checkbox" name="dry_run" value="1" checked; " " (ctx.t("仅检查,不写入", "Dry run only: check, write nothing")) }
                    }
                    button type="submit" { (ctx.t("上传", "Upload")) }
                }
            }
        }
        @if !exp.is_empty() {
            section.card {
                h2 { (ctx.t("导出(含完整个人信息,将记入审计日志)", "Export (full personal data; recorded in the audit log)")) }
                ul.list {
                    @for n in &exp {
                        li {
                            span { (place_label(&p, n)) }
                            span {
                                a href={"/registry/export?format=xlsx&node_id=" (n.id)} { "XLSX" }
                                " · "
                                a href={"/registry/export?format=csv&node_id=" (n.id)} { "CSV" }
                            }
                        }
                    }
                }
            }
        }
        @if !jobs.is_empty() {
            section.card {
                h2 { (ctx.t("最近的导入", "Recent imports")) }
                ul.list {
                    @for j in jobs.iter().take(10) {
                        li {
                            a href={"/registry/jobs/" (j.id)} {
                                (crate::clock::format_local(j.created_at)) " · " (j.node_name)
                                " · " @if j.dry_run { (ctx.t("检查", "dry run")) } @else { (ctx.t("导入", "import")) }
                            }
                            span.muted { (job_state(&p, j)) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(ctx, ctx.t("台账导入导出", "Registry"), body).into_response())
}

fn job_state(p: &Page, j: &Job) -> String {
    let ctx = &p.ctx;
    if !j.finished() {
        return ctx.t("进行中", "running").to_string();
    }
    match (&j.report, &j.failure) {
        (_, Some(_)) => ctx.t("失败", "failed").to_string(),
        (Some(r), _) if r.ok => ctx.t("无误", "no problems").to_string(),
        (Some(r), _) => match ctx.lang {
            crate::i18n::Lang::Zh => format!("{} 处错误", r.errors_total),
            crate::i18n::Lang::En => format!("{} problems", r.errors_total),
        },
        _ => String::new(),
    }
}

fn bad_form(t: Text) -> Error {
    Error::field("file", t)
}

async fn upload(State(st): State<AppState>, p: Page, req: Request) -> Result<Response> {
    let mut mp = match Multipart::from_request(req, &st).await {
        Ok(m) => m,
        Err(rej) => {
            return Err(crate::web::errors::map_rejection(
                rej.status(),
                &rej.body_text(),
            ))
        }
    };
    let mut node_id: Option<i64> = None;
    let mut dry_run = false;
    let mut file: Option<(String, Option<String>, Vec<u8>)> = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(crate::web::errors::map_rejection(
                    e.status(),
                    &e.body_text(),
                ))
            }
        };
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "file" => {
                let file_name = field.file_name().unwrap_or("").to_string();
                let ct = field.content_type().map(str::to_string);
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| crate::web::errors::map_rejection(e.status(), &e.body_text()))?;
                file = Some((file_name, ct, bytes.to_vec()));
            }
            "node_id" => {
                let v = field.text().await.unwrap_or_default();
                node_id = v.trim().parse().ok();
            }
            "dry_run" => {
                let v = field.text().await.unwrap_or_default();
                dry_run = !v.trim().is_empty() && v.trim() != "0";
            }
            _ => {}
        }
    }
    let Some((file_name, ct, bytes)) = file.filter(|(_, _, b)| !b.is_empty()) else {
        return Err(bad_form(Text::new(
            "请选择要上传的文件",
            "choose a file to upload",
        )));
    };
    let node_id = node_id.ok_or_else(|| {
        Error::field(
            "node_id",
            Text::new("请选择导入到哪里", "choose where to import"),
        )
    })?;
    let node = import::target(&st.db, &p.actor, node_id).await?;
    let format = FileFormat::parse(&file_name)
        .or_else(|| ct.as_deref().and_then(FileFormat::parse))
        .unwrap_or(FileFormat::Csv);
    let upload = Arc::new(Upload {
        bytes,
        format,
        file_name,
    });
    let id = import::spawn(st.clone(), p.actor.clone(), &node, upload, dry_run);
    Ok(Redirect::to(&format!("/registry/jobs/{id}")).into_response())
}

fn find_job(st: &AppState, p: &Page, id: &str) -> Result<Job> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    st.imports
        .get_for(id, p.actor.subdistrict_id, p.actor.user_id)
        .ok_or(Error::NotFound)
}

fn report_markup(p: &Page, j: &Job) -> Markup {
    let ctx = &p.ctx;
    let lang = ctx.lang;
    html! {
        @if let Some(f) = &j.failure {
            p.error role="alert" { (ctx.t("导入失败,未写入任何数据:", "The import failed; nothing was written: ")) (f.get(lang)) }
        }
        @if let Some(r) = &j.report {
            @if r.ok && r.dry_run {
                p.success { (ctx.t("检查完毕,没有发现错误。正式导入将会:", "Checked: no problems found. The import would:")) }
            } @else if r.ok {
                p.success { (ctx.t("导入完成。已写入:", "Imported. Written:")) }
            } @else {
                p.error role="alert" {
                    (match lang {
                        crate::i18n::Lang::Zh => format!("发现 {} 处错误,未写入任何数据。请修改文件后重新上传。", r.errors_total),
                        crate::i18n::Lang::En => format!("{} problem(s) found; nothing was written. Fix the file and upload it again.", r.errors_total),
                    })
                }
            }
            p.muted {
                (match lang {
                    crate::i18n::Lang::Zh => format!("共 {} 行数据 · 用时 {:.1} 秒", r.rows, r.elapsed_ms as f64 / 1000.0),
                    crate::i18n::Lang::En => format!("{} data rows · {:.1} s", r.rows, r.elapsed_ms as f64 / 1000.0),
                })
            }
            @if !r.ignored_columns.is_empty() {
                p.notice { (ctx.t("未识别、已忽略的列:", "Columns not recognised (ignored): ")) (r.ignored_columns.join("、")) }
            }
            @if r.ok {
                div.grid {
                    @for (label, n) in r.counts.labelled() {
                        @if n > 0 { div.stat { b { (n) } span { (label.get(lang)) } } }
                    }
                }
                @if r.counts == Default::default() { p { (ctx.t("没有需要新增或修改的内容。", "Nothing to add or change.")) } }
            } @else {
                div.table-wrap { table {
                    thead { tr { th { (ctx.t("行", "Row")) } th { (ctx.t("列", "Column")) } th { (ctx.t("原因", "Reason")) } } }
                    tbody { @for e in &r.errors {
                        tr { td { (e.row) } td { (e.column.map(|c| c.label().get(lang).to_string()).unwrap_or_default()) } td { (e.message.get(lang)) } }
                    } }
                } }
                @if r.errors_total as usize > r.errors.len() {
                    p.muted { (match lang {
                        crate::i18n::Lang::Zh => format!("仅显示前 {} 处错误。", r.errors.len()),
                        crate::i18n::Lang::En => format!("Only the first {} problems are shown.", r.errors.len()),
                    }) }
                }
            }
            @if r.ok && r.dry_run {
                @if j.upload.is_some() {
                    form method="post" action={"/registry/jobs/" (j.id) "/apply"} {
                        (csrf(ctx))
                        button type="submit" { (ctx.t("正式导入此文件", "Import this file for real")) }
                    }
                } @else {
                    p.muted { (ctx.t("上传的文件已过期,请重新上传。", "The upload has expired; upload it again.")) }
                }
            }
        }
    }
}

async fn job_page(State(st): State<AppState>, p: Page, Path(id): Path<String>) -> Result<Response> {
    let j = find_job(&st, &p, &id)?;
    let ctx = &p.ctx;
    let title = if j.dry_run {
        ctx.t("台账检查", "Registry dry run")
    } else {
        ctx.t("台账导入", "Registry import")
    };
    let pct = if j.progress.total > 0 {
        (j.progress.done * 100 / j.progress.total).min(100)
    } else {
        0
    };
    let body = html! {
        (layout::crumbs(&[("/registry".into(), ctx.t("台账导入导出", "Registry").into()), (String::new(), title.into())]))
        h1 { (title) " · " (j.node_name) }
        @if !j.finished() {
            meta http-equiv="refresh" content="2";
            div data-refresh="1000" {
                p { (ctx.text(&j.phase)) " … " (pct) "%" }
                progress max=(j.progress.total.max(1)) value=(j.progress.done) { (pct) "%" }
                p.muted { (ctx.t("本页会自动刷新。导入在服务器上进行,关闭本页不会中断。", "This page refreshes itself. The import runs on the server; closing the page does not stop it.")) }
            }
        } @else {
            (report_markup(&p, &j))
        }
        p { a href="/registry" { (ctx.t("返回台账导入导出", "Back to the registry")) } }
    };
    let mut resp = layout::page(ctx, title, body).into_response();
    if !j.finished() {
        resp.headers_mut()
            .insert(header::REFRESH, axum::http::HeaderValue::from_static("2"));
    }
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

#[derive(Deserialize)]
struct Empty {}

async fn apply(
    State(st): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Form(_): Form<Empty>,
) -> Result<Response> {
    let j = find_job(&st, &p, &id)?;
    let ok_dry_run = j.finished() && j.dry_run && j.report.as_ref().is_some_and(|r| r.ok);
    let Some(upload) = j.upload.clone().filter(|_| ok_dry_run) else {
        return Err(Error::Conflict(Text::new(
            "只能正式导入检查无误、且未过期的上传文件",
            "only an upload that passed its dry run and has not expired can be imported",
        )));
    };
    let node = import::target(&st.db, &p.actor, j.node_id).await?;
    let new_id = import::spawn(st.clone(), p.actor.clone(), &node, upload, false);
    Ok(Redirect::to(&format!("/registry/jobs/{new_id}")).into_response())
}

async fn template(_p: Page, Query(q): Query<FormatQ>) -> Result<Response> {
    let f = format_of(q.format.as_deref())?;
    Ok(download(
        export::template(f)?,
        f,
        &format!("台账模板.{}", f.ext()),
    ))
}

#[derive(Deserialize)]
struct ExportQ {
    node_id: Option<i64>,
    format: Option<String>,
}

async fn export_file(
    State(st): State<AppState>,
    p: Page,
    Query(q): Query<ExportQ>,
) -> Result<Response> {
    let f = format_of(q.format.as_deref())?;
    let node_id = q.node_id.unwrap_or(p.actor.subdistrict_id);
    let (bytes, name) = export::export(&st.db, &st.seal, &p.actor, node_id, f).await?;
    Ok(download(bytes, f, &name))
}
