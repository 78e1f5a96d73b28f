"""Strict, safe loading of YAML and JSON input files, with every value traceable to its line and column.

PyYAML's `safe_load` is safe against code execution but not against mistakes: it keeps the last of two
duplicate keys, reads `no` as False and `1e-3` as a string (YAML 1.1), and expands alias bombs. This module
derives from `SafeConstructor` only and closes those traps:

* duplicate mapping keys are an error at the second key;
* scalars resolve by YAML 1.2 core rules (`true`/`false` only, `1e-3` is a float), and plain scalars that
  YAML 1.1 tools read differently (`yes`, `off`, `010`, `1:30`, `1_000`) are an error asking to be quoted;
* aliases and merge keys are refused (a spec never needs them, and they are how alias bombs expand);
* nesting deeper than `MAX_DEPTH` is refused before Python's recursion limit is reached;
* exactly one document, decoded as strict UTF-8, without raw control characters (a NUL, ESC or DEL byte,
  or a UTF-16 file without its byte-order mark, is an error at its line and column);
* a scalar that cannot be constructed (`2024-13-45`, `!!int twelve`, `!!bool maybe`) is an error at the
  scalar, and numbers are bounded as in `gatekit.spec.jsonio` (no 5,000-digit integers, nothing beyond a
  float's range).

A file over `C_SCANNER_FROM` is scanned and parsed by libyaml (`yaml.cyaml.CParser`) when PyYAML has it.
When it is plainly data (no tags, anchors or duplicate keys: a results file), `gatekit.spec.yamlfast`
builds the values from libyaml's events directly (10 MB in 3 s instead of 14 s); otherwise the same Python
composer, resolver and constructor read the events, so every rule above holds either way. A YAML document
that is also strict JSON is read by the JSON parser (`load_document`), and YAML over `YAML_MAX_BYTES` is
refused with a hint to write JSON.

`validate_model` turns a pydantic `ValidationError` into diagnostics at ``file:line:col: field.path``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.error import Mark, MarkedYAMLError, YAMLError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from gatekit.errors import Diagnostic, GatekitError, InputFileError
from gatekit.names import did_you_mean
from gatekit.spec.characters import check_characters
from gatekit.spec.jsonio import (
    DuplicateJsonKeyError,
    JsonLocator,
    NumberError,
    bounded_float,
    bounded_int,
    is_pydantic_tag,
    loads_strict,
    loads_strict_yaml_compatible,
    parse_json,
)
from gatekit.spec.yamlfast import NOT_READ, read_plain_yaml
from gatekit.spec.yamlhints import syntax_hint

_CParser: Any
try:  # libyaml's parser; PyYAML built without it falls back to the pure-Python reader and scanner
    from yaml.cyaml import CParser as _CParser  # type: ignore[attr-defined]  # not re-exported in the stubs
except ImportError:  # pragma: no cover - every PyYAML wheel bundles libyaml
    _CParser = None

if TYPE_CHECKING:  # pydantic stays off this module's import path
    from pydantic import BaseModel

MAX_DEPTH = 64
SPEC_MAX_BYTES = 1 << 20
RESULTS_MAX_BYTES = 256 << 20
C_SCANNER_FROM = 256 << 10
"""Smaller YAML (every spec) is scanned in Python, whose messages name the offending character."""
YAML_MAX_BYTES = 16 << 20
"""YAML beyond this is refused: a check would spend minutes reading it. JSON has only `RESULTS_MAX_BYTES`."""

_AMBIGUOUS_TAG = "tag:gatekit.dev,2026:ambiguous-yaml11"
_Path = tuple[str | int, ...]

# YAML 1.1 readings a YAML 1.2 reader (or a human) would not share. Flagged, never guessed.
_AMBIGUOUS = re.compile(
    r"""^(?:
        (?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)           # 1.1 booleans ("the Norway problem")
      | [-+]?0[0-9]+                                            # 1.1 octal (010 is 8)
      | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?        # 1.1 base-60 (1:30 is 90)
      | [-+]?(?:[0-9]+_[0-9_]*|0b[01_]+|0x[0-9a-fA-F_]*_[0-9a-fA-F_]*)  # digit separators, 1.1 binary
    )$""",
    re.X,
)
# `y` and `n` are 1.1 booleans on paper, but PyYAML and most tools never read them so, and `n` is a key of
# gatekit's own results format: they stay strings.
_AMBIGUOUS_FIRST = list("yYnNoO-+0123456789")


class _StrictResolver(BaseResolver):
    """YAML 1.2 core schema resolution, plus a tag for 1.1-ambiguous plain scalars."""


# Registered first so that, for the same first character, the ambiguous reading wins over the 1.2 one.
_StrictResolver.add_implicit_resolver(_AMBIGUOUS_TAG, _AMBIGUOUS, _AMBIGUOUS_FIRST)
_StrictResolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_StrictResolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_StrictResolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
            |[-+]?\.(?:inf|Inf|INF)
            |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+.0123456789"),
)
_StrictResolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_StrictResolver.add_implicit_resolver(
    "tag:yaml.org,2002:timestamp",
    re.compile(
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
            |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
             (?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
             (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        re.X,
    ),
    list("0123456789"),
)
_StrictResolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^<<$"), ["<"])


class _StrictConstructor(SafeConstructor):
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, f"expected a mapping, found {node.id}", node.start_mark)
        mapping: dict[Any, Any] = {}
        first_seen: dict[Any, Mark] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ConstructorError(
                    None, None, "merge keys ('<<') are not supported: write the keys out", key_node.start_mark
                )
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise ConstructorError(
                    None, None, "a mapping key must be a plain scalar", key_node.start_mark
                ) from None
            if key in first_seen:
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first defined at line {first_seen[key].line + 1}); "
                    "YAML would silently keep only the last one",
                    key_node.start_mark,
                )
            first_seen[key] = key_node.start_mark
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        if not isinstance(node, ScalarNode):
            return super().construct_object(node, deep=deep)
        try:
            return super().construct_object(node, deep=deep)
        except NumberError as e:
            hint = "; quote it if it is text" if node.tag.endswith(":int") else ""
            raise ConstructorError(None, None, f"{e}{hint}", node.start_mark) from None
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as e:
            # The constructors of dates, numbers and booleans fail on text they cannot read with these.
            kind = node.tag.rsplit(":", 1)[-1]
            detail = f" ({e})" if isinstance(e, ValueError) and str(e) else ""
            shown = node.value if len(node.value) <= 40 else node.value[:40] + "…"
            raise ConstructorError(None, None, f"{shown!r} is not a valid {kind}{detail}", node.start_mark) from None

    def construct_yaml_int(self, node: ScalarNode) -> int:
        return bounded_int(str(self.construct_scalar(node)), 0)

    def construct_yaml_float(self, node: ScalarNode) -> float:
        text = str(self.construct_scalar(node))
        if text.lower().lstrip("+-") in (".inf", ".nan"):
            return super().construct_yaml_float(node)
        return bounded_float(text)

    def construct_ambiguous(self, node: ScalarNode) -> Any:
        raise ConstructorError(
            None,
            None,
            f"{node.value!r} is read differently by YAML 1.1 and 1.2 tools "
            "(a boolean, an octal or base-60 number): quote it for a string, "
            "or write true/false or a plain decimal number",
            node.start_mark,
        )


# The stubs type `add_constructor` for the base loader classes only.
_StrictConstructor.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:map", _StrictConstructor.construct_yaml_map
)
_StrictConstructor.add_constructor("tag:yaml.org,2002:int", _StrictConstructor.construct_yaml_int)  # type: ignore[type-var]
_StrictConstructor.add_constructor("tag:yaml.org,2002:float", _StrictConstructor.construct_yaml_float)  # type: ignore[type-var]
_StrictConstructor.add_constructor(_AMBIGUOUS_TAG, _StrictConstructor.construct_ambiguous)  # type: ignore[type-var]


class _StrictComposer(Composer):
    _depth = 0
    # Provided by `Parser` in the assembled loader; declared for the type checker.
    check_event: Callable[..., bool]
    peek_event: Callable[[], Any]

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise ConstructorError(
                None, None, "anchors and aliases are not supported: write the value out", event.start_mark
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ConstructorError(
                    None, None, f"nesting deeper than {MAX_DEPTH} levels", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class StrictLoader(Reader, Scanner, Parser, _StrictComposer, _StrictConstructor, _StrictResolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _StrictComposer.__init__(self)
        _StrictConstructor.__init__(self)
        _StrictResolver.__init__(self)


if _CParser is not None:

    class _FastLoader(_StrictComposer, _CParser, _StrictConstructor, _StrictResolver):  # type: ignore[misc]
        """libyaml's scanner and parser under the strict composer: the composer comes first in the method
        order, so `get_single_node` is the Python one (aliases refused, depth bounded) reading C events."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _StrictComposer.__init__(self)
            _StrictConstructor.__init__(self)
            _StrictResolver.__init__(self)


