//! Integration tests: the real router and stores, on SQLite and (with TEST_DATABASE_URL)
//! on PostgreSQL. One binary, one module per part of the product.

mod harness;

mod api_doc;

mod foundation;
mod edits;
mod people;
mod tree;
mod browser;
mod cli;
mod durability;
mod webdriver;
mod demo;
mod admin;
mod registry;
