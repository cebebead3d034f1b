//! Tree pages: the browser of the org tree, a node's page (children, rooms, households,
//! role holders, organisations, venues) and a room's page.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use super::api::{authorised_node, create_child_node, create_room_at, parse_kind};
use super::store::{self, NewRoom, Node};
use super::{area, NodeKind};
use crate::access::{allows, Action, Role, Target};
use crate::error::{Error, FieldError, Result};
use crate::web::errors::Form;
use crate::web::layout::{self, crumbs, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tree", get(tree_root))
        .route("/tree/{id}", get(node_page))
        .route("/tree/{id}/children", post(add_child))
        .route("/tree/{id}/rooms", post(add_room))
        .route("/rooms/{id}", get(room_page))
        .merge(super::edit::routes())
}

/// The tree's entry: the subdistrict for those who reach it, else the places one's roles reach.
async fn tree_root(p: Page) -> Result<Response> {
    let root_path = format!("/{}/", p.actor.subdistrict_id);
    if allows(
        &p.actor,
        Action::ReadTree,
        Target::Node { path: &root_path },
    ) {
        return Ok(Redirect::to(&format!("/tree/{}", p.actor.subdistrict_id)).into_response());
    }
    let ctx = &p.ctx;
    let mut places = Vec::new();
    for g in &p.actor.grants {
        if let Some(id) = g.node_id {
            if allows(&p.actor, Action::ReadTree, Target::Node { path: &g.path }) {
                places.push((
                    store::node(&ctx.state.db, p.actor.subdistrict_id, id).await?,
                    g.role,
                ));
            }
        }
    }
    if places.len() == 1 {
        return Ok(Redirect::to(&format!("/tree/{}", places[0].0.id)).into_response());
    }
    let body = html! {
        h1 { (ctx.t("我负责的地方", "My places")) }
        @if places.is_empty() { p.notice { (ctx.t("您的角色不涉及组织架构。", "Your roles do not cover any part of the tree.")) } }
        ul.list { @for (n, role) in &places { li { a href={ "/tree/" (n.id) } { (n.name) } span.muted { (ctx.text(&role.label())) } } } }
    };
    Ok(layout::page(ctx, ctx.t("组织架构", "Org tree"), body).into_response())
}

fn kind_tag(ctx: &Ctx, n: &Node) -> Markup {
    html! {
        span.tag.(n.track.map(|t| t.as_str()).unwrap_or("")) { (ctx.text(&n.kind.label())) }
    }
}

fn area_cell(v: Option<i64>) -> Markup {
    html! { @if let Some(a) = v { (area::format(a)) } @else { span.muted { "—" } } }
}

#[derive(Default, Deserialize)]
struct ChildForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    code: String,
}

#[derive(Default, Deserialize)]
pub(super) struct RoomForm {
    #[serde(default)]
    pub(super) number: String,
    #[serde(default)]
    pub(super) floor: String,
    #[serde(default)]
    pub(super) registered_area: String,
    #[serde(default)]
    pub(super) surveyed_area: String,
    #[serde(default)]
    pub(super) contract_area: String,
    #[serde(default)]
    pub(super) developer_unsold: Option<String>,
}

/// What a re-rendered form shows: the values typed and the errors by field.
#[derive(Default)]
struct Echo<T> {
    values: T,
    errors: Vec<FieldError>,
}

impl<T> Echo<T> {
    fn error(&self, ctx: &Ctx, field: &str) -> Markup {
        html! { @for e in self.errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } }
    }
}

#[derive(Deserialize, Default)]
struct NodeQ {
    page: Option<i64>,
}

const HOUSEHOLDS_PER_PAGE: i64 = 50;

async fn node_page(p: Page, Path(id): Path<i64>, Query(q): Query<NodeQ>) -> Result<Markup> {
    render_node(
        &p,
        id,
        q.page.unwrap_or(0),
        Echo::default(),
        Echo::default(),
    )
    .await
}

