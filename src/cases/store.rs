//! Cases in the database: opening one (idempotently), acting on it through the state machine
//! (`cases::lifecycle`) with optimistic concurrency, and reading it back with its timeline.
//!
//! Who may do what:
//! - open: staff and grid roles where they may see the tree (`Action::ReadTree` at the node);
//!   a resident at their own household's place or any node above it, down from the grid (a
//!   grid, building, unit or village group). Cases are always placed at a grid or below.
//! - read: whoever may see the tree at the case's place, and the reporter. Staff and grid roles
//!   (`Action::ReadPeople` at the place) see every event; everyone else the public ones.
//! - act: whoever may read it, judged by the rules as the [`ActorKind`] from [`actor_kind`].
//!
//! Deadlines (`Dispatch`, `Resume`, `Evaluate`) are computed here from the category's deadline
//! profile over the subdistrict's working-day calendar: a request never carries them.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::BTreeMap;

use super::calendar::deadline::{Pause, Stage};
use super::lifecycle::{self, ActorKind, EvaluationChannel, Event, EventData, Intake, Rating};
use crate::access::{allows, Action as Access, Actor, Role, Target};
use crate::audit::{self, Change};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::pii::Seal;
use crate::storage::{is_unique_violation, next_id, opt_i64, Db, Tx};
use crate::tree::model::within;
use crate::tree::{store as tree, NodeKind};

mod intake_batch;

pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_KEY_CHARS: usize = 200;
/// The header a client sends to make `POST /cases` safe to retry.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// How far back a staff entry may date an offline contact: 30 days.
pub const MAX_BACKDATE_MS: i64 = 30 * 24 * 3600 * 1000;
/// Longest free-text place, contact name and source reference.
pub const MAX_ADDRESS_CHARS: usize = 200;
/// The intake channels a case may come in by.
pub const CHANNELS: &[&str] = &[
    "web",
    "mobile",
    "grid_quick",
    "visit_reception",
    "visit_home",
    "visit_counter",
    "phone",
    "chat",
    "api",
    "open311",
];

/// What a reporter sends. Every field after `description` is optional in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NewCase {
    pub category: String,
    pub node_id: i64,
    pub title: String,
    pub description: String,
    /// No reporter name or phone is kept or shown. Refused unless the category allows it.
    #[serde(default)]
    pub anonymous: bool,
    /// A map point in integer microdegrees (WGS-84, as browsers give it): both or neither.
    #[serde(default)]
    pub lat_e6: Option<i64>,
    #[serde(default)]
    pub lng_e6: Option<i64>,
    /// A free-text place or landmark (Open311 `address_string`).
    #[serde(default)]
    pub address: String,
    /// When an offline contact really happened (staff entry of a visit or a call), Unix ms:
    /// not in the future and at most [`MAX_BACKDATE_MS`] ago. `None` means now.
    #[serde(default)]
    pub occurred_at: Option<i64>,
    /// The person who spoke (staff entry, an Open311 client's first and last name).
    #[serde(default)]
    pub contact_name: String,
    /// Their mobile number: validated, sealed at rest, shown masked. Needs the seal, so only
    /// [`open_case_sealed`] accepts it.
    #[serde(default)]
    pub contact_phone: String,
    /// The category's extra fields (its Open311 attributes) by code; several values of a list
    /// field joined by `,`. Checked with [`category::validate_attributes`].
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// A group-chat message relayed for triage: opens as a staff-only draft.
    #[serde(default)]
    pub draft: bool,
    /// Where it came from outside: a chat group and message id, an Open311 client's reference.
    #[serde(default)]
    pub source_ref: String,
}

/// A stored case: what the store keeps around the rules' [`lifecycle::Case`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub id: i64,
    pub number: String,
    pub category: String,
    pub node_id: i64,
    pub title: String,
    pub description: String,
    pub reporter_user_id: Option<i64>,
    pub reporter_name: String,
    /// Masked (`138****1234`); the clear phone stays sealed in the person's record.
    pub reporter_phone_mask: String,
    pub channel: String,
    pub state: String,
    pub version: i64,
    pub lifecycle: lifecycle::Case,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(default)]
    pub anonymous: bool,
    #[serde(default)]
    pub lat_e6: Option<i64>,
    #[serde(default)]
    pub lng_e6: Option<i64>,
    #[serde(default)]
    pub address: String,
    /// When the contact really happened; `None` when it is the time of filing.
    #[serde(default)]
    pub occurred_at: Option<i64>,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone_mask: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub source_ref: String,
    /// The place's tree path (`/root/…/node/`), for subtree filters.
    #[serde(default)]
    pub node_path: String,
}

/// One entry of a case's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub seq: i64,
    pub at: i64,
    /// Who acted, as the audit log names them.
    pub actor: String,
    pub kind: String,
    pub public: bool,
    /// The whole [`Event`] (its actor kind and data).
    pub event: Event,
}

