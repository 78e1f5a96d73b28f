"""Arrow arrays to and from numpy, and pyarrow's compute functions, without the imports that cost start-up.

pyarrow's own conversions (`to_numpy`, `pa.array`, `Array.cast`) run its pandas machinery or import
`pyarrow.compute`, which builds a Python wrapper for each of its hundreds of functions; a check needs a few.
pyarrow and numpy are imported inside functions so that `gatekit validate` never loads them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa


def to_numpy(array: pa.Array | pa.ChunkedArray) -> npt.NDArray[Any]:
    """A numpy array of an Arrow array's values: for booleans and fixed-width numbers read straight from the
    Arrow buffers (a view where the layout allows), else through pyarrow's `to_numpy`. pyarrow's conversion
    runs its pandas machinery, which imports pandas when it is installed: 0.2 s of every check that reads a
    table. A null slot holds whatever its buffer holds: callers mask nulls themselves."""
    import numpy as np
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        parts = [to_numpy(chunk) for chunk in array.chunks]
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=_numpy_type(array.type) or object)
    kind = _numpy_type(array.type)
    if kind is None:
        return np.asarray(array.to_numpy(zero_copy_only=False))
    data = array.buffers()[1]
    if data is None:
        return np.zeros(len(array), dtype=kind)
    if kind == np.bool_:
        bits = np.frombuffer(data, dtype=np.uint8)
        return np.unpackbits(bits, count=array.offset + len(array), bitorder="little")[array.offset :].view(np.bool_)
    width = np.dtype(kind).itemsize
    return np.frombuffer(data, dtype=kind, count=len(array), offset=array.offset * width)


def arrow_call(name: str, *args: Any, options: Any = None) -> Any:
    """pyarrow's compute function `name`, called through `pyarrow._compute`, which reading a table has
    loaded already. Importing `pyarrow.compute` builds a Python wrapper for each of its hundreds of
    functions: 0.08 s of every check, for the five a check calls."""
    try:
        from pyarrow._compute import call_function
    except ImportError:  # a pyarrow that moved it: the public name is the same function
        from pyarrow.compute import call_function
    return call_function(name, list(args), options)


def arrow_cast(array: Any, kind: pa.DataType) -> Any:
    """`array.cast(kind)` (a safe cast) without importing `pyarrow.compute` (see `arrow_call`)."""
    try:
        from pyarrow._compute import CastOptions
    except ImportError:
        from pyarrow.compute import CastOptions
    return arrow_call("cast", array, options=CastOptions.safe(kind))


def from_numpy(values: npt.NDArray[Any]) -> pa.Array:
    """An Arrow array of a numpy array: integers and floats wrap its buffer (`pa.array` would import pandas,
    see `to_numpy`); anything else goes through `pa.array`."""
    import numpy as np
    import pyarrow as pa

    if values.dtype.kind in "iuf":
        contiguous = np.ascontiguousarray(values)
        return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), [None, pa.py_buffer(contiguous)])
    return pa.array(values)


def is_null(array: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.bool_]:
    """Per slot, whether it is null."""
    return to_numpy(arrow_call("is_null", array))


def _numpy_type(kind: pa.DataType) -> type[np.generic] | None:
    return _numpy_types().get(kind)


@functools.cache
def _numpy_types() -> dict[pa.DataType, type[np.generic]]:
    """Built once: the table of Arrow types took 36 us to build, on every conversion (a review queue of 16,000
    slices converts each slice's ids)."""
    import numpy as np
    import pyarrow as pa

    return {
        pa.bool_(): np.bool_,
        pa.int8(): np.int8,
        pa.int16(): np.int16,
        pa.int32(): np.int32,
        pa.int64(): np.int64,
        pa.uint8(): np.uint8,
        pa.uint16(): np.uint16,
        pa.uint32(): np.uint32,
        pa.uint64(): np.uint64,
        pa.float32(): np.float32,
        pa.float64(): np.float64,
    }


def text_bytes(chunk: pa.Array) -> tuple[npt.NDArray[np.signedinteger[Any]], npt.NDArray[np.uint8]]:
    """A chunk of text's offsets (from 0) and the bytes they point into, straight from its Arrow buffers."""
    import numpy as np
    import pyarrow as pa

    n = len(chunk)
    offset_type = np.dtype(np.int64 if pa.types.is_large_string(chunk.type) else np.int32)
    _, offsets_buffer, data_buffer = chunk.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=offset_type, count=n + 1, offset=chunk.offset * offset_type.itemsize)
    data = np.zeros(0, dtype=np.uint8) if data_buffer is None else np.frombuffer(data_buffer, dtype=np.uint8)
    return offsets - offsets[0], data[int(offsets[0]) : int(offsets[-1])]