async fn render_node(
    p: &Page,
    id: i64,
    page: i64,
    child: Echo<ChildForm>,
    room: Echo<RoomForm>,
) -> Result<Markup> {
    let ctx = &p.ctx;
    let st = &ctx.state;
    let sid = p.actor.subdistrict_id;
    let node = authorised_node(st, &p.actor, id, Action::ReadTree).await?;
    let here = Target::Node { path: &node.path };
    let can_people = allows(&p.actor, Action::ReadPeople, here);
    let can_edit = allows(&p.actor, Action::EditRegistry, here);
    let ancestors = store::ancestors(&st.db, sid, &node.path).await?;
    let trail: Vec<(String, String)> = ancestors
        .iter()
        .filter(|a| allows(&p.actor, Action::ReadTree, Target::Node { path: &a.path }))
        .map(|a| (format!("/tree/{}", a.id), a.name.clone()))
        .collect();
    let children = store::children(&st.db, sid, id).await?;
    let counts = store::subtree_counts(&st.db, sid, &node.path).await?;
    let rooms = if node.kind.holds_rooms() {
        store::rooms_on(&st.db, sid, id).await?
    } else {
        Vec::new()
    };
    let show_households = can_people
        && matches!(
            node.kind,
            NodeKind::Grid | NodeKind::Building | NodeKind::Unit | NodeKind::VillageGroup
        );
    let page = page.max(0);
    let households = if show_households {
        crate::people::store::households_under(
            &st.db,
            sid,
            &node.path,
            HOUSEHOLDS_PER_PAGE + 1,
            page * HOUSEHOLDS_PER_PAGE,
        )
        .await?
    } else {
        Vec::new()
    };
    let more = households.len() as i64 > HOUSEHOLDS_PER_PAGE;
    let holders = crate::access::store::holders_at(&st.db, sid, id).await?;
    let orgs = store::orgs_on(&st.db, sid, &[id]).await?;
    let venues = if matches!(
        node.kind,
        NodeKind::Subdistrict | NodeKind::Community | NodeKind::Village
    ) {
        store::venues_under(&st.db, sid, &node.path).await?
    } else {
        Vec::new()
    };
    let child_kinds: Vec<NodeKind> = node
        .kind
        .children()
        .iter()
        .copied()
        .filter(|k| super::model::check_child(node.kind, node.track, *k).is_ok())
        .collect();
    let body = html! {
        (crumbs(&trail))
        @if can_edit { p.actions { a href={ "/tree/" (id) "/edit" } { (ctx.t("修改名称", "Rename")) } } }
        h1 { (node.name) " " (kind_tag(ctx, &node)) @if let Some(t) = node.track { " " span.tag.(t.as_str()) { (ctx.text(&t.label())) } } }
        @if node.kind == NodeKind::Building { p.actions { a href={ "/fund/buildings/" (id) } { (ctx.t("专项维修资金", "Maintenance fund")) } } }
        div.grid {
            @if counts.communities > 0 { div.stat { b { (counts.communities) } span { (ctx.t("居民区", "communities")) } } }
            @if counts.villages > 0 { div.stat { b { (counts.villages) } span { (ctx.t("村", "villages")) } } }
            @if counts.grids > 0 { div.stat { b { (counts.grids) } span { (ctx.t("微网格", "micro-grids")) } } }
            @if counts.buildings > 0 { div.stat { b { (counts.buildings) } span { (ctx.t("楼栋", "buildings")) } } }
            @if counts.village_groups > 0 { div.stat { b { (counts.village_groups) } span { (ctx.t("村民小组", "village groups")) } } }
            div.stat { b { (counts.rooms) } span { (ctx.t("房屋", "rooms")) } }
            @if can_people {
                div.stat { b { (counts.households) } span { (ctx.t("户", "households")) } }
                div.stat { b { (counts.residents) } span { (ctx.t("居民", "residents")) } }
            }
        }
        @if !children.is_empty() {
            h2 { (ctx.t("下级", "Below")) }
            ul.list.children {
                @for c in &children {
                    li {
                        a href={ "/tree/" (c.node.id) } { (c.node.name) }
                        span.muted { (kind_tag(ctx, &c.node)) @if c.children > 0 { " · " (c.children) } }
                    }
                }
            }
        }
        @if node.kind.holds_rooms() {
            h2 { (ctx.t("房屋", "Rooms")) }
            @if rooms.is_empty() { p.muted { (ctx.t("暂无房屋", "No rooms yet")) } } @else {
                div.table-wrap { table.rooms {
                    tr { th { (ctx.t("室号", "Room")) } th { (ctx.t("楼层", "Floor")) } th { (ctx.t("登记面积 m²", "Registered m²")) } th { (ctx.t("实测面积 m²", "Surveyed m²")) } th { (ctx.t("合同面积 m²", "Contract m²")) } }
                    @for r in &rooms {
                        tr {
                            td { a href={ "/rooms/" (r.id) } { (r.number) } @if r.developer_unsold { " " span.tag { (ctx.t("开发商未售", "unsold")) } } }
                            td { @if let Some(f) = r.floor { (f) } }
                            td { (area_cell(r.registered_area)) } td { (area_cell(r.surveyed_area)) } td { (area_cell(r.contract_area)) }
                        }
                    }
                } }
            }
        }
        @if show_households {
            h2 { (ctx.t("住户", "Households")) " " small { a href={ "/tree/" (id) "/people" } { (ctx.t("查找居民", "Search residents")) } } }
            @if households.is_empty() { p.muted { (ctx.t("暂无住户", "No households yet")) } }
            ul.list.households {
                @for h in households.iter().take(HOUSEHOLDS_PER_PAGE as usize) {
                    li {
                        span {
                            @if !h.place.is_empty() && h.node_id != id { small.muted { (h.place) } " " }
                            @if let Some(r) = h.room_id { a href={ "/rooms/" (r) } { (h.label) } } @else { (h.label) }
                        }
                        span { @for (i, m) in h.members.iter().enumerate() {
                            @if i > 0 { "、" }
                            a href={ "/people/" (m.person.id) } { (m.person.name_masked) }
                        } }
                    }
                }
            }
            @if page > 0 || more {
                p { @if page > 0 { a href={ "/tree/" (id) "?page=" (page - 1) } { "‹ " (ctx.t("上一页", "Previous")) } " " }
                    @if more { a href={ "/tree/" (id) "?page=" (page + 1) } { (ctx.t("下一页", "Next")) " ›" } } }
            }
        }
        @if !holders.is_empty() {
            h2 { (ctx.t("在此任职", "Role holders here")) }
            ul.list.holders { @for (_, name, role) in &holders { li { span { (name) } span.muted { (ctx.text(&role.label())) } } } }
        }
        @if !orgs.is_empty() {
            h2 { (ctx.t("组织", "Organisations")) }
            ul.list { @for o in &orgs { li { span { (o.name) } span.muted { (org_kind(ctx, &o.kind)) } } } }
        }
        @if !venues.is_empty() {
            h2 { (ctx.t("服务网点", "Service points")) }
            ul.list { @for v in &venues { li { span { (v.name) br; small.muted { (v.address) } } span.muted { (venue_kind(ctx, &v.kind)) @if !v.hours.is_empty() { " · " (v.hours) } } } } }
        }
        @if can_edit && !child_kinds.is_empty() {
            section.card {
                h2 { (ctx.t("新建下级", "Add below")) }
                form.stack method="post" action={ "/tree/" (id) "/children" } {
                    (csrf(ctx))
                    label { (ctx.t("类型", "Kind"))
                        select name="kind" { @for k in &child_kinds { option value=(k.as_str()) selected[child.values.kind == k.as_str()] { (ctx.text(&k.label())) } } }
                        (child.error(ctx, "kind"))
                    }
                    label { (ctx.t("名称", "Name")) input type="text" name="name" value=(child.values.name) required; (child.error(ctx, "name")) }
                    label { (ctx.t("代码(可选)", "Code (optional)")) input type="text" name="code" value=(child.values.code); }
                    button type="submit" { (ctx.t("新建", "Create")) }
                }
            }
        }
        @if can_edit && node.kind.holds_rooms() {
            section.card {
                h2 { (ctx.t("新增房屋", "Add a room")) }
                form.stack method="post" action={ "/tree/" (id) "/rooms" } {
                    (csrf(ctx))
                    label { (ctx.t("室号", "Room number")) input type="text" name="number" value=(room.values.number) required; (room.error(ctx, "number")) }
                    label { (ctx.t("楼层", "Floor")) input type="number" name="floor" value=(room.values.floor); (room.error(ctx, "floor")) }
                    label { (ctx.t("登记面积(m²)", "Registered area (m²)")) input type="text" inputmode="decimal" name="registered_area" value=(room.values.registered_area); (room.error(ctx, "registered_area")) }
                    label { (ctx.t("实测面积(m²)", "Surveyed area (m²)")) input type="text" inputmode="decimal" name="surveyed_area" value=(room.values.surveyed_area); (room.error(ctx, "surveyed_area")) }
                    label { (ctx.t("合同面积(m²)", "Contract area (m²)")) input type="text" inputmode="decimal" name="contract_area" value=(room.values.contract_area); (room.error(ctx, "contract_area")) }
                    label { span { input type="checkbox" name="developer_unsold" value="1" checked[room.values.developer_unsold.is_some()]; " " (ctx.t("开发商未售", "Unsold by the developer")) } }
                    button type="submit" { (ctx.t("新增", "Add")) }
                }
            }
        }
    };
    Ok(layout::page(ctx, &node.name, body))
}

