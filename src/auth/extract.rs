//! Re-exports of the request extractors that yield an actor (they live with the request
//! context in `web::ctx`, which every route shares).

pub use crate::web::ctx::{actor_of, Page};