@dataclass(frozen=True)
class _Located:
    key_mark: Mark | None
    value_mark: Mark


@dataclass
class Locator:
    """Maps a path into the loaded data (`("gates", 2, "max")`) to where it was written."""

    root: Node | None
    _index: dict[_Path, _Located] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.root is not None:
            self._walk(self.root, (), None)

    def _walk(self, node: Node, path: _Path, key_mark: Mark | None) -> None:
        self._index[path] = _Located(key_mark, node.start_mark)
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                self._walk(value_node, (*path, str(key_node.value)), key_node.start_mark)
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, (*path, i), None)

    def resolve(self, loc: tuple[Any, ...]) -> tuple[_Path, list[Any]]:
        """The longest prefix of `loc` present in the document, and the rest of `loc`.

        Segments that are not data keys (pydantic's union tags such as ``function-after[...]``) are skipped.
        """
        found: _Path = ()
        rest: list[Any] = []
        for segment in loc:
            candidate = (*found, segment if isinstance(segment, int) else str(segment))
            if not rest and candidate in self._index:
                found = candidate
            elif isinstance(segment, (str, int)) and not is_pydantic_tag(segment):
                rest.append(segment)
        return found, rest

    def mark(self, path: _Path, *, at_key: bool = False) -> tuple[int, int]:
        located = self._index.get(path)
        if located is None:
            return (0, 0)
        mark = located.key_mark if at_key and located.key_mark is not None else located.value_mark
        return (mark.line + 1, mark.column + 1)