/// What `open_case` did: created the case, or found the answer of an earlier request with the
/// same idempotency key and body.
#[derive(Debug, Clone)]
pub enum Opened {
    Created(CaseRecord),
    Replayed(CaseRecord),
}

impl Opened {
    pub fn case(&self) -> &CaseRecord {
        match self {
            Opened::Created(c) | Opened::Replayed(c) => c,
        }
    }
}

/// An action as a request names it: the lifecycle's [`lifecycle::Action`] without the
/// deadlines, which the store computes. Serialised with a `kind` tag, e.g.
/// `{"kind": "dispatch", "unit_id": 12}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CaseAction {
    Register,
    Reject {
        reason: String,
    },
    Withdraw {
        #[serde(default)]
        reason: Option<String>,
    },
    /// Merge this case (a duplicate) into case `into`; writes both (see `cases::triage::merge`).
    Merge {
        into: i64,
    },
    Dispatch {
        unit_id: i64,
    },
    Transfer {
        unit_id: i64,
        reason: String,
    },
    Dispute {
        reason: String,
    },
    FirstContact {
        #[serde(default)]
        note: Option<String>,
    },
    Note {
        text: String,
        #[serde(default)]
        public: bool,
    },
    Pause {
        reason: String,
    },
    Resume,
    ReportHandled {
        summary: String,
    },
    Verify {
        passed: bool,
        #[serde(default)]
        note: Option<String>,
    },
    Close {
        reason: String,
    },
    Evaluate {
        rating: Rating,
        #[serde(default)]
        comment: Option<String>,
        channel: EvaluationChannel,
    },
    Reopen {
        reason: String,
    },
}

/// How the rules see `actor` on a case at `path`: the strongest grant reaching the place
/// decides — subdistrict admin or staff act as the operations centre (their node is the
/// unit), community, property, owners' committee and pairing-unit staff as staff of the unit
/// of their grant — its organisation when the grant names one, else its node — grid leaders
/// and members as their grid. Without such a grant, the
/// user who reported the case is the reporter; anyone else is the public.
pub fn actor_kind(actor: &Actor, path: &str, reporter_user_id: Option<i64>) -> ActorKind {
    let mut best: Option<(u8, ActorKind)> = None;
    for g in &actor.grants {
        if g.path.is_empty() || !within(path, &g.path) {
            continue;
        }
        let unit_id = g.node_id.unwrap_or(actor.subdistrict_id);
        let candidate = match g.role {
            Role::SubdistrictAdmin | Role::SubdistrictStaff => {
                (3, ActorKind::OpsCentre { unit_id })
            }
            // A grant anchored at an organisation acts for that organisation (the unit
            // routing dispatches property and pairing-unit cases to).
            Role::CommunityStaff
            | Role::PropertyStaff
            | Role::OwnersCommitteeMember
            | Role::PairingUnit => (
                2,
                ActorKind::UnitStaff {
                    unit_id: g.org_id.unwrap_or(unit_id),
                },
            ),
            Role::GridLeader | Role::GridMember => (1, ActorKind::GridMember { unit_id }),
            _ => continue,
        };
        if best.is_none_or(|(rank, _)| candidate.0 > rank) {
            best = Some(candidate);
        }
    }
    match best {
        Some((_, kind)) => kind,
        None if actor.user_id != 0 && reporter_user_id == Some(actor.user_id) => {
            ActorKind::Reporter
        }
        None => ActorKind::Public,
    }
}

fn is_grid_or_below(kind: NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Grid | NodeKind::Building | NodeKind::Unit | NodeKind::VillageGroup
    )
}

/// Whether `actor` may report a case at `node` (see the module documentation).
async fn may_report_at(db: &Db, actor: &Actor, node: &tree::Node) -> Result<bool> {
    if allows(actor, Access::ReadTree, Target::Node { path: &node.path }) {
        return Ok(true);
    }
    let Some(person_id) = actor.person_id else {
        return Ok(false);
    };
    if !actor.has_role(Role::Resident) {
        return Ok(false);
    }
    let homes = crate::people::store::homes(db, actor.subdistrict_id, person_id).await?;
    Ok(homes.iter().any(|home| within(home, &node.path)))
}

