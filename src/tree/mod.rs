//! The org tree — one core, two tracks, whole area: subdistrict → communities (urban) and
//! villages (rural) → micro-grids → buildings and units, or village groups → rooms.

pub mod api;
pub mod area;
pub mod edit;
pub mod model;
pub mod store;
pub mod web;

pub use model::{NodeKind, Track};
pub use store::{Node, Room};
