"""Reading a JSONL table for the columns a check needs only, and finding its blank lines.

An eval log's rows carry fields no check reads (a model's output, a prompt: most of the file's bytes).
`read_columns` parses the wanted fields only, to the types pyarrow infers from the first lines, with
pyarrow's streaming reader; the other fields are skipped, not built. It returns None wherever that might read
otherwise than reading every field and selecting would (`gatekit.sources.rows` then does that, as before):
the result is that read, or no result. pyarrow is imported inside functions, as everywhere in
`gatekit.sources`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

BLANK_LINE_MESSAGE = "blank line in a JSONL file (one JSON object per line)"
_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")
_BLANK_LINE_START = re.compile(rb"\n[\n \t\r]")
"""Where a blank line can start: a line break and then another, a space, a tab or a carriage return. Found
four times as fast as `_BLANK_LINE` itself (0.04 s against 0.17 s in a 120 MB file), which then runs from there."""

SAMPLE = 1 << 20
"""Bytes of whole lines whose types stand for the file's (pyarrow infers a JSONL column's type from the first
1 MiB block, too)."""
SURVEY_BLOCK = 1 << 20
"""Bytes the survey beside the read looks at in one call (under a millisecond of the GIL each)."""
BLOCK = 16 << 20
"""Bytes of a file looked through at a time. Read in blocks, not mapped whole: a mapped file's pages count in
the process's memory once touched (409 MiB for a 1M-row eval log, more than the columns read from it)."""


_BLANK_FIRST_LINE = re.compile(rb"[ \t\r]*(?:\n|\Z)")
"""A first line of nothing but spaces, tabs or carriage returns (pyarrow skips it, as any blank line)."""


def _first_line_blank(raw: Any) -> bool:
    return raw[:1] in (b"\n", b"\r") or _BLANK_FIRST_LINE.match(raw) is not None


def _file_starts_blank(path: Path) -> bool:
    """`_first_line_blank` of the file, read only as far as its first line's first other byte."""
    with path.open("rb") as f:
        start = f.read(1)
        if start in (b"\n", b"\r"):
            return True
        rest = start
        while rest:
            stripped = rest.lstrip(b" \t\r")
            if stripped:
                return stripped[:1] == b"\n"
            rest = f.read(1 << 16)
    return True  # nothing but spaces to the end


def first_blank_line(path: Path) -> int | None:
    """The line of the file's first blank line (1-based), or None, a block at a time: a first line of only
    spaces, tabs or carriage returns, or a line break followed by such a line and another break. A blank line
    across two blocks is found: the end of a block that could begin one (from its last line break, when only
    spaces follow it) is looked at again."""
    if _file_starts_blank(path):
        return 1
    lines = 0  # line breaks before the block's carried start
    carried = 0
    block = bytearray(BLOCK)
    with path.open("rb") as f:
        while True:
            if carried + BLOCK > len(block):  # a long run of spaces is carried whole
                block.extend(bytes(carried + BLOCK - len(block)))
            read = f.readinto(memoryview(block)[carried : carried + BLOCK])
            size = carried + read
            start = _BLANK_LINE_START.search(block, 0, size)
            match = _BLANK_LINE.search(block, start.start(), size) if start else None
            if match is not None:
                return lines + block.count(b"\n", 0, match.start() + 1) + 1
            if not read:
                return None
            last = block.rfind(b"\n", 0, size)
            keep = last if last >= 0 and not bytes(block[last + 1 : size]).strip(b" \t\r") else size
            lines += block.count(b"\n", 0, keep)
            carried = size - keep
            block[:carried] = block[keep:size]


def _literal_key(name: str) -> bytes:
    """A key as a JSON writer spells it without escaping more than it must (`"` and `\\`, control characters)."""
    return json.dumps(name, ensure_ascii=False).encode()


def _holds_escaped_key(path: Path, name: str) -> bool:
    """Whether the file holds `name` as a JSON string with any of its characters written as a `\\uXXXX`
    escape (hex digits of either case; a surrogate pair beyond the BMP) or, for `/`, as `\\/`. Only for a
    file holding some `\\u` at all: a regular expression pass, several times a literal search."""
    spelled = []
    for char in name:
        code = ord(char)
        if code > 0xFFFF:
            high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
            escaped = _hex_escape(high) + _hex_escape(low)
        else:
            escaped = _hex_escape(code)
        literal = re.escape(json.dumps(char, ensure_ascii=False)[1:-1].encode())
        extra = [rb"\\/"] if char == "/" else []
        spelled.append(b"(?:" + b"|".join([literal, escaped, *extra]) + b")")
    pattern = re.compile(b'"' + b"".join(spelled) + b'"')
    longest = 2 + 12 * len(name)
    tail = b""
    for block in _blocks(path, BLOCK):
        window = tail + bytes(block)
        if pattern.search(window):
            return True
        tail = window[-longest:]
    return False


def _hex_escape(code: int) -> bytes:
    return rb"\\u" + b"".join(b"[" + bytes({ord(d.lower()), ord(d.upper())}) + b"]" for d in f"{code:04x}")


def _blocks(path: Path, size: int) -> Iterator[bytearray]:
    """The file's bytes a block at a time, each read into the same buffer (a new 16 MiB bytes object per block
    costs its page faults). A block is valid until the next is read."""
    buffer = bytearray(size)
    with path.open("rb") as f:
        while read := f.readinto(buffer):
            yield buffer if read == len(buffer) else buffer[:read]  # only the last block is short (a copy)


