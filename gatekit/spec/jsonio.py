"""Strict JSON reading: the standard library's C parser, bounded numbers, and positions found without YAML.

Every JSON gatekit reads (results, lock files, harness outputs, JSONL lines) goes through `loads_strict`:

* a key twice in one object is an error (`json` would silently keep the last value);
* a number literal longer than `MAX_NUMBER_CHARS` is refused before it is converted (Python refuses to
  convert integers over 4,300 digits with a `ValueError`, and a long one costs quadratic time);
* an integer or float beyond the range of a float (``1e999``, ``10**400``) is an error, not infinity;
* ``NaN`` and ``Infinity`` still load as non-finite floats: harnesses write them, and the evaluator reports
  them as missing.

Errors found after parsing (a pydantic validation error at ``metrics.acc.all.value``) are located by walking
the text along that one path with the C scanner (`JsonLocator`): linear, and never a second parse of a large
file in another grammar.
"""

from __future__ import annotations

import json
import math
import re
import sys
from json.decoder import scanstring  # type: ignore[attr-defined]  # public, but not in the stubs
from typing import Any

from gatekit.errors import GatekitError

MAX_NUMBER_CHARS = 400
"""No number a gate or a result needs is longer: a float's range ends at 309 digits."""

_FLOAT_MAX = sys.float_info.max
_WHITESPACE = re.compile(r"[ \t\n\r]*")


class NumberError(ValueError):
    """A number literal no eval writes: too long to convert, or beyond the range of a float."""

    def __init__(self, literal: str, problem: str) -> None:
        shown = literal if len(literal) <= 24 else f"{literal[:12]}…{literal[-6:]} ({len(literal)} characters)"
        super().__init__(f"the number {shown} {problem}")
        self.literal = literal


def bounded_int(literal: str, base: int = 10) -> int:
    """`int(literal, base)`, or a `NumberError` for a literal too long or a value beyond float range."""
    if len(literal) > MAX_NUMBER_CHARS:
        raise NumberError(literal, f"is longer than {MAX_NUMBER_CHARS} characters: no eval has such a number")
    value = int(literal, base)
    if abs(value) > _FLOAT_MAX:
        raise NumberError(literal, "is beyond the range of a float (about 1.8e308)")
    return value


def bounded_float(literal: str) -> float:
    """`float(literal)` for a finite literal; a `NumberError` when it is too long or overflows to infinity."""
    if len(literal) > MAX_NUMBER_CHARS:
        raise NumberError(literal, f"is longer than {MAX_NUMBER_CHARS} characters: no eval has such a number")
    value = float(literal)
    if math.isinf(value):
        raise NumberError(literal, "is beyond the range of a float (about 1.8e308); write .inf if you mean it")
    return value


