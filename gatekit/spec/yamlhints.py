"""Plain-words hints for the YAML syntax errors people make by hand, in PyYAML's and in libyaml's wording."""

from __future__ import annotations

from yaml.error import Mark

_INDENTATION_PROBLEMS = (
    "expected <block end>",  # PyYAML
    "mapping values are not allowed",  # both: "... here" (PyYAML), "... in this context" (libyaml)
    "did not find expected '-' indicator",  # libyaml
    "did not find expected key",
)


def syntax_hint(problem: str, text: str, mark: Mark | None = None) -> str | None:
    """What a YAML syntax error most often means, in plain words, for the mistakes people make by hand:
    a tab, an item indented differently from its siblings, JSON Lines read as one YAML document. The
    problems are worded by PyYAML's scanner (small files) or by libyaml (large ones), which does not name
    the character it stopped at: that is read at `mark`."""
    if "'\\t'" in problem or (problem == "found character that cannot start any token" and _at(text, mark) == "\t"):
        return "a tab character: YAML indents with spaces only; replace the tab with spaces"
    lines = [line.lstrip() for line in text.splitlines() if line.strip()]
    if (
        problem.startswith(("expected '<document start>'", "did not find expected <document start>"))
        and len(lines) > 1
        and all(line.startswith("{") for line in lines[:2])
    ):
        return (
            "this looks like JSON Lines (one JSON object per line), not YAML: name the file .jsonl, "
            "or give --candidate-format jsonl (--baseline-format jsonl)"
        )
    if problem.startswith(_INDENTATION_PROBLEMS):
        return (
            "the indentation does not line up: keys of one mapping, and the items of one list, start in the "
            "same column (compare this line with the ones above it); a value with ': ' in it needs quotes"
        )
    return None


def _at(text: str, mark: Mark | None) -> str:
    """The character at `mark` (libyaml counts lines and columns in characters), or '' past the end."""
    if mark is None:
        return ""
    lines = text.split("\n", mark.line + 1)
    return lines[mark.line][mark.column : mark.column + 1] if mark.line < len(lines) else ""
