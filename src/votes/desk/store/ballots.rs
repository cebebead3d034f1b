//! Ballots: the choice checked against the form, online casting, the box, counts and the tracker.

use super::*;

/// Checks that a choice fits the form; candidates come back sorted (their order on a ballot
/// carries no meaning).
pub fn check_choice(form: &Form, choice: Choice) -> Result<Choice> {
    let bad = |zh: &'static str, en: &'static str| Err(Error::field("choice", Text::new(zh, en)));
    match (*form, choice) {
        (Form::YesNo, c @ (Choice::Yes | Choice::No | Choice::Abstain)) => Ok(c),
        (Form::Election { seats, candidates }, Choice::Candidates { mut ids }) => {
            ids.sort_unstable();
            if ids.len() > seats as usize {
                return bad(
                    "选择的候选人多于应选名额",
                    "more candidates chosen than there are seats",
                );
            }
            if ids.iter().any(|&c| c == 0 || c > candidates) {
                return bad("没有这个候选人", "no such candidate");
            }
            if ids.windows(2).any(|w| w[0] == w[1]) {
                return bad("同一候选人只能选一次", "a candidate can be chosen once");
            }
            Ok(Choice::Candidates { ids })
        }
        (Form::Options { count }, Choice::Option { id }) => match id {
            Some(o) if o == 0 || o > count => bad("没有这个选项", "no such option"),
            _ => Ok(Choice::Option { id }),
        },
        (Form::YesNo, _) => bad("请选择同意、反对或弃权", "choose yes, no or abstain"),
        (Form::Election { .. }, _) => bad("请选择候选人", "choose candidates"),
        (Form::Options { .. }, _) => bad("请选择一个选项或弃权", "choose an option or abstain"),
    }
}

pub(in crate::votes::desk) fn already_voted() -> Error {
    Error::Conflict(Text::new(
        "该房屋(业主)已经投过票,每户只能投一票",
        "this room/owner has already voted; each owner casts one ballot",
    ))
}

pub(in crate::votes::desk) fn period_refusal(v: &Vote, now: i64) -> Option<Error> {
    if v.status != "open" {
        return Some(Error::Conflict(Text::owned(
            format!("表决不在进行中(当前状态:{})", status_label(&v.status).zh),
            format!(
                "the vote is not open (it is {})",
                status_label(&v.status).en
            ),
        )));
    }
    if now < v.opens_at {
        return Some(Error::Conflict(Text::owned(
            format!(
                "投票尚未开始,开始时间 {}(北京时间)",
                format_local(v.opens_at)
            ),
            format!(
                "voting has not started; it opens at {} (Shanghai time)",
                format_local(v.opens_at)
            ),
        )));
    }
    if now >= v.closes_at {
        return Some(Error::Conflict(Text::owned(
            format!("投票已于 {}(北京时间)截止", format_local(v.closes_at)),
            format!(
                "voting closed at {} (Shanghai time)",
                format_local(v.closes_at)
            ),
        )));
    }
    None
}

/// Beside the chain: who the ballot is from in our own records.
pub(super) struct Aside {
    pub(super) cast_user_id: Option<i64>,
    pub(super) entered_by: Option<i64>,
    pub(super) proxy_holder: String,
    /// The paper entry this ballot confirms.
    pub(super) paper_id: Option<i64>,
}

/// The open votes in which the actor may still cast a ballot for someone (their home page).
pub async fn awaiting(db: &Db, actor: &Actor, now: i64) -> Result<Vec<Vote>> {
    if actor.person_id.is_none() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (v, s) in list(db, actor, Some("open")).await? {
        if !v.in_period(now) || s.voters.is_empty() {
            continue;
        }
        let mut open = false;
        for k in &s.voters {
            if !has_ballot(db, actor.subdistrict_id, v.id, k).await? {
                open = true;
                break;
            }
        }
        if open {
            out.push(v);
        }
    }
    Ok(out)
}

pub(super) async fn has_ballot(db: &Db, sid: i64, vote_id: i64, key: &str) -> Result<bool> {
    Ok(sqlx::query(
        "SELECT seq FROM ballots WHERE subdistrict_id = $1 AND vote_id = $2 AND voter_key = $3",
    )
    .bind(sid)
    .bind(vote_id)
    .bind(key)
    .fetch_optional(db.write())
    .await?
    .is_some())
}

