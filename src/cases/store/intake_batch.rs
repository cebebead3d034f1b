//! New cases written a batch at a time: the group commit (`storage::batch`) hands every case
//! opened at that moment to [`OpenBatch::write`], which gives them their numbers and writes
//! each table's rows with one multi-row statement — the idempotency keys, the cases, their
//! first events, their audit entries, and the rollup sums (added per key, so no statement
//! touches one row twice). A batch of 100 cases costs about ten statements, not a thousand.
//!
//! Idempotency keys are looked up here, once per batch: a key already stored answers its
//! stored case (or, for a different body, the reuse error) and writes nothing; a key twice in
//! one batch makes the later twin a replay of the earlier. The unique index on
//! `idempotency_keys` still catches a twin from another process: that fails the batch, the
//! group commit reruns each case alone, and the twin's caller replays the stored answer.

use std::collections::HashMap;
use std::sync::Arc;

use futures_core::future::BoxFuture;
use serde_json::json;
use sqlx::Row;

use super::{CaseRecord, Opened};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::cases::attachments::{self, Prepared};
use crate::cases::lifecycle::Event;
use crate::cases::measures::store::Rollups;
use crate::error::Result;
use crate::storage::batch::Bulk;
use crate::storage::bulk::{Cell, Inserter};
use crate::storage::{dialect_of, Dialect, Tx};

/// One case waiting to be written: the record as the caller built it (without its number).
pub(super) struct Pending {
    pub actor: Actor,
    pub record: CaseRecord,
    pub events: Vec<Event>,
    pub key: Option<String>,
    pub digest: String,
    pub sealed_phone: Option<Vec<u8>>,
    pub photos: Arc<Vec<Prepared>>,
}

/// The bulk kind of case openings.
pub(super) struct OpenBatch;

impl Bulk for OpenBatch {
    type Item = Pending;
    type Out = Result<Opened>;

    fn write(tx: &mut Tx, items: Vec<Arc<Pending>>) -> BoxFuture<'_, Result<Vec<Result<Opened>>>> {
        Box::pin(write_all(tx, items))
    }
}

/// What a key already stands for: the stored digest and answer, or the index of the earlier
/// twin in this batch.
enum Seen {
    Stored(String, String),
    Twin(usize),
}

