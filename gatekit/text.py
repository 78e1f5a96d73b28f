"""Showing untrusted text: the one escaping helper every output format uses for names from input.

Names and strings come from spec and results files. Shown raw, a newline in a slice name starts a new line
in a CI log (where `::error` is a GitHub workflow command), an ESC or a C1 CSI (0x9b) drives the terminal,
an OSC 8 sequence plants a hyperlink, and a right-to-left override (U+202E) makes `gpt-evil` read as
`live-tpg`. `printable` shows each such character as an escape instead (`\\n`, `\\x1b`, `\\u202e`).
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, line and paragraph separators, bidirectional embeddings, overrides and isolates,
# zero-width and invisible formatting characters, the BOM, and lone surrogates (which no stream can encode).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ud800-\udfff]"
)
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED_ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def printable(text: str, *, keep: str = "") -> str:
    """`text` with control, bidi-override and invisible characters shown as escapes (`\\n`, `\\x1b`, `\\u202e`);
    the characters in `keep` (a format that encodes newlines its own way) are left as they are."""
    if keep:
        return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)
    return _UNSAFE.sub(_escape, text)