/// The intake details' own checks: map point ranges, back-dating, lengths.
fn check_intake(errors: &mut Vec<FieldError>, new: &NewCase, now: i64) {
    match (new.lat_e6, new.lng_e6) {
        (None, None) => {}
        (Some(lat), Some(lng)) => {
            if !(-90_000_000..=90_000_000).contains(&lat) {
                errors.push(FieldError::new(
                    "lat_e6",
                    Text::new("纬度超出范围", "latitude out of range"),
                ));
            }
            if !(-180_000_000..=180_000_000).contains(&lng) {
                errors.push(FieldError::new(
                    "lng_e6",
                    Text::new("经度超出范围", "longitude out of range"),
                ));
            }
        }
        (None, Some(_)) | (Some(_), None) => errors.push(FieldError::new(
            if new.lat_e6.is_none() {
                "lat_e6"
            } else {
                "lng_e6"
            },
            Text::new("经纬度须同时填写", "give both latitude and longitude"),
        )),
    }
    if let Some(at) = new.occurred_at {
        // A minute of slack for clocks of phones and desks.
        if at > now + 60_000 {
            errors.push(FieldError::new(
                "occurred_at",
                Text::new("发生时间不能晚于现在", "cannot be in the future"),
            ));
        } else if at < now - MAX_BACKDATE_MS {
            errors.push(FieldError::new(
                "occurred_at",
                Text::new("只能补录 30 天以内的来访来电", "can be at most 30 days ago"),
            ));
        }
    }
    for (field, value) in [
        ("address", &new.address),
        ("contact_name", &new.contact_name),
        ("source_ref", &new.source_ref),
    ] {
        if value.chars().count() > MAX_ADDRESS_CHARS {
            errors.push(FieldError::new(
                field,
                Text::owned(
                    format!("不能超过 {MAX_ADDRESS_CHARS} 个字"),
                    format!("must be at most {MAX_ADDRESS_CHARS} characters"),
                ),
            ));
        }
    }
    if new.anonymous && !new.contact_phone.is_empty() {
        errors.push(FieldError::new(
            "contact_phone",
            Text::new(
                "匿名反映不留电话",
                "an anonymous report keeps no phone number",
            ),
        ));
    }
}

fn check_text(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        errors.push(FieldError::new(field, Text::new("请填写", "is required")));
    } else if value.chars().count() > max {
        errors.push(FieldError::new(
            field,
            Text::owned(
                format!("不能超过 {max} 个字"),
                format!("must be at most {max} characters"),
            ),
        ));
    }
}

/// Checks an `Idempotency-Key` header value: 1 to 200 visible ASCII characters.
pub fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::field(
            IDEMPOTENCY_KEY,
            Text::new(
                "幂等键须为 1 到 200 个可见 ASCII 字符",
                "must be 1 to 200 visible ASCII characters",
            ),
        ));
    }
    Ok(())
}

fn digest(new: &NewCase) -> String {
    let body = serde_json::to_string(new).unwrap_or_default();
    hex::encode(Sha256::digest(body.as_bytes()))
}

fn key_reused() -> Error {
    Error::field(
        IDEMPOTENCY_KEY,
        Text::new(
            "该幂等键已用于内容不同的请求,请换一个新的键",
            "this key was already used for a request with a different body; use a new key",
        ),
    )
}

/// [`stored_answer`] inside the writing transaction.
/// A reporter's name and phone mask as cases keep them, cached (see `storage::memo`;
/// correcting a person calls `memo::changed`).
async fn reporter_label(db: &Db, sid: i64, pid: i64) -> Result<Option<(String, String)>> {
    let memo = db.memo::<ReporterLabels>();
    if let Some(l) = memo.0.get(&(sid, pid)) {
        return Ok(Some(l));
    }
    let began = crate::storage::memo::Generation::now();
    let label =
        sqlx::query("SELECT name, phone_mask FROM persons WHERE subdistrict_id = $1 AND id = $2")
            .bind(sid)
            .bind(pid)
            .fetch_optional(db.read())
            .await?
            .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)));
    if let Some(l) = &label {
        memo.0.put(began, (sid, pid), l.clone());
    }
    Ok(label)
}

struct ReporterLabels(crate::storage::memo::Cache<(i64, i64), (String, String)>);

impl Default for ReporterLabels {
    fn default() -> Self {
        ReporterLabels(crate::storage::memo::Cache::new(100_000))
    }
}

/// The stored answer of an earlier request with this key, checked against the body's digest.
async fn stored_answer(
    db: &Db,
    actor: &Actor,
    key: &str,
    digest: &str,
) -> Result<Option<CaseRecord>> {
    let row = sqlx::query(
        "SELECT request_digest, response_json FROM idempotency_keys \
         WHERE subdistrict_id = $1 AND user_id = $2 AND idempotency_key = $3",
    )
    .bind(actor.subdistrict_id)
    .bind(actor.user_id)
    .bind(key)
    .fetch_optional(db.read())
    .await?;
    let Some(row) = row else { return Ok(None) };
    if row.get::<String, _>("request_digest") != digest {
        return Err(key_reused());
    }
    let json: String = row.get("response_json");
    Ok(Some(
        serde_json::from_str(&json).map_err(|e| Error::Internal(e.into()))?,
    ))
}

/// Opens a case in one transaction: validates, runs [`lifecycle::Case::open`], stores the case,
/// its first event, the idempotency key and the audit entry. With a key, a replay of the same
/// body returns the stored answer and a different body is refused naming `Idempotency-Key`;
/// of two concurrent requests with one key, the primary key lets exactly one create the case.
pub async fn open_case(
    db: &Db,
    actor: &Actor,
    new: NewCase,
    channel: &str,
    idempotency_key: Option<&str>,
) -> Result<Opened> {
    open_case_sealed(db, None, actor, new, channel, idempotency_key).await
}