/// Appends one ballot to the box, serialised per vote: one transaction locks the vote's row,
/// reads the head, inserts with seq = last + 1 (the voter key's unique index refuses a second
/// ballot of the same voter: 409) and moves the head, with its audit entry (which never holds
/// the choice). A lost race on `seq` is retried.
pub(super) async fn seal(
    db: &Db,
    actor: &Actor,
    v: &Vote,
    nb: NewBallot,
    aside: Aside,
    now: i64,
) -> Result<BallotRecord> {
    let sid = actor.subdistrict_id;
    let choice_json = serde_json::to_string(&nb.choice).map_err(|e| internal("choice", e))?;
    for _attempt in 0..8 {
        let mut tx = db.begin().await?;
        // Takes the row lock on PostgreSQL (SQLite has one writer): ballots of one vote queue here.
        let locked = sqlx::query(
            "UPDATE votes SET ballot_count = ballot_count WHERE subdistrict_id = $1 AND id = $2 \
             AND status = 'open' AND opens_at <= $3 AND $3 < closes_at",
        )
        .bind(sid)
        .bind(v.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if locked.rows_affected() == 0 {
            return Err(period_refusal(v, now).unwrap_or_else(|| {
                Error::Conflict(Text::new("表决已结束", "the vote is no longer open"))
            }));
        }
        let last = sqlx::query(
            "SELECT seq, hash FROM ballots WHERE subdistrict_id = $1 AND vote_id = $2 \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(sid)
        .bind(v.id)
        .fetch_optional(&mut *tx)
        .await?;
        let (prev, seq) = match &last {
            Some(r) => (r.get::<String, _>("hash"), r.get::<i64, _>("seq") + 1),
            None => (
                v.header_digest
                    .clone()
                    .ok_or_else(|| internal("vote", "no genesis"))?,
                1,
            ),
        };
        let rec = chain::append(&prev, u64::try_from(seq).unwrap_or(1), nb.clone());
        let mut ins =
            crate::votes::desk::ballot_batch::inserter(crate::storage::dialect_of(&mut tx));
        let row = crate::votes::desk::ballot_batch::row(
            sid,
            &rec,
            &choice_json,
            aside.cast_user_id,
            aside.entered_by,
            &aside.proxy_holder,
        );
        ins.push(&mut tx, row).await?;
        let inserted = ins.flush(&mut tx).await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                tx.rollback().await?;
                if has_ballot(db, sid, v.id, &nb.voter_key).await? {
                    return Err(already_voted());
                }
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        sqlx::query(
            "UPDATE votes SET chain_head = $3, ballot_count = $4 WHERE subdistrict_id = $1 AND id = $2",
        )
        .bind(sid)
        .bind(v.id)
        .bind(&rec.hash)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        if let Some(pid) = aside.paper_id {
            let done = sqlx::query(
                "UPDATE paper_ballots SET status = 'confirmed', decided_by = $3, decided_at = $4, \
                 ballot_seq = $5 WHERE subdistrict_id = $1 AND id = $2 AND status = 'pending'",
            )
            .bind(sid)
            .bind(pid)
            .bind(actor.user_id)
            .bind(now)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(Error::Conflict(Text::new(
                    "这张纸质选票已被处理",
                    "this paper ballot was handled meanwhile",
                )));
            }
        }
        audit::record(
            &mut tx,
            actor,
            crate::votes::desk::ballot_batch::audit_change(&v.title, &rec, aside.paper_id),
        )
        .await?;
        tx.commit().await?;
        return Ok(rec);
    }
    Err(Error::Conflict(Text::new(
        "投票的人太多,请稍后重试",
        "too many ballots at once; please try again",
    )))
}

/// An online ballot.
#[derive(Debug, Clone, Deserialize)]
pub struct NewOnline {
    /// Which owner unit, when the actor's person may cast for several.
    #[serde(default)]
    pub voter_key: Option<String>,
    pub choice: Choice,
}

/// Casts an owner's own ballot. 403 when the actor is no owner of record in the frozen
/// electorate; 409 outside the period or for a second ballot; 422 for a choice that does
/// not fit the form or a voter key that is not the actor's.
pub async fn cast_online(
    db: &Db,
    actor: &Actor,
    id: i64,
    b: NewOnline,
    now: i64,
) -> Result<Receipt> {
    let (v, s) = readable(db, actor, id).await?;
    let (Some(pid), false) = (actor.person_id, s.voters.is_empty()) else {
        return Err(Error::Forbidden);
    };
    if let Some(e) = period_refusal(&v, now) {
        return Err(e);
    }
    let key = match b
        .voter_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        Some(k) if s.voters.iter().any(|x| x == k) => k.to_string(),
        Some(_) => {
            return Err(Error::field(
                "voter_key",
                Text::new(
                    "您不能代表这个房屋投票",
                    "you cannot vote for this owner unit",
                ),
            ))
        }
        None if s.voters.len() == 1 => s.voters[0].clone(),
        None => {
            return Err(Error::field(
                "voter_key",
                Text::new(
                    "您名下有多处房屋,请选择为哪一处投票",
                    "you own several units: choose which one this ballot is for",
                ),
            ))
        }
    };
    let choice = check_choice(&v.form, b.choice)?;
    let nb = NewBallot {
        vote_id: v.id,
        voter_key: key,
        choice,
        channel: BallotChannel::Online,
        cast_by: format!("p:{pid}"),
        confirmed_by: None,
        proxy_attachment_sha256: None,
        cast_at_ms: now,
    };
    // Online ballots share their commit with the others arriving at the same moment.
    let choice_json = serde_json::to_string(&nb.choice).map_err(|e| internal("choice", e))?;
    let pending = crate::votes::desk::ballot_batch::Pending {
        actor: actor.clone(),
        vote: Arc::new(v),
        ballot: nb,
        choice_json,
        now,
    };
    let rec = db
        .grouped_bulk::<crate::votes::desk::ballot_batch::BallotBatch>(pending)
        .await??;
    Ok(chain::receipt(&rec))
}

