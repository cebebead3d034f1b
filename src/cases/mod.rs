//! Speak up and get it done (说事 / 办事): the closed case loop. This folder holds its pure
//! rules first — the working-day calendar and deadlines, the case state machine, duplicate
//! detection, the category tree — with storage, pages and API to follow around them.

pub mod api;
pub mod calendar;
pub mod calendar_admin;
pub mod category;
pub mod dedupe;
pub mod lifecycle;
pub mod open311;
pub mod store;
pub mod web;