def format_path(path: tuple[Any, ...]) -> str:
    out = ""
    for segment in path:
        if isinstance(segment, int):
            out += f"[{segment}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", str(segment)):
            out += f".{segment}" if out else str(segment)
        else:
            out += f"[{json.dumps(str(segment))}]"
    return out


@dataclass(frozen=True)
class Document:
    """Data loaded from one file, with the means to say where any part of it was written."""

    data: Any
    path: str
    _locate: Callable[[], Locator | JsonLocator]

    def locator(self) -> Locator | JsonLocator:
        return self._locate()


def read_text(path: Path, *, max_bytes: int, error: type[GatekitError] = InputFileError) -> str:
    """Read a whole file as strict UTF-8; every failure is an `error` naming the file. A FIFO, device or
    directory is refused before it is read (`gatekit.safe_read`): it would block or never end."""
    from gatekit.safe_read import read_small_file

    name = str(path)
    raw = read_small_file(path, max_bytes=max_bytes, error=error, what="file")
    if raw is None:
        raise error.at("file not found", name)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise error.at(f"invalid UTF-8 byte 0x{raw[e.start]:02x}", name, line, column) from None


def _compose(text: str, name: str, error: type[GatekitError]) -> Node | None:
    """The node tree of `text`, whose characters `check_characters` has passed."""
    # A small file (every spec) is scanned in Python, whose messages name the offending character; libyaml's
    # say "found character that cannot start any token" without it. Large results files get the C scanner.
    fast = _CParser is not None and len(text) > C_SCANNER_FROM
    loader = _FastLoader(text) if fast else StrictLoader(text)
    try:
        return loader.get_single_node()
    except MarkedYAMLError as e:
        raise _yaml_error(e, name, error, text) from None
    except YAMLError as e:  # pragma: no cover - PyYAML raises marked errors for all parse failures we know
        raise error.at(f"not valid YAML: {e}", name) from None
    finally:
        loader.dispose()


