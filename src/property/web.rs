//! `/governance`: the way into property governance — the troika's joint office, owners'
//! committees, property companies, the maintenance fund, the public income account, third-party
//! audit and lawyer mediation — with the subdistrict's figures of the last two years
//! (re-elections, fee adjustments, selections; the seed reports 21, 8 and 16).

use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

use crate::access::{allows, Action, Actor, Role, Target};
use crate::error::Result;
use crate::web::{layout, AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new().route("/governance", get(hub))
}

/// Two years, the period the seed reports its figures over.
pub const TWO_YEARS_MS: i64 = 730 * 86_400_000;

/// Whether the actor works in property governance at all (not only as a resident or owner).
pub fn in_governance(actor: &Actor) -> bool {
    actor
        .grants
        .iter()
        .any(|g| !matches!(g.role, Role::Resident | Role::Owner))
}

/// The subdistrict's governance figures over `[from, to)`, for whoever reads the whole tree.
pub async fn figures(ctx: &Ctx, actor: &Actor, from: i64, to: i64) -> Result<Option<Markup>> {
    let root = format!("/{}/", actor.subdistrict_id);
    if !allows(actor, Action::ReadTree, Target::Node { path: &root }) {
        return Ok(None);
    }
    let db = &ctx.state.db;
    let sid = actor.subdistrict_id;
    let re = super::committees::reelection_counts(db, sid, from, to).await?;
    let gov = super::companies::governance_counts(db, sid, from, to).await?;
    Ok(Some(html! {
        section.card {
            h2 { (ctx.t("物业治理 · 近两年", "Property governance · last two years")) }
            div.grid {
                div.stat { b { (re.completed) } span { a href="/committees" { (ctx.t("业委会换届完成", "committee re-elections done")) } } }
                div.stat { b { (re.running) } span { (ctx.t("换届进行中", "re-elections running")) } }
                div.stat { b { (gov.fee_adjustments) } span { a href="/property" { (ctx.t("物业费调价", "fee adjustments")) } } }
                div.stat { b { (gov.selections) } span { a href="/property" { (ctx.t("物业选聘", "company selections")) } } }
            }
        }
    }))
}

async fn hub(p: Page) -> Result<Markup> {
    let ctx = &p.ctx;
    let now = crate::clock::now_ms();
    let figures = figures(ctx, &p.actor, now - TWO_YEARS_MS, now).await?;
    let parts: [(&str, &str, &str, &str, &str); 8] = [
        ("/office", "三驾马车合署办公", "Troika joint office",
         "居委会、业委会、物业每周固定时段合署办公:签到、来访登记、现场事项转办。",
         "Fixed weekly hours of the residents' committee, owners' committee and property company: check-ins, visitors, matters raised."),
        ("/committees", "业主委员会", "Owners' committees",
         "成员与职务、任期、规模规则、任期届满提醒、换届步骤与期限。",
         "Members and offices, terms, size rules, term-end alerts, re-election steps and deadlines."),
        ("/property", "物业服务", "Property companies",
         "各小区物业合同、解聘与不续聘通知、物业选聘与物业费调价流程。",
         "Contracts per estate, dismissal and non-renewal notices, company selection and fee adjustments."),
        ("/companies", "物业服务企业", "Company registry",
         "物业服务企业名录。", "The register of property companies."),
        ("/fund", "专项维修资金", "Maintenance fund",
         "按楼栋、按户的分户账:交存、利息、补充、使用(须业主表决或应急批准)、冲正、公示。",
         "Accounts per building and room: deposits, interest, top-ups, withdrawals (owners' vote or emergency approval), reversals, publication."),
        ("/income", "公共收益", "Public income",
         "小区共有部分的广告、停车、场地等收益及其使用,按季度补充维修资金(超过50%)并公示。",
         "Income from the common parts (advertising, parking, venues) and its use, the quarterly top-up of the fund (more than half), quarterly publication."),
        ("/audits", "第三方审计", "Third-party audit",
         "审计聘用、审计发现与回应、审计报告公示(30日)。",
         "Audit engagements, findings and responses, the report published for 30 days."),
        ("/mediation", "律师调解", "Lawyer mediation",
         "物业纠纷调解:当事人、受聘律所的律师、调解过程、协议与回访。",
         "Property disputes: parties, the engaged firm's lawyer, sessions, agreement and follow-up."),
    ];
    let body = html! {
        h1 { (ctx.t("物业治理", "Property governance")) }
        @if let Some(f) = figures { (f) }
        ul.list {
            @for (href, zh, en, dzh, den) in parts {
                li { span { a href=(href) { strong { (ctx.t(zh, en)) } } br; span.muted { (ctx.t(dzh, den)) } } }
            }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("物业治理", "Property governance"),
        body,
    ))
}
