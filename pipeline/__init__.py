"""Curate: pretraining-data curation on datatrove (readers, filters, dedup, PII, sharded Parquet, reports)."""

__version__ = "0.1.0"