/// [`open_case`] with the seal, which a `contact_phone` needs (without it, a phone is refused).
pub async fn open_case_sealed(
    db: &Db,
    seal: Option<&Seal>,
    actor: &Actor,
    new: NewCase,
    channel: &str,
    idempotency_key: Option<&str>,
) -> Result<Opened> {
    open_case_with_photos(db, seal, actor, new, channel, idempotency_key, Vec::new()).await
}

/// [`open_case_sealed`] with photos (checked and converted beforehand by
/// `attachments::prepare`), stored on the opening event in the case's own transaction (an
/// intake form files a case and its photos at once, or nothing). A replay adds none.
pub async fn open_case_with_photos(
    db: &Db,
    seal: Option<&Seal>,
    actor: &Actor,
    new: NewCase,
    channel: &str,
    idempotency_key: Option<&str>,
    photos: Vec<super::attachments::Prepared>,
) -> Result<Opened> {
    let photos = std::sync::Arc::new(photos);
    let new = NewCase {
        category: new.category.trim().to_string(),
        title: new.title.trim().to_string(),
        description: new.description.trim().to_string(),
        address: new.address.trim().to_string(),
        contact_name: new.contact_name.trim().to_string(),
        contact_phone: new.contact_phone.trim().to_string(),
        source_ref: new.source_ref.trim().to_string(),
        attributes: new
            .attributes
            .into_iter()
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .filter(|(_, v)| !v.is_empty())
            .collect(),
        ..new
    };
    if !CHANNELS.contains(&channel) {
        return Err(Error::Internal(anyhow::anyhow!(
            "unknown intake channel {channel:?}"
        )));
    }
    if let Some(k) = idempotency_key {
        check_key(k)?;
    }
    let digest = digest(&new);
    // A replay is found by the writer (one lookup per batch); a replay that no longer passes
    // the checks (its category retired since, say) is answered from the stored answer below.
    match validate_and_open(
        db,
        seal,
        actor,
        new,
        channel,
        idempotency_key,
        &digest,
        photos,
    )
    .await
    {
        Err(Error::Invalid(es)) => match idempotency_key {
            Some(k) => match stored_answer(db, actor, k, &digest).await? {
                Some(c) => Ok(Opened::Replayed(c)),
                None => Err(Error::Invalid(es)),
            },
            None => Err(Error::Invalid(es)),
        },
        other => other,
    }
}

