//! Selections of a property company: plan vote, bids, selection vote, contract.

use super::*;

// ---------------------------------------------------------------------------------------------
// Selections

/// A selection process.
#[derive(Debug, Clone, Serialize)]
pub struct Selection {
    pub id: i64,
    pub node_id: i64,
    pub node_path: String,
    pub node_name: String,
    pub title: String,
    pub plan_summary: String,
    pub step: String,
    pub plan_vote_id: Option<i64>,
    pub invited_on: String,
    pub bids_close_on: String,
    pub selection_vote_id: Option<i64>,
    pub winning_bid_id: Option<i64>,
    pub contract_id: Option<i64>,
    pub cancel_reason: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
    pub version: i64,
}

impl Selection {
    pub fn step(&self) -> SelectionStep {
        SelectionStep::parse(&self.step).unwrap_or(SelectionStep::Cancelled)
    }
}

/// A bid of a selection.
#[derive(Debug, Clone, Serialize)]
pub struct Bid {
    pub id: i64,
    pub selection_id: i64,
    pub company_id: i64,
    pub company_name: String,
    pub fee_standard: i64,
    pub model: String,
    pub commission_bp: Option<i64>,
    pub plan_summary: String,
    pub received_on: String,
    pub created_at: i64,
}

pub(super) const SELECTION_SELECT: &str =
    "SELECT s.*, n.name AS node_name FROM property_selections s \
     LEFT JOIN nodes n ON n.subdistrict_id = s.subdistrict_id AND n.id = s.node_id \
     WHERE s.subdistrict_id = $1";

pub(super) fn selection_from(r: &AnyRow) -> Selection {
    Selection {
        id: r.get("id"),
        node_id: r.get("node_id"),
        node_path: r.get("node_path"),
        node_name: text_of(r, "node_name").unwrap_or_default(),
        title: r.get("title"),
        plan_summary: r.get("plan_summary"),
        step: r.get("step"),
        plan_vote_id: opt_i64(r, "plan_vote_id"),
        invited_on: r.get("invited_on"),
        bids_close_on: r.get("bids_close_on"),
        selection_vote_id: opt_i64(r, "selection_vote_id"),
        winning_bid_id: opt_i64(r, "winning_bid_id"),
        contract_id: opt_i64(r, "contract_id"),
        cancel_reason: r.get("cancel_reason"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        completed_at: opt_i64(r, "completed_at"),
        version: r.get("version"),
    }
}

/// One selection (no access check).
pub async fn selection(db: &Db, sid: i64, id: i64) -> Result<Selection> {
    let r = sqlx::query(&format!("{SELECTION_SELECT} AND s.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(selection_from(&r))
}

/// A selection the actor may read.
pub async fn readable_selection(db: &Db, actor: &Actor, id: i64) -> Result<Selection> {
    let s = selection(db, actor.subdistrict_id, id).await?;
    may(actor, Action::ReadTree, &s.node_path)?;
    Ok(s)
}

/// The selections under a path, newest first.
pub async fn selections_under(db: &Db, sid: i64, path: &str) -> Result<Vec<Selection>> {
    let rows = sqlx::query(&format!(
        "{SELECTION_SELECT} AND s.node_path LIKE $2 ORDER BY s.created_at DESC, s.id DESC"
    ))
    .bind(sid)
    .bind(format!("{path}%"))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(selection_from).collect())
}

/// The bids of a selection, in the order received.
pub async fn bids(db: &Db, sid: i64, selection_id: i64) -> Result<Vec<Bid>> {
    let rows = sqlx::query(
        "SELECT b.*, o.name AS company_name FROM property_bids b \
         LEFT JOIN orgs o ON o.subdistrict_id = b.subdistrict_id AND o.id = b.company_id \
         WHERE b.subdistrict_id = $1 AND b.selection_id = $2 ORDER BY b.received_on, b.created_at, b.id",
    )
    .bind(sid)
    .bind(selection_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Bid {
            id: r.get("id"),
            selection_id: r.get("selection_id"),
            company_id: r.get("company_id"),
            company_name: text_of(r, "company_name").unwrap_or_default(),
            fee_standard: r.get("fee_standard"),
            model: r.get("model"),
            commission_bp: opt_i64(r, "commission_bp"),
            plan_summary: r.get("plan_summary"),
            received_on: r.get("received_on"),
            created_at: r.get("created_at"),
        })
        .collect())
}

/// What a request sends to start a selection.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewSelection {
    #[serde(default)]
    pub title: String,
    /// The selection plan (选聘方案) as drafted: scope, method, criteria.
    #[serde(default)]
    pub plan_summary: String,
}