class DuplicateJsonKeyError(ValueError):
    """A JSON object names the same key twice. `key` is the name."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateJsonKeyError(key)
        result[key] = value
    return result


# Only a literal with 300 digits in a row or a 3-digit exponent can be too long or beyond float range; text
# without one is parsed with the C number parsers, 3x faster than with the bounding hooks.
_LONG_NUMBER = re.compile(r"[0-9]{300}|[eE][-+]?[0-9]{3}")
_LONG_NUMBER_BYTES = re.compile(rb"[0-9]{300}|[eE][-+]?[0-9]{3}")


def _number_hooks(text: str | bytes) -> dict[str, Any]:
    found = _LONG_NUMBER.search(text) if isinstance(text, str) else _LONG_NUMBER_BYTES.search(text)
    return {"parse_int": bounded_int, "parse_float": bounded_float} if found else {}


def loads_strict(text: str | bytes) -> Any:
    """`json.loads` that raises `DuplicateJsonKeyError` for a repeated key and `NumberError` for a number no
    eval has (see the module docstring). NaN and Infinity load as floats (reported as missing)."""
    return json.loads(text, object_pairs_hook=_reject_duplicate_keys, **_number_hooks(text))


def _not_yaml(constant: str) -> float:
    raise ValueError(f"{constant} is a string in YAML, a number in Python's JSON")


def loads_strict_yaml_compatible(text: str) -> Any:
    """`loads_strict` without the NaN/Infinity extension, whose plain words YAML reads as strings: so a
    YAML file that parses here means the same data as it does to a YAML reader."""
    return json.loads(text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_not_yaml, **_number_hooks(text))


# Skips a value without building big integers or checking keys: only its end position is wanted.
_SKIPPER = json.JSONDecoder(parse_int=lambda _: 0, parse_float=lambda _: 0.0, parse_constant=lambda _: 0.0)


def _skip(text: str, pos: int) -> int:
    return _WHITESPACE.match(text, pos).end()  # type: ignore[union-attr]


def _value_end(text: str, pos: int) -> int:
    return _SKIPPER.raw_decode(text, pos)[1]


def json_position(text: str, path: tuple[str | int, ...]) -> tuple[int | None, int] | None:
    """(offset of the key, offset of the value) of `path` in a JSON text, or None when it is not there."""
    pos = _skip(text, 0)
    key_pos: int | None = None
    for segment in path:
        opener = text[pos : pos + 1]
        if opener == "{":
            pos = _skip(text, pos + 1)
            while text[pos : pos + 1] == '"':
                start = pos
                key, pos = scanstring(text, pos + 1)
                pos = _skip(text, _skip(text, pos) + 1)  # past the colon
                if key == str(segment):
                    key_pos = start
                    break
                pos = _skip(text, _value_end(text, pos))
                if text[pos : pos + 1] == ",":
                    pos = _skip(text, pos + 1)
            else:
                return None
        elif opener == "[" and isinstance(segment, int):
            pos = _skip(text, pos + 1)
            for _ in range(segment):
                if text[pos : pos + 1] in ("]", ""):
                    return None
                pos = _skip(text, _value_end(text, pos))
                if text[pos : pos + 1] == ",":
                    pos = _skip(text, pos + 1)
            if text[pos : pos + 1] in ("]", ""):
                return None
            key_pos = None
        else:
            return None
    return key_pos, pos


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of an offset."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def first_duplicate_key(text: str) -> tuple[str, int, int] | None:
    """The first key that repeats within one object: the key, the offsets of its first and second use."""
    stack: list[dict[str, int] | None] = []  # per open container: the keys seen (None for an array)
    pos = _skip(text, 0)
    expecting_key = False
    while pos < len(text):
        char = text[pos]
        if char in "{[":
            stack.append({} if char == "{" else None)
            expecting_key = char == "{"
            pos = _skip(text, pos + 1)
            continue
        if char in "}]":
            stack.pop()
            pos = _skip(text, pos + 1)
        elif char == ",":
            expecting_key = bool(stack) and stack[-1] is not None
            pos = _skip(text, pos + 1)
            continue
        elif expecting_key and char == '"':
            start = pos
            key, pos = scanstring(text, pos + 1)
            keys = stack[-1]
            assert keys is not None
            if key in keys:
                return key, keys[key], start
            keys[key] = start
            pos = _skip(text, _skip(text, pos) + 1)
            expecting_key = False
            continue
        else:
            pos = _skip(text, _value_end(text, pos))
        expecting_key = False
    return None


def json_error(e: Exception, text: str, name: str, error: type[GatekitError]) -> GatekitError | None:
    """The located diagnostic for what `loads_strict` raised on `text`, or None when it is not a JSON error."""
    if isinstance(e, json.JSONDecodeError):
        return error.at(f"not valid JSON: {e.msg}", name, e.lineno, e.colno)
    if isinstance(e, DuplicateJsonKeyError):
        found = first_duplicate_key(text)
        if found is None:  # pragma: no cover - the parser found one, so the walk does
            return error.at(f"duplicate key {e.key!r}", name)
        first_line = line_column(text, found[1])[0]
        return error.at(
            f"duplicate key {e.key!r} (first defined at line {first_line}); JSON would silently keep only the last one",
            name,
            *line_column(text, found[2]),
        )
    if isinstance(e, NumberError):
        match = re.search(r"(?<![\w.+-])" + re.escape(e.literal) + r"(?![\w.])", text)
        line, column = line_column(text, match.start()) if match else (0, 0)
        return error.at(str(e), name, line, column)
    if isinstance(e, RecursionError):
        return error.at("nesting too deep", name)
    return None


def parse_json(text: str, name: str, error: type[GatekitError]) -> Any:
    """`loads_strict`, with every JSON problem raised as a located `error`."""
    try:
        return loads_strict(text)
    except (ValueError, RecursionError) as e:
        located = json_error(e, text, name, error)
        if located is None:
            raise
        raise located from None


_PYDANTIC_TYPE_TAGS = frozenset({"float", "int", "str", "bool", "date", "datetime", "list", "dict", "[key]"})


def is_pydantic_tag(segment: object) -> bool:
    """A segment of a pydantic error location that names a union member or a type, not a data key."""
    return isinstance(segment, str) and ("[" in segment or segment in _PYDANTIC_TYPE_TAGS)


class JsonLocator:
    """`Locator` for a JSON document: paths are checked against the loaded data, and positions are found by
    walking the text along the one path asked for (`json_position`)."""

    def __init__(self, text: str, data: Any) -> None:
        self._text = text
        self._data = data

    def _has(self, path: tuple[str | int, ...]) -> bool:
        node = self._data
        for segment in path:
            in_object = isinstance(node, dict) and isinstance(segment, str) and segment in node
            in_array = isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node)
            if not (in_object or in_array):
                return False
            node = node[segment]
        return True

    def resolve(self, loc: tuple[Any, ...]) -> tuple[tuple[str | int, ...], list[Any]]:
        """The longest prefix of `loc` present in the document, and the rest (see `yamlio.Locator.resolve`)."""
        found: tuple[str | int, ...] = ()
        rest: list[Any] = []
        for segment in loc:
            candidate = (*found, segment if isinstance(segment, int) else str(segment))
            if not rest and self._has(candidate):
                found = candidate
            elif isinstance(segment, (str, int)) and not is_pydantic_tag(segment):
                rest.append(segment)
        return found, rest

    def mark(self, path: tuple[str | int, ...], *, at_key: bool = False) -> tuple[int, int]:
        if not self._has(path):
            return (0, 0)
        try:
            position = json_position(self._text, path)
        except (ValueError, IndexError):  # pragma: no cover - the text parsed, so it walks
            return (0, 0)
        if position is None:
            return (0, 0)
        key_pos, value_pos = position
        return line_column(self._text, key_pos if at_key and key_pos is not None else value_pos)
