"""A fast read of plain YAML: libyaml's events turned straight into Python values, for large results files.

PyYAML's composer and constructor cost some 15 microseconds a node in Python (a 10 MB results file has 1.3M
nodes: 14 s, most of it composing nodes and resolving their tags one call at a time). This reader walks
libyaml's event stream once with an explicit stack and builds the dicts, lists and scalars itself.

It reads only what is plainly data: untagged mappings, sequences and scalars, no anchors or aliases, no
complex keys, no key twice, nesting within the limit, scalars that construct without error. Anything else —
every input the strict loader refuses, and the rare legal forms it reads specially (tags, timestamps
aside) — makes it return `NOT_READ`, and the caller reads the text with the strict composer and constructor,
whose value or located error then stands. So the strict loader's rules are never re-implemented here, only
its common case: when this reader returns a value, the strict loader returns the same (a test compares them
over every hostile case and generated documents).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from yaml.error import YAMLError
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import ScalarNode

from gatekit.spec.jsonio import bounded_float, bounded_int

NOT_READ: Final = object()
"""Returned when the text is not plainly data: read it with the strict composer and constructor instead."""

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SPECIAL_FLOATS = (".inf", ".nan")


class _NotPlain(Exception):  # noqa: N818 - a signal inside this module, never raised out of it
    """Inside the walk: this text needs the strict loader."""


def read_plain_yaml(
    text: str,
    parser_class: Callable[[str], Any],
    implicit_resolvers: Mapping[str | None, Sequence[tuple[str, re.Pattern[str]]]],
    construct_scalar: Callable[[ScalarNode], Any],
    max_depth: int,
) -> Any:
    """The one document in `text` as Python data, or `NOT_READ`.

    `parser_class` is libyaml's `CParser`; `implicit_resolvers` the strict resolver's table (first character
    to (tag, pattern) in the order they are tried); `construct_scalar` the strict constructor's, for the
    scalars this reader does not build itself (timestamps, `.inf`, `.nan`); a node deeper than `max_depth`
    (the document is depth 1) is left to the strict loader, which refuses it.
    """
    parser = parser_class(text)
    try:
        return _walk(parser.get_event, implicit_resolvers, construct_scalar, max_depth)
    except (_NotPlain, YAMLError, ValueError, TypeError, OverflowError, KeyError):
        # A syntax error (libyaml's), a number out of bounds, a scalar that does not construct: the strict
        # loader reads the text again and says where, in the order it finds problems.
        return NOT_READ
    finally:
        parser.dispose()


def _walk(
    get_event: Callable[[], Any],
    implicit_resolvers: Mapping[str | None, Sequence[tuple[str, re.Pattern[str]]]],
    construct_scalar: Callable[[ScalarNode], Any],
    max_depth: int,
) -> Any:
    wildcard = tuple(implicit_resolvers.get(None, ()))
    by_first = {first: (*found, *wildcard) for first, found in implicit_resolvers.items() if first is not None}
    if type(get_event()) is not StreamStartEvent or type(get_event()) is not DocumentStartEvent:
        raise _NotPlain  # an empty stream: the strict loader says so
    no_key: Final = object()
    # Open collections, and for each the key read and waiting for its value (`no_key`: none; lists: unused).
    stack: list[Any] = []
    keys: list[Any] = []
    while True:
        event = get_event()
        kind = type(event)
        if kind is ScalarEvent:
            if event.anchor is not None or event.tag is not None or len(stack) >= max_depth:
                raise _NotPlain
            value: Any = event.value
            if event.implicit[0]:  # plain, not quoted: its tag comes from what it looks like
                tag = _STR
                for candidate, pattern in by_first.get(value[:1], wildcard):
                    if pattern.match(value):
                        tag = candidate
                        break
                if tag != _STR:
                    if tag == _INT:
                        value = bounded_int(value, 0)
                    elif tag == _FLOAT and value.lower().lstrip("+-") not in _SPECIAL_FLOATS:
                        value = bounded_float(value)
                    elif tag == _NULL:
                        value = None
                    elif tag == _BOOL:
                        value = value.lower() == "true"
                    elif tag.startswith("tag:yaml.org,2002:") and tag != "tag:yaml.org,2002:merge":
                        value = construct_scalar(ScalarNode(tag, value, event.start_mark, event.end_mark))
                    else:  # a merge key, a scalar the strict resolver flags as ambiguous
                        raise _NotPlain
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or event.tag is not None or len(stack) >= max_depth:
                raise _NotPlain
            stack.append({} if kind is MappingStartEvent else [])
            keys.append(no_key)
            continue
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            value = stack.pop()
            keys.pop()
        else:  # an alias, or anything this loop does not expect
            raise _NotPlain
        if not stack:
            break
        top = stack[-1]
        if type(top) is list:
            top.append(value)
        elif keys[-1] is no_key:
            if type(value) is dict or type(value) is list or value in top:
                raise _NotPlain  # a complex key, or a key twice: errors the strict loader locates
            keys[-1] = value
        else:
            top[keys[-1]] = value
            keys[-1] = no_key
    if type(get_event()) is not DocumentEndEvent or type(get_event()) is not StreamEndEvent:
        raise _NotPlain  # a second document
    return value
