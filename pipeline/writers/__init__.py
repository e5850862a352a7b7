"""Writers: sharded Parquet output and the drop ledger."""
