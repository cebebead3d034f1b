//! Online ballots written a batch at a time: the group commit (`storage::batch`) hands every
//! online ballot waiting at that moment to [`BallotBatch::write`], which appends each vote's
//! ballots to its chain in arrival order and writes them with one multi-row statement.
//!
//! Per vote in the batch: one `UPDATE` takes the vote's row lock (PostgreSQL; SQLite has one
//! writer) and proves it is still open; one read gives the head (`chain_head`, `ballot_count`);
//! one read finds which of the batch's voters already have a ballot. A voter twice in one
//! batch keeps the first ballot; the later one is told it already voted, exactly as if it had
//! come a moment later. Then the ballots, their audit entries (which never hold the choice)
//! and the new head are written. A ballot refused here writes nothing.
//!
//! The unique index on `(vote, voter_key)` still stands behind all this: should another
//! process slip a ballot in, the insert fails, the group commit reruns each ballot alone, and
//! the one that collides answers "already voted".

use std::collections::HashSet;
use std::sync::Arc;

use futures_core::future::BoxFuture;
use serde_json::json;
use sqlx::Row;

use super::store::{already_voted, period_refusal, Vote};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::storage::batch::Bulk;
use crate::storage::bulk::{Cell, Inserter};
use crate::storage::{dialect_of, is_unique_violation, Dialect, Tx};
use crate::votes::chain::{self, BallotRecord, NewBallot};

/// One online ballot waiting to be sealed.
pub(super) struct Pending {
    pub actor: Actor,
    pub vote: Arc<Vote>,
    pub ballot: NewBallot,
    /// `serde_json` of the choice, as the box stores it.
    pub choice_json: String,
    pub now: i64,
}

/// The bulk kind of online ballots.
pub(super) struct BallotBatch;

impl Bulk for BallotBatch {
    type Item = Pending;
    type Out = Result<BallotRecord>;

    fn write(
        tx: &mut Tx,
        items: Vec<Arc<Pending>>,
    ) -> BoxFuture<'_, Result<Vec<Result<BallotRecord>>>> {
        Box::pin(write_all(tx, items))
    }
}

fn no_longer_open() -> Error {
    Error::Conflict(Text::new("表决已结束", "the vote is no longer open"))
}

async fn write_all(tx: &mut Tx, items: Vec<Arc<Pending>>) -> Result<Vec<Result<BallotRecord>>> {
    let d = dialect_of(tx);
    let mut answers: Vec<Option<Result<BallotRecord>>> = items.iter().map(|_| None).collect();
    // Each vote's items, in order of first arrival.
    let mut votes: Vec<((i64, i64), Vec<usize>)> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let k = (it.actor.subdistrict_id, it.vote.id);
        match votes.iter_mut().find(|(v, _)| *v == k) {
            Some((_, list)) => list.push(i),
            None => votes.push((k, vec![i])),
        }
    }
    let mut rows = inserter(d);
    let mut audits = audit::inserter(d);
    for ((sid, vote_id), list) in votes {
        let locked = sqlx::query(
            "UPDATE votes SET ballot_count = ballot_count WHERE subdistrict_id = $1 AND id = $2 \
             AND status = 'open'",
        )
        .bind(sid)
        .bind(vote_id)
        .execute(&mut **tx)
        .await?;
        if locked.rows_affected() == 0 {
            for &i in &list {
                answers[i] = Some(Err(no_longer_open()));
            }
            continue;
        }
        let head = sqlx::query(
            "SELECT opens_at, closes_at, chain_head, ballot_count FROM votes \
             WHERE subdistrict_id = $1 AND id = $2",
        )
        .bind(sid)
        .bind(vote_id)
        .fetch_one(&mut **tx)
        .await?;
        let (opens_at, closes_at): (i64, i64) = (head.get("opens_at"), head.get("closes_at"));
        let mut prev: String = head
            .try_get::<Option<String>, _>("chain_head")?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("an open vote without a chain head")))?;
        let mut seq: i64 = head.get("ballot_count");
        let stored = voted_already(tx, sid, vote_id, &items, &list).await?;
        let mut taken: HashSet<&str> = HashSet::new();
        let mut last_hash = None;
        for &i in &list {
            let it = &items[i];
            let key = it.ballot.voter_key.as_str();
            if it.now < opens_at || it.now >= closes_at {
                let refusal = period_refusal(&it.vote, it.now).unwrap_or_else(no_longer_open);
                answers[i] = Some(Err(refusal));
                continue;
            }
            if stored.contains(key) || !taken.insert(key) {
                answers[i] = Some(Err(already_voted()));
                continue;
            }
            seq += 1;
            let rec = chain::append(&prev, seq as u64, it.ballot.clone());
            prev = rec.hash.clone();
            rows.push(
                tx,
                row(sid, &rec, &it.choice_json, Some(it.actor.user_id), None, ""),
            )
            .await
            .map_err(collided)?;
            audits
                .push(
                    tx,
                    audit::row(&it.actor, audit_change(&it.vote.title, &rec, None)),
                )
                .await?;
            last_hash = Some(rec.hash.clone());
            answers[i] = Some(Ok(rec));
        }
        // The rows must be in before the head moves past them.
        rows.flush(tx).await.map_err(collided)?;
        if let Some(h) = last_hash {
            sqlx::query(
                "UPDATE votes SET chain_head = $3, ballot_count = $4 \
                 WHERE subdistrict_id = $1 AND id = $2",
            )
            .bind(sid)
            .bind(vote_id)
            .bind(&h)
            .bind(seq)
            .execute(&mut **tx)
            .await?;
        }
    }
    audits.flush(tx).await?;
    Ok(answers
        .into_iter()
        .map(|a| a.unwrap_or_else(|| Err(no_longer_open())))
        .collect())
}

