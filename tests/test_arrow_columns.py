"""Arrow conversions without pandas: the writers' lists to arrays equal pa.array's, the report's number columns
to NumPy equal to_numpy's, value for value and null for null."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.report.arrow_numbers import numbers
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


NUMBER_CASES = [
    pa.array([1, 2, 3], pa.int64()),
    pa.array([1, None, 3], pa.int64()),
    pa.array([1, 2, 3, 4, 5], pa.int32()).slice(1, 3),  # an offset into the buffers
    pa.array([1.5, None, float("nan"), 2.0, None, 7.0, 8.0, 9.0, 10.0], pa.float64()).slice(1, 7),
    pa.array([0.25, 3.0], pa.float32()),
    pa.array([2**64 - 1, None], pa.uint64()),
    pa.array([], pa.float64()),
    pa.chunked_array([pa.array([1, 2], pa.int64()), pa.array([None, 4], pa.int64())]),
    pa.chunked_array([], pa.int64()),
    pa.array([True, False], pa.bool_()),  # not a number type: to_numpy's own path
]


@pytest.mark.parametrize("values", NUMBER_CASES)
def test_numbers_equal_to_numpy(values):
    got, want = numbers(values), values.to_numpy(zero_copy_only=False)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)  # NaN where NaN
    got[...] = 0 if got.size else got  # a copy: writable, and the Arrow array is untouched
    np.testing.assert_array_equal(values.to_numpy(zero_copy_only=False), want)


@pytest.mark.parametrize("values", [v for v in NUMBER_CASES if v.type != pa.uint64()])
def test_numbers_filled_equal_fill_null(values):
    want = values.fill_null(pa.scalar(-1, values.type) if values.type != pa.bool_() else False)
    got = numbers(values, fill=-1 if values.type != pa.bool_() else False)
    np.testing.assert_array_equal(got, want.to_numpy(zero_copy_only=False))
    assert got.dtype == want.to_numpy(zero_copy_only=False).dtype


def test_numbers_do_not_import_pandas(tmp_path):
    code = (
        "import sys, pyarrow.parquet as pq, pyarrow.compute as pc; from pipeline.report.arrow_numbers import numbers; "
        f"t = pq.ParquetFile({str(tmp_path / 'n.parquet')!r}).read(); numbers(t.column('x')); "
        "numbers(pc.binary_length(t.column('s')), fill=0); print('pandas' in sys.modules)"
    )
    pq.write_table(pa.table({"x": [1.5, None], "s": ["a", None]}), tmp_path / "n.parquet")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
