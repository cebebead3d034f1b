//! Making a vote: the draft, its scope's rooms, opening with the frozen electorate, telling the voters.

use super::*;

/// A new vote, as typed (a draft until opened).
#[derive(Debug, Clone, Deserialize, Default)]
pub struct NewVote {
    #[serde(default)]
    pub scope_node_id: Option<i64>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub matter: String,
    #[serde(default)]
    pub is_fee_change: bool,
    /// `tally::Form` JSON; for an election or options, `labels` give the names and their count
    /// (`candidates` / `count` are taken from it when left out).
    #[serde(default)]
    pub form: Option<Value>,
    #[serde(default)]
    pub labels: Vec<String>,
    /// `Thresholds` JSON; the matter's statutory thresholds when left out.
    #[serde(default)]
    pub thresholds: Option<Thresholds>,
    #[serde(default)]
    pub opens_at: Option<i64>,
    #[serde(default)]
    pub closes_at: Option<i64>,
    #[serde(default)]
    pub publicity_days: Option<i64>,
}

pub(super) fn tx_field(field: &str, zh: &'static str, en: &'static str) -> FieldError {
    FieldError::new(field, Text::new(zh, en))
}

/// Builds the form from what was typed, filling the count from the labels.
pub(super) fn form_of(
    n: &NewVote,
    labels: &[String],
    errors: &mut Vec<FieldError>,
) -> Option<Form> {
    let count = u32::try_from(labels.len()).unwrap_or(u32::MAX);
    let raw = n.form.clone().unwrap_or(json!({ "kind": "yes_no" }));
    let mut raw = match raw {
        Value::String(s) => json!({ "kind": s }),
        v => v,
    };
    if let Some(o) = raw.as_object_mut() {
        match o.get("kind").and_then(Value::as_str) {
            Some("election") => {
                o.entry("candidates").or_insert(json!(count));
            }
            Some("options") => {
                o.entry("count").or_insert(json!(count));
            }
            _ => {}
        }
    }
    let form: Form = match serde_json::from_value(raw) {
        Ok(f) => f,
        Err(_) => {
            errors.push(tx_field(
                "form",
                "表决形式须为 yes_no、election 或 options",
                "the form is yes_no, election or options",
            ));
            return None;
        }
    };
    if let Err(mut e) = form.validate() {
        errors.append(&mut e);
        return None;
    }
    let wanted = match form {
        Form::YesNo => 0,
        Form::Election { candidates, .. } => candidates,
        Form::Options { count } => count,
    };
    if wanted != count {
        errors.push(FieldError::new(
            "labels",
            Text::owned(
                format!("需要 {wanted} 个候选人或选项名称(每行一个),现有 {count} 个"),
                format!(
                    "{wanted} candidate or option names are needed (one a line); {count} given"
                ),
            ),
        ));
        return None;
    }
    Some(form)
}

/// Whether an owners' committee re-election period covers the scope at `now`: a period on
/// the scope, on a place above it (its estate) or on a place inside it.
pub async fn reelection_covers(db: &Db, sid: i64, scope_path: &str, now: i64) -> Result<bool> {
    let rows = sqlx::query(
        "SELECT node_path FROM reelection_periods WHERE subdistrict_id = $1 \
         AND starts_at <= $2 AND $2 < ends_at",
    )
    .bind(sid)
    .bind(now)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().any(|r| {
        let p: String = r.get(0);
        scope_path.starts_with(&p) || p.starts_with(scope_path)
    }))
}

pub(super) async fn check_reelection(
    db: &Db,
    sid: i64,
    path: &str,
    m: Matter,
    fee: bool,
    now: i64,
) -> Result<()> {
    if rules::refused_during_reelection(m, fee) && reelection_covers(db, sid, path, now).await? {
        return Err(Error::Conflict(rules::REELECTION_REFUSAL));
    }
    Ok(())
}

