//! Case attachments (photos): checked, resized, stripped of location metadata, stored in the
//! database (so a database backup is a full backup).
//!
//! `image.rs` holds the pure rules (type sniffing, limits, decoding, resizing, re-encoding);
//! this file the storage and the access around them; `web.rs` the pages and the API.
//!
//! Who may do what, on a case the actor may read (`store::readable`):
//! - see: everyone who may read the case sees the public attachments' display and thumbnail
//!   versions; staff (`Visibility::Staff`) also see staff-only attachments and the originals.
//! - upload: staff, whoever the rules let act on the case as staff of a unit or grid, and the
//!   case's reporter. What someone without staff visibility uploads is public — otherwise
//!   they could not see their own photo.
//!
//! A photo is processed before its transaction begins (the CPU work must not hold the one
//! SQLite writer); adding is then one transaction with its audit entry. Uploading the same
//! bytes to the same case again is a no-op answering with the stored attachment.

pub mod image;
mod web;

use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use tokio::sync::Semaphore;

pub use web::{api_routes, gallery, routes, upload_form, UPLOAD_LIMIT};

use super::lifecycle::ActorKind;
use super::store::{self, CaseRecord, Visibility};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{next_id, opt_i64, Db, Tx};

/// The form and multipart field that carries photos.
pub const PHOTO_FIELD: &str = "photo";

/// Photos decoded at once across the process: each may take a few hundred MiB while
/// decoding, and the machine has few cores.
static PROCESSING: Semaphore = Semaphore::const_new(2);

/// An attachment as lists show it (no bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub id: i64,
    pub case_id: i64,
    /// The timeline event it belongs to, if any.
    pub event_seq: Option<i64>,
    pub uploaded_by: Option<i64>,
    /// The type of the original (display and thumbnail are always `image/jpeg`).
    pub content_type: String,
    /// The photo's size upright, in pixels.
    pub width: i64,
    pub height: i64,
    pub original_size: i64,
    pub display_size: i64,
    pub thumb_size: i64,
    pub sha256: String,
    pub public: bool,
    pub created_at: i64,
}

impl Attachment {
    /// The thumbnail's size in pixels (what `<img width height>` should say).
    pub fn thumb_dimensions(&self) -> (u32, u32) {
        let (w, h) = (clamp_u32(self.width), clamp_u32(self.height));
        let (w, h) = image::fit(w, h, image::DISPLAY_SIDE);
        image::fit(w, h, image::THUMB_SIDE)
    }
}

fn clamp_u32(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

/// Which bytes of an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Thumb,
    Display,
    Original,
}

impl Variant {
    pub fn parse(s: &str) -> Option<Variant> {
        match s {
            "thumb" => Some(Variant::Thumb),
            "display" => Some(Variant::Display),
            "original" => Some(Variant::Original),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Variant::Thumb => "thumb",
            Variant::Display => "display",
            Variant::Original => "original",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Variant::Thumb => "thumb_data",
            Variant::Display => "display_data",
            Variant::Original => "original_data",
        }
    }
}

/// A photo checked and converted, ready to store.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The bytes as uploaded.
    pub original: Vec<u8>,
    pub processed: image::Processed,
}

fn photo_error(index: usize, count: usize, r: &image::Refusal) -> FieldError {
    let t = r.text();
    let message = if count > 1 {
        Text::owned(
            format!("第 {} 张照片:{}", index + 1, t.zh),
            format!("photo {}: {}", index + 1, t.en),
        )
    } else {
        t
    };
    FieldError::new(PHOTO_FIELD, message)
}

/// Checks and converts the photos of one upload (pure CPU work): one to nine of them, each
/// refused with its own reason; the same bytes twice count once.
pub fn prepare_now(photos: Vec<Vec<u8>>) -> Result<Vec<Prepared>> {
    if let Err(r) = image::check_count(photos.len()) {
        return Err(Error::Invalid(vec![FieldError::new(PHOTO_FIELD, r.text())]));
    }
    let count = photos.len();
    let mut errors = Vec::new();
    let mut out: Vec<Prepared> = Vec::new();
    for (i, bytes) in photos.into_iter().enumerate() {
        let digest = image::sha256_hex(&bytes);
        if out.iter().any(|p| p.processed.sha256 == digest) {
            continue;
        }
        match image::process(&bytes) {
            Ok(processed) => out.push(Prepared {
                original: bytes,
                processed,
            }),
            Err(r) => errors.push(photo_error(i, count, &r)),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    Ok(out)
}

/// [`prepare_now`] off the async runtime, at most two uploads at a time.
pub async fn prepare(photos: Vec<Vec<u8>>) -> Result<Vec<Prepared>> {
    let _permit = PROCESSING
        .acquire()
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    tokio::task::spawn_blocking(move || prepare_now(photos))
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("photo processing stopped: {e}")))?
}

