//! The maintenance fund ledger: apportioning a repair over 10,000 rooms (target: under 10 ms)
//! and verifying a 1,000,000-entry ledger (target: under 1 s). Filled by its issue-5 slice.

fn main() {
    println!("fund_ledger: not built yet");
}
