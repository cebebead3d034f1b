//! Fee adjustments: the cost report, the vote, the effective date.

use super::*;

// ---------------------------------------------------------------------------------------------
// Fee adjustments

/// A fee adjustment process.
#[derive(Debug, Clone, Serialize)]
pub struct FeeAdjustment {
    pub id: i64,
    pub node_id: i64,
    pub node_path: String,
    pub node_name: String,
    pub contract_id: i64,
    pub company_name: String,
    pub old_fee: i64,
    pub new_fee: i64,
    pub reason: String,
    pub step: String,
    pub report_kind: String,
    pub report_ref: String,
    pub report_file: Option<ReportFile>,
    pub published_on: String,
    pub publicity_days: Option<i64>,
    /// The last day of the report's publicity.
    pub publicity_last_day: String,
    pub vote_id: Option<i64>,
    pub effective_on: String,
    pub cancel_reason: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
    pub version: i64,
}

/// An uploaded report's description.
#[derive(Debug, Clone, Serialize)]
pub struct ReportFile {
    pub sha256: String,
    pub content_type: String,
    pub size: i64,
}

impl FeeAdjustment {
    pub fn step(&self) -> FeeStep {
        FeeStep::parse(&self.step).unwrap_or(FeeStep::Cancelled)
    }
}

pub(super) const FEE_SELECT: &str = "SELECT f.*, n.name AS node_name, o.name AS company_name, \
     r.sha256 AS file_sha, r.content_type AS file_type, r.size AS file_size \
     FROM property_fee_adjustments f \
     LEFT JOIN nodes n ON n.subdistrict_id = f.subdistrict_id AND n.id = f.node_id \
     LEFT JOIN property_contracts k ON k.subdistrict_id = f.subdistrict_id AND k.id = f.contract_id \
     LEFT JOIN orgs o ON o.subdistrict_id = k.subdistrict_id AND o.id = k.company_id \
     LEFT JOIN property_fee_reports r ON r.subdistrict_id = f.subdistrict_id AND r.adjustment_id = f.id \
     WHERE f.subdistrict_id = $1";