/// Starts a selection at an estate (staff reaching it): the plan is drafted.
pub async fn create_selection(
    db: &Db,
    actor: &Actor,
    node_id: i64,
    n: NewSelection,
    now: i64,
) -> Result<Selection> {
    let sid = actor.subdistrict_id;
    let node = estate(db, actor, node_id, Action::EditRegistry).await?;
    let mut errors = Vec::new();
    check_len("title", &n.title, 200, true, &mut errors);
    check_len("plan_summary", &n.plan_summary, 5000, true, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let id = next_id();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO property_selections (subdistrict_id, id, node_id, node_path, title, plan_summary, \
         step, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'plan_drafted', $7, $8, $8)",
    )
    .bind(sid)
    .bind(id)
    .bind(node.id)
    .bind(&node.path)
    .bind(n.title.trim())
    .bind(n.plan_summary.trim())
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    event(
        &mut tx,
        actor,
        "selection",
        id,
        "plan_drafted",
        n.plan_summary.trim(),
        json!({}),
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("property.selection.create", "property_selection", Some(id))
            .label(n.title.trim())
            .after(json!({ "node_id": node.id, "title": n.title.trim() })),
    )
    .await?;
    tx.commit().await?;
    selection(db, sid, id).await
}

/// What a request sends to record a bid.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewBid {
    #[serde(default)]
    pub company_id: Option<i64>,
    #[serde(default)]
    pub fee_standard: Option<i64>,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub commission_bp: Option<i64>,
    #[serde(default)]
    pub plan_summary: String,
    #[serde(default)]
    pub received_on: String,
}