def _yaml_error(e: MarkedYAMLError, name: str, error: type[GatekitError], text: str = "") -> GatekitError:
    mark = e.problem_mark or e.context_mark
    message = " ".join(part for part in (e.context, e.problem) if part) or "not valid YAML"
    hint = syntax_hint(e.problem or "", text, mark)
    if hint:
        message = f"{hint} (YAML: {message})"
    if mark is None:  # pragma: no cover
        return error.at(message, name)
    return error.at(message, name, mark.line + 1, mark.column + 1)


def load_yaml_text(text: str, name: str, *, error: type[GatekitError]) -> Document:
    """Strict YAML. A file over `C_SCANNER_FROM` that is plainly data is read by `yamlfast` from libyaml's
    events (five times faster); any other file by the strict composer and constructor."""
    check_characters(text, name, error)
    if _CParser is not None and len(text) > C_SCANNER_FROM:
        # One constructor per read, for the scalars the fast reader does not build (timestamps, .inf, .nan):
        # candidate and baseline are read on two threads.
        scalar = StrictLoader("").construct_object
        data = read_plain_yaml(text, _CParser, _StrictResolver.yaml_implicit_resolvers, scalar, MAX_DEPTH)
        if data is not NOT_READ:
            return Document(data, name, _lazy_locator(lambda: _compose(text, name, error)))
    root = _compose(text, name, error)
    if root is None:
        raise error.at("the file is empty (no YAML document)", name)
    constructor = StrictLoader("")
    try:
        data = constructor.construct_document(root)
    except MarkedYAMLError as e:
        raise _yaml_error(e, name, error, text) from None
    except RecursionError:  # pragma: no cover - MAX_DEPTH stops nesting long before this
        raise error.at("nesting too deep", name) from None
    return Document(data, name, _lazy_locator(lambda: root))


def _lazy_locator(compose: Callable[[], Node | None]) -> Callable[[], Locator]:
    """A locator built when an error first needs a position: it walks every node (and, after the fast
    reader, composes them first: a second read of the file, on the error path only)."""
    cache: list[Locator] = []

    def locate() -> Locator:
        if not cache:
            cache.append(Locator(compose()))
        return cache[0]

    return locate


def load_json_text(text: str, name: str, *, error: type[GatekitError]) -> Document:
    """Parse JSON with the `json` module (fast, and JSON's own number grammar), strictly (`jsonio`).

    `NaN`/`Infinity` are kept as non-finite floats so that the evaluator reports them as missing values;
    positions of later validation errors are found in the text along the failing path (`JsonLocator`).
    """
    check_characters(text, name, error, control=False)
    data = parse_json(text, name, error)
    locator = JsonLocator(text, data)
    return Document(data, name, lambda: locator)


def load_document(path: Path, *, max_bytes: int, error: type[GatekitError]) -> Document:
    """Load a `.json` file as JSON and anything else as strict YAML.

    YAML that is also strict JSON (a JSON document saved as `.yaml`) is read by the JSON parser: the same
    data, 30 times faster. Otherwise a YAML file over `YAML_MAX_BYTES` is refused with a hint to write JSON."""
    text = read_text(path, max_bytes=max_bytes, error=error)
    name = str(path)
    if path.suffix.lower() == ".json":
        return load_json_text(text, name, error=error)
    if text.lstrip()[:1] == "{":
        as_json = _json_as_yaml(text, name, error)
        if as_json is not None:
            return as_json
    if len(text) > YAML_MAX_BYTES:
        raise error.at(
            f"a YAML file of {len(text) >> 20} MiB is over the {YAML_MAX_BYTES >> 20} MiB YAML limit (YAML is read "
            "about 30 times slower than JSON): write these results as JSON (.json) or as a per-example table",
            name,
        )
    return load_yaml_text(text, name, error=error)