/// Creates a draft vote.
pub async fn create(db: &Db, actor: &Actor, n: NewVote, now: i64) -> Result<Vote> {
    let sid = actor.subdistrict_id;
    let mut errors = Vec::new();
    let title = n.title.trim().to_string();
    if title.is_empty() || title.chars().count() > 200 {
        errors.push(tx_field(
            "title",
            "请填写标题(不超过 200 字)",
            "a title of up to 200 characters is needed",
        ));
    }
    if n.description.chars().count() > 5000 {
        errors.push(tx_field(
            "description",
            "说明不超过 5000 字",
            "the description is at most 5000 characters",
        ));
    }
    let node = match n.scope_node_id {
        Some(id) => match tree::node(db, sid, id).await {
            Ok(node) => Some(node),
            Err(Error::NotFound) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let node = match node {
        Some(node)
            if matches!(
                node.kind,
                NodeKind::Community | NodeKind::Grid | NodeKind::Building | NodeKind::Unit
            ) =>
        {
            Some(node)
        }
        _ => {
            errors.push(tx_field(
                "scope_node_id",
                "请选择表决范围:小区(居民区或网格)、楼栋或单元",
                "choose the scope: an estate (community or grid), a building or a stairway unit",
            ));
            None
        }
    };
    if let Some(node) = &node {
        if !allows(
            actor,
            Action::EditRegistry,
            Target::Node { path: &node.path },
        ) {
            return Err(Error::Forbidden);
        }
    }
    let matter = parse_matter(&n.matter);
    if matter.is_none() {
        errors.push(tx_field("matter", "请选择表决事项", "choose the matter"));
    }
    let labels: Vec<String> = n
        .labels
        .iter()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    if labels.iter().any(|l| l.chars().count() > 100) {
        errors.push(tx_field(
            "labels",
            "每个名称不超过 100 字",
            "each name is at most 100 characters",
        ));
    }
    let form = form_of(&n, &labels, &mut errors);
    let thresholds = match (n.thresholds, matter) {
        (Some(t), _) => Some(t),
        (None, Some(m)) => Some(Thresholds::for_matter(m)),
        (None, None) => None,
    };
    if let Some(t) = &thresholds {
        if let Err(mut e) = t.validate() {
            errors.append(&mut e);
        }
    }
    let opens_at = n.opens_at.unwrap_or(now);
    let closes_at = match n.closes_at {
        Some(c) => c,
        None => {
            errors.push(tx_field(
                "closes_at",
                "请填写截止时间",
                "the closing time is needed",
            ));
            0
        }
    };
    if n.closes_at.is_some() && closes_at <= opens_at {
        errors.push(tx_field(
            "closes_at",
            "截止时间须晚于开始时间",
            "the vote must close after it opens",
        ));
    }
    if n.closes_at.is_some() && closes_at <= now {
        errors.push(tx_field(
            "closes_at",
            "截止时间须在将来",
            "the closing time must be in the future",
        ));
    }
    let publicity_days = n.publicity_days.unwrap_or(7);
    if !(1..=90).contains(&publicity_days) {
        errors.push(tx_field(
            "publicity_days",
            "公示期为 1 到 90 天",
            "the publicity period is 1 to 90 days",
        ));
    }
    let (Some(node), Some(matter), Some(form), Some(thresholds), true) =
        (node, matter, form, thresholds, errors.is_empty())
    else {
        return Err(Error::Invalid(errors));
    };
    check_reelection(db, sid, &node.path, matter, n.is_fee_change, now).await?;
    let id = next_id();
    let form_json = serde_json::to_string(&form).map_err(|e| internal("form", e))?;
    let canonical = serde_json::to_string(&thresholds).map_err(|e| internal("thresholds", e))?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO votes (subdistrict_id, id, scope_node_id, scope_path, scope_kind, scope_name, \
         title, description, matter, is_fee_change, form, thresholds, opens_at, closes_at, \
         publicity_days, status, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'draft', $16, $17)",
    )
    .bind(sid)
    .bind(id)
    .bind(node.id)
    .bind(&node.path)
    .bind(node.kind.as_str())
    .bind(&node.name)
    .bind(&title)
    .bind(n.description.trim())
    .bind(chain::matter_code(matter))
    .bind(i64::from(n.is_fee_change))
    .bind(&form_json)
    .bind(&canonical)
    .bind(opens_at)
    .bind(closes_at)
    .bind(publicity_days)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for (i, l) in labels.iter().enumerate() {
        sqlx::query(
            "INSERT INTO vote_labels (subdistrict_id, vote_id, number, label) VALUES ($1, $2, $3, $4)",
        )
        .bind(sid)
        .bind(id)
        .bind(i as i64 + 1)
        .bind(l)
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("vote.create", "vote", Some(id))
            .label(&title)
            .after(json!({
                "scope_node_id": node.id, "matter": chain::matter_code(matter),
                "is_fee_change": n.is_fee_change, "form": form, "labels": labels,
                "thresholds": thresholds, "below_statute": thresholds.below_statute(matter),
                "opens_at": opens_at, "closes_at": closes_at, "publicity_days": publicity_days,
            })),
    )
    .await?;
    tx.commit().await?;
    vote(db, sid, id).await
}

/// The rooms under a path with their owners of record, as the registry holds them now.
pub async fn rooms_in_scope(db: &Db, sid: i64, path: &str) -> Result<Vec<RoomInput>> {
    let end = crate::cases::web::subtree_end(path);
    let rows = sqlx::query(
        "SELECT r.id, r.registered_area, r.surveyed_area, r.contract_area, r.developer_unsold \
         FROM rooms r JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         WHERE r.subdistrict_id = $1 AND n.path >= $2 AND n.path < $3 ORDER BY r.id",
    )
    .bind(sid)
    .bind(path)
    .bind(&end)
    .fetch_all(db.read())
    .await?;
    let owners = sqlx::query(
        "SELECT o.room_id, o.person_id, o.org_id FROM room_owners o \
         JOIN rooms r ON r.subdistrict_id = o.subdistrict_id AND r.id = o.room_id \
         JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         WHERE o.subdistrict_id = $1 AND n.path >= $2 AND n.path < $3",
    )
    .bind(sid)
    .bind(path)
    .bind(&end)
    .fetch_all(db.read())
    .await?;
    let mut by_room: HashMap<i64, Vec<OwnerRef>> = HashMap::new();
    for o in &owners {
        let (p, g): (i64, i64) = (o.get("person_id"), o.get("org_id"));
        let owner = if p != 0 {
            OwnerRef::Person(p)
        } else {
            OwnerRef::Org(g)
        };
        by_room.entry(o.get("room_id")).or_default().push(owner);
    }
    Ok(rows
        .iter()
        .map(|r| {
            let id: i64 = r.get("id");
            RoomInput {
                room_id: id,
                registered_area: opt_i64(r, "registered_area"),
                surveyed_area: opt_i64(r, "surveyed_area"),
                contract_area: opt_i64(r, "contract_area"),
                developer_unsold: r.get::<i64, _>("developer_unsold") != 0,
                owners: by_room.remove(&id).unwrap_or_default(),
            }
        })
        .collect())
}

/// Room numbers and their places, for showing voters (`room id → "城中东路311号 502"`).
pub async fn room_names(db: &Db, sid: i64, path: &str) -> Result<HashMap<i64, String>> {
    let end = crate::cases::web::subtree_end(path);
    let rows = sqlx::query(
        "SELECT r.id, r.number, n.name FROM rooms r \
         JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         WHERE r.subdistrict_id = $1 AND n.path >= $2 AND n.path < $3",
    )
    .bind(sid)
    .bind(path)
    .bind(&end)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let (n, place): (String, String) = (r.get("number"), r.get("name"));
            (r.get("id"), format!("{place} {n}"))
        })
        .collect())
}

