"""Corpus readers: one per corpus format, each mapping the real schema to datatrove Documents."""
