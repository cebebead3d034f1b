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
            // The public income notices of the estates their rooms are in (published quarters).
            let estates = crate::property::income::store::owned_estates(db, &p.actor).await?;
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
                            " · " a href={ "/fund/rooms/" (r.id) } { (ctx.t("维修资金", "maintenance fund")) }
                        } } } }
                    }
                    @if !estates.is_empty() {
                        h3 { (ctx.t("公共收益公示", "Public income notices")) }
                        ul.list { @for e in &estates { li { a href={ "/income/" (e.id) "/notices" } { (e.name) } } } }
                    }
                }
            })
        }
        None => None,
    };
    let now = crate::clock::now_ms();
    let votes = crate::votes::desk::store::awaiting(db, &p.actor, now).await?;
    let governance =
        crate::property::web::figures(ctx, &p.actor, now - crate::property::web::TWO_YEARS_MS, now)
            .await?;
    let shortcuts = shortcuts(ctx, &p.actor);
    let body = html! {
        h1 { (ctx.t("您好,", "Hello, ")) (p.actor.display_name) }
        @if !shortcuts.is_empty() {
            nav.shortcuts {
                @for (href, label) in &shortcuts { a.button href=(href) { (label) } }
            }
        }
        @if sections.is_empty() && mine.is_none() {
            p.notice { (ctx.t("您的账户还没有角色,请联系街道管理员授权。", "Your account has no role yet; ask the subdistrict admin to grant one.")) }
        }
        @if !votes.is_empty() {
            section.card {
                h2 { (ctx.t("待您表决", "Votes awaiting your ballot")) }
                ul.list { @for v in &votes { li {
                    a href={ "/votes/" (v.id) } { strong { (v.title) } }
                    span.muted { (v.scope_name) " · " (ctx.t("截止", "closes")) " " (crate::clock::format_local(v.closes_at)) }
                } } }
            }
        }
        @for s in sections { (s) }
        @if let Some(g) = governance { (g) }
        @if let Some(m) = mine { (m) }
    };
    Ok(layout::page(ctx, ctx.t("首页", "Home"), body))
}

/// The entry points of the case loop and the settings this person's roles open, most used
/// first: residents speak up, grid members report on the spot, desks record and triage.
fn shortcuts(ctx: &super::Ctx, actor: &crate::access::Actor) -> Vec<(&'static str, &'static str)> {
    let has = |roles: &[Role]| actor.grants.iter().any(|g| roles.contains(&g.role));
    let mut out = Vec::new();
    if has(&[Role::Resident, Role::Owner]) {
        out.push(("/report", ctx.t("我要反映", "Report a problem")));
        out.push(("/my/cases", ctx.t("我反映的事项", "My reports")));
    }
    if has(&[
        Role::GridLeader,
        Role::GridMember,
        Role::BuildingLeader,
        Role::VillageGroupLeader,
    ]) {
        out.push(("/quick", ctx.t("随手拍", "Quick report")));
    }
    let desk = [
        Role::SubdistrictAdmin,
        Role::SubdistrictStaff,
        Role::CommunityStaff,
        Role::PropertyStaff,
    ];
    if has(&desk) {
        out.push((
            "/cases/desk",
            ctx.t("登记来访来电", "Record a visit or call"),
        ));
        out.push(("/triage", ctx.t("分拣立案", "Triage")));
    }
    if has(&desk) || has(&[Role::GridLeader, Role::Auditor]) {
        out.push(("/measures", ctx.t("办理成效", "Measures")));
    }
    if has(&[Role::Auditor]) {
        out.push(("/audits", ctx.t("我的审计", "My audits")));
    }
    if allows(actor, Action::Configure, Target::Subdistrict) {
        out.push(("/admin/categories", ctx.t("事项类别", "Categories")));
        out.push(("/admin/routing", ctx.t("派单规则", "Routing rules")));
        out.push(("/admin/relay", ctx.t("群消息接入", "Chat relay")));
        out.push(("/admin/open311", ctx.t("Open311 接入", "Open311 intake")));
    }
    out
}
