"""``SignalFilter``: the part every Curate filter shares, keeping its computed values as columns on request.

A filter computes signals (ratios, counts) and decides on them. With ``record_signals: true`` the signals are kept
as ``doc.metadata["<label>.<signal>"]`` and declared here as typed output columns, so a threshold can be re-cut
later from the output alone. Subclasses say which signals they compute with ``signal_types``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from datatrove.pipeline.filters.base_filter import BaseFilter


class SignalFilter(BaseFilter):
    def __init__(self, params: Any, label: str):
        super().__init__()
        self.params = params
        self.label = label

    def signal_types(self) -> dict[str, pa.DataType]:
        """The signals this filter computes, with their Arrow types."""
        raise NotImplementedError

    def output_columns(self) -> dict[str, pa.DataType]:
        if not self.params.record_signals:
            return {}
        return {f"{self.label}.{name}": dtype for name, dtype in self.signal_types().items()}