/// Records a company's bid while bidding is open (one per company).
pub async fn add_bid(db: &Db, actor: &Actor, id: i64, n: NewBid, now: i64) -> Result<Bid> {
    let sid = actor.subdistrict_id;
    let s = selection(db, sid, id).await?;
    may(actor, Action::EditRegistry, &s.node_path)?;
    let mut errors = Vec::new();
    let company = company_field(db, sid, n.company_id, &mut errors).await?;
    let model = model_field(&n.model, &mut errors);
    if let Some(m) = model {
        errors.extend(rules::check_offer(
            n.fee_standard.unwrap_or(0),
            m,
            n.commission_bp,
        ));
    }
    check_len("plan_summary", &n.plan_summary, 5000, false, &mut errors);
    let received = date_field("received_on", &n.received_on, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let (Some(company), Some(model), Some(received)) = (company, model, received) else {
        return Err(Error::Invalid(errors));
    };
    let (Some(invited), Some(closes)) = (d(&s.invited_on), d(&s.bids_close_on)) else {
        return Err(conflict(
            "只有招标期间可以登记投标",
            "bids are recorded only while bidding is open",
        ));
    };
    if received > rules::day_of(now) {
        return Err(Error::field(
            "received_on",
            Text::new(
                "收到日期不能晚于今天",
                "a bid cannot be received in the future",
            ),
        ));
    }
    rules::bid_allowed(s.step(), invited, closes, received).map_err(Error::Conflict)?;
    let bid_id = next_id();
    let mut tx = db.begin().await?;
    // The selection must still be taking bids when this commits.
    let held = sqlx::query(
        "UPDATE property_selections SET version = version + 1, updated_at = $4 \
         WHERE subdistrict_id = $1 AND id = $2 AND version = $3 AND step = 'bids_invited'",
    )
    .bind(sid)
    .bind(id)
    .bind(s.version)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if held.rows_affected() == 0 {
        return Err(stale());
    }
    let ins = sqlx::query(
        "INSERT INTO property_bids (subdistrict_id, id, selection_id, company_id, fee_standard, model, \
         commission_bp, plan_summary, received_on, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(sid)
    .bind(bid_id)
    .bind(id)
    .bind(company.id)
    .bind(n.fee_standard.unwrap_or(0))
    .bind(model.as_str())
    .bind(n.commission_bp)
    .bind(n.plan_summary.trim())
    .bind(rules::fmt_date(received))
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(now)
    .execute(&mut *tx)
    .await;
    match ins {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(Error::field(
                "company_id",
                Text::new("该企业已投标", "this company has already bid"),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let detail = json!({ "bid_id": bid_id, "company_id": company.id, "company": company.name,
        "fee_standard": n.fee_standard, "model": model.as_str(), "commission_bp": n.commission_bp,
        "received_on": rules::fmt_date(received) });
    event(
        &mut tx,
        actor,
        "selection",
        id,
        "bid",
        n.plan_summary.trim(),
        detail.clone(),
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("property.selection.bid", "property_selection", Some(id))
            .label(&s.title)
            .after(detail),
    )
    .await?;
    tx.commit().await?;
    bids(db, sid, id)
        .await?
        .into_iter()
        .find(|b| b.id == bid_id)
        .ok_or(Error::NotFound)
}

/// What a request sends to move a selection.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SelectionStepIn {
    /// approve_plan, invite_bids, close_bids, select, sign_contract, cancel.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub vote_id: Option<i64>,
    #[serde(default)]
    pub invited_on: String,
    #[serde(default)]
    pub closes_on: String,
    /// select with a yes / no vote: the bid it approved.
    #[serde(default)]
    pub bid_id: Option<i64>,
    /// sign_contract: the term.
    #[serde(default)]
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    #[serde(default)]
    pub note: String,
    /// The version the request saw (default: the one loaded now).
    #[serde(default)]
    pub version: Option<i64>,
}

pub(super) struct Move {
    to: SelectionStep,
    sets: Vec<(&'static str, Value)>,
    link: Option<(i64, &'static str)>,
    detail: Value,
}

pub(super) fn bind_value<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    v: &Value,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    match v {
        Value::Number(n) => q.bind(n.as_i64()),
        Value::String(s) => q.bind(s.clone()),
        _ => q.bind(None::<i64>),
    }
}

/// Moves a selection one step; a step the rules refuse is 409 with the reason, a wrong vote or
/// field 422, and a step that needs a vote during a re-election period 409 with that refusal.
pub async fn selection_step(
    db: &Db,
    actor: &Actor,
    id: i64,
    st: SelectionStepIn,
    now: i64,
) -> Result<Selection> {
    let sid = actor.subdistrict_id;
    let s = selection(db, sid, id).await?;
    may(actor, Action::EditRegistry, &s.node_path)?;
    let version = st.version.unwrap_or(s.version);
    let today = rules::day_of(now);
    let step = s.step();
    let note = st.note.trim().to_string();
    if note.chars().count() > 2000 {
        return Err(Error::field(
            "note",
            Text::new("备注不超过 2000 字", "the note is at most 2000 characters"),
        ));
    }
    let mut contract_job: Option<(tree::Node, Prepared)> = None;
    let m = match st.action.trim() {
        "approve_plan" => {
            selection_next(step, SelectionAction::ApprovePlan)?;
            refuse_in_reelection(db, sid, &s.node_path, now).await?;
            let (v, _) =
                approving_vote(db, sid, st.vote_id, Purpose::SelectionPlan, &s.node_path).await?;
            Move {
                to: SelectionStep::PlanApproved,
                sets: vec![("plan_vote_id", json!(v.id))],
                link: Some((v.id, "selection_plan")),
                detail: json!({ "vote_id": v.id, "vote": v.title }),
            }
        }
        "invite_bids" => {
            let mut errors = Vec::new();
            let a = date_field("invited_on", &st.invited_on, &mut errors);
            let b = date_field("closes_on", &st.closes_on, &mut errors);
            let (Some(invited_on), Some(closes_on)) = (a, b) else {
                return Err(Error::Invalid(errors));
            };
            let to = selection_next(
                step,
                SelectionAction::InviteBids {
                    invited_on,
                    closes_on,
                    today,
                },
            )?;
            let (i, c) = (rules::fmt_date(invited_on), rules::fmt_date(closes_on));
            Move {
                to,
                sets: vec![("invited_on", json!(i)), ("bids_close_on", json!(c))],
                link: None,
                detail: json!({ "invited_on": i, "closes_on": c }),
            }
        }
        "close_bids" => {
            let n = bids(db, sid, id).await?.len();
            let closes_on = d(&s.bids_close_on).unwrap_or(Date::MAX);
            let to = selection_next(
                step,
                SelectionAction::CloseBids {
                    bids: n,
                    closes_on,
                    today,
                },
            )?;
            Move {
                to,
                sets: vec![],
                link: None,
                detail: json!({ "bids": n }),
            }
        }
        "select" => {
            selection_next(step, SelectionAction::Select)?;
            refuse_in_reelection(db, sid, &s.node_path, now).await?;
            let (v, winner) =
                approving_vote(db, sid, st.vote_id, Purpose::Selection, &s.node_path).await?;
            let all = bids(db, sid, id).await?;
            let bid = match winner {
                Some(n) => {
                    let label = v.label(n);
                    let pairs: Vec<(i64, String)> =
                        all.iter().map(|b| (b.id, b.company_name.clone())).collect();
                    let Some(b) = rules::bid_for_label(&label, &pairs) else {
                        return Err(Error::field(
                            "vote_id",
                            Text::owned(
                                format!("表决选定的「{label}」不是本次选聘的投标企业"),
                                format!(
                                    "the chosen option “{label}” names no bid of this selection"
                                ),
                            ),
                        ));
                    };
                    b
                }
                None => match st.bid_id.filter(|b| all.iter().any(|x| x.id == *b)) {
                    Some(b) => b,
                    None => {
                        return Err(Error::field(
                            "bid_id",
                            Text::new("请选择表决通过的投标", "choose the bid the vote approved"),
                        ))
                    }
                },
            };
            let company = all
                .iter()
                .find(|b| b.id == bid)
                .map(|b| b.company_name.clone());
            Move {
                to: SelectionStep::Selected,
                sets: vec![
                    ("selection_vote_id", json!(v.id)),
                    ("winning_bid_id", json!(bid)),
                ],
                link: Some((v.id, "selection")),
                detail: json!({ "vote_id": v.id, "vote": v.title, "bid_id": bid, "company": company }),
            }
        }
        "sign_contract" => {
            let to = selection_next(step, SelectionAction::SignContract)?;
            let bid = bids(db, sid, id)
                .await?
                .into_iter()
                .find(|b| Some(b.id) == s.winning_bid_id)
                .ok_or(Error::NotFound)?;
            let node = tree::node(db, sid, s.node_id).await?;
            let nc = NewContract {
                company_id: Some(bid.company_id),
                starts_on: st.starts_on.clone(),
                ends_on: st.ends_on.clone(),
                fee_standard: Some(bid.fee_standard),
                model: bid.model.clone(),
                commission_bp: bid.commission_bp,
                note: note.clone(),
            };
            let p = prepare_contract(db, sid, &node, &nc, now).await?;
            contract_job = Some((node, p));
            Move {
                to,
                sets: vec![("completed_at", json!(now))],
                link: None,
                detail: json!({ "company": bid.company_name, "starts_on": st.starts_on, "ends_on": st.ends_on }),
            }
        }
        "cancel" => {
            let to = selection_next(step, SelectionAction::Cancel)?;
            if note.is_empty() {
                return Err(Error::field(
                    "note",
                    Text::new("请说明终止原因", "give the reason for cancelling"),
                ));
            }
            Move {
                to,
                sets: vec![("cancel_reason", json!(note))],
                link: None,
                detail: json!({}),
            }
        }
        _ => {
            return Err(Error::field(
                "action",
                Text::new("没有这个步骤", "no such step"),
            ));
        }
    };
    let mut tx = db.begin().await?;
    let mut sets = m.sets;
    if let Some((node, p)) = &contract_job {
        let cid = write_contract(&mut tx, actor, node, p, Some(id), now).await?;
        sets.push(("contract_id", json!(cid)));
    }
    let mut sql = String::from(
        "UPDATE property_selections SET step = $4, updated_at = $5, version = version + 1",
    );
    for (i, (col, _)) in sets.iter().enumerate() {
        sql.push_str(&format!(", {col} = ${}", i + 6));
    }
    sql.push_str(" WHERE subdistrict_id = $1 AND id = $2 AND version = $3");
    let mut q = sqlx::query(&sql)
        .bind(sid)
        .bind(id)
        .bind(version)
        .bind(m.to.as_str())
        .bind(now);
    for (_, v) in &sets {
        q = bind_value(q, v);
    }
    if q.execute(&mut *tx).await?.rows_affected() == 0 {
        return Err(stale());
    }
    if let Some((vote, purpose)) = m.link {
        link_vote(&mut tx, sid, vote, "selection", id, purpose, now).await?;
    }
    event(
        &mut tx,
        actor,
        "selection",
        id,
        m.to.as_str(),
        &note,
        m.detail.clone(),
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("property.selection.step", "property_selection", Some(id))
            .label(&s.title)
            .before(json!({ "step": s.step }))
            .after(json!({ "step": m.to.as_str(), "detail": m.detail })),
    )
    .await?;
    tx.commit().await?;
    selection(db, sid, id).await
}

pub(super) fn selection_next(step: SelectionStep, a: SelectionAction) -> Result<SelectionStep> {
    rules::selection_next(step, a).map_err(Error::Conflict)
}