pub fn org_kind(ctx: &Ctx, kind: &str) -> String {
    let (zh, en) = match kind {
        "developer" => ("开发商", "developer"),
        "property_company" => ("物业服务企业", "property company"),
        "owners_committee" => ("业委会", "owners' committee"),
        "residents_committee" => ("居委会", "residents' committee"),
        "village_committee" => ("村委会", "village committee"),
        "party_committee" => ("党组织", "party organisation"),
        "pairing_unit" => ("结对单位", "pairing unit"),
        "social_org" => ("社会组织", "social organisation"),
        "audit_firm" => ("审计机构", "audit firm"),
        "law_firm" => ("律师事务所", "law firm"),
        other => (other, other),
    };
    ctx.t(zh, en).to_string()
}

pub fn venue_kind(ctx: &Ctx, kind: &str) -> String {
    let (zh, en) = match kind {
        "acceptance_point" => ("受理网点", "acceptance point"),
        "agency_point" => ("代理网点", "agency point"),
        "self_service_24h" => ("24小时自助服务网点", "24-hour self-service point"),
        "service_station" => ("党群服务站点", "service station"),
        "parlour" => ("平心·客堂间", "parlour"),
        "living_room" => ("小客厅", "living room"),
        other => (other, other),
    };
    ctx.t(zh, en).to_string()
}

