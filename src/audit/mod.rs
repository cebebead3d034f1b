//! The audit log: every change records who, when, what, before and after. Append-only:
//! this module only inserts, and the database refuses UPDATE and DELETE on the table.

pub mod api;
pub mod store;
pub mod web;

use serde_json::Value;

use crate::access::Actor;
use crate::storage::bulk::{Cell, Inserter};
use crate::storage::{next_id, Dialect, Tx};

/// One entry to record, inside the transaction of the change it describes.
pub struct Change<'a> {
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: Option<i64>,
    pub subject_label: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub reason: Option<&'a str>,
}

impl<'a> Change<'a> {
    pub fn new(action: &'a str, subject_type: &'a str, subject_id: Option<i64>) -> Self {
        Change {
            action,
            subject_type,
            subject_id,
            subject_label: "",
            before: None,
            after: None,
            reason: None,
        }
    }
    pub fn label(mut self, label: &'a str) -> Self {
        self.subject_label = label;
        self
    }
    pub fn before(mut self, v: Value) -> Self {
        self.before = Some(v);
        self
    }
    pub fn after(mut self, v: Value) -> Self {
        self.after = Some(v);
        self
    }
    pub fn reason(mut self, r: &'a str) -> Self {
        self.reason = Some(r);
        self
    }
}

/// Records a change made by `actor`.
pub async fn record(tx: &mut Tx, actor: &Actor, change: Change<'_>) -> Result<(), sqlx::Error> {
    record_as(
        tx,
        actor.subdistrict_id,
        (actor.user_id != 0).then_some(actor.user_id),
        &actor.label(),
        change,
    )
    .await
}

/// Records a change with an explicit actor label (logins, where no actor exists yet).
pub async fn record_as(
    tx: &mut Tx,
    sid: i64,
    user_id: Option<i64>,
    actor_label: &str,
    c: Change<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (subdistrict_id, id, at, actor_user_id, actor, action, subject_type, subject_id, \
         subject_label, before_json, after_json, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(sid)
    .bind(next_id())
    .bind(crate::clock::now_ms())
    .bind(user_id)
    .bind(actor_label)
    .bind(c.action)
    .bind(c.subject_type)
    .bind(c.subject_id)
    .bind(c.subject_label)
    .bind(c.before.map(|v| v.to_string()))
    .bind(c.after.map(|v| v.to_string()))
    .bind(c.reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An inserter for many entries at once (a batch of writes); rows from [`row`].
pub fn inserter(d: Dialect) -> Inserter {
    Inserter::for_db(
        d,
        "audit_log",
        &[
            "subdistrict_id",
            "id",
            "at",
            "actor_user_id",
            "actor",
            "action",
            "subject_type",
            "subject_id",
            "subject_label",
            "before_json",
            "after_json",
            "reason",
        ],
    )
}

/// One entry by `actor` as a row of [`inserter`], the same as [`record`] writes.
pub fn row(actor: &Actor, c: Change<'_>) -> Vec<Cell> {
    vec![
        actor.subdistrict_id.into(),
        next_id().into(),
        crate::clock::now_ms().into(),
        ((actor.user_id != 0).then_some(actor.user_id)).into(),
        actor.label().into(),
        c.action.into(),
        c.subject_type.into(),
        c.subject_id.into(),
        c.subject_label.into(),
        c.before.map(|v| v.to_string()).into(),
        c.after.map(|v| v.to_string()).into(),
        c.reason.map(str::to_string).into(),
    ]
}