/// Checks, converts and stores photos on a case inside the caller's transaction (for a case
/// being opened in that same transaction). The caller has decided the actor may attach here.
/// The conversion runs while the transaction is open: where the photos are at hand earlier,
/// call [`prepare`] before beginning and [`attach_prepared_in_tx`] inside.
pub async fn attach_in_tx(
    tx: &mut Tx,
    actor: &Actor,
    sid: i64,
    case_id: i64,
    event_seq: Option<i64>,
    photos: Vec<Vec<u8>>,
    public: bool,
) -> Result<Vec<i64>> {
    let prepared = prepare(photos).await?;
    attach_prepared_in_tx(tx, actor, sid, case_id, event_seq, &prepared, public).await
}

/// Stores prepared photos on a case inside the caller's transaction, with one audit entry
/// for those that are new; returns the attachments' ids in upload order (a photo stored
/// before answers with its existing id). An attachment of a staff-only timeline event is
/// never public.
pub async fn attach_prepared_in_tx(
    tx: &mut Tx,
    actor: &Actor,
    sid: i64,
    case_id: i64,
    event_seq: Option<i64>,
    prepared: &[Prepared],
    public: bool,
) -> Result<Vec<i64>> {
    let number: String =
        sqlx::query("SELECT number FROM cases WHERE subdistrict_id = $1 AND id = $2")
            .bind(sid)
            .bind(case_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(Error::NotFound)?
            .get(0);
    let mut public = public;
    if let Some(seq) = event_seq {
        let event_public: i64 = sqlx::query(
            "SELECT public FROM case_events WHERE subdistrict_id = $1 AND case_id = $2 AND seq = $3",
        )
        .bind(sid)
        .bind(case_id)
        .bind(seq)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| {
            Error::field(
                "event_seq",
                Text::new("该事项没有这条办理记录", "the case has no such timeline event"),
            )
        })?
        .get(0);
        public &= event_public != 0;
    }
    let now = crate::clock::now_ms();
    let uploaded_by = (actor.user_id != 0).then_some(actor.user_id);
    let mut ids = Vec::new();
    let mut added = Vec::new();
    for p in prepared {
        let pr = &p.processed;
        let done = sqlx::query(
            "INSERT INTO case_attachments (subdistrict_id, id, case_id, event_seq, uploaded_by, \
             content_type, original_data, display_data, thumb_data, width, height, original_size, \
             display_size, thumb_size, sha256, public, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT (subdistrict_id, case_id, sha256) DO NOTHING",
        )
        .bind(sid)
        .bind(next_id())
        .bind(case_id)
        .bind(event_seq)
        .bind(uploaded_by)
        .bind(pr.kind.content_type())
        .bind(p.original.clone())
        .bind(pr.display.clone())
        .bind(pr.thumb.clone())
        .bind(i64::from(pr.width))
        .bind(i64::from(pr.height))
        .bind(p.original.len() as i64)
        .bind(pr.display.len() as i64)
        .bind(pr.thumb.len() as i64)
        .bind(&pr.sha256)
        .bind(i64::from(public))
        .bind(now)
        .execute(&mut **tx)
        .await?;
        let id: i64 = sqlx::query(
            "SELECT id FROM case_attachments WHERE subdistrict_id = $1 AND case_id = $2 AND sha256 = $3",
        )
        .bind(sid)
        .bind(case_id)
        .bind(&pr.sha256)
        .fetch_one(&mut **tx)
        .await?
        .get(0);
        if done.rows_affected() > 0 {
            added.push(
                json!({ "id": id, "sha256": pr.sha256, "content_type": pr.kind.content_type(),
                "bytes": p.original.len(), "width": pr.width, "height": pr.height }),
            );
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if !added.is_empty() {
        audit::record(
            tx,
            actor,
            Change::new("case.attach", "case", Some(case_id))
                .label(&number)
                .after(json!({ "attachments": added, "public": public, "event_seq": event_seq })),
        )
        .await?;
    }
    Ok(ids)
}

/// Whether `actor` may add photos to a case they may read (see the module documentation).
pub fn may_upload(actor: &Actor, c: &CaseRecord, path: &str, vis: Visibility) -> bool {
    if vis == Visibility::Staff {
        return true;
    }
    if actor.user_id != 0 && c.reporter_user_id == Some(actor.user_id) {
        return true;
    }
    matches!(
        store::actor_kind(actor, path, c.reporter_user_id),
        ActorKind::OpsCentre { .. } | ActorKind::UnitStaff { .. } | ActorKind::GridMember { .. }
    )
}

/// Adds photos to a case: access, conversion (before the transaction), then one transaction
/// with the audit entry. Returns how the actor sees the case and the attachments in upload
/// order, new or found again.
pub async fn add(
    db: &Db,
    actor: &Actor,
    case_id: i64,
    event_seq: Option<i64>,
    photos: Vec<Vec<u8>>,
    public: bool,
) -> Result<(Visibility, Vec<Attachment>)> {
    let (c, path, vis) = store::readable(db, actor, case_id).await?;
    if !may_upload(actor, &c, &path, vis) {
        return Err(Error::Forbidden);
    }
    let public = public || vis != Visibility::Staff;
    let prepared = prepare(photos).await?;
    let sid = actor.subdistrict_id;
    let mut tx = db.begin().await?;
    let ids =
        attach_prepared_in_tx(&mut tx, actor, sid, case_id, event_seq, &prepared, public).await?;
    tx.commit().await?;
    let all = list_for(db, sid, case_id, true).await?;
    let mine = ids
        .iter()
        .filter_map(|id| all.iter().find(|a| a.id == *id).cloned())
        .filter(|a| a.public || vis == Visibility::Staff)
        .collect();
    Ok((vis, mine))
}

const COLS: &str = "id, case_id, event_seq, uploaded_by, content_type, width, height, \
    original_size, display_size, thumb_size, sha256, public, created_at";

fn from_row(r: &AnyRow) -> Attachment {
    Attachment {
        id: r.get("id"),
        case_id: r.get("case_id"),
        event_seq: opt_i64(r, "event_seq"),
        uploaded_by: opt_i64(r, "uploaded_by"),
        content_type: r.get("content_type"),
        width: r.get("width"),
        height: r.get("height"),
        original_size: r.get("original_size"),
        display_size: r.get("display_size"),
        thumb_size: r.get("thumb_size"),
        sha256: r.get("sha256"),
        public: r.get::<i64, _>("public") != 0,
        created_at: r.get("created_at"),
    }
}

/// A case's attachments, oldest first, without access checks (callers check with
/// `store::readable`); `staff` includes the staff-only ones.
pub async fn list_for(db: &Db, sid: i64, case_id: i64, staff: bool) -> Result<Vec<Attachment>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM case_attachments \
         WHERE subdistrict_id = $1 AND case_id = $2 AND (public = 1 OR $3 = 1) \
         ORDER BY created_at, id"
    ))
    .bind(sid)
    .bind(case_id)
    .bind(i64::from(staff))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// The attachments of a case the actor may see, and how much they see.
