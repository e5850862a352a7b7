"""Curate: pretraining-data curation on datatrove (readers, filters, dedup, PII, sharded Parquet, reports)."""

from pipeline.light_imports import install as _install_light_imports

__version__ = "0.1.0"

_install_light_imports()  # spaCy and Presidio without torch / transformers (see pipeline/light_imports.py)
