"""Keep Presidio off the network.

Presidio's e-mail recognizer validates every candidate with ``tldextract.extract``, whose default extractor fetches
the public-suffix list from the Internet the first time it runs (and hangs until a timeout where there is no
network). ``pipeline/pii/__init__.py`` sets ``TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS`` to an empty string before
Presidio is imported, which makes tldextract use the snapshot it ships. When something else (datatrove's URL filter,
for instance) imported tldextract first, its module-level extractor was already built with the network URLs, so
``make_offline`` swaps it for one that reads only the bundled snapshot and writes no cache.
"""

from __future__ import annotations

import os
import sys


def make_offline() -> None:
    """Make tldextract's module-level extractor offline, whenever tldextract was imported."""
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    module = sys.modules.get("tldextract.tldextract")
    if module is None:
        import tldextract.tldextract as module  # noqa: PLC0415 - imported here, after the variable is set
    if getattr(module.TLD_EXTRACTOR, "suffix_list_urls", ()):
        module.TLD_EXTRACTOR = module.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
