"""Characters no input file may hold raw: refused up front, at their line and column.

YAML forbids raw control characters (PyYAML would raise a reader error without a position gatekit could
report), and a `\\ud800` escape in YAML, JSON or JSONL decodes to half a surrogate pair, a string no file,
pipe or terminal can encode: refused before it reaches a report.
"""

from __future__ import annotations

import re

from gatekit.errors import GatekitError
from gatekit.spec.jsonio import line_column

# What YAML allows in a stream (PyYAML's `Reader.NON_PRINTABLE`), refused up front with its position.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# A \u escape of half a surrogate pair: it decodes to a string no file or terminal can hold.
LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def check_characters(text: str, name: str, error: type[GatekitError], *, control: bool = True) -> None:
    """Refuse raw control characters (`control`) and escaped lone surrogates, at their line and column."""
    found = _NOT_PRINTABLE.search(text) if control else None
    if found is not None:
        line, column = line_column(text, found.start())
        char = ord(found.group())
        # UTF-16 text of ASCII characters is valid UTF-8 with a NUL beside every character.
        hint = " (a UTF-16 file without a byte-order mark reads so: save the file as UTF-8)" if char == 0 else ""
        raise error.at(f"control character U+{char:04X} is not allowed in the file{hint}", name, line, column)
    surrogate = LONE_SURROGATE.search(text)
    if surrogate is not None:
        line, column = line_column(text, surrogate.start())
        raise error.at(f"{surrogate.group()} is half of a UTF-16 surrogate pair, not a character", name, line, column)
