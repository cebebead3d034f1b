//! mediation: filled by its issue-5 slice.
