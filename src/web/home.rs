//! The home page, one per role: what the person behind the account needs first.

use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

use super::{layout, AppState, Page};
use crate::access::{allows, Action, Role, Target};
use crate::error::Result;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

async fn home(p: Page) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let mut sections = Vec::new();
    // Places the user's roles reach, each with its counts.
    for g in p
        .actor
        .grants
        .iter()
        .filter(|g| g.node_id.is_some() && !matches!(g.role, Role::Resident | Role::Owner))
    {
        let Some(node_id) = g.node_id else { continue };
        let node = crate::tree::store::node(db, sid, node_id).await?;
        let counts = crate::tree::store::subtree_counts(db, sid, &node.path).await?;
        let people = allows(
            &p.actor,
            Action::ReadPeople,
            Target::Node { path: &node.path },
        );
        sections.push(html! {
            section.card {
                h2 { (ctx.text(&g.role.label())) " · " a href={ "/tree/" (node.id) } { (node.name) } }
                div.grid {
                    @if counts.communities > 0 { div.stat { b { (counts.communities) } span { (ctx.t("居民区", "communities")) } } }
                    @if counts.villages > 0 { div.stat { b { (counts.villages) } span { (ctx.t("村", "villages")) } } }
                    @if counts.grids > 0 { div.stat { b { (counts.grids) } span { (ctx.t("微网格", "micro-grids")) } } }
                    div.stat { b { (counts.buildings + counts.village_groups) } span { (ctx.t("楼栋/村民小组", "buildings / groups")) } }
                    div.stat { b { (counts.rooms) } span { (ctx.t("房屋", "rooms")) } }
                    @if people {
                        div.stat { b { (counts.households) } span { (ctx.t("户", "households")) } }
                        div.stat { b { (counts.residents) } span { (ctx.t("居民", "residents")) } }
                    }
                }
            }
        });
    }
    // A resident's or owner's own records.
    let mine = match p.actor.person_id {
        Some(pid) => {
            let households = crate::people::store::households_of_person(db, sid, pid).await?;
            let rooms = crate::people::store::rooms_owned(db, sid, pid).await?;
            Some(html! {
                section.card {
                    h2 { (ctx.t("我的信息", "My records")) }
                    p { a href={ "/people/" (pid) } { (ctx.t("查看我的个人信息", "See my personal data")) } }
                    @if !households.is_empty() {
                        h3 { (ctx.t("我的家庭", "My household")) }
                        ul.list { @for h in &households { li { span { (h.label) } span.muted { (h.members.len()) " " (ctx.t("人", "people")) } } } }
                    }
                    @if !rooms.is_empty() {
                        h3 { (ctx.t("我的房屋", "My rooms")) }
                        ul.list { @for (r, _) in &rooms { li { a href={ "/rooms/" (r.id) } { (r.number) } span.muted {
                            @if let Some(a) = r.effective_area() { (crate::tree::area::format(a)) " m²" }
                        } } } }
                    }
                }
            })
        }
        None => None,
    };
    let body = html! {
        h1 { (ctx.t("您好,", "Hello, ")) (p.actor.display_name) }
        @if sections.is_empty() && mine.is_none() {
            p.notice { (ctx.t("您的账户还没有角色,请联系街道管理员授权。", "Your account has no role yet; ask the subdistrict admin to grant one.")) }
        }
        @for s in sections { (s) }
        @if let Some(m) = mine { (m) }
    };
    Ok(layout::page(ctx, ctx.t("首页", "Home"), body))
}