async fn write_all(tx: &mut Tx, all: Vec<Arc<Pending>>) -> Result<Vec<Result<Opened>>> {
    let d = dialect_of(tx);
    let mut seen = stored_keys(tx, &all).await?;
    // Each item: written (its index among `items`), or answered without a write.
    let mut answers: Vec<Option<Result<Opened>>> = Vec::with_capacity(all.len());
    let mut twin_of: Vec<Option<usize>> = vec![None; all.len()];
    let mut items: Vec<Arc<Pending>> = Vec::with_capacity(all.len());
    for (i, it) in all.iter().enumerate() {
        let Some(k) = &it.key else {
            answers.push(None);
            items.push(it.clone());
            continue;
        };
        let id = (it.actor.subdistrict_id, it.actor.user_id, k.clone());
        match seen.get(&id) {
            Some(Seen::Stored(digest, json)) => {
                answers.push(Some(if *digest != it.digest {
                    Err(super::key_reused())
                } else {
                    serde_json::from_str(json)
                        .map(Opened::Replayed)
                        .map_err(|e| crate::error::Error::Internal(e.into()))
                }));
            }
            Some(Seen::Twin(j)) => {
                if all[*j].digest != it.digest {
                    answers.push(Some(Err(super::key_reused())));
                } else {
                    answers.push(None);
                    twin_of[i] = Some(*j);
                }
            }
            None => {
                seen.insert(id, Seen::Twin(i));
                answers.push(None);
                items.push(it.clone());
            }
        }
    }
    let mut records = Vec::with_capacity(items.len());
    let mut next: HashMap<(i64, i32), u64> = HashMap::new();
    for it in &items {
        let sid = it.actor.subdistrict_id;
        let year = crate::clock::to_local(it.record.created_at).year();
        let n = match next.get_mut(&(sid, year)) {
            Some(n) => {
                *n += 1;
                *n
            }
            None => {
                let n = last_number(tx, sid, year).await? + 1;
                next.insert((sid, year), n);
                n
            }
        };
        let mut r = it.record.clone();
        r.number = format!("{year}-{n:06}");
        records.push(r);
    }

    let mut keys = keys_inserter(d);
    let mut cases = cases_inserter(d);
    let mut events = events_inserter(d);
    let mut audits = audit::inserter(d);
    let mut rollups: HashMap<i64, Rollups> = HashMap::new();
    for (it, c) in items.iter().zip(&records) {
        let sid = it.actor.subdistrict_id;
        if let Some(k) = &it.key {
            let json = serde_json::to_string(c).unwrap_or_default();
            keys.push(
                tx,
                vec![
                    sid.into(),
                    it.actor.user_id.into(),
                    k.as_str().into(),
                    it.digest.as_str().into(),
                    c.id.into(),
                    json.into(),
                    c.created_at.into(),
                ],
            )
            .await?;
        }
        cases
            .push(tx, case_row(sid, c, it.sealed_phone.clone()))
            .await?;
        let label = it.actor.label();
        for (i, e) in it.events.iter().enumerate() {
            events
                .push(
                    tx,
                    vec![
                        sid.into(),
                        c.id.into(),
                        (1 + i as i64).into(),
                        e.at_ms.into(),
                        label.as_str().into(),
                        e.kind().as_str().into(),
                        i64::from(e.public).into(),
                        serde_json::to_string(e).unwrap_or_default().into(),
                    ],
                )
                .await?;
        }
        let summary = json!({ "number": c.number, "category": c.category, "node_id": c.node_id,
            "title": c.title, "state": c.state });
        audits
            .push(
                tx,
                audit::row(
                    &it.actor,
                    Change::new("case.open", "case", Some(c.id))
                        .label(&c.number)
                        .after(summary),
                ),
            )
            .await?;
        rollups.entry(sid).or_default().add_new(c);
    }
    // Keys first: a twin fails the batch before the larger rows are sent.
    keys.flush(tx).await?;
    cases.flush(tx).await?;
    events.flush(tx).await?;
    audits.flush(tx).await?;
    for (sid, r) in rollups {
        r.add_to(tx, d, sid).await?;
    }
    for (it, c) in items.iter().zip(&records) {
        if !it.photos.is_empty() {
            let sid = it.actor.subdistrict_id;
            attachments::attach_prepared_in_tx(tx, &it.actor, sid, c.id, Some(1), &it.photos, true)
                .await?;
        }
    }
    // Answers in the order of `all`: the written ones in turn, twins as replays of theirs.
    let mut written = records.into_iter();
    let mut by_index: HashMap<usize, CaseRecord> = HashMap::new();
    let mut out = Vec::with_capacity(all.len());
    for (i, answer) in answers.into_iter().enumerate() {
        out.push(match (answer, twin_of[i]) {
            (Some(a), _) => a,
            (None, Some(j)) => match by_index.get(&j) {
                Some(c) => Ok(Opened::Replayed(c.clone())),
                None => Err(crate::error::Error::Internal(anyhow::anyhow!(
                    "an idempotency twin came before its original"
                ))),
            },
            (None, None) => match written.next() {
                Some(c) => {
                    by_index.insert(i, c.clone());
                    Ok(Opened::Created(c))
                }
                None => Err(crate::error::Error::Internal(anyhow::anyhow!(
                    "fewer cases written than sent"
                ))),
            },
        });
    }
    Ok(out)
}

