"""PII scrubbing on Presidio: the ``pii`` stage, its exact fast pre-checks and the scrubber the drop ledger uses.

Importing this package makes Presidio offline: tldextract (which Presidio's e-mail recognizer calls) fetches the
public-suffix list from the network unless ``TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS`` is set, and it reads that
variable when its default extractor is built, at import time. So it is set here, before anything of Presidio is
imported; an empty value makes tldextract use the snapshot bundled with it.
"""

import os

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

# Presidio's entity names the ``pii`` stage looks for unless the recipe says otherwise.
DEFAULT_ENTITIES: tuple[str, ...] = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "IP_ADDRESS",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
)
