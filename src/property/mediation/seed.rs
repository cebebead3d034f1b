//! The demo's lawyer mediation (律师调解): the demo law firm engaged for the whole subdistrict
//! (from about two years ago to a year ahead), and ten property disputes across the kinds and
//! every status — filed, assigned to the demo lawyer, in session, settled by agreement (with
//! its follow-up open or done), no agreement, withdrawn — with their parties (the property
//! company as an organisation, owners by name), sessions and outcomes.
//!
//! [`seed_mediation`] writes the rows `store.rs` writes, inside the demo's load transaction.
//! Historical steps send no notices (the lawyer was told at the time).

use serde_json::json;
use sqlx::Row;

use super::rules::{Kind, Side, Status};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::demo::names;
use crate::error::Result;
use crate::storage::bulk::{Cell, Inserter};
use crate::storage::{dialect_of, next_id, Tx};

const DAY_MS: i64 = 86_400_000;
/// How many disputes are written.
pub const DISPUTES: usize = 10;

/// What [`seed_mediation`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seeded {
    pub engagements: usize,
    pub disputes: usize,
    pub sessions: usize,
}

/// One dispute: kind, final status, days since filing, the summary and the outcome.
struct Dispute {
    kind: Kind,
    status: Status,
    filed_days_ago: i64,
    summary: &'static str,
    outcome: &'static str,
    /// The property company is the respondent (else a neighbour).
    against_company: bool,
}

const LIST: [Dispute; DISPUTES] = [
    Dispute {
        kind: Kind::FeeArrears,
        status: Status::FollowUpDone,
        filed_days_ago: 420,
        summary: "业主以服务质量差为由拒缴物业费两年",
        outcome: "物业公司整改保洁和绿化,业主分三期补缴欠费,免收滞纳金",
        against_company: true,
    },
    Dispute {
        kind: Kind::Repairs,
        status: Status::AgreementReached,
        filed_days_ago: 60,
        summary: "外墙渗水维修责任及费用分担争议",
        outcome: "物业公司先行维修,费用按维修资金使用程序由相关业主分摊",
        against_company: true,
    },
    Dispute {
        kind: Kind::Noise,
        status: Status::NoAgreement,
        filed_days_ago: 150,
        summary: "楼上住户夜间练琴影响休息",
        outcome: "双方对练琴时段未能达成一致,已告知可向人民法院起诉",
        against_company: false,
    },
    Dispute {
        kind: Kind::Parking,
        status: Status::InSession,
        filed_days_ago: 25,
        summary: "地面车位长期被同一业主占用",
        outcome: "",
        against_company: true,
    },
    Dispute {
        kind: Kind::Leaks,
        status: Status::FollowUpDone,
        filed_days_ago: 300,
        summary: "楼上卫生间渗漏导致楼下天花板霉变",
        outcome: "楼上业主重做防水并赔偿楼下修复费用 3,200 元",
        against_company: false,
    },
    Dispute {
        kind: Kind::Other,
        status: Status::Withdrawn,
        filed_days_ago: 200,
        summary: "快递柜占用消防通道引发争执",
        outcome: "物业公司已移走快递柜,申请人撤回调解申请",
        against_company: true,
    },
    Dispute {
        kind: Kind::FeeArrears,
        status: Status::Assigned,
        filed_days_ago: 9,
        summary: "空置房物业费减免争议",
        outcome: "",
        against_company: true,
    },
    Dispute {
        kind: Kind::Repairs,
        status: Status::Filed,
        filed_days_ago: 3,
        summary: "电梯频繁故障,业主要求物业公司承担责任",
        outcome: "",
        against_company: true,
    },
    Dispute {
        kind: Kind::Leaks,
        status: Status::InSession,
        filed_days_ago: 40,
        summary: "空调冷凝水滴落楼下阳台",
        outcome: "",
        against_company: false,
    },
    Dispute {
        kind: Kind::Parking,
        status: Status::AgreementReached,
        filed_days_ago: 110,
        summary: "新能源车充电桩安装位置争议",
        outcome: "物业公司同意在指定区域安装,业主承担安装费用并购买保险",
        against_company: true,
    },
];

fn person_name(k: usize) -> String {
    let surname = names::SURNAMES[(k * 37 + 5) % names::SURNAMES.len()];
    let given = if k % 2 == 0 {
        names::YOUNGER_MALE[(k * 13 + 4) % names::YOUNGER_MALE.len()]
    } else {
        names::OLDER_FEMALE[(k * 5 + 9) % names::OLDER_FEMALE.len()]
    };
    format!("{surname}{given}")
}

fn date_days_ago(now: i64, days: i64) -> String {
    crate::votes::desk::store::local_date(now - days * DAY_MS)
}

