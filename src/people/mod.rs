//! People, households and owners: who lives where and who owns what. Personal data is
//! validated and sealed here on the way in, and masked on the way out.

pub mod api;
pub mod edit;
pub mod store;
pub mod web;

pub use store::{NewPerson, PersonView};