/// The box in chain order.
pub async fn ballots(db: &Db, sid: i64, vote_id: i64) -> Result<Vec<BallotRecord>> {
    let rows = sqlx::query(
        "SELECT seq, voter_key, choice, channel, cast_by, confirmed_by, proxy_sha256, cast_at, prev_hash, hash \
         FROM ballots WHERE subdistrict_id = $1 AND vote_id = $2 ORDER BY seq",
    )
    .bind(sid)
    .bind(vote_id)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            let channel: BallotChannel = serde_json::from_value(Value::String(r.get("channel")))
                .map_err(|e| internal("channel", e))?;
            Ok(BallotRecord {
                seq: u64::try_from(r.get::<i64, _>("seq")).unwrap_or(0),
                vote_id,
                voter_key: r.get("voter_key"),
                choice: serde_json::from_str(&r.get::<String, _>("choice"))
                    .map_err(|e| internal("choice", e))?,
                channel,
                cast_by: r.get("cast_by"),
                confirmed_by: text(r, "confirmed_by"),
                proxy_attachment_sha256: text(r, "proxy_sha256"),
                cast_at_ms: r.get("cast_at"),
                prev_hash: r.get("prev_hash"),
                hash: r.get("hash"),
            })
        })
        .collect()
}

/// The count of the box as it is now (the running tally while open, the final one after).
pub fn count(v: &Vote, box_: &[BallotRecord]) -> Option<Tally> {
    let e = v.electorate.as_ref()?;
    let list: Vec<(&str, Choice)> = box_
        .iter()
        .map(|b| (b.voter_key.as_str(), b.choice.clone()))
        .collect();
    Some(tally::tally(e, &v.form, &v.thresholds, &list))
}

/// What everyone in the vote may see while it is open: participation against the totals and
/// what the quorum still needs. No yes/no counts.
#[derive(Debug, Clone, Serialize)]
pub struct Tracker {
    pub ballots: i64,
    pub participating_area: u64,
    pub participating_owners: u64,
    pub total_area: u64,
    pub total_owners: u64,
    pub quorum_met: bool,
    pub quorum_area_needed: Option<u64>,
    pub quorum_owners_needed: Option<u64>,
    pub pending_paper: i64,
}

pub fn tracker(t: &Tally, ballots: i64, pending_paper: i64) -> Tracker {
    Tracker {
        ballots,
        participating_area: t.participating.area,
        participating_owners: t.participating.owners,
        total_area: t.total.area,
        total_owners: t.total.owners,
        quorum_met: t.quorum.met,
        quorum_area_needed: t.quorum.still_needed.area,
        quorum_owners_needed: t.quorum.still_needed.owners,
        pending_paper,
    }
}
