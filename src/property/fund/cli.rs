//! `redbutler ledger …`: commands on a maintenance fund ledger that need no database.

#[derive(clap::Subcommand, Debug)]
pub enum LedgerCommand {
    /// Re-check a fund ledger's export: the hash chain, every entry and the balances
    Verify {
        /// The export file
        file: std::path::PathBuf,
    },
}

/// Runs a ledger command.
pub fn run(cmd: &LedgerCommand) -> anyhow::Result<()> {
    match cmd {
        LedgerCommand::Verify { file } => {
            anyhow::bail!("ledger verify is not built yet ({})", file.display())
        }
    }
}
