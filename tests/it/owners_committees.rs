//! owners committees: filled by its issue-5 slice.
