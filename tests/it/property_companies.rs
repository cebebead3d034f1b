//! property companies: filled by its issue-5 slice.