/// An inserter for the box's rows, built by [`row`].
pub(super) fn inserter(d: Dialect) -> Inserter {
    Inserter::for_db(
        d,
        "ballots",
        &[
            "subdistrict_id",
            "vote_id",
            "seq",
            "voter_key",
            "choice",
            "channel",
            "cast_by",
            "cast_user_id",
            "entered_by",
            "confirmed_by",
            "proxy_sha256",
            "proxy_holder",
            "cast_at",
            "prev_hash",
            "hash",
        ],
    )
}

/// One chained record as a row of the box; who pressed the button, who typed it in and who
/// holds a proxy are kept beside the chain, not in it.
pub(super) fn row(
    sid: i64,
    rec: &BallotRecord,
    choice_json: &str,
    cast_user_id: Option<i64>,
    entered_by: Option<i64>,
    proxy_holder: &str,
) -> Vec<Cell> {
    vec![
        sid.into(),
        rec.vote_id.into(),
        (rec.seq as i64).into(),
        rec.voter_key.as_str().into(),
        choice_json.into(),
        rec.channel.code().into(),
        rec.cast_by.as_str().into(),
        cast_user_id.into(),
        entered_by.into(),
        rec.confirmed_by.clone().into(),
        rec.proxy_attachment_sha256.clone().into(),
        proxy_holder.into(),
        rec.cast_at_ms.into(),
        rec.prev_hash.as_str().into(),
        rec.hash.as_str().into(),
    ]
}

/// A sealed ballot's audit entry: the ballot is secret from the audit log — that it was cast,
/// never what it says.
pub(super) fn audit_change<'a>(
    title: &'a str,
    rec: &BallotRecord,
    paper_id: Option<i64>,
) -> Change<'a> {
    Change::new("vote.ballot", "vote", Some(rec.vote_id))
        .label(title)
        .after(json!({
            "seq": rec.seq, "channel": rec.channel.code(),
            "receipt": chain::receipt_code(&rec.hash), "paper_ballot_id": paper_id,
        }))
}

/// A unique-key collision on the box: another process's ballot for the same voter (or seq)
/// came first. Alone, that ballot answers "already voted"; in a batch, the batch reruns alone.
fn collided(e: sqlx::Error) -> Error {
    if is_unique_violation(&e) {
        already_voted()
    } else {
        e.into()
    }
}

/// Which of these items' voters already have a ballot in the box.
async fn voted_already(
    tx: &mut Tx,
    sid: i64,
    vote_id: i64,
    items: &[Arc<Pending>],
    list: &[usize],
) -> Result<HashSet<String>> {
    let mut keys: Vec<&str> = list
        .iter()
        .map(|&i| items[i].ballot.voter_key.as_str())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut found = HashSet::new();
    for chunk in keys.chunks(500) {
        let marks: Vec<String> = (0..chunk.len()).map(|n| format!("${}", n + 3)).collect();
        let sql = format!(
            "SELECT voter_key FROM ballots WHERE subdistrict_id = $1 AND vote_id = $2 \
             AND voter_key IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(sid).bind(vote_id);
        for k in chunk {
            q = q.bind(*k);
        }
        for r in q.fetch_all(&mut **tx).await? {
            found.insert(r.get::<String, _>("voter_key"));
        }
    }
    Ok(found)
}
