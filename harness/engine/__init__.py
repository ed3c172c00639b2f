"""The engine: the ledger that plans every interaction, and the reports it fails with."""