pub(super) fn fee_from(r: &AnyRow) -> FeeAdjustment {
    let published_on: String = r.get("published_on");
    let days = opt_i64(r, "publicity_days");
    let last = match (d(&published_on), days) {
        (Some(p), Some(n)) => rules::fmt_date(rules::publicity_last_day(p, n)),
        _ => String::new(),
    };
    FeeAdjustment {
        id: r.get("id"),
        node_id: r.get("node_id"),
        node_path: r.get("node_path"),
        node_name: text_of(r, "node_name").unwrap_or_default(),
        contract_id: r.get("contract_id"),
        company_name: text_of(r, "company_name").unwrap_or_default(),
        old_fee: r.get("old_fee"),
        new_fee: r.get("new_fee"),
        reason: r.get("reason"),
        step: r.get("step"),
        report_kind: r.get("report_kind"),
        report_ref: r.get("report_ref"),
        report_file: text_of(r, "file_sha").map(|sha256| ReportFile {
            sha256,
            content_type: text_of(r, "file_type").unwrap_or_default(),
            size: opt_i64(r, "file_size").unwrap_or(0),
        }),
        published_on,
        publicity_days: days,
        publicity_last_day: last,
        vote_id: opt_i64(r, "vote_id"),
        effective_on: r.get("effective_on"),
        cancel_reason: r.get("cancel_reason"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        completed_at: opt_i64(r, "completed_at"),
        version: r.get("version"),
    }
}

/// One fee adjustment (no access check).
pub async fn fee(db: &Db, sid: i64, id: i64) -> Result<FeeAdjustment> {
    let r = sqlx::query(&format!("{FEE_SELECT} AND f.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(fee_from(&r))
}

/// A fee adjustment the actor may read.
pub async fn readable_fee(db: &Db, actor: &Actor, id: i64) -> Result<FeeAdjustment> {
    let f = fee(db, actor.subdistrict_id, id).await?;
    may(actor, Action::ReadTree, &f.node_path)?;
    Ok(f)
}

/// The fee adjustments under a path, newest first.
pub async fn fees_under(db: &Db, sid: i64, path: &str) -> Result<Vec<FeeAdjustment>> {
    let rows = sqlx::query(&format!(
        "{FEE_SELECT} AND f.node_path LIKE $2 ORDER BY f.created_at DESC, f.id DESC"
    ))
    .bind(sid)
    .bind(format!("{path}%"))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(fee_from).collect())
}

/// What a request sends to start a fee adjustment.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewFee {
    /// The proposed fee standard, fen per m² per month.
    #[serde(default)]
    pub new_fee: Option<i64>,
    #[serde(default)]
    pub reason: String,
}

/// Starts a fee adjustment of the contract in force at an estate (one at a time).
pub async fn create_fee(
    db: &Db,
    actor: &Actor,
    node_id: i64,
    n: NewFee,
    now: i64,
) -> Result<FeeAdjustment> {
    let sid = actor.subdistrict_id;
    let node = estate(db, actor, node_id, Action::EditRegistry).await?;
    let list = contracts_at(db, sid, &node, now).await?;
    let Some(c) = current(&list) else {
        return Err(conflict(
            "本小区当前没有履行中的物业服务合同",
            "no contract is in force at this estate",
        ));
    };
    if fees_under(db, sid, &node.path)
        .await?
        .iter()
        .any(|f| f.node_id == node.id && !f.step().done())
    {
        return Err(conflict(
            "本小区已有进行中的调价流程",
            "a fee adjustment is already under way here",
        ));
    }
    let mut errors = Vec::new();
    let new_fee = n.new_fee.unwrap_or(0);
    rules::check_fee("new_fee", new_fee, &mut errors);
    if new_fee == c.fee_now {
        errors.push(fe(
            "new_fee",
            "新标准与现行标准相同",
            "the new fee equals the current one",
        ));
    }
    check_len("reason", &n.reason, 2000, true, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let seen = estate_version(db, sid, node.id).await?;
    let id = next_id();
    let mut tx = db.begin().await?;
    bump_estate(&mut tx, sid, node.id, seen).await?;
    sqlx::query(
        "INSERT INTO property_fee_adjustments (subdistrict_id, id, node_id, node_path, contract_id, old_fee, \
         new_fee, reason, step, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'drafted', $9, $10, $10)",
    )
    .bind(sid)
    .bind(id)
    .bind(node.id)
    .bind(&node.path)
    .bind(c.id)
    .bind(c.fee_now)
    .bind(new_fee)
    .bind(n.reason.trim())
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let detail = json!({ "contract_id": c.id, "old_fee": c.fee_now, "new_fee": new_fee });
    event(
        &mut tx,
        actor,
        "fee",
        id,
        "drafted",
        n.reason.trim(),
        detail.clone(),
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("property.fee.create", "property_fee_adjustment", Some(id))
            .label(&node.name)
            .after(detail),
    )
    .await?;
    tx.commit().await?;
    fee(db, sid, id).await
}

/// What a request sends to move a fee adjustment.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FeeStepIn {
    /// publish_report, record_vote, take_effect, cancel.
    #[serde(default)]
    pub action: String,
    /// publish_report: `audited_cost_report` or `third_party_assessment`.
    #[serde(default)]
    pub report_kind: String,
    /// publish_report: where the report is (a document number, a link), if no file is sent.
    #[serde(default)]
    pub report_ref: String,
    /// publish_report (API): the report file, base64.
    #[serde(default)]
    pub report_base64: Option<String>,
    #[serde(default)]
    pub published_on: String,
    #[serde(default)]
    pub publicity_days: Option<i64>,
    #[serde(default)]
    pub vote_id: Option<i64>,
    #[serde(default)]
    pub effective_on: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub version: Option<i64>,
}

/// Moves a fee adjustment one step (see [`selection_step`] for the answers).
pub async fn fee_step(
    db: &Db,
    actor: &Actor,
    id: i64,
    st: FeeStepIn,
    file: Option<Vec<u8>>,
    now: i64,
) -> Result<FeeAdjustment> {
    let sid = actor.subdistrict_id;
    let f = fee(db, sid, id).await?;
    may(actor, Action::EditRegistry, &f.node_path)?;
    let version = st.version.unwrap_or(f.version);
    let today = rules::day_of(now);
    let step = f.step();
    let note = st.note.trim().to_string();
    if note.chars().count() > 2000 {
        return Err(Error::field(
            "note",
            Text::new("备注不超过 2000 字", "the note is at most 2000 characters"),
        ));
    }
    let mut upload: Option<(Vec<u8>, &'static str)> = None;
    let (to, sets, link, detail): (FeeStep, Vec<(&'static str, Value)>, Option<i64>, Value) =
        match st.action.trim() {
            "publish_report" => {
                let mut errors = Vec::new();
                let kind = ReportKind::parse(&st.report_kind);
                if kind.is_none() {
                    errors.push(fe(
                        "report_kind",
                        "请选择成本报告或第三方评估",
                        "choose an audited cost report or a third-party assessment",
                    ));
                }
                check_len("report_ref", &st.report_ref, 500, false, &mut errors);
                let published = date_field("published_on", &st.published_on, &mut errors);
                let days = st.publicity_days.unwrap_or(rules::DEFAULT_PUBLICITY_DAYS);
                let bytes = match (file, st.report_base64.as_deref()) {
                    (Some(b), _) => Some(b),
                    (None, Some(s)) if !s.trim().is_empty() => {
                        use base64::Engine;
                        match base64::engine::general_purpose::STANDARD.decode(s.trim()) {
                            Ok(b) => Some(b),
                            Err(_) => {
                                errors.push(fe(
                                    "report_base64",
                                    "文件不是有效的 base64",
                                    "the file is not valid base64",
                                ));
                                None
                            }
                        }
                    }
                    _ => None,
                };
                if let Some(b) = bytes {
                    match rules::sniff_report(&b) {
                        Ok(t) => upload = Some((b, t)),
                        Err(t) => errors.push(FieldError::new("report_file", t)),
                    }
                }
                if upload.is_none() && st.report_ref.trim().is_empty() && errors.is_empty() {
                    errors.push(fe(
                        "report_ref",
                        "请上传报告文件或填写报告文号/链接",
                        "upload the report or give its reference",
                    ));
                }
                if !errors.is_empty() {
                    return Err(Error::Invalid(errors));
                }
                let (Some(kind), Some(published_on)) = (kind, published) else {
                    return Err(Error::Invalid(errors));
                };
                let to = rules::fee_next(
                    step,
                    FeeAction::PublishReport {
                        published_on,
                        days,
                        today,
                    },
                )
                .map_err(Error::Conflict)?;
                let p = rules::fmt_date(published_on);
                let last = rules::fmt_date(rules::publicity_last_day(published_on, days));
                (
                    to,
                    vec![
                        ("report_kind", json!(kind.as_str())),
                        ("report_ref", json!(st.report_ref.trim())),
                        ("published_on", json!(p)),
                        ("publicity_days", json!(days)),
                    ],
                    None,
                    json!({ "report_kind": kind.as_str(), "report_ref": st.report_ref.trim(),
                        "published_on": p, "publicity_days": days, "publicity_last_day": last,
                        "file": upload.as_ref().map(|(b, t)| json!({ "type": t, "size": b.len() })) }),
                )
            }
            "record_vote" => {
                if step != FeeStep::ReportPublished {
                    rules::fee_next(
                        step,
                        FeeAction::RecordVote {
                            vote_opened_on: None,
                            publicity_last_day: today,
                        },
                    )
                    .map_err(Error::Conflict)?;
                }
                refuse_in_reelection(db, sid, &f.node_path, now).await?;
                let (v, _) =
                    approving_vote(db, sid, st.vote_id, Purpose::FeeChange, &f.node_path).await?;
                let last = match (d(&f.published_on), f.publicity_days) {
                    (Some(p), Some(n)) => rules::publicity_last_day(p, n),
                    _ => Date::MAX,
                };
                let to = rules::fee_next(
                    step,
                    FeeAction::RecordVote {
                        vote_opened_on: v.opened_at.map(rules::day_of),
                        publicity_last_day: last,
                    },
                )
                .map_err(Error::Conflict)?;
                (
                    to,
                    vec![("vote_id", json!(v.id))],
                    Some(v.id),
                    json!({ "vote_id": v.id, "vote": v.title }),
                )
            }
            "take_effect" => {
                let mut errors = Vec::new();
                let Some(effective_on) = date_field("effective_on", &st.effective_on, &mut errors)
                else {
                    return Err(Error::Invalid(errors));
                };
                let published = match f.vote_id {
                    Some(v) => votes::vote(db, sid, v)
                        .await?
                        .published_at
                        .map(rules::day_of),
                    None => None,
                };
                let to = rules::fee_next(
                    step,
                    FeeAction::TakeEffect {
                        effective_on,
                        vote_published_on: published,
                    },
                )
                .map_err(Error::Conflict)?;
                let e = rules::fmt_date(effective_on);
                (
                    to,
                    vec![("effective_on", json!(e)), ("completed_at", json!(now))],
                    None,
                    json!({ "effective_on": e, "new_fee": f.new_fee }),
                )
            }
            "cancel" => {
                let to = rules::fee_next(step, FeeAction::Cancel).map_err(Error::Conflict)?;
                if note.is_empty() {
                    return Err(Error::field(
                        "note",
                        Text::new("请说明终止原因", "give the reason for cancelling"),
                    ));
                }
                (to, vec![("cancel_reason", json!(note))], None, json!({}))
            }
            _ => {
                return Err(Error::field(
                    "action",
                    Text::new("没有这个步骤", "no such step"),
                ))
            }
        };
    let mut tx = db.begin().await?;
    let mut sql = String::from(
        "UPDATE property_fee_adjustments SET step = $4, updated_at = $5, version = version + 1",
    );
    for (i, (col, _)) in sets.iter().enumerate() {
        sql.push_str(&format!(", {col} = ${}", i + 6));
    }
    sql.push_str(" WHERE subdistrict_id = $1 AND id = $2 AND version = $3");
    let mut q = sqlx::query(&sql)
        .bind(sid)
        .bind(id)
        .bind(version)
        .bind(to.as_str())
        .bind(now);
    for (_, v) in &sets {
        q = bind_value(q, v);
    }
    if q.execute(&mut *tx).await?.rows_affected() == 0 {
        return Err(stale());
    }
    if let Some((bytes, ty)) = &upload {
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(bytes));
        sqlx::query(
            "INSERT INTO property_fee_reports (subdistrict_id, adjustment_id, sha256, content_type, size, data, \
             uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(sid)
        .bind(id)
        .bind(sha)
        .bind(*ty)
        .bind(bytes.len() as i64)
        .bind(bytes.clone())
        .bind((actor.user_id != 0).then_some(actor.user_id))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    if let Some(v) = link {
        link_vote(&mut tx, sid, v, "fee", id, "fee_change", now).await?;
    }
    event(
        &mut tx,
        actor,
        "fee",
        id,
        to.as_str(),
        &note,
        detail.clone(),
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("property.fee.step", "property_fee_adjustment", Some(id))
            .label(&f.node_name)
            .before(json!({ "step": f.step }))
            .after(json!({ "step": to.as_str(), "detail": detail })),
    )
    .await?;
    tx.commit().await?;
    fee(db, sid, id).await
}

/// The uploaded report of a fee adjustment the actor may read.
pub async fn report_file(db: &Db, actor: &Actor, id: i64) -> Result<(String, Vec<u8>)> {
    let f = readable_fee(db, actor, id).await?;
    let r = sqlx::query(
        "SELECT content_type, data FROM property_fee_reports WHERE subdistrict_id = $1 AND adjustment_id = $2",
    )
    .bind(actor.subdistrict_id)
    .bind(f.id)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    Ok((r.get("content_type"), r.get("data")))
}
