//! Integration tests: the real router and stores, on SQLite and (with TEST_DATABASE_URL)
//! on PostgreSQL. One binary, one module per part of the product.

mod harness;

mod api_doc;
mod attachments;
mod calendar;
mod case_intake;
mod case_notices;
mod case_pages;
mod cases;
mod categories;
mod chat_relay;
mod deliberation_halls;
mod five_step;
mod governance;
mod intake;
mod measures;
mod notify;
mod triage;
mod votes;

mod joint_office;
mod mediation;
mod owners_committees;
mod property_companies;
mod property_fund;
mod public_income;
mod third_party_audit;

mod admin;
mod browser;
mod browser_fund;
mod browser_intake;
mod browser_votes;
mod cli;
mod demo;
mod durability;
mod edits;
mod foundation;
mod open311;
mod people;
mod registry;
mod routing;
mod tree;
mod webdriver;