/// What opening would freeze now (for the page before the vote opens).
pub async fn preview_electorate(db: &Db, v: &Vote, sid: i64) -> Result<Electorate> {
    Ok(Electorate::freeze(
        &rooms_in_scope(db, sid, &v.scope_path).await?,
    ))
}

/// The Shanghai date `YYYY-MM-DD` of an instant.
pub fn local_date(ms: i64) -> String {
    format_local(ms).chars().take(10).collect()
}

/// Opens a draft: freezes the electorate from the registry as it is now (the record date is
/// the opening's Shanghai date) and binds the genesis hash. Refused while the registry has
/// problems unless `override_problems` (recorded in the audit entry), and for property-company
/// or fee matters during a re-election period.
pub async fn open(
    db: &Db,
    actor: &Actor,
    id: i64,
    override_problems: bool,
    reason: &str,
    now: i64,
) -> Result<Vote> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    staff_only(&s)?;
    if v.status != "draft" {
        return Err(Error::Conflict(Text::new(
            "只有草稿可以开启表决",
            "only a draft can be opened",
        )));
    }
    if now >= v.closes_at {
        return Err(Error::Conflict(Text::new(
            "截止时间已过,请新建表决",
            "the closing time has passed; create a new vote",
        )));
    }
    check_reelection(db, sid, &v.scope_path, v.matter, v.is_fee_change, now).await?;
    let e = preview_electorate(db, &v, sid).await?;
    if e.voters.is_empty() {
        return Err(Error::field(
            "scope_node_id",
            Text::new("表决范围内没有房屋", "there are no rooms in the scope"),
        ));
    }
    if !e.is_clean() && !override_problems {
        let zh = e
            .problems
            .iter()
            .take(5)
            .map(|p| p.text().zh.into_owned())
            .collect::<Vec<_>>()
            .join(";");
        let en = e
            .problems
            .iter()
            .take(5)
            .map(|p| p.text().en.into_owned())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::field(
            "override_problems",
            Text::owned(
                format!(
                    "房屋登记有 {} 个问题:{zh}。请先更正,或勾选“仍然开启”",
                    e.problems.len()
                ),
                format!(
                    "the registry has {} problems: {en}. Fix them, or tick \"open anyway\"",
                    e.problems.len()
                ),
            ),
        ));
    }
    let rooms: Vec<Vec<i64>> = e
        .voters
        .iter()
        .map(|v| v.rooms.iter().map(|r| r.0).collect())
        .collect();
    let digest = chain::electorate_digest(
        e.voters
            .iter()
            .zip(&rooms)
            .map(|(v, r)| (v.key.as_str(), v.area, r.as_slice())),
    );
    let record_date = local_date(now);
    let header = ChainHeader {
        vote_id: v.id,
        title: v.title.clone(),
        matter: v.matter,
        thresholds: v.thresholds_canonical.clone(),
        record_date: record_date.clone(),
        electorate_digest: digest.clone(),
    };
    let genesis = header.digest();
    let e_json = serde_json::to_string(&e).map_err(|x| internal("electorate", x))?;
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE votes SET status = 'open', electorate_digest = $3, \
         header_digest = $4, chain_head = $4, record_date = $5, opened_by = $6, opened_at = $7 \
         WHERE subdistrict_id = $1 AND id = $2 AND status = 'draft'",
    )
    .bind(sid)
    .bind(id)
    .bind(&digest)
    .bind(&genesis)
    .bind(&record_date)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(Text::new(
            "表决已被他人开启",
            "the vote was opened meanwhile",
        )));
    }
    sqlx::query(
        "INSERT INTO vote_electorates (subdistrict_id, vote_id, digest, electorate) VALUES ($1, $2, $3, $4)",
    )
    .bind(sid)
    .bind(id)
    .bind(&digest)
    .bind(&e_json)
    .execute(&mut *tx)
    .await?;
    let problems: Vec<String> = e
        .problems
        .iter()
        .map(|p| p.text().en.into_owned())
        .collect();
    let mut change = Change::new("vote.open", "vote", Some(id))
        .label(&v.title)
        .before(json!({ "status": "draft" }))
        .after(json!({
            "status": "open", "record_date": record_date, "electorate_digest": digest,
            "header_digest": genesis, "total_area": e.total_area, "total_owners": e.total_owners,
            "problems": problems, "override_problems": override_problems && !e.is_clean(),
        }));
    if override_problems && !e.is_clean() && !reason.trim().is_empty() {
        change = change.reason(reason.trim());
    }
    audit::record(&mut tx, actor, change).await?;
    let notice = crate::notify::Notice {
        kind: "vote.opened".into(),
        case_id: None,
        title_zh: format!("请参加业主表决:{}", v.title),
        title_en: format!("Please vote: {}", v.title),
        body_zh: format!(
            "{} 的业主表决已开始,截止 {}(北京时间)。",
            v.scope_name,
            format_local(v.closes_at)
        ),
        body_en: format!(
            "The owners' vote of {} is open until {} (Shanghai time).",
            v.scope_name,
            format_local(v.closes_at)
        ),
        link: format!("/votes/{id}"),
    };
    tell_voters(&mut tx, sid, &e, &notice, now).await?;
    crate::notify::notify_unit(&mut tx, sid, v.scope_node_id, &notice).await?;
    tx.commit().await?;
    vote(db, sid, id).await
}

