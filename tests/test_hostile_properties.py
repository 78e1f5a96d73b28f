"""Properties over generated hostile specs and results (issue 14).

1. Reading: whatever bytes a spec or results file holds, the API either reads it or raises a `GatekitError`
   (exit 2) — never another exception (exit 1).
2. Deciding: no verdict is ship when a gated value is missing, non-finite, counted on n = 0 examples, or on
   the wrong side of its threshold by any amount a user can write (down to the smallest float).

Examples per run: 6,000 in all by default (CI); `GATEKIT_HYPOTHESIS=thorough` runs 20 times as many, by hand.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekit.decide.verdict import build_verdict
from gatekit.errors import GatekitError
from gatekit.results import Measurement, Results
from gatekit.sources.load import load_results, load_spec
from tests.conftest import MINIMAL_SPEC
from tests.factories import spec

_SCALE = 20 if os.environ.get("GATEKIT_HYPOTHESIS") == "thorough" else 1


def _examples(n: int) -> Any:
    return settings(
        max_examples=n * _SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# ------------------------------------------------------------------------------------ 1. reading never crashes

_HOSTILE_SCALARS = st.sampled_from(
    [
        "2024-13-45",
        "2026-02-30T10:00:00Z",
        "2026-01-01T10:00:00+99:99",
        "!!int twelve",
        "!!float nope",
        "!!bool maybe",
        "!!timestamp soon",
        "!!binary ###",
        "!!python/object:os.system",
        "9" * 5000,
        "1" + "0" * 400,
        "0x" + "f" * 5000,
        "1.0e400",
        "-1e999",
        ".nan",
        "-.inf",
        "18446744073709551616",
        "9007199254740993",
        "yes",
        "010",
        "1_000",
        "&a 1",
        "*a",
        '"\\ud800"',
        '"\\udc00x"',
        '"[link=https://evil.example]x[/link]"',
        '"\\e]8;;x\\a"',
        "~",
        "[]",
        "{}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    ]
)
_PLAIN = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8).map(json.dumps),
)
_SCALAR = st.one_of(_HOSTILE_SCALARS, _PLAIN)
_BYTES_NOISE = st.sampled_from([b"\x00", b"\x1b", b"\x7f", b"\xc2\x9b", b"\xff", b"\xfe\xff", b"\t", b"\r"])


@st.composite
def _results_text(draw: Any) -> bytes:
    slices = draw(st.lists(st.tuples(st.sampled_from(["all", "a", "b", "[/x]"]), _SCALAR), max_size=4))
    body = "".join(f'    "{name}": {value}\n' for name, value in slices)
    tail = draw(st.sampled_from(["", "created: 2026-01-01\n", "created: 2026-02-30\n", "costs: {gpu: -1}\n"]))
    text = ("model: m\nmetrics:\n  accuracy:\n" + body + tail).encode("utf-8")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(_BYTES_NOISE) + text[at:]
    if draw(st.integers(0, 9)) == 0:
        text = text.decode("utf-8", "replace").encode("utf-16-le")
    return text


@st.composite
def _json_text(draw: Any) -> bytes:
    value = draw(
        st.sampled_from(
            ["0.9", "NaN", "Infinity", "1e999", "9" * 5000, '"high"', "null", "[]", "{}", "true", "-0", "1" + "0" * 400]
        )
    )
    n = draw(st.sampled_from(["100", "0", "-1", "18446744073709551616", "1.5", '"10"', "null", "9" * 4400]))
    text = f'{{"model": "m", "metrics": {{"accuracy": {{"all": {{"value": {value}, "n": {n}}}}}}}}}'
    if draw(st.booleans()):
        text = text.replace('"model": "m"', '"model": "m", "model": "n"')
    raw = text.encode("utf-8")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut] + draw(_BYTES_NOISE) + raw[cut:]
    return raw


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def gate_spec(folder: Path) -> Any:
    path = folder / "gate.yaml"
    path.write_text(MINIMAL_SPEC.lstrip("\n"), encoding="utf-8")
    return load_spec(path).spec


def _read_or_refuse(path: Path, gate: Any) -> None:
    try:
        results = load_results(path, gate)
    except GatekitError:
        return
    # What was read is usable: every count a real count, every name printable later.
    for slices in results.metrics.values():
        for measurement in slices.values():
            assert measurement.n is None or 0 <= measurement.n <= 2**53


@_examples(2000)
@given(text=_results_text())
def test_any_yaml_results_file_is_read_or_refused_as_bad_input(folder: Path, gate_spec: Any, text: bytes) -> None:
    path = folder / "results.yaml"
    path.write_bytes(text)
    _read_or_refuse(path, gate_spec)


@_examples(1000)
@given(text=_json_text())
def test_any_json_results_file_is_read_or_refused_as_bad_input(folder: Path, gate_spec: Any, text: bytes) -> None:
    path = folder / "results.json"
    path.write_bytes(text)
    _read_or_refuse(path, gate_spec)


@_examples(1000)
@given(field=st.sampled_from(["name", "written", "owner", "min"]), value=_SCALAR, noise=st.booleans())
def test_any_spec_is_read_or_refused_as_bad_input(folder: Path, field: str, value: str, noise: bool) -> None:
    text = MINIMAL_SPEC.lstrip("\n")
    old = {"name": "name: tiny", "written": "written: 2026-01-01", "owner": "owner: me", "min": "min: 0.5"}[field]
    text = text.replace(old, old.split(":")[0] + ": " + value)
    path = folder / "spec.yaml"
    path.write_bytes(text.encode("utf-8") + (b"\x1b" if noise else b""))
    with contextlib.suppress(GatekitError):
        load_spec(path)


# ------------------------------------------------------------------------- 2. nothing wrong ever ships

# Limits a user can write: ordinary, tiny (down to subnormal), large, both signs and zero.
_LIMITS = st.one_of(
    st.sampled_from([0.0, -0.0, 1e-9, -1e-9, 1e-10, 5e-324, -5e-324, 1.0, 0.3, 1e300]),
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e-6, max_value=1e-6, allow_nan=False, allow_infinity=False),
)
# How far past the threshold: any positive amount, expressed as a relative or an absolute step.
_BEYOND = st.one_of(
    st.floats(min_value=5e-324, max_value=1e-6, allow_nan=False),
    st.floats(min_value=1e-6, max_value=1e6, allow_nan=False),
)


def _beyond(limit: float, side: str, by: float) -> float | None:
    """A value on the failing side of `limit`, past the documented rounding allowance (1e-9 of the limit's
    magnitude, nothing at zero) by `by` more; None when floats cannot express it."""
    allowance = 1e-9 * abs(limit)
    step = 2 * allowance + by
    value = limit - step if side == "min" else limit + step
    if not math.isfinite(value) or abs(value - limit) <= allowance:
        return None
    return value


def _verdict(side: str, limit: float, measurement: Measurement | None, slices: str = "all") -> str:
    gate = spec({"id": "g", "metric": "m", side: limit, "slices": [slices]}, baseline=False)
    metrics = {"m": {"all": measurement}} if measurement is not None else {}
    results = Results(source="r", model="m", metrics=metrics)
    return build_verdict(gate, results, None, spec_path="s").verdict


@_examples(1000)
@given(side=st.sampled_from(["min", "max"]), limit=_LIMITS, by=_BEYOND, n=st.one_of(st.none(), st.integers(1, 10**6)))
def test_a_value_past_its_threshold_by_any_writable_amount_never_ships(
    side: str, limit: float, by: float, n: int | None
) -> None:
    observed = _beyond(limit, side, by)
    if observed is None:
        return
    assert _verdict(side, limit, Measurement(observed, n)) != "ship", (side, limit, observed)


@_examples(1000)
@given(
    side=st.sampled_from(["min", "max"]),
    limit=_LIMITS,
    broken=st.sampled_from(["absent", "nan", "inf", "-inf", "n0", "star-empty"]),
)
def test_a_missing_non_finite_or_empty_gated_value_never_ships(side: str, limit: float, broken: str) -> None:
    measurement: Measurement | None
    slices = "all"
    passing = limit + 1.0 if side == "min" else limit - 1.0
    if broken == "absent":
        measurement = None
    elif broken == "n0":
        measurement = Measurement(passing, n=0)
    elif broken == "star-empty":
        measurement, slices = None, "*"
    else:
        measurement = Measurement(float(broken))
    # +inf passes a `min` on its face and -inf a `max`: neither is a measurement.
    assert _verdict(side, limit, measurement, slices) != "ship", (side, limit, broken)