pub async fn list(db: &Db, actor: &Actor, case_id: i64) -> Result<(Visibility, Vec<Attachment>)> {
    let (_, _, vis) = store::readable(db, actor, case_id).await?;
    let all = list_for(db, actor.subdistrict_id, case_id, vis == Visibility::Staff).await?;
    Ok((vis, all))
}

/// One variant's bytes and MIME type. The original is for staff only (403 for others); a
/// staff-only attachment does not exist for others (404).
pub async fn read(
    db: &Db,
    actor: &Actor,
    case_id: i64,
    id: i64,
    variant: Variant,
) -> Result<(String, Vec<u8>)> {
    let (_, _, vis) = store::readable(db, actor, case_id).await?;
    let staff = vis == Visibility::Staff;
    let row = sqlx::query(&format!(
        "SELECT public, content_type, {} AS data FROM case_attachments \
         WHERE subdistrict_id = $1 AND case_id = $2 AND id = $3",
        variant.column()
    ))
    .bind(actor.subdistrict_id)
    .bind(case_id)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    if row.get::<i64, _>("public") == 0 && !staff {
        return Err(Error::NotFound);
    }
    if variant == Variant::Original && !staff {
        return Err(Error::Forbidden);
    }
    let content_type = match variant {
        Variant::Original => row.get::<String, _>("content_type"),
        Variant::Display | Variant::Thumb => "image/jpeg".to_string(),
    };
    Ok((content_type, row.get::<Vec<u8>, _>("data")))
}