#[allow(clippy::too_many_arguments)]
async fn validate_and_open(
    db: &Db,
    seal: Option<&Seal>,
    actor: &Actor,
    new: NewCase,
    channel: &str,
    idempotency_key: Option<&str>,
    digest: &str,
    photos: std::sync::Arc<Vec<super::attachments::Prepared>>,
) -> Result<Opened> {
    let sid = actor.subdistrict_id;
    let mut errors = Vec::new();
    let tree_ = super::category_store::offered_shared(db, sid).await?;
    match tree_.get(&new.category) {
        None => errors.push(FieldError::new(
            "category",
            Text::new("没有这个事项类别", "no such category"),
        )),
        Some(_) if !tree_.is_leaf(&new.category) => errors.push(FieldError::new(
            "category",
            Text::new(
                "请选择具体的小类",
                "choose a category without subcategories",
            ),
        )),
        Some(cat) => {
            if new.anonymous
                && !tree_
                    .resolve(&new.category)
                    .is_some_and(|r| r.anonymous_allowed)
            {
                errors.push(FieldError::new(
                    "anonymous",
                    Text::new(
                        "该类别不接受匿名反映",
                        "this category does not take anonymous reports",
                    ),
                ));
            }
            let submitted: BTreeMap<String, Vec<String>> = new
                .attributes
                .iter()
                .map(|(k, v)| {
                    let values = if cat
                        .fields
                        .iter()
                        .any(|f| &f.code == k && f.datatype.is_list())
                    {
                        v.split(',').map(|s| s.trim().to_string()).collect()
                    } else {
                        vec![v.clone()]
                    };
                    (k.clone(), values)
                })
                .collect();
            // A relayed chat message cannot answer the category's questions: a draft without
            // attributes is taken as it is, and triage completes it.
            let skip = new.draft && new.attributes.is_empty();
            if !skip {
                if let Err(mut es) = super::category::validate_attributes(cat, &submitted) {
                    errors.append(&mut es);
                }
            }
        }
    }
    check_intake(&mut errors, &new, crate::clock::now_ms());
    let contact_phone = if new.contact_phone.is_empty() {
        None
    } else {
        match crate::pii::validate::mobile(&new.contact_phone) {
            Ok(p) => Some(p),
            Err(t) => {
                errors.push(FieldError::new("contact_phone", t));
                None
            }
        }
    };
    if contact_phone.is_some() && seal.is_none() {
        return Err(Error::Internal(anyhow::anyhow!(
            "a contact phone needs open_case_sealed"
        )));
    }
    check_text(&mut errors, "title", &new.title, MAX_TITLE_CHARS);
    check_text(
        &mut errors,
        "description",
        &new.description,
        lifecycle::MAX_TEXT_CHARS,
    );
    let node = match tree::node_shared(db, sid, new.node_id).await {
        Ok(n) => Some(n),
        Err(Error::NotFound) => {
            errors.push(FieldError::new(
                "node_id",
                Text::new("没有这个地点", "no such place"),
            ));
            None
        }
        Err(e) => return Err(e),
    };
    if let Some(n) = &node {
        if !is_grid_or_below(n.kind) {
            errors.push(FieldError::new(
                "node_id",
                Text::new(
                    "请选择网格、楼栋、单元或村民小组",
                    "choose a grid, building, unit or village group",
                ),
            ));
        } else if !may_report_at(db, actor, n).await? {
            return Err(Error::Forbidden);
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let node = node.expect("checked above");
    let (reporter_name, reporter_phone_mask) = match actor.person_id {
        _ if new.anonymous => (String::new(), String::new()),
        Some(pid) => reporter_label(db, sid, pid)
            .await?
            .unwrap_or_else(|| (actor.display_name.clone(), String::new())),
        None => (actor.display_name.clone(), String::new()),
    };
    let kind = actor_kind(actor, &node.path, Some(actor.user_id));
    // The write goes through the group commit (`Db::grouped`): concurrent opens share one
    // durable commit. Inside it the key is checked again, so twins in one batch are caught.
    // A unique violation is either the key (a concurrent twin won in another process: answer
    // as it did) or the case number (another writer took it: try again with the next one).
    for _attempt in 0..8 {
        let now = crate::clock::now_ms();
        let id = next_id();
        let intake = if new.draft {
            Intake::Draft
        } else {
            Intake::Report
        };
        let opened = lifecycle::Case::open(id, intake, &kind, now);
        let record = CaseRecord {
            id,
            number: String::new(),
            category: new.category.clone(),
            node_id: node.id,
            title: new.title.clone(),
            description: new.description.clone(),
            // Kept even when anonymous, so the reporter can follow and rate their case;
            // `view` never shows it for an anonymous case.
            reporter_user_id: (actor.user_id != 0).then_some(actor.user_id),
            reporter_name: reporter_name.clone(),
            reporter_phone_mask: reporter_phone_mask.clone(),
            channel: channel.to_string(),
            state: opened.next.state.code().to_string(),
            version: opened.next.version,
            lifecycle: opened.next.clone(),
            created_at: now,
            updated_at: now,
            anonymous: new.anonymous,
            lat_e6: new.lat_e6,
            lng_e6: new.lng_e6,
            address: new.address.clone(),
            occurred_at: new.occurred_at,
            contact_name: new.contact_name.clone(),
            contact_phone_mask: contact_phone
                .as_deref()
                .map(crate::pii::mask::phone)
                .unwrap_or_default(),
            attributes: new.attributes.clone(),
            source_ref: new.source_ref.clone(),
            node_path: node.path.clone(),
        };
        let sealed_phone = match (&contact_phone, seal) {
            (Some(p), Some(seal)) => Some(seal.seal(p)),
            _ => None,
        };
        let outcome = db
            .grouped_bulk::<intake_batch::OpenBatch>(intake_batch::Pending {
                actor: actor.clone(),
                record,
                events: opened.events,
                key: idempotency_key.map(str::to_string),
                digest: digest.to_string(),
                sealed_phone,
                photos: photos.clone(),
            })
            .await;
        match outcome {
            Ok(o) => return o,
            Err(Error::Internal(e))
                if e.downcast_ref::<sqlx::Error>()
                    .is_some_and(is_unique_violation) =>
            {
                if let Some(k) = idempotency_key {
                    if let Some(c) = stored_answer(db, actor, k, digest).await? {
                        return Ok(Opened::Replayed(c));
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::Internal(anyhow::anyhow!(
        "could not allocate a case number after retries"
    )))
}

pub(crate) async fn append_events(
    tx: &mut Tx,
    actor: &Actor,
    case_id: i64,
    last_seq: i64,
    events: &[Event],
) -> std::result::Result<(), sqlx::Error> {
    for (i, e) in events.iter().enumerate() {
        sqlx::query(
            "INSERT INTO case_events (subdistrict_id, case_id, seq, at, actor, kind, public, data_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(actor.subdistrict_id)
        .bind(case_id)
        .bind(last_seq + 1 + i as i64)
        .bind(e.at_ms)
        .bind(actor.label())
        .bind(e.kind().as_str())
        .bind(i64::from(e.public))
        .bind(serde_json::to_string(e).unwrap_or_default())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub(crate) const CASE_COLS: &str = "id, number, category, node_id, title, description, reporter_user_id, \
    reporter_name, reporter_phone_mask, channel, state, version, lifecycle_json, created_at, updated_at, \
    anonymous, lat_e6, lng_e6, address, occurred_at, contact_name, contact_phone_mask, attributes_json, \
    source_ref, node_path";

pub(crate) fn case_from(row: &AnyRow) -> Result<CaseRecord> {
    let lifecycle: lifecycle::Case = serde_json::from_str(&row.get::<String, _>("lifecycle_json"))
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored case does not parse: {e}")))?;
    Ok(CaseRecord {
        id: row.get("id"),
        number: row.get("number"),
        category: row.get("category"),
        node_id: row.get("node_id"),
        title: row.get("title"),
        description: row.get("description"),
        reporter_user_id: opt_i64(row, "reporter_user_id"),
        reporter_name: row.get("reporter_name"),
        reporter_phone_mask: row.get("reporter_phone_mask"),
        channel: row.get("channel"),
        state: row.get("state"),
        version: row.get("version"),
        lifecycle,
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
        anonymous: row.get::<i64, _>("anonymous") != 0,
        lat_e6: opt_i64(row, "lat_e6"),
        lng_e6: opt_i64(row, "lng_e6"),
        address: row.get("address"),
        occurred_at: opt_i64(row, "occurred_at"),
        contact_name: row.get("contact_name"),
        contact_phone_mask: row.get("contact_phone_mask"),
        attributes: serde_json::from_str(&row.get::<String, _>("attributes_json"))
            .unwrap_or_default(),
        source_ref: row.get("source_ref"),
        node_path: row.get("node_path"),
    })
}

/// One case, without any access check (callers check with [`readable`]).
pub async fn case(db: &Db, sid: i64, id: i64) -> Result<CaseRecord> {
    let row = sqlx::query(&format!(
        "SELECT {CASE_COLS} FROM cases WHERE subdistrict_id = $1 AND id = $2"
    ))
    .bind(sid)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    case_from(&row)
}

/// The case's timeline in order; `public_only` leaves out staff-only events.
pub async fn timeline(db: &Db, sid: i64, id: i64, public_only: bool) -> Result<Vec<TimelineEntry>> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, kind, public, data_json FROM case_events \
         WHERE subdistrict_id = $1 AND case_id = $2 AND (public = 1 OR $3 = 0) ORDER BY seq",
    )
    .bind(sid)
    .bind(id)
    .bind(i64::from(public_only))
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            let event: Event =
                serde_json::from_str(&r.get::<String, _>("data_json")).map_err(|e| {
                    Error::Internal(anyhow::anyhow!("stored event does not parse: {e}"))
                })?;
            Ok(TimelineEntry {
                seq: r.get("seq"),
                at: r.get("at"),
                actor: r.get("actor"),
                kind: r.get("kind"),
                public: r.get::<i64, _>("public") != 0,
                event,
            })
        })
        .collect()
}

/// What an actor may see of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Staff and grid roles at the place: every event.
    Staff,
    /// The reporter and others who may see the place: public events only.
    Public,
}

/// Loads a case the actor may read, its place's path and how much of it they see; a case
/// the actor may not read is Forbidden.
/// The timeline of a case `actor` has just opened, without reading it back: the events
/// [`lifecycle::Case::open`] made for it (a pure function of the same inputs).
pub fn opening_timeline(actor: &Actor, c: &CaseRecord, public_only: bool) -> Vec<TimelineEntry> {
    let kind = actor_kind(actor, &c.node_path, Some(actor.user_id));
    let intake = if c.lifecycle.state == lifecycle::State::Draft {
        Intake::Draft
    } else {
        Intake::Report
    };
    lifecycle::Case::open(c.id, intake, &kind, c.created_at)
        .events
        .into_iter()
        .enumerate()
        .filter(|(_, e)| e.public || !public_only)
        .map(|(i, e)| TimelineEntry {
            seq: i as i64 + 1,
            at: e.at_ms,
            actor: actor.label(),
            kind: e.kind().as_str().to_string(),
            public: e.public,
            event: e,
        })
        .collect()
}

/// What `actor`, known to reach the case, sees of a case at `path` (as [`readable`] decides).
pub fn visibility_at(actor: &Actor, path: &str) -> Visibility {
    if allows(actor, Access::ReadPeople, Target::Node { path }) {
        Visibility::Staff
    } else {
        Visibility::Public
    }
}

pub async fn readable(db: &Db, actor: &Actor, id: i64) -> Result<(CaseRecord, String, Visibility)> {
    let c = case(db, actor.subdistrict_id, id).await?;
    let node = tree::node(db, actor.subdistrict_id, c.node_id).await?;
    let target = Target::Node { path: &node.path };
    if allows(actor, Access::ReadPeople, target) {
        return Ok((c, node.path, Visibility::Staff));
    }
    // The reporter, or the reporter of a report merged into this case, follows it.
    let reporter = actor.user_id != 0
        && (c.reporter_user_id == Some(actor.user_id)
            || (c.lifecycle.merged_in_count > 0
                && super::triage::follows_merged(db, actor, c.id).await?));
    if reporter || allows(actor, Access::ReadTree, target) {
        return Ok((c, node.path, Visibility::Public));
    }
    Err(Error::Forbidden)
}

pub(crate) fn conflict() -> Error {
    Error::Conflict(Text::new(
        "该事项已被他人修改,请刷新后重试",
        "the case was changed by someone else; reload",
    ))
}

/// The pauses of a case from its timeline (the open one, if any, ends now).
pub(crate) async fn pauses(
    db: &Db,
    sid: i64,
    id: i64,
    now: i64,
) -> Result<(Vec<Pause>, Option<i64>)> {
    let mut out = Vec::new();
    let mut open: Option<i64> = None;
    let mut rehandling_start = None;
    for e in timeline(db, sid, id, false).await? {
        match e.event.data {
            EventData::Paused { .. } => open = Some(e.at),
            EventData::Resumed { .. } => {
                if let Some(from) = open.take() {
                    out.push(Pause::closed(from, e.at));
                }
            }
            EventData::ReHandlingOpened { .. } => rehandling_start = Some(e.at),
            _ => {}
        }
    }
    if let Some(from) = open {
        out.push(Pause::closed(from, now.max(from)));
    }
    Ok((out, rehandling_start))
}

/// Turns a request's action into the lifecycle's, computing every deadline server-side.
async fn lifecycle_action(
    db: &Db,
    sid: i64,
    c: &CaseRecord,
    action: CaseAction,
    now: i64,
) -> Result<lifecycle::Action> {
    use lifecycle::Action as A;
    let categories = super::category_store::tree(db, sid).await?;
    let profile = || {
        categories
            .resolve(&c.category)
            .map(|r| r.deadlines)
            .ok_or_else(|| {
                Error::Internal(anyhow::anyhow!(
                    "case category {} has no deadlines",
                    c.category
                ))
            })
    };
    let unit = |field: &'static str, id: i64| super::routing::check_unit(db, sid, field, id);
    Ok(match action {
        CaseAction::Register => A::Register,
        CaseAction::Reject { reason } => A::Reject { reason },
        CaseAction::Withdraw { reason } => A::Withdraw { reason },
        CaseAction::Merge { into } => A::Merge { into },
        CaseAction::Dispatch { unit_id } => {
            let unit_id = unit("unit_id", unit_id).await?;
            let p = profile()?;
            let cal = super::calendar_admin::calendar(db, sid).await?;
            // A ruling on a dispute keeps the clock that started at the first dispatch.
            let start = c.lifecycle.dispatched_ms.unwrap_or(now);
            let (ps, _) = pauses(db, sid, c.id, now).await?;
            A::Dispatch {
                unit_id,
                first_contact_due_ms: p
                    .deadline(Stage::FirstContact, start)
                    .due(&cal, &ps, now)
                    .at_ms,
                due_ms: p.deadline(Stage::Handling, start).due(&cal, &ps, now).at_ms,
            }
        }
        CaseAction::Transfer { unit_id, reason } => A::Transfer {
            unit_id: unit("unit_id", unit_id).await?,
            reason,
        },
        CaseAction::Dispute { reason } => A::Dispute { reason },
        CaseAction::FirstContact { note } => A::FirstContact { note },
        CaseAction::Note { text, public } => A::Note { text, public },
        CaseAction::Pause { reason } => A::Pause { reason },
        CaseAction::Resume => {
            // Recompute the deadlines in force with every pause (the current one ending now);
            // the rules never let a resume shorten them.
            let p = profile()?;
            let cal = super::calendar_admin::calendar(db, sid).await?;
            let (ps, rehandling_start) = pauses(db, sid, c.id, now).await?;
            let l = &c.lifecycle;
            let first_contact_due_ms = match (l.dispatched_ms, l.first_contact_ms) {
                (Some(start), None) => Some(
                    p.deadline(Stage::FirstContact, start)
                        .due(&cal, &ps, now)
                        .at_ms,
                ),
                _ => None,
            };
            let due_ms = match (l.rehandling, rehandling_start, l.dispatched_ms) {
                (true, Some(start), _) => Some(
                    p.deadline(Stage::Rehandling, start)
                        .due(&cal, &ps, now)
                        .at_ms,
                ),
                (false, _, Some(start)) => {
                    Some(p.deadline(Stage::Handling, start).due(&cal, &ps, now).at_ms)
                }
                _ => None,
            };
            let keep = |new: Option<i64>, old: Option<i64>| match (new, old) {
                (Some(n), Some(o)) => Some(n.max(o)),
                (n, _) => n,
            };
            A::Resume {
                first_contact_due_ms: keep(first_contact_due_ms, l.first_contact_due_ms),
                due_ms: keep(due_ms, l.due_ms),
            }
        }
        CaseAction::ReportHandled { summary } => A::ReportHandled { summary },
        CaseAction::Verify { passed, note } => A::Verify { passed, note },
        CaseAction::Close { reason } => A::Close { reason },
        CaseAction::Evaluate {
            rating,
            comment,
            channel,
        } => {
            let p = profile()?;
            let cal = super::calendar_admin::calendar(db, sid).await?;
            A::Evaluate {
                rating,
                comment,
                channel,
                rehandling_due_ms: p.deadline(Stage::Rehandling, now).due(&cal, &[], now).at_ms,
            }
        }
        CaseAction::Reopen { reason } => A::Reopen { reason },
    })
}

/// Acts on a case: the rules decide (`lifecycle::apply` at `now`), then the case is written
/// only if nobody changed it since `expected_version` (else 409, nothing lost), its events
/// appended and the change audited — one transaction.
pub async fn act(
    db: &Db,
    actor: &Actor,
    case_id: i64,
    expected_version: i64,
    action: CaseAction,
) -> Result<CaseRecord> {
    // A merge writes two cases: triage does it in its own transaction.
    if let CaseAction::Merge { into } = action {
        return super::triage::merge(db, actor, case_id, expected_version, into)
            .await
            .map(|m| m.duplicate);
    }
    let sid = actor.subdistrict_id;
    let (c, path, _) = readable(db, actor, case_id).await?;
    if c.version != expected_version {
        return Err(conflict());
    }
    let kind = actor_kind(actor, &path, c.reporter_user_id);
    let now = crate::clock::now_ms();
    let label = serde_json::to_value(&action).unwrap_or_default();
    let action_name = label["kind"].as_str().unwrap_or("action").to_string();
    let action = lifecycle_action(db, sid, &c, action, now).await?;
    let t = lifecycle::apply(&c.lifecycle, &kind, &action, now)?;
    let next = CaseRecord {
        state: t.next.state.code().to_string(),
        version: t.next.version,
        lifecycle: t.next.clone(),
        updated_at: now,
        ..c.clone()
    };
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE cases SET state = $1, version = $2, lifecycle_json = $3, updated_at = $4 \
         WHERE subdistrict_id = $5 AND id = $6 AND version = $7",
    )
    .bind(&next.state)
    .bind(next.version)
    .bind(serde_json::to_string(&next.lifecycle).unwrap_or_default())
    .bind(now)
    .bind(sid)
    .bind(case_id)
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(conflict());
    }
    super::measures::record_change(&mut tx, sid, Some(&c), &next).await?;
    let last_seq: i64 = sqlx::query(
        "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM case_events \
         WHERE subdistrict_id = $1 AND case_id = $2",
    )
    .bind(sid)
    .bind(case_id)
    .fetch_one(&mut *tx)
    .await?
    .get(0);
    append_events(&mut tx, actor, case_id, last_seq, &t.events).await?;
    let audit_action = format!("case.{action_name}");
    audit::record(
        &mut tx,
        actor,
        Change::new(&audit_action, "case", Some(case_id))
            .label(&c.number)
            .before(json!({ "state": c.state, "version": c.version }))
            .after(json!({ "state": next.state, "version": next.version, "action": label })),
    )
    .await?;
    tell(&mut tx, sid, &c, &next).await?;
    tx.commit().await?;
    Ok(next)
}

/// The notices a step sends, in its transaction: the unit a case is dispatched or transferred
/// to is told, and the reporter is asked to rate a closed case.
async fn tell(tx: &mut Tx, sid: i64, before: &CaseRecord, after: &CaseRecord) -> Result<()> {
    let link = format!("/cases/{}", after.id);
    let (was, now) = (&before.lifecycle, &after.lifecycle);
    if let Some(unit) = now.owner_unit.filter(|u| was.owner_unit != Some(*u)) {
        let notice = crate::notify::Notice {
            kind: "case.dispatched".into(),
            case_id: Some(after.id),
            title_zh: format!("新派单:{} {}", after.number, after.title),
            title_en: format!("Dispatched to you: {} {}", after.number, after.title),
            body_zh: "请在首次联系时限内与反映人联系。".into(),
            body_en: "Contact the reporter within the first-contact deadline.".into(),
            link: link.clone(),
        };
        crate::notify::notify_unit(tx, sid, unit, &notice).await?;
    }
    let closed = lifecycle::State::Closed;
    if now.state == closed && was.state != closed {
        if let Some(user) = after.reporter_user_id {
            let notice = crate::notify::Notice {
                kind: "case.closed".into(),
                case_id: Some(after.id),
                title_zh: format!("您反映的事项已办结:{}", after.title),
                title_en: format!("Your report was closed: {}", after.title),
                body_zh: "请对办理结果进行评价。".into(),
                body_en: "Please rate how it was handled.".into(),
                link,
            };
            crate::notify::notify_users(tx, sid, &[user], &notice).await?;
        }
    }
    Ok(())
}

/// The case as the API shows it: the record, its timeline as the actor may see it.
pub fn view(c: &CaseRecord, timeline: &[TimelineEntry]) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        if c.anonymous {
            o.insert("reporter_user_id".into(), Value::Null);
        }
        let label = c.lifecycle.state.label();
        o.insert(
            "state_label".into(),
            json!({ "zh": label.zh, "en": label.en }),
        );
        o.insert(
            "timeline".into(),
            serde_json::to_value(timeline).unwrap_or_default(),
        );
    }
    v
}