def _json_as_yaml(text: str, name: str, error: type[GatekitError]) -> Document | None:
    """The document, when `text` is strict JSON that YAML reads the same way; else None (read it as YAML)."""
    try:
        data = loads_strict_yaml_compatible(text)
    except (ValueError, RecursionError):
        return None
    check_characters(text, name, error)
    locator = JsonLocator(text, data)
    return Document(data, name, lambda: locator)


_M = TypeVar("_M", bound="BaseModel")


def validate_model(model: type[_M], document: Document, *, error: type[GatekitError], context: Any = None) -> _M:
    """Validate loaded data against a pydantic model, or raise `error` with one located diagnostic per problem."""
    from pydantic import ValidationError

    try:
        return model.model_validate(document.data, context=context)
    except ValidationError as e:
        raise error(list(_diagnostics(e, model, document))) from None


def _diagnostics(e: Any, model: type[BaseModel], document: Document) -> Iterator[Diagnostic]:
    locator = document.locator()
    seen: set[tuple[str, int, int, str]] = set()
    for err in e.errors(include_url=False):
        loc = tuple(err["loc"]) + tuple(err.get("ctx", {}).get("gatekit_path", ()))
        found, rest = locator.resolve(loc)
        kind = err["type"]
        # An unknown key is shown at the key; anything else at its value, or at the parent if it is missing.
        line, column = locator.mark(found, at_key=kind == "extra_forbidden")
        field_path = format_path((*found, *rest))
        message = _message(err, model, found)
        key = (message, line, column, field_path)
        if key in seen:
            continue
        seen.add(key)
        yield Diagnostic(message, document.path, line, column, field_path)


def _message(err: Any, model: type[BaseModel], found: _Path) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown field" + did_you_mean(
            str(found[-1]) if found else "", _sibling_fields(model, found), cutoff=0.6
        )
    if kind == "missing":
        return "required field is missing"
    msg = str(err["msg"])
    if kind in {"finite_number"}:
        return "must be a finite number (not NaN or infinity)"
    if kind.endswith("_type") and "input" in err:
        got = err["input"]
        if isinstance(got, str) and _looks_numeric(got):
            msg += f" (got the string {got!r}; write the number without quotes)"
        elif got is None:
            msg += " (got an empty value)"
        elif kind == "string_type" and isinstance(got, (int, float)) and not isinstance(got, bool):
            # An all-digit revision or a hex digest like 12e45... reads as a number unless quoted.
            msg += f" (got the number {got!r}; put the value in quotes)"
        else:
            msg += f" (got {type(got).__name__})"
    return msg.removeprefix("Value error, ")


def _looks_numeric(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _sibling_fields(model: type[BaseModel], path: _Path) -> list[str]:
    """Field names allowed beside the unknown key at `path`, for a did-you-mean hint."""
    current: Any = model
    for segment in path[:-1]:
        if isinstance(segment, int) or current is None:
            continue
        info = getattr(current, "model_fields", {}).get(segment)
        current = _model_in(info.annotation) if info is not None else None
    fields = getattr(current, "model_fields", None)
    return list(fields) if fields else []


def _model_in(annotation: Any) -> Any:
    from typing import get_args

    if hasattr(annotation, "model_fields"):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


__all__ = [
    "RESULTS_MAX_BYTES",
    "SPEC_MAX_BYTES",
    "Document",
    "DuplicateJsonKeyError",
    "Locator",
    "StrictLoader",
    "format_path",
    "load_document",
    "load_json_text",
    "load_yaml_text",
    "loads_strict",
    "read_text",
    "validate_model",
]
