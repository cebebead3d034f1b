//! Integration tests: the real router and stores, on SQLite and (with TEST_DATABASE_URL)
//! on PostgreSQL. One binary, one module per part of the product.

mod harness;

mod api_doc;
mod calendar;
mod case_pages;
mod cases;

mod admin;
mod browser;
mod cli;
mod demo;
mod durability;
mod edits;
mod foundation;
mod open311;
mod people;
mod registry;
mod tree;
mod webdriver;
