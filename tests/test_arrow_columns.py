"""The writers' list-to-Arrow conversion equals pa.array's, value for value and null for null, without pandas."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from pipeline.writers.arrow_columns import column

CASES = [
    (pa.string(), ["a", None, "é€😀", "", "x" * 1000]),
    (pa.string(), [None, None]),
    (pa.string(), []),
    (pa.string(), ["a", b"bytes"]),  # bytes: pa.array's own path
    (pa.binary(), [b"\x00\xff", None, b"", b"abc" * 100]),
    (pa.binary(), [None]),
    (pa.binary(), [b"a", bytearray(b"b")]),  # a bytearray: pa.array's path
    (pa.int64(), [1, None, -(2**63), 2**63 - 1, 0]),
    (pa.int64(), [None]),
    (pa.float64(), [1.5, None, float("nan"), float("inf"), -0.0, 3, 2**53]),
    (pa.float64(), [np.float32(0.1), 1.0]),  # a NumPy scalar: pa.array's path
    (pa.bool_(), [True, False, None] * 7 + [True]),
    (pa.list_(pa.string()), [["a", "b"], None, []]),
]


@pytest.mark.parametrize(("type_", "values"), CASES)
def test_equal_to_pa_array(type_, values):
    got = column(values, type_)
    want = pa.array(values, type=type_)
    assert got.type == want.type
    assert got.null_count == want.null_count
    assert got.to_string() == want.to_string()  # value for value (NaN too, which Array.equals never equates)
    assert [v is None for v in got.to_pylist()] == [v is None for v in want.to_pylist()]


@pytest.mark.parametrize(
    ("type_", "values"),
    [(pa.int64(), [1, 2**63]), (pa.int64(), [1, True]), (pa.float64(), [2**53 + 1]), (pa.string(), ["\ud800"])],
)
def test_refused_as_pa_array_refuses(type_, values):
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, UnicodeEncodeError)):
        pa.array(values, type=type_)
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, UnicodeEncodeError)):
        column(values, type_)


def test_common_types_do_not_import_pandas():
    code = (
        "import sys, pyarrow as pa; from pipeline.writers.arrow_columns import column; "
        "column(['a', None], pa.string()); column([1, None], pa.int64()); column([0.5, None], pa.float64()); "
        "column([True, None], pa.bool_()); column([b'x', None], pa.binary()); print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
