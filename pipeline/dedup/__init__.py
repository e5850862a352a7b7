"""Deduplication stages: ``exact_dedup`` (hash of normalised text) and ``minhash_dedup`` (MinHash LSH)."""
