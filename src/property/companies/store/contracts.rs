//! Contracts per estate with their notices (dismissal, non-renewal).

use super::*;

// ---------------------------------------------------------------------------------------------
// Contracts

/// A notice on a contract.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeView {
    pub kind: String,
    pub by: String,
    pub given_on: String,
    pub effective_on: String,
    pub vote_id: Option<i64>,
    pub note: String,
}

/// A contract with where it stands today.
#[derive(Debug, Clone, Serialize)]
pub struct Contract {
    pub id: i64,
    pub node_id: i64,
    pub node_path: String,
    pub node_name: String,
    pub company_id: i64,
    pub company_name: String,
    pub starts_on: String,
    pub ends_on: String,
    /// The contract's own fee standard (fen per m² per month).
    pub fee_standard: i64,
    /// The fee standard in force today, after completed adjustments.
    pub fee_now: i64,
    pub model: String,
    pub commission_bp: Option<i64>,
    pub selection_id: Option<i64>,
    pub note: String,
    pub notice: Option<NoticeView>,
    /// upcoming, active, ended, dismissed or not_renewed (today).
    pub status: String,
    /// The last day the company serves.
    pub last_day: String,
    pub created_at: i64,
    pub version: i64,
}

impl Contract {
    /// The terms as the rules see them (stored dates were checked on the way in).
    pub fn terms(&self) -> Terms {
        Terms {
            starts_on: d(&self.starts_on).unwrap_or(Date::MIN),
            ends_on: d(&self.ends_on).unwrap_or(Date::MIN),
            fee_standard: self.fee_standard,
            model: Model::parse(&self.model).unwrap_or(Model::FixedFee),
            commission_bp: self.commission_bp,
        }
    }

    pub fn rules_notice(&self) -> Option<Notice> {
        let n = self.notice.as_ref()?;
        Some(Notice {
            kind: NoticeKind::parse(&n.kind)?,
            given_on: d(&n.given_on)?,
            effective_on: d(&n.effective_on)?,
        })
    }

    fn settle(&mut self, today: Date, adjustments: &[(Date, i64)]) {
        let t = self.terms();
        let n = self.rules_notice();
        self.status = rules::status_on(&t, n.as_ref(), today).as_str().into();
        self.last_day = rules::fmt_date(rules::last_day(&t, n.as_ref()));
        self.fee_now = rules::fee_on(self.fee_standard, adjustments, today);
    }
}

pub(super) const CONTRACT_SELECT: &str = "SELECT k.*, o.name AS company_name, n.name AS node_name \
     FROM property_contracts k \
     LEFT JOIN orgs o ON o.subdistrict_id = k.subdistrict_id AND o.id = k.company_id \
     LEFT JOIN nodes n ON n.subdistrict_id = k.subdistrict_id AND n.id = k.node_id \
     WHERE k.subdistrict_id = $1";

pub(super) fn contract_from(r: &AnyRow) -> Contract {
    let kind: String = r.get("notice_kind");
    Contract {
        id: r.get("id"),
        node_id: r.get("node_id"),
        node_path: r.get("node_path"),
        node_name: text_of(r, "node_name").unwrap_or_default(),
        company_id: r.get("company_id"),
        company_name: text_of(r, "company_name").unwrap_or_default(),
        starts_on: r.get("starts_on"),
        ends_on: r.get("ends_on"),
        fee_standard: r.get("fee_standard"),
        fee_now: r.get("fee_standard"),
        model: r.get("model"),
        commission_bp: opt_i64(r, "commission_bp"),
        selection_id: opt_i64(r, "selection_id"),
        note: r.get("note"),
        notice: (!kind.is_empty()).then(|| NoticeView {
            kind,
            by: r.get("notice_by"),
            given_on: r.get("notice_given_on"),
            effective_on: r.get("notice_effective_on"),
            vote_id: opt_i64(r, "notice_vote_id"),
            note: r.get("notice_note"),
        }),
        status: String::new(),
        last_day: String::new(),
        created_at: r.get("created_at"),
        version: r.get("version"),
    }
}

