"""How Curate lays out a datatrove ``Document``'s metadata, and the output columns every shard has.

* ``doc.id`` and ``doc.text``: the corpus's id (or a stable derived one) and text.
* ``doc.metadata["source"]``: the recipe's name for the source the document came from.
* ``doc.metadata["url"]``: the page URL when the corpus has one, else ``None`` (datatrove's URL filters read it).
* ``doc.metadata["read_order"]``: a sortable key of the document's place in the recipe's deterministic read order
  (source index, file, position), the same whatever the number of tasks: "the first of duplicates" means this.
  It is not written to the output.
* ``doc.metadata["original"]``: every original field of the record except text and id, untouched, so nothing
  the corpus carried is lost (written as the JSON column ``metadata``).
* Values computed by stages are flat keys, ``"<stage>.<signal>"`` for recorded filter signals, or a plain name
  (``language``, ``quality_score``, ``token_count``) for values a stage exists to produce. Stages declare them
  with ``output_columns()`` so they get a typed column; anything undeclared goes to the JSON column
  ``attributes``, so datatrove's own steps can be mixed in without losing what they add.
"""

from __future__ import annotations

import pyarrow as pa

SOURCE = "source"
URL = "url"
ORIGINAL = "original"
FILTER_REASON = "filter_reason"  # datatrove's BaseFilter writes the drop reason here
READ_ORDER = "read_order"

RESERVED_KEYS = frozenset({SOURCE, URL, ORIGINAL, FILTER_REASON, READ_ORDER, "file_path"})


def read_order_key(source_index: int, where: str, index: int) -> str:
    return f"{source_index:04d}/{where}/{index:012d}"


BASE_COLUMNS: dict[str, pa.DataType] = {
    "id": pa.string(),
    "text": pa.string(),
    "source": pa.string(),
    "url": pa.string(),
    "metadata": pa.string(),  # JSON: the record's original fields
}
ATTRIBUTES_COLUMN = "attributes"  # JSON: computed values that no stage declared
LEDGER_COLUMNS: dict[str, pa.DataType] = {
    "reason": pa.string(),
    "duplicate_of": pa.string(),
}
