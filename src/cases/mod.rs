//! Speak up and get it done (说事 / 办事): the closed case loop. This folder holds its pure
//! rules first — the working-day calendar and deadlines, the case state machine, duplicate
//! detection, the category tree — with storage, pages and API to follow around them.

pub mod api;
pub mod attachments;
pub mod calendar;
pub mod calendar_admin;
pub mod category;
pub mod category_store;
pub mod chat_relay;
pub mod dedupe;
pub mod intake;
pub mod lifecycle;
pub mod measures;
pub mod open311;
pub mod routing;
pub mod store;
pub mod triage;
pub mod watch;
pub mod web;