/// The keys of `items` already stored, one query per subdistrict and user (the primary key
/// `(subdistrict_id, user_id, idempotency_key)` answers it).
async fn stored_keys(
    tx: &mut Tx,
    items: &[Arc<Pending>],
) -> Result<HashMap<(i64, i64, String), Seen>> {
    let mut by_user: HashMap<(i64, i64), Vec<&str>> = HashMap::new();
    for it in items {
        if let Some(k) = &it.key {
            by_user
                .entry((it.actor.subdistrict_id, it.actor.user_id))
                .or_default()
                .push(k);
        }
    }
    let mut seen = HashMap::new();
    for ((sid, user), keys) in by_user {
        for chunk in keys.chunks(500) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = format!(
                "SELECT idempotency_key, request_digest, response_json FROM idempotency_keys \
                 WHERE subdistrict_id = $1 AND user_id = $2 AND idempotency_key IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(sid).bind(user);
            for k in chunk {
                q = q.bind(k.to_string());
            }
            for r in q.fetch_all(&mut **tx).await? {
                seen.insert(
                    (sid, user, r.get::<String, _>(0)),
                    Seen::Stored(r.get(1), r.get(2)),
                );
            }
        }
    }
    Ok(seen)
}

/// The highest number given this year (Shanghai time) in the subdistrict, 0 for none.
async fn last_number(tx: &mut Tx, sid: i64, year: i32) -> Result<u64> {
    let last: Option<String> = sqlx::query(
        // A range, not LIKE, so the (subdistrict_id, number) index answers it ('.' follows '-').
        "SELECT number FROM cases WHERE subdistrict_id = $1 AND number >= $2 AND number < $3 \
         ORDER BY number DESC LIMIT 1",
    )
    .bind(sid)
    .bind(format!("{year}-"))
    .bind(format!("{year}."))
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.get::<String, _>(0));
    Ok(last
        .and_then(|s| s.split_once('-').and_then(|(_, n)| n.parse::<u64>().ok()))
        .unwrap_or(0))
}

fn keys_inserter(d: Dialect) -> Inserter {
    Inserter::for_db(
        d,
        "idempotency_keys",
        &[
            "subdistrict_id",
            "user_id",
            "idempotency_key",
            "request_digest",
            "case_id",
            "response_json",
            "created_at",
        ],
    )
}

fn events_inserter(d: Dialect) -> Inserter {
    Inserter::for_db(
        d,
        "case_events",
        &[
            "subdistrict_id",
            "case_id",
            "seq",
            "at",
            "actor",
            "kind",
            "public",
            "data_json",
        ],
    )
}

fn cases_inserter(d: Dialect) -> Inserter {
    Inserter::for_db(
        d,
        "cases",
        &[
            "subdistrict_id",
            "id",
            "number",
            "category",
            "node_id",
            "title",
            "description",
            "reporter_user_id",
            "reporter_name",
            "reporter_phone_mask",
            "channel",
            "state",
            "version",
            "lifecycle_json",
            "created_at",
            "updated_at",
            "anonymous",
            "lat_e6",
            "lng_e6",
            "address",
            "occurred_at",
            "contact_name",
            "contact_phone_mask",
            "contact_phone_sealed",
            "attributes_json",
            "source_ref",
            "node_path",
        ],
    )
}

fn case_row(sid: i64, c: &CaseRecord, sealed_phone: Option<Vec<u8>>) -> Vec<Cell> {
    vec![
        sid.into(),
        c.id.into(),
        c.number.as_str().into(),
        c.category.as_str().into(),
        c.node_id.into(),
        c.title.as_str().into(),
        c.description.as_str().into(),
        c.reporter_user_id.into(),
        c.reporter_name.as_str().into(),
        c.reporter_phone_mask.as_str().into(),
        c.channel.as_str().into(),
        c.state.as_str().into(),
        c.version.into(),
        serde_json::to_string(&c.lifecycle)
            .unwrap_or_default()
            .into(),
        c.created_at.into(),
        c.updated_at.into(),
        i64::from(c.anonymous).into(),
        c.lat_e6.into(),
        c.lng_e6.into(),
        c.address.as_str().into(),
        c.occurred_at.into(),
        c.contact_name.as_str().into(),
        c.contact_phone_mask.as_str().into(),
        sealed_phone.into(),
        serde_json::to_string(&c.attributes)
            .unwrap_or_else(|_| "{}".into())
            .into(),
        c.source_ref.as_str().into(),
        c.node_path.as_str().into(),
    ]
}
