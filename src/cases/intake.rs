//! Intake channels: how people bring a case in.
//!
//! - Residents: the mobile form `/report` (category in two steps of big tiles, their home
//!   pre-selected, photos, an optional map point and address, anonymity where the category
//!   allows it) and `/my/cases`, where they follow their cases to the rating (`report.rs`).
//! - Grid members: the photo-first quick report `/quick`, which works offline: `quick.js`
//!   keeps each report (fields and photos as Blobs) in IndexedDB under a client-made
//!   idempotency key and sends it to `POST /api/v1/cases?channel=grid_quick` and
//!   `POST /api/v1/cases/{id}/attachments` when the phone is back online, removing it only
//!   after 2xx answers; the service worker `/sw.js` keeps the page shell (`quick.rs`).
//! - Staff: entry of offline contacts `/cases/desk` — reception, home and counter visits and
//!   phone calls, with the time they really happened and who spoke (`desk.rs`).
//!
//! `rules.rs` holds the pure parts (contact types → channel codes, `datetime-local` in
//! Shanghai time, degrees → microdegrees, attribute fields); `form.rs` the shared markup.
//! Every form posts `multipart/form-data` (CSRF token in the query), and one post files the
//! case and its photos in one transaction through [`file_case`].

mod desk;
mod form;
mod multipart;
mod quick;
mod report;
pub mod rules;

use axum::Router;

use crate::access::Actor;
use crate::cases::attachments;
use crate::cases::store::{self, NewCase, Opened};
use crate::error::Result;
use crate::web::AppState;

pub use multipart::Photo;

/// Pages (merged into the site router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(report::routes())
        .merge(quick::routes())
        .merge(desk::routes())
}

/// JSON API routes (nested under `/api/v1`): intake uses the cases API itself.
pub fn api_routes() -> Router<AppState> {
    Router::new()
}

/// Files a case with its photos: the photos are checked and converted first (a refusal names
/// the `photo` field and nothing is written), then the case, its first event and the photos
/// (on that event, public) are written in one transaction. A replayed idempotency key
/// answers with the stored case and adds nothing.
pub async fn file_case(
    st: &AppState,
    actor: &Actor,
    new: NewCase,
    channel: &str,
    key: Option<&str>,
    photos: Vec<Photo>,
) -> Result<Opened> {
    let prepared = if photos.is_empty() {
        Vec::new()
    } else {
        attachments::prepare(photos.into_iter().map(|p| p.bytes).collect()).await?
    };
    store::open_case_with_photos(&st.db, Some(&st.seal), actor, new, channel, key, prepared).await
}