async fn add_child(p: Page, Path(id): Path<i64>, Form(f): Form<ChildForm>) -> Result<Response> {
    let result = match parse_kind(&f.kind) {
        Ok(kind) => {
            create_child_node(&p.ctx.state, &p.actor, id, kind, &f.name, Some(&f.code)).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(node) => Ok(Redirect::to(&format!("/tree/{}", node.id)).into_response()),
        Err(Error::Invalid(errors)) => {
            let page = render_node(&p, id, 0, Echo { values: f, errors }, Echo::default()).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

pub(super) fn parse_room_form(f: &RoomForm) -> std::result::Result<NewRoom, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut area_of = |field: &str, s: &str| -> Option<i64> {
        if s.trim().is_empty() {
            return None;
        }
        match area::parse(s) {
            Ok(v) => Some(v),
            Err(t) => {
                errors.push(FieldError::new(field, t));
                None
            }
        }
    };
    let registered_area = area_of("registered_area", &f.registered_area);
    let surveyed_area = area_of("surveyed_area", &f.surveyed_area);
    let contract_area = area_of("contract_area", &f.contract_area);
    let floor = if f.floor.trim().is_empty() {
        None
    } else {
        match f.floor.trim().parse::<i64>() {
            Ok(v) if (-10..=200).contains(&v) => Some(v),
            _ => {
                errors.push(FieldError::new(
                    "floor",
                    crate::i18n::Text::new(
                        "楼层应为 -10 到 200 的整数",
                        "the floor is a whole number from -10 to 200",
                    ),
                ));
                None
            }
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewRoom {
        number: f.number.clone(),
        floor,
        registered_area,
        surveyed_area,
        contract_area,
        developer_unsold: f.developer_unsold.is_some(),
    })
}

async fn add_room(p: Page, Path(id): Path<i64>, Form(f): Form<RoomForm>) -> Result<Response> {
    let result = match parse_room_form(&f) {
        Ok(new) => create_room_at(&p.ctx.state, &p.actor, id, &new).await,
        Err(errors) => Err(Error::Invalid(errors)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/tree/{id}")).into_response()),
        Err(Error::Invalid(errors)) => {
            let page = render_node(&p, id, 0, Echo::default(), Echo { values: f, errors }).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn room_page(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    let ctx = &p.ctx;
    let st = &ctx.state;
    let sid = p.actor.subdistrict_id;
    let room = store::room(&st.db, sid, id).await?;
    let node = store::node(&st.db, sid, room.node_id).await?;
    let target = Target::Room {
        room_id: id,
        path: &node.path,
    };
    if !allows(&p.actor, Action::ReadTree, target) {
        return Err(Error::Forbidden);
    }
    let can_people = allows(&p.actor, Action::ReadPeople, target);
    let owners = if can_people {
        crate::people::store::owners_of_room(&st.db, sid, id).await?
    } else {
        Vec::new()
    };
    let households = if can_people {
        crate::people::store::households_of_room(&st.db, sid, id).await?
    } else {
        Vec::new()
    };
    let ancestors = store::ancestors(&st.db, sid, &node.path).await?;
    let mut trail: Vec<(String, String)> = ancestors
        .iter()
        .filter(|a| allows(&p.actor, Action::ReadTree, Target::Node { path: &a.path }))
        .map(|a| (format!("/tree/{}", a.id), a.name.clone()))
        .collect();
    trail.push((String::new(), room.number.clone()));
    let is_owner_view = p
        .actor
        .grants
        .iter()
        .any(|g| g.role == Role::Owner && g.room_id == Some(id));
    let body = html! {
        (crumbs(&trail))
        h1 { (node.name) " " (room.number) (ctx.t("室", "")) }
        @if allows(&p.actor, Action::EditRegistry, Target::Node { path: &node.path }) {
            p.actions { a href={ "/rooms/" (id) "/edit" } { (ctx.t("更正房屋信息", "Correct this room")) } }
        }
        @if is_owner_view { p.muted { (ctx.t("这是您名下的房屋。", "This room is yours.")) } }
        p.actions { a href={ "/fund/rooms/" (id) } { (ctx.t("维修资金分户账", "Maintenance fund statement")) } }
        div.table-wrap { table {
            tr { th { (ctx.t("登记面积", "Registered area")) } td { (area_cell(room.registered_area)) " m²" } }
            tr { th { (ctx.t("实测面积", "Surveyed area")) } td { (area_cell(room.surveyed_area)) " m²" } }
            tr { th { (ctx.t("合同面积", "Contract area")) } td { (area_cell(room.contract_area)) " m²" } }
            tr { th { (ctx.t("计票面积(登记>实测>合同)", "Area that counts (registered, else surveyed, else contract)")) } td { strong { (area_cell(room.effective_area())) " m²" } } }
            tr { th { (ctx.t("楼层", "Floor")) } td { @if let Some(f) = room.floor { (f) } } }
            @if room.developer_unsold { tr { th { (ctx.t("状态", "State")) } td { (ctx.t("开发商未售", "unsold by the developer")) } } }
        } }
        @if can_people {
            h2 { (ctx.t("产权人", "Owners")) }
            @if owners.is_empty() { p.muted { (ctx.t("未登记产权人", "No owner registered")) } }
            ul.list { @for o in &owners { li {
                @if let Some(person) = &o.person { a href={ "/people/" (person.id) } { (person.name_masked) } span.muted { (person.phone) } }
                @else { span { (o.org_name.clone().unwrap_or_default()) } span.muted { (ctx.t("单位", "organisation")) } }
            } } }
            h2 { (ctx.t("住户", "Households")) }
            @if households.is_empty() { p.muted { (ctx.t("暂无住户", "No households")) } }
            @for h in &households {
                div.card {
                    strong { (h.label) }
                    ul { @for m in &h.members { li { a href={ "/people/" (m.person.id) } { (m.person.name_masked) } " " span.muted { (crate::people::web::relation_label(ctx, &m.relation)) " · " (m.person.phone) } } } }
                }
            }
        }
    };
    Ok(layout::page(ctx, &room.number, body))
}
