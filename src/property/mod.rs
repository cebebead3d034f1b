//! Property governance (物业治理): the troika's joint office, owners' committees and their
//! re-elections, property companies with their contracts and fee adjustments, the special
//! maintenance fund, and lawyer mediation of property disputes.
//!
//! - `office/`: the troika's joint office (合署办公): weekly hours, check-ins, visitors, matters.
//! - `committees/`: owners' committees (业委会): members, offices, terms, re-election process.
//! - `companies/`: property companies (物业服务企业): contracts, selection, dismissal, fees.
//! - `fund/`: the special maintenance fund (专项维修资金): a hash-chained ledger per building
//!   and room, apportionment, withdrawals against an owners' decision, `redbutler ledger verify`.
//! - `income/`: the public income account (公共收益) of an estate and its quarterly top-up of the fund.
//! - `audits/`: third-party audit (第三方审计) engagements, scoped read-only access, findings, reports.
//! - `mediation/`: lawyer mediation (律师调解) of property disputes.
//! - `web.rs`: `/governance`, the way into the five parts, with the subdistrict's figures.

pub mod audits;
pub mod committees;
pub mod companies;
pub mod fund;
pub mod income;
pub mod mediation;
pub mod office;
pub mod web;