/// Writes the engagement and the disputes into subdistrict `sid` inside the caller's
/// transaction. Writes nothing without a law firm.
pub async fn seed_mediation(tx: &mut Tx, actor: &Actor, sid: i64, now: i64) -> Result<Seeded> {
    let Some(firm) = sqlx::query(
        "SELECT id FROM orgs WHERE subdistrict_id = $1 AND kind = 'law_firm' ORDER BY id LIMIT 1",
    )
    .bind(sid)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.get::<i64, _>(0)) else {
        return Ok(Seeded::default());
    };
    // The demo lawyer (created with the accounts just before), if any.
    let lawyer: Option<i64> = sqlx::query(
        "SELECT u.id FROM users u JOIN role_grants g ON g.subdistrict_id = u.subdistrict_id AND g.user_id = u.id \
         WHERE u.subdistrict_id = $1 AND g.role = 'lawyer' AND g.org_id = $2 ORDER BY u.id LIMIT 1",
    )
    .bind(sid)
    .bind(firm)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.get::<i64, _>(0));
    // The places: the first grid of each of the first communities, with its property company.
    let places: Vec<(i64, String, Option<i64>, String)> = sqlx::query(
        "SELECT n.id, n.path, \
           (SELECT MIN(o.id) FROM orgs o WHERE o.subdistrict_id = n.subdistrict_id AND o.kind = 'property_company' \
            AND o.node_id = n.parent_id) AS company, p.name \
         FROM nodes n JOIN nodes p ON p.subdistrict_id = n.subdistrict_id AND p.id = n.parent_id \
         WHERE n.subdistrict_id = $1 AND n.kind = 'grid' AND p.kind = 'community' \
         AND n.id = (SELECT MIN(g.id) FROM nodes g WHERE g.subdistrict_id = n.subdistrict_id \
            AND g.parent_id = n.parent_id AND g.kind = 'grid') \
         ORDER BY p.path LIMIT 5",
    )
    .bind(sid)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        (
            r.get(0),
            r.get(1),
            crate::storage::opt_i64(r, "company"),
            r.get(3),
        )
    })
    .collect();
    if places.is_empty() {
        return Ok(Seeded::default());
    }
    let companies: Vec<(i64, String)> = sqlx::query(
        "SELECT id, name FROM orgs WHERE subdistrict_id = $1 AND kind = 'property_company'",
    )
    .bind(sid)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let company_name = |id: i64| {
        companies
            .iter()
            .find(|(c, _)| *c == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };

    // One engagement for the whole subdistrict.
    let engagement = next_id();
    sqlx::query(
        "INSERT INTO law_firm_engagements (subdistrict_id, id, firm_id, node_id, node_path, starts_on, ends_on, \
         note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9)",
    )
    .bind(sid)
    .bind(engagement)
    .bind(firm)
    .bind(sid)
    .bind(format!("/{sid}/"))
    .bind(date_days_ago(now, 700))
    .bind(date_days_ago(now, -365))
    .bind("街道购买法律服务:物业纠纷律师调解(驻点每周二下午)")
    .bind(now - 700 * DAY_MS)
    .execute(&mut **tx)
    .await?;

    let d = dialect_of(tx);
    let mut cases = Inserter::for_db(
        d,
        "mediation_cases",
        &[
            "subdistrict_id",
            "id",
            "node_id",
            "node_path",
            "kind",
            "summary",
            "status",
            "firm_id",
            "engagement_id",
            "lawyer_user_id",
            "outcome",
            "filed_by",
            "filed_at",
            "updated_at",
            "version",
        ],
    );
    let mut parties = Inserter::for_db(
        d,
        "mediation_parties",
        &[
            "subdistrict_id",
            "id",
            "case_id",
            "side",
            "person_id",
            "org_id",
            "name",
        ],
    );
    let mut sessions = Inserter::for_db(
        d,
        "mediation_sessions",
        &[
            "subdistrict_id",
            "id",
            "case_id",
            "held_at",
            "place",
            "attendees",
            "notes",
            "recorded_by",
            "recorded_at",
        ],
    );
    let mut followups = Inserter::for_db(
        d,
        "mediation_followups",
        &[
            "subdistrict_id",
            "id",
            "case_id",
            "due_on",
            "what",
            "status",
            "note",
            "raised_case_id",
            "done_at",
            "created_by",
            "created_at",
        ],
    );
    let mut out = Seeded {
        engagements: 1,
        ..Default::default()
    };
    for (i, dsp) in LIST.iter().enumerate() {
        let (node_id, path, company, community) = &places[i % places.len()];
        let case_id = next_id();
        // Filed at the desk in the morning, 09:00 Shanghai time and after.
        let filed_at = crate::clock::parse_local_date(&date_days_ago(now, dsp.filed_days_ago))
            .unwrap_or(now - dsp.filed_days_ago * DAY_MS)
            + 9 * 3_600_000
            + i as i64 * 17 * 60_000;
        let assigned = dsp.status != Status::Filed;
        let sessions_held = match dsp.status {
            Status::Filed | Status::Assigned => 0,
            Status::InSession | Status::Withdrawn => 1,
            _ => 2,
        };
        // Sessions a week apart from a week after filing; the outcome a few days after the last.
        let session_at = |n: i64| filed_at + (7 + 7 * n) * DAY_MS + 5 * 3_600_000;
        let decided_at = session_at(sessions_held.max(1) - 1) + 3 * 3_600_000;
        let updated_at = match dsp.status {
            Status::Filed => filed_at,
            Status::Assigned => filed_at + DAY_MS,
            Status::InSession => session_at(0),
            Status::FollowUpDone => decided_at + 30 * DAY_MS,
            _ => decided_at,
        }
        .min(now);
        let lawyer_id = if assigned { lawyer } else { None };
        let version = 1
            + i64::from(assigned)
            + sessions_held.min(1)
            + i64::from(!dsp.outcome.is_empty())
            + i64::from(dsp.status == Status::FollowUpDone);
        cases
            .push(
                tx,
                vec![
                    sid.into(),
                    case_id.into(),
                    (*node_id).into(),
                    path.as_str().into(),
                    dsp.kind.code().into(),
                    dsp.summary.into(),
                    dsp.status.code().into(),
                    if assigned {
                        Cell::Int(firm)
                    } else {
                        Cell::NullInt
                    },
                    if assigned {
                        Cell::Int(engagement)
                    } else {
                        Cell::NullInt
                    },
                    lawyer_id.into(),
                    dsp.outcome.into(),
                    Cell::NullInt,
                    filed_at.into(),
                    updated_at.into(),
                    version.into(),
                ],
            )
            .await?;
        let applicant = person_name(i);
        parties
            .push(
                tx,
                vec![
                    sid.into(),
                    next_id().into(),
                    case_id.into(),
                    Side::Applicant.code().into(),
                    Cell::NullInt,
                    Cell::NullInt,
                    applicant.as_str().into(),
                ],
            )
            .await?;
        let respondent: (Cell, String) = match (dsp.against_company, company) {
            (true, Some(c)) => (Cell::Int(*c), company_name(*c)),
            _ => (Cell::NullInt, person_name(i + 50)),
        };
        parties
            .push(
                tx,
                vec![
                    sid.into(),
                    next_id().into(),
                    case_id.into(),
                    Side::Respondent.code().into(),
                    Cell::NullInt,
                    respondent.0,
                    respondent.1.as_str().into(),
                ],
            )
            .await?;
        for n in 0..sessions_held {
            let held_at = session_at(n);
            if held_at > now {
                break;
            }
            let notes = if n == 0 {
                "听取双方陈述,释明相关法律规定,约定补充材料"
            } else {
                "核对材料,律师提出调解方案,双方协商"
            };
            sessions
                .push(
                    tx,
                    vec![
                        sid.into(),
                        next_id().into(),
                        case_id.into(),
                        held_at.into(),
                        format!("{community}党群服务站调解室").into(),
                        format!("申请人、被申请人、驻点律师、{community}社工").into(),
                        notes.into(),
                        lawyer_id.into(),
                        (held_at + 2 * 3_600_000).into(),
                    ],
                )
                .await?;
            out.sessions += 1;
        }
        if matches!(dsp.status, Status::AgreementReached | Status::FollowUpDone) {
            let done = dsp.status == Status::FollowUpDone;
            let due = decided_at + 30 * DAY_MS;
            followups
                .push(
                    tx,
                    vec![
                        sid.into(),
                        next_id().into(),
                        case_id.into(),
                        crate::votes::desk::store::local_date(due).into(),
                        "回访协议履行情况".into(),
                        if done { "done" } else { "open" }.into(),
                        if done {
                            "已回访,协议已履行"
                        } else {
                            ""
                        }
                        .into(),
                        Cell::NullInt,
                        if done {
                            Cell::Int(due.min(now))
                        } else {
                            Cell::NullInt
                        },
                        lawyer_id.into(),
                        decided_at.into(),
                    ],
                )
                .await?;
        }
        out.disputes += 1;
    }
    cases.flush(tx).await?;
    parties.flush(tx).await?;
    sessions.flush(tx).await?;
    followups.flush(tx).await?;
    audit::record(
        tx,
        actor,
        Change::new("mediation.seed", "subdistrict", Some(sid)).after(json!({
            "engagement_id": engagement, "firm_id": firm, "disputes": out.disputes, "sessions": out.sessions })),
    )
    .await?;
    Ok(out)
}
