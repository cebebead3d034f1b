#![recursion_limit = "1024"]
//! Red Butler (红管家): grassroots community governance for Chinese subdistricts.
//! See ARCHITECTURE.md for the map.

pub mod access;
pub mod api;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod cli;
pub mod clock;
pub mod config;
pub mod deliberation;
pub mod demo;
pub mod error;
pub mod i18n;
pub mod notify;
pub mod people;
pub mod pii;
pub mod property;
pub mod registry;
pub mod storage;
pub mod tree;
pub mod votes;
pub mod web;