/// Puts `notice` in the inbox of every user who may cast a ballot in `e` (a user linked to an
/// owner person of record), with multi-row inserts: an estate's owners at once.
pub(super) async fn tell_voters(
    tx: &mut crate::storage::Tx,
    sid: i64,
    e: &Electorate,
    notice: &crate::notify::Notice,
    now: i64,
) -> Result<usize> {
    let persons: std::collections::HashSet<i64> = e
        .voters
        .iter()
        .flat_map(|v| v.persons.iter().copied())
        .collect();
    if persons.is_empty() {
        return Ok(0);
    }
    let users: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, person_id FROM users WHERE subdistrict_id = $1 AND disabled = 0 AND person_id IS NOT NULL",
    )
    .bind(sid)
    .fetch_all(&mut **tx)
    .await?;
    let mut rows = crate::storage::bulk::Inserter::for_db(
        crate::storage::dialect_of(tx),
        "inbox",
        &[
            "subdistrict_id",
            "id",
            "user_id",
            "kind",
            "case_id",
            "title_zh",
            "title_en",
            "body_zh",
            "body_en",
            "link",
            "created_at",
        ],
    );
    let mut n = 0;
    for (uid, _) in users.iter().filter(|(_, p)| persons.contains(p)) {
        rows.push(
            tx,
            vec![
                sid.into(),
                next_id().into(),
                (*uid).into(),
                notice.kind.as_str().into(),
                None::<i64>.into(),
                notice.title_zh.as_str().into(),
                notice.title_en.as_str().into(),
                notice.body_zh.as_str().into(),
                notice.body_en.as_str().into(),
                notice.link.as_str().into(),
                now.into(),
            ],
        )
        .await?;
        n += 1;
    }
    rows.flush(tx).await?;
    Ok(n)
}
