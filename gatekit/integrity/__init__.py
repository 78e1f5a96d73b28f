"""What makes a decision reproducible and durable: the spec lock, the rollback artifacts, the ledger, atomic writes."""
