"""Arrow number columns to NumPy without importing pandas.

``Array.to_numpy(zero_copy_only=False)`` converts through pyarrow's pandas layer, which imports pandas (0.4 CPU-s
per process) even for a plain float column. ``numbers`` gives the same array for integer and floating-point
columns, straight from the Arrow buffers: the values in their own dtype when there is no null, else float64 with
NaN for each null (as ``to_numpy`` does). Other types go to ``to_numpy``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_DTYPES: dict[pa.DataType, np.dtype] = {
    t: np.dtype(name)
    for t, name in [
        (pa.int8(), "int8"),
        (pa.int16(), "int16"),
        (pa.int32(), "int32"),
        (pa.int64(), "int64"),
        (pa.uint8(), "uint8"),
        (pa.uint16(), "uint16"),
        (pa.uint32(), "uint32"),
        (pa.uint64(), "uint64"),
        (pa.float16(), "float16"),
        (pa.float32(), "float32"),
        (pa.float64(), "float64"),
    ]
}


def numbers(values: pa.Array | pa.ChunkedArray, fill: int | None = None) -> np.ndarray:
    """``values.to_numpy(zero_copy_only=False)`` for a number column (a copy, never a view); with ``fill``,
    ``values.fill_null(fill).to_numpy(...)`` (``fill_null`` with a Python value imports pandas too)."""
    dtype = _DTYPES.get(values.type)
    if dtype is None:
        return (values if fill is None else values.fill_null(fill)).to_numpy(zero_copy_only=False)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if len(values) == 0:
        return np.empty(0, dtype=dtype)
    start = values.offset
    data = np.frombuffer(values.buffers()[1], dtype=dtype, count=start + len(values))[start:]
    if not values.null_count:
        return data.copy()
    valid = np.unpackbits(np.frombuffer(values.buffers()[0], dtype=np.uint8), bitorder="little")
    out = data.astype(np.float64) if fill is None else data.copy()
    out[valid[start : start + len(values)] == 0] = np.nan if fill is None else fill
    return out
