//! The web layer: the router, the request context (language, CSRF, actor), the page
//! shell, and the mapping of errors to pages. Domain folders bring their own routes.

pub mod assets;
pub mod ctx;
pub mod errors;
pub mod home;
pub mod layout;

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::middleware;
use axum::routing::get;
use axum::Router;

use crate::pii::Seal;
use crate::storage::Db;

pub use ctx::{Ctx, Page};

/// Largest ordinary request body (forms, JSON).
pub const BODY_LIMIT: usize = 1024 * 1024;
/// Largest upload (registry imports).
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

pub struct State {
    pub db: Db,
    pub seal: Seal,
    /// Set cookies with `Secure` (the server sits behind TLS).
    pub secure_cookies: bool,
    pub imports: crate::registry::jobs::Jobs,
}

#[derive(Clone)]
pub struct AppState(pub Arc<State>);

impl Deref for AppState {
    type Target = State;
    fn deref(&self) -> &State {
        &self.0
    }
}

impl AppState {
    pub fn new(db: Db, seal: Seal, secure_cookies: bool) -> AppState {
        AppState(Arc::new(State {
            db,
            seal,
            secure_cookies,
            imports: Default::default(),
        }))
    }
}

async fn healthz(
    axum::extract::State(st): axum::extract::State<AppState>,
) -> crate::error::Result<&'static str> {
    st.db.ping().await?;
    Ok("ok")
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let pages = Router::new()
        .merge(home::routes())
        .merge(crate::auth::web::routes())
        .merge(crate::tree::web::routes())
        .merge(crate::people::web::routes())
        .merge(crate::access::web::routes())
        .merge(crate::audit::web::routes())
        .merge(crate::registry::web::routes())
        .merge(crate::cases::calendar_admin::routes())
        .merge(crate::cases::web::routes())
        .merge(crate::cases::attachments::routes())
        .merge(crate::cases::category_store::routes())
        .merge(crate::cases::chat_relay::routes())
        .merge(crate::cases::intake::routes())
        .merge(crate::cases::measures::routes())
        .merge(crate::cases::routing::routes())
        .merge(crate::cases::triage::routes())
        .merge(crate::cases::watch::routes())
        .merge(crate::deliberation::halls::routes())
        .merge(crate::deliberation::meetings::routes())
        .merge(crate::votes::desk::routes())
        .merge(crate::property::web::routes())
        .merge(crate::property::office::routes())
        .merge(crate::property::committees::routes())
        .merge(crate::property::companies::routes())
        .merge(crate::property::fund::routes())
        .merge(crate::property::mediation::routes())
        .merge(crate::property::income::routes())
        .merge(crate::property::audits::routes())
        .merge(crate::notify::routes());
    let api = crate::api::routes();
    Router::new()
        .route("/healthz", get(healthz))
        .merge(assets::routes())
        .merge(pages)
        .nest("/api/v1", api)
        .merge(crate::cases::open311::routes())
        .fallback(errors::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            ctx::csrf_guard,
        ))
        .layer(middleware::from_fn(errors::html_errors))
        .layer(middleware::from_fn(ctx::language))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut resp: axum::response::Response) -> axum::response::Response {
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'",
    ));
    resp
}
