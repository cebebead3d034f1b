//! Static assets compiled into the binary: deployments sit on intranets with no internet.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::AppState;

pub const CSS_PATH: &str = "/static/app.css";
const CSS: &str = include_str!("static/app.css");
const JS: &str = include_str!("static/app.js");
const FAVICON: &str = include_str!("static/favicon.svg");
// Intake pages (cases::intake): their styles, the location button, the offline quick report.
const INTAKE_CSS: &str = include_str!("static/intake.css");
const INTAKE_JS: &str = include_str!("static/intake.js");
const QUICK_JS: &str = include_str!("static/quick.js");

fn asset(body: &'static str, mime: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            CSS_PATH,
            get(|| async { asset(CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/static/app.js",
            get(|| async { asset(JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/static/favicon.svg",
            get(|| async { asset(FAVICON, "image/svg+xml") }),
        )
        .route(
            "/static/intake.css",
            get(|| async { asset(INTAKE_CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/static/intake.js",
            get(|| async { asset(INTAKE_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/static/quick.js",
            get(|| async { asset(QUICK_JS, "text/javascript; charset=utf-8") }),
        )
}
