//! Deliberate (议事): deliberation halls with their five functions, and the five-step
//! method's cadence of meetings (daily contact, weekly meeting, monthly consultation,
//! quarterly review, annual evaluation).

pub mod agenda;
pub mod cadence;
pub mod halls;
pub mod ical;
pub mod meetings;
