//! Owners' votes (业主共同决定): Civil Code art. 278 with the Supreme People's Court
//! interpretation arts. 8–9. Pure rules first — matters and thresholds (`rules`), who counts
//! and how much (`electorate`), the count (`tally`), the tamper-evident ballot box (`chain`)
//! and its export (`export`) — with storage, pages and API around them.

pub mod chain;
pub mod cli;
pub mod desk;
pub mod electorate;
pub mod export;
pub mod model;
pub mod rules;
pub mod tally;
pub mod verify;