/// The completed adjustments (effective day, new fee) of each contract of a subtree.
pub(super) async fn adjustments_under(
    db: &Db,
    sid: i64,
    path: &str,
) -> Result<HashMap<i64, Vec<(Date, i64)>>> {
    let rows = sqlx::query(
        "SELECT contract_id, effective_on, new_fee FROM property_fee_adjustments \
         WHERE subdistrict_id = $1 AND step = 'effective' AND node_path LIKE $2",
    )
    .bind(sid)
    .bind(format!("{path}%"))
    .fetch_all(db.read())
    .await?;
    let mut out: HashMap<i64, Vec<(Date, i64)>> = HashMap::new();
    for r in &rows {
        if let Some(day) = d(&r.get::<String, _>("effective_on")) {
            out.entry(r.get("contract_id"))
                .or_default()
                .push((day, r.get("new_fee")));
        }
    }
    Ok(out)
}

pub(super) async fn settle_all(
    db: &Db,
    sid: i64,
    path: &str,
    list: &mut [Contract],
    now: i64,
) -> Result<()> {
    let adj = adjustments_under(db, sid, path).await?;
    let today = rules::day_of(now);
    for c in list.iter_mut() {
        c.settle(today, adj.get(&c.id).map_or(&[][..], Vec::as_slice));
    }
    Ok(())
}

/// The contracts of an estate (exactly that node), newest term first.
pub async fn contracts_at(db: &Db, sid: i64, node: &tree::Node, now: i64) -> Result<Vec<Contract>> {
    let rows = sqlx::query(&format!(
        "{CONTRACT_SELECT} AND k.node_id = $2 ORDER BY k.starts_on DESC, k.id DESC"
    ))
    .bind(sid)
    .bind(node.id)
    .fetch_all(db.read())
    .await?;
    let mut list: Vec<Contract> = rows.iter().map(contract_from).collect();
    settle_all(db, sid, &node.path, &mut list, now).await?;
    Ok(list)
}

/// The contracts under a path (every estate of a subtree), or of one company.
pub async fn contracts_under(
    db: &Db,
    sid: i64,
    path: &str,
    company_id: Option<i64>,
    now: i64,
) -> Result<Vec<Contract>> {
    let rows = sqlx::query(&format!(
        "{CONTRACT_SELECT} AND k.node_path LIKE $2 AND ($3 = 0 OR k.company_id = $3) \
         ORDER BY k.node_path, k.starts_on DESC, k.id DESC"
    ))
    .bind(sid)
    .bind(format!("{path}%"))
    .bind(company_id.unwrap_or(0))
    .fetch_all(db.read())
    .await?;
    let mut list: Vec<Contract> = rows.iter().map(contract_from).collect();
    settle_all(db, sid, path, &mut list, now).await?;
    Ok(list)
}

