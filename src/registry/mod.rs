//! The registry (台账) as offices hold it: one sheet of rooms and residents, imported and
//! exported as XLSX and CSV, with a template, a row-by-row report and a dry run.

pub mod api;
pub mod export;
pub mod format;
pub mod import;
pub mod jobs;
pub mod web;
