"""Python lists to Arrow arrays without importing pandas, for the writers' common column types.

``pa.array(list)`` asks pyarrow's pandas shim whether the list is a pandas object, and the shim imports pandas to
find out: 0.4 CPU-s in every process that writes a shard, for a library no writer uses. String, binary, int64,
float64 and bool columns are built here from a string builder or NumPy buffers instead, which never consult the shim;
any other type, or a value these paths do not take exactly as ``pa.array`` would (a float in an int64 column, an
int too large for int64, bytes in a string column), goes to ``pa.array``. The arrays are equal to
``pa.array(values, type=type)``'s, so the Parquet written is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
from pyarrow.lib import StringBuilder

_EXACT_INT = 2**53  # pa.array refuses an int a double cannot hold exactly; NumPy would round it


def _float_ok(value: Any) -> bool:
    return value.__class__ is float or (value.__class__ is int and -_EXACT_INT <= value <= _EXACT_INT)


# column type -> (NumPy dtype, which values go in as they are, a value standing in for a null)
_NUMERIC: dict[pa.DataType, tuple[type, Callable[[Any], bool], Any]] = {
    pa.int64(): (np.int64, lambda value: value.__class__ is int, 0),
    pa.float64(): (np.float64, _float_ok, 0.0),
    pa.bool_(): (np.bool_, lambda value: value.__class__ is bool, False),
}


def column(values: list, type: pa.DataType) -> pa.Array:
    """``pa.array(values, type=type)``."""
    if type == pa.string() and all(value is None or value.__class__ is str for value in values):
        builder = StringBuilder()
        builder.append_values(values)
        return builder.finish()
    if type == pa.binary() and all(value is None or value.__class__ is bytes for value in values):
        ends = np.cumsum([0] + [0 if value is None else len(value) for value in values], dtype=np.int64)
        if ends[-1] < 2**31:  # 32-bit offsets; a larger column is pa.array's to split or refuse
            data = b"".join(value for value in values if value is not None)
            offsets = pa.py_buffer(ends.astype(np.int32))
            nulls = np.array([value is None for value in values], dtype=np.bool_)
            return _from_buffers(type, len(values), nulls, [offsets, pa.py_buffer(data)])
    numeric = _NUMERIC.get(type)
    if numeric is not None:
        dtype, exact, filler = numeric
        if all(value is None or exact(value) for value in values):
            try:
                data = np.array([filler if value is None else value for value in values], dtype=dtype)
            except OverflowError:  # an int beyond int64: pa.array says so in its own words
                return pa.array(values, type=type)
            return _from_numpy(type, data, np.array([value is None for value in values], dtype=np.bool_))
    return pa.array(values, type=type)


def _from_numpy(type: pa.DataType, data: np.ndarray, nulls: np.ndarray) -> pa.Array:
    if type == pa.bool_():  # Arrow stores booleans as bits
        return _from_buffers(type, len(data), nulls, [pa.py_buffer(np.packbits(data, bitorder="little"))])
    return _from_buffers(type, len(data), nulls, [pa.py_buffer(data)])


def _from_buffers(type: pa.DataType, length: int, nulls: np.ndarray, buffers: list[pa.Buffer]) -> pa.Array:
    null_count = int(nulls.sum())
    validity = pa.py_buffer(np.packbits(~nulls, bitorder="little")) if null_count else None
    return pa.Array.from_buffers(type, length, [validity, *buffers], null_count=null_count)