/// One contract (no access check).
pub async fn contract(db: &Db, sid: i64, id: i64, now: i64) -> Result<Contract> {
    let r = sqlx::query(&format!("{CONTRACT_SELECT} AND k.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    let mut c = contract_from(&r);
    settle_all(
        db,
        sid,
        &c.node_path.clone(),
        std::slice::from_mut(&mut c),
        now,
    )
    .await?;
    Ok(c)
}

/// A contract the actor may read (ReadTree at its estate).
pub async fn readable_contract(db: &Db, actor: &Actor, id: i64, now: i64) -> Result<Contract> {
    let c = contract(db, actor.subdistrict_id, id, now).await?;
    may(actor, Action::ReadTree, &c.node_path)?;
    Ok(c)
}

/// The contract in force today at an estate, if any.
pub fn current(list: &[Contract]) -> Option<&Contract> {
    list.iter().find(|c| c.status == "active")
}

/// What a request sends to record a contract.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewContract {
    #[serde(default)]
    pub company_id: Option<i64>,
    #[serde(default)]
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    /// Fen per m² per month.
    #[serde(default)]
    pub fee_standard: Option<i64>,
    /// `fixed_fee` or `commission`.
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub commission_bp: Option<i64>,
    #[serde(default)]
    pub note: String,
}

pub(super) struct Prepared {
    terms: Terms,
    company: Company,
    note: String,
    seen: Option<i64>,
}

pub(super) async fn estate_version(db: &Db, sid: i64, node_id: i64) -> Result<Option<i64>> {
    Ok(sqlx::query(
        "SELECT version FROM property_estates WHERE subdistrict_id = $1 AND node_id = $2",
    )
    .bind(sid)
    .bind(node_id)
    .fetch_optional(db.read())
    .await?
    .map(|r| r.get::<i64, _>(0)))
}

/// Moves the estate's version from `seen`: a second writer that read the same version fails.
pub(super) async fn bump_estate(
    tx: &mut Tx,
    sid: i64,
    node_id: i64,
    seen: Option<i64>,
) -> Result<()> {
    let ok = match seen {
        None => match sqlx::query(
            "INSERT INTO property_estates (subdistrict_id, node_id, version) VALUES ($1, $2, 1)",
        )
        .bind(sid)
        .bind(node_id)
        .execute(&mut **tx)
        .await
        {
            Ok(_) => true,
            Err(e) if is_unique_violation(&e) => false,
            Err(e) => return Err(e.into()),
        },
        Some(v) => {
            sqlx::query(
                "UPDATE property_estates SET version = version + 1 \
                 WHERE subdistrict_id = $1 AND node_id = $2 AND version = $3",
            )
            .bind(sid)
            .bind(node_id)
            .bind(v)
            .execute(&mut **tx)
            .await?
            .rows_affected()
                == 1
        }
    };
    if ok {
        Ok(())
    } else {
        Err(stale())
    }
}

pub(super) async fn company_field(
    db: &Db,
    sid: i64,
    id: Option<i64>,
    errors: &mut Vec<FieldError>,
) -> Result<Option<Company>> {
    let Some(id) = id else {
        errors.push(fe(
            "company_id",
            "请选择物业服务企业",
            "choose the property company",
        ));
        return Ok(None);
    };
    match company(db, sid, id).await {
        Ok(c) => Ok(Some(c)),
        Err(Error::NotFound) => {
            errors.push(fe(
                "company_id",
                "没有这家物业服务企业",
                "no such property company",
            ));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

pub(super) fn model_field(s: &str, errors: &mut Vec<FieldError>) -> Option<Model> {
    let m = Model::parse(s);
    if m.is_none() {
        errors.push(fe(
            "model",
            "请选择包干制或酬金制",
            "choose fixed fee or commission",
        ));
    }
    m
}

/// Validates a contract for an estate against the rules and the estate's other contracts.
pub(super) async fn prepare_contract(
    db: &Db,
    sid: i64,
    node: &tree::Node,
    n: &NewContract,
    now: i64,
) -> Result<Prepared> {
    let mut errors = Vec::new();
    let company = company_field(db, sid, n.company_id, &mut errors).await?;
    let starts = date_field("starts_on", &n.starts_on, &mut errors);
    let ends = date_field("ends_on", &n.ends_on, &mut errors);
    let model = model_field(&n.model, &mut errors);
    check_len("note", &n.note, 2000, false, &mut errors);
    let fee = n.fee_standard.unwrap_or(0);
    let terms = match (starts, ends, model) {
        (Some(starts_on), Some(ends_on), Some(model)) => {
            let t = Terms {
                starts_on,
                ends_on,
                fee_standard: fee,
                model,
                commission_bp: n.commission_bp,
            };
            errors.extend(t.check());
            Some(t)
        }
        _ => {
            if let Some(m) = model {
                errors.extend(rules::check_offer(fee, m, n.commission_bp));
            }
            None
        }
    };
    let seen = estate_version(db, sid, node.id).await?;
    if let Some(t) = &terms {
        for c in contracts_at(db, sid, node, now).await? {
            let ct = c.terms();
            let last = rules::last_day(&ct, c.rules_notice().as_ref());
            if rules::overlaps(t.starts_on, t.ends_on, ct.starts_on, last) {
                errors.push(FieldError::new(
                    "starts_on",
                    Text::owned(
                        format!(
                            "与{}的合同({} 至 {})期限重叠",
                            c.company_name,
                            c.starts_on,
                            rules::fmt_date(last)
                        ),
                        format!(
                            "overlaps the contract of {} ({} to {})",
                            c.company_name,
                            c.starts_on,
                            rules::fmt_date(last)
                        ),
                    ),
                ));
                break;
            }
        }
    }
    match (terms, company, errors.is_empty()) {
        (Some(terms), Some(company), true) => Ok(Prepared {
            terms,
            company,
            note: n.note.trim().to_string(),
            seen,
        }),
        _ => Err(Error::Invalid(errors)),
    }
}

pub(super) async fn write_contract(
    tx: &mut Tx,
    actor: &Actor,
    node: &tree::Node,
    p: &Prepared,
    selection_id: Option<i64>,
    now: i64,
) -> Result<i64> {
    let sid = actor.subdistrict_id;
    bump_estate(tx, sid, node.id, p.seen).await?;
    let id = next_id();
    let t = &p.terms;
    sqlx::query(
        "INSERT INTO property_contracts (subdistrict_id, id, node_id, node_path, company_id, starts_on, \
         ends_on, fee_standard, model, commission_bp, selection_id, note, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(sid)
    .bind(id)
    .bind(node.id)
    .bind(&node.path)
    .bind(p.company.id)
    .bind(rules::fmt_date(t.starts_on))
    .bind(rules::fmt_date(t.ends_on))
    .bind(t.fee_standard)
    .bind(t.model.as_str())
    .bind(t.commission_bp)
    .bind(selection_id)
    .bind(&p.note)
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let detail = json!({ "company_id": p.company.id, "company": p.company.name,
        "starts_on": rules::fmt_date(t.starts_on), "ends_on": rules::fmt_date(t.ends_on),
        "fee_standard": t.fee_standard, "model": t.model.as_str(), "commission_bp": t.commission_bp,
        "selection_id": selection_id, "node_id": node.id });
    event(
        tx,
        actor,
        "contract",
        id,
        "signed",
        &p.note,
        detail.clone(),
        now,
    )
    .await?;
    audit::record(
        tx,
        actor,
        Change::new("property.contract.create", "property_contract", Some(id))
            .label(&p.company.name)
            .after(detail),
    )
    .await?;
    Ok(id)
}

/// Records a contract at an estate (staff reaching it).
pub async fn create_contract(
    db: &Db,
    actor: &Actor,
    node_id: i64,
    n: NewContract,
    now: i64,
) -> Result<Contract> {
    let sid = actor.subdistrict_id;
    let node = estate(db, actor, node_id, Action::EditRegistry).await?;
    let p = prepare_contract(db, sid, &node, &n, now).await?;
    let mut tx = db.begin().await?;
    let id = write_contract(&mut tx, actor, &node, &p, None, now).await?;
    tx.commit().await?;
    contract(db, sid, id, now).await
}

/// What a request sends to give a notice on a contract.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewNotice {
    /// `dismissal` or `non_renewal`.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub given_on: String,
    /// Dismissal: the day it takes effect.
    #[serde(default)]
    pub effective_on: String,
    /// Dismissal: the owners' vote (matter 4) that decided it.
    #[serde(default)]
    pub vote_id: Option<i64>,
    /// Non-renewal: who gives it, `company` or `owners`.
    #[serde(default)]
    pub by: String,
    #[serde(default)]
    pub note: String,
}

/// Gives the one notice of a contract: dismissal (with the approving vote, 60 days ahead) or
/// non-renewal (90 days before the term ends).
pub async fn give_notice(
    db: &Db,
    actor: &Actor,
    id: i64,
    n: NewNotice,
    now: i64,
) -> Result<Contract> {
    let sid = actor.subdistrict_id;
    let c = contract(db, sid, id, now).await?;
    may(actor, Action::EditRegistry, &c.node_path)?;
    if c.notice.is_some() {
        return Err(conflict(
            "该合同已有通知",
            "a notice was already given on this contract",
        ));
    }
    if matches!(c.status.as_str(), "ended" | "dismissed" | "not_renewed") {
        return Err(conflict("该合同已终止", "this contract is over"));
    }
    let today = rules::day_of(now);
    let terms = c.terms();
    let mut errors = Vec::new();
    let kind = NoticeKind::parse(&n.kind);
    if kind.is_none() {
        errors.push(fe(
            "kind",
            "请选择解聘或不续聘",
            "choose dismissal or non-renewal",
        ));
    }
    let given = date_field("given_on", &n.given_on, &mut errors);
    check_len("note", &n.note, 2000, false, &mut errors);
    let mut effective = None;
    let mut by = String::new();
    match (kind, given) {
        (Some(NoticeKind::Dismissal), Some(g)) => {
            let e = date_field("effective_on", &n.effective_on, &mut errors);
            if let Some(e) = e {
                errors.extend(rules::check_dismissal(&terms, g, e, today));
                effective = Some(e);
            }
            by = "owners".into();
        }
        (Some(NoticeKind::NonRenewal), Some(g)) => {
            errors.extend(rules::check_non_renewal(&terms, g, today));
            by = match n.by.trim() {
                b @ ("company" | "owners") => b.into(),
                _ => {
                    errors.push(fe(
                        "by",
                        "请选择由物业企业或业主方通知",
                        "choose who gives it: the company or the owners",
                    ));
                    String::new()
                }
            };
        }
        _ => {}
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let (Some(kind), Some(given)) = (kind, given) else {
        return Err(Error::Invalid(errors));
    };
    let mut vote_id = None;
    if kind == NoticeKind::Dismissal {
        refuse_in_reelection(db, sid, &c.node_path, now).await?;
        let (v, _) = approving_vote(db, sid, n.vote_id, Purpose::Dismissal, &c.node_path).await?;
        vote_id = Some(v.id);
    }
    let notice = rules::notice(kind, &terms, given, effective);
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE property_contracts SET notice_kind = $4, notice_by = $5, notice_given_on = $6, \
         notice_effective_on = $7, notice_vote_id = $8, notice_note = $9, notice_at = $10, \
         version = version + 1 WHERE subdistrict_id = $1 AND id = $2 AND version = $3 AND notice_kind = ''",
    )
    .bind(sid)
    .bind(id)
    .bind(c.version)
    .bind(kind.as_str())
    .bind(&by)
    .bind(rules::fmt_date(notice.given_on))
    .bind(rules::fmt_date(notice.effective_on))
    .bind(vote_id)
    .bind(n.note.trim())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(stale());
    }
    if let Some(v) = vote_id {
        link_vote(&mut tx, sid, v, "contract", id, kind.as_str(), now).await?;
    }
    let detail = json!({ "kind": kind.as_str(), "by": by, "given_on": rules::fmt_date(notice.given_on),
        "effective_on": rules::fmt_date(notice.effective_on), "vote_id": vote_id });
    event(
        &mut tx,
        actor,
        "contract",
        id,
        kind.as_str(),
        n.note.trim(),
        detail.clone(),
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("property.contract.notice", "property_contract", Some(id))
            .label(&c.company_name)
            .before(json!({ "status": c.status }))
            .after(detail),
    )
    .await?;
    tx.commit().await?;
    contract(db, sid, id, now).await
}
