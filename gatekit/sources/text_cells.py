"""CSV cells are text, and gatekit reads them by its own rules: a number only in its canonical spelling
(no spaces, no `_`, no nan/inf, no leading `+` or zeros), true/false in three spellings, an empty cell null.

pyarrow's own CSV conversion would read `NA`, `null` and `None` as missing (a slice named NA would vanish)
and accept `nan`, `inf` and ` 0.9 ` as numbers, so every cell is read as text and classified here.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from gatekit.sources.arrow import arrow_call, arrow_cast, from_numpy, is_null, to_numpy
from gatekit.sources.table import NOT_BOOL, NOT_NUMBER, NULL, OK

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# The only number spelling accepted in a CSV cell: no spaces, no '_', no nan/inf, no leading '+' or zeros.
CANONICAL_NUMBER = r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$"
CSV_TRUE = ("true", "True", "TRUE")
CSV_FALSE = ("false", "False", "FALSE")


# What a CSV cell's text is. A cell's reason code follows from its class and the column's role.
_TEXT_NUMBER, _TEXT_TRUE, _TEXT_FALSE, _TEXT_EMPTY, _TEXT_OTHER = range(5)


def decode_text_cells(text: Any, role: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]:
    """Values and reasons of CSV text cells by gatekit's own rules (canonical numbers, true/false, empty)."""
    values, classes = text_classes(text)
    return values, reasons_of_classes(classes, role)


def reasons_of_classes(classes: npt.NDArray[np.int8], role: str) -> npt.NDArray[np.int8]:
    """Each cell's reason code from its `text_classes` class: true and false are good only in a rate column;
    other text is not a boolean there and not a number elsewhere; an empty cell is null."""
    import numpy as np

    boolean = OK if role == "rate" else NOT_NUMBER
    other = NOT_BOOL if role == "rate" else NOT_NUMBER
    by_class = np.array([OK, boolean, boolean, NULL, other], dtype=np.int8)  # in `_TEXT_*` order
    reasons: npt.NDArray[np.int8] = by_class[classes]
    return reasons


def text_classes(text: Any) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]:
    """Each text cell's value and `_TEXT_*` class: a canonical number its float64 (pyarrow's cast), true and
    false 1.0 and 0.0, an empty cell (or a null) NaN, any other text 0.0.

    Three calls over every cell (a regex match, a choice and a cast); only the cells that are not canonical
    numbers, usually few, are looked up among the booleans and the empty text. Through `arrow_call`, so that
    a CSV check never imports `pyarrow.compute` (0.08 s)."""
    import numpy as np
    import pyarrow as pa

    try:
        from pyarrow._compute import MatchSubstringOptions
    except ImportError:  # a pyarrow that moved it: the public name is the same class
        from pyarrow.compute import MatchSubstringOptions
    text = _combined(text)
    matched = arrow_call("match_substring_regex", text, options=MatchSubstringOptions(CANONICAL_NUMBER))
    canonical = to_numpy(matched)
    if matched.null_count:  # a null cell is not a number (its slot holds anything): it is empty, below
        canonical = canonical & ~is_null(matched)
    # Not canonical: cast as "0", as before, so that the cast never fails on them (and they are 0.0). A null
    # cell's value is null here; it is set below.
    chosen = arrow_call("if_else", matched, text, _texts(("0",))[0])
    values = np.array(to_numpy(arrow_cast(chosen, pa.float64())), dtype=np.float64)
    classes = np.zeros(len(values), dtype=np.int8)
    odd = np.flatnonzero(~canonical)
    if len(odd):
        cells = arrow_call("take", text, from_numpy(odd))
        empty = to_numpy(arrow_call("equal", cells, _texts(("",))[0]))
        if cells.null_count:
            empty = empty | is_null(cells)
        kinds = np.full(len(odd), _TEXT_OTHER, dtype=np.int8)
        kinds[to_numpy(arrow_call("is_in", cells, options=_set_lookup(CSV_TRUE)))] = _TEXT_TRUE
        kinds[to_numpy(arrow_call("is_in", cells, options=_set_lookup(CSV_FALSE)))] = _TEXT_FALSE
        kinds[empty] = _TEXT_EMPTY
        classes[odd] = kinds
        values[odd] = np.array([0.0, 1.0, 0.0, np.nan, 0.0])[kinds]
    return values, classes


def _combined(array: Any) -> Any:
    """One Arrow array of a chunked one: the cells' positions are the column's rows."""
    import pyarrow as pa

    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _set_lookup(texts: tuple[str, ...]) -> Any:
    try:
        from pyarrow._compute import SetLookupOptions
    except ImportError:
        from pyarrow.compute import SetLookupOptions
    return SetLookupOptions(_texts(texts))


@functools.cache
def _texts(texts: tuple[str, ...]) -> Any:
    """An Arrow text array of `texts`, made from its buffers: `pa.array` and `pa.scalar` import pandas when it
    is installed (0.2 s, see `to_numpy`)."""
    import numpy as np
    import pyarrow as pa

    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.cumsum([0, *map(len, encoded)], dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), len(texts), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded) or b"\0")]
    )