def read_columns(
    path: Path, required: Sequence[str], optional: Sequence[str] = (), numbers: Sequence[str] = ()
) -> pa.Table | None:
    """The `required` columns and the `optional` ones the file has, in that order, or None where reading only
    them is not certain to give what reading every field and selecting gives (see `_schema`), or where the
    file is damaged: a line pyarrow cannot parse, a cell further down that does not fit the first lines' type,
    a blank line (pyarrow skips those; the row count then differs from the line count). A key twice in a field
    no check reads is not looked for: it cannot change what is read."""
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa
    import pyarrow.json as pajson

    with path.open("rb") as f:
        head = f.read(BLOCK)
    if _first_line_blank(head):
        return None
    found = _schema(head, required, optional, numbers)
    if found is None:
        return None
    schema, unseen = found
    # The line count (and whether an optional key the first lines lack is further down) is taken by a thread
    # beside the read: both spend their time outside the GIL, on the machine's second core.
    with ThreadPoolExecutor(1) as pool:
        survey = pool.submit(_survey, path, [_literal_key(name) for name in unseen] + ([b"\\u"] if unseen else []))
        # The streaming reader, one block at a time: `read_json` keeps most of a file's blocks in memory at
        # once (250 MiB of its pool for a 409 MiB file, against 78 MiB), and is no faster with 2 cores.
        options = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
        try:
            with pajson.open_json(path, parse_options=options) as reader:
                data = pa.Table.from_batches(list(reader), schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            # Whatever the explicit schema refuses, the whole read decides (as before); also a line longer than
            # a block (1 MiB), which it takes line by line.
            data = None
        surveyed = survey.result()
    if data is None:
        return None
    held = surveyed.found
    if any(_literal_key(name) in held for name in unseen):
        return None  # a key the first lines lack may be a column further down (or only inside some text)
    if b"\\u" in held and any(_holds_escaped_key(path, name) for name in unseen):
        return None  # the same key spelled with escapes (`"\u0069d"` is `"id"` to a JSON parser)
    # A blank line, looked for where one may begin: the row count alone does not show one where another line
    # holds two objects (`{..} {..}`, two rows to pyarrow).
    if surveyed.may_blank and first_blank_line(path) is not None:
        return None
    return data if data.num_rows == surveyed.lines else None


@dataclass(frozen=True)
class _Surveyed:
    lines: int
    """The file's line breaks, and one more for a last line without one."""
    found: set[bytes]
    """The needles the file holds."""
    may_blank: bool
    """Whether some line break is followed by another, a carriage return, a space or a tab: where a blank line
    can begin (`_BLANK_LINE_START`). Without one there is no blank line."""


def _survey(path: Path, needles: Sequence[bytes]) -> _Surveyed:
    """The file's lines, which `needles` it holds and whether a blank line may begin, in one pass of small
    blocks: numpy counts outside the GIL, and no one call holds it for long."""
    import numpy as np

    lines = 0
    found: set[bytes] = set()
    may_blank = False
    overlap = max((len(n) for n in needles), default=1) - 1
    tail = b""  # the last `overlap` bytes before the block
    last = b"\n"
    starts = np.frombuffer(b"\n\r \t", dtype=np.uint8)
    for block in _blocks(path, SURVEY_BLOCK):
        data = np.frombuffer(block, dtype=np.uint8)
        breaks = data == ord("\n")
        lines += int(np.count_nonzero(breaks))
        if not may_blank:
            after = data[1:][breaks[:-1]]  # the byte after each line break inside the block
            may_blank = (last == b"\n" and int(data[0]) in starts) or bool(np.isin(after, starts).any())
        last = bytes(block[-1:])
        for needle in needles:
            if needle not in found and (needle in tail + block[:overlap] or needle in block):
                found.add(needle)
        tail = (tail + block[-overlap:])[-overlap:] if overlap else b""
    return _Surveyed(lines + (last != b"\n"), found, may_blank)


def _schema(
    head: bytes, required: Sequence[str], optional: Sequence[str], numbers: Sequence[str]
) -> tuple[pa.Schema, list[str]] | None:
    """The types of the wanted columns as pyarrow infers them from the first lines, and the optional columns
    those lines lack (read only if the file holds their key nowhere), or None where the first lines cannot
    fix the types: a required column they lack (it may come later) or hold only nulls in, a type other than
    booleans, numbers or text (timestamps, lists, objects). Number-only columns are float64 whatever the first
    lines hold: `decode_numbers` makes float64 of integers alike, and a later `1.5` must not send the file to
    the whole read."""
    import pyarrow as pa
    import pyarrow.json as pajson

    end = head.rfind(b"\n", 0, SAMPLE) + 1 or head.find(b"\n") + 1 or len(head)
    try:
        sample = pajson.read_json(pa.BufferReader(head[:end]))
    except pa.ArrowInvalid:
        return None
    types = {field.name: field.type for field in sample.schema}
    if any(name not in types for name in required):
        return None  # the whole read finds it further down, or names what the file holds
    names = [*required, *(name for name in optional if name in types)]
    fields = []
    for name in dict.fromkeys(names):
        kind = types[name]
        if name in numbers and (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            kind = pa.float64()
        elif not any(
            is_kind(kind)
            for is_kind in (pa.types.is_boolean, pa.types.is_int64, pa.types.is_float64, pa.types.is_string)
        ):
            return None
        fields.append(pa.field(name, kind))
    return pa.schema(fields), [name for name in optional if name not in types]
