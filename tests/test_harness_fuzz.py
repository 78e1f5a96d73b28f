"""Damaged real harness files: never a traceback (exit 1), never a ship on a damaged score.

The real fixtures of tests/fixtures/harness/ are mutated: truncated archives, members with another (or an
unknown) compression method, flipped bytes, keys deleted anywhere in a document, NaN scores. `gatekit check`
must answer each with exit 2 (bad input, with the file and the reason) or a verdict, and a NaN put into the
gated score must never ship.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Run
from tests.factories import PINNED

HARNESS = Path(__file__).parent / "fixtures" / "harness"
EVAL_LOG = HARNESS / "inspect" / "basic.eval"
LM_RESULTS = next((HARNESS / "lm_eval" / "full").glob("*/results_*.json"))
DOCUMENTS = {
    "lm-eval": (LM_RESULTS, {"id": "g", "metric": "acc,none", "slices": ["gk_group"], "min": 0.1}),
    "inspect": (HARNESS / "inspect" / "basic.json", {"id": "g", "metric": "match/accuracy", "min": 0.1}),
    "promptfoo": (
        HARNESS / "promptfoo" / "echo.json",
        {"id": "g", "metric": "pass_rate", "min": 0.05},
    ),  # 2 of 6: the exact lower bound is 0.063
}
# GATEKIT_FUZZ_EXAMPLES=300 for a longer hunt (2.5 min); the suite's default keeps it to seconds.
FUZZ = settings(
    max_examples=int(os.environ.get("GATEKIT_FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def write_spec(folder: Path, gate: dict[str, Any]) -> Path:
    spec = {
        "version": 1,
        "name": "fuzz",
        "hypothesis": {"statement": "-", "stage": "other", "improves": "-", "owner": "-", "written": "2026-01-01"},
        "gates": [gate],
        "rollback": dict(PINNED),
    }
    path = folder / "gate.json"
    path.write_text(json.dumps(spec))
    return path


def check_code(gatekit: Callable[..., Run], folder: Path, gate: dict[str, Any], candidate: Path) -> Run:
    result = gatekit("check", write_spec(folder, gate), "--candidate", candidate, "--no-color")
    assert result.code != 1, result.err
    assert "Traceback" not in result.err
    return result


def key_paths(node: Any, prefix: tuple[Any, ...] = (), depth: int = 5) -> Iterator[tuple[Any, ...]]:
    if depth == 0:
        return
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield (*prefix, key)
        yield from key_paths(child, (*prefix, key), depth - 1)


def deleted(document: Any, path: tuple[Any, ...]) -> Any:
    copy = json.loads(json.dumps(document))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return copy


def test_the_unmutated_fixtures_ship(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    # The baseline for the NaN mutations below: the same gates on the real files pass.
    for path, gate in DOCUMENTS.values():
        assert check_code(gatekit, tmp_path, gate, path).code == 0


@FUZZ
@given(cut=st.integers(min_value=0, max_value=EVAL_LOG.stat().st_size - 1))
def test_truncated_eval_archive_is_exit_2(gatekit: Callable[..., Run], tmp_path: Path, cut: int) -> None:
    path = tmp_path / "cut.eval"
    path.write_bytes(EVAL_LOG.read_bytes()[:cut])
    result = check_code(gatekit, tmp_path, DOCUMENTS["inspect"][1], path)
    assert result.code == 2
    assert "cut.eval" in result.err


def _central_directory(data: bytes) -> Iterator[tuple[int, str]]:
    """(offset of the compression-method field, member name) for each central directory entry."""
    offset = data.find(b"PK\x01\x02")
    while offset != -1:
        name_length = struct.unpack_from("<H", data, offset + 28)[0]
        yield offset + 10, data[offset + 46 : offset + 46 + name_length].decode()
        offset = data.find(b"PK\x01\x02", offset + 46)


MEMBERS = [name for _, name in _central_directory(EVAL_LOG.read_bytes())]


@FUZZ
@given(member=st.sampled_from(MEMBERS), method=st.sampled_from([1, 6, 9, 12, 14, 19, 94, 95, 98, 99, 1000]))
def test_eval_member_with_another_compression_method_is_exit_2(
    gatekit: Callable[..., Run], tmp_path: Path, member: str, method: int
) -> None:
    data = bytearray(EVAL_LOG.read_bytes())
    for field, name in _central_directory(bytes(data)):
        if name == member:
            struct.pack_into("<H", data, field, method)
    path = tmp_path / "method.eval"
    path.write_bytes(bytes(data))
    result = check_code(gatekit, tmp_path, DOCUMENTS["inspect"][1], path)
    # Members gatekit does not read (the journal) may carry any method; a member it reads is exit 2.
    if member in ("header.json", "reductions.json") or member.startswith("samples/"):
        assert result.code == 2
        assert "not a readable Inspect .eval log" in result.err


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA, zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_eval_log_recompressed_reads_or_is_exit_2(gatekit: Callable[..., Run], tmp_path: Path, method: int) -> None:
    import zstandard

    from tests.test_harness_real import inspect_log

    log = inspect_log("basic", "eval")
    path = tmp_path / "recompressed.eval"
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        archive.writestr(
            "header.json", json.dumps({k: v for k, v in log.items() if k not in ("samples", "reductions")})
        )
        for sample in log["samples"]:
            archive.writestr(f"samples/{sample['id']}_epoch_{sample['epoch']}.json", json.dumps(sample))
        archive.writestr("reductions.json", json.dumps(log["reductions"]))
    assert zstandard is not None
    result = check_code(gatekit, tmp_path, DOCUMENTS["inspect"][1], path)
    # Stored and deflated members are read (Inspect wrote deflate before zstd); others are named as such.
    expected = 0 if method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) else 2
    assert result.code == expected
    if expected == 2:
        assert f"compression method {method} is not supported" in result.err


@FUZZ
@given(position=st.integers(min_value=0, max_value=EVAL_LOG.stat().st_size - 1), byte=st.integers(1, 255))
def test_eval_archive_with_a_flipped_byte_never_crashes(
    gatekit: Callable[..., Run], tmp_path: Path, position: int, byte: int
) -> None:
    data = bytearray(EVAL_LOG.read_bytes())
    data[position] ^= byte
    path = tmp_path / "flipped.eval"
    path.write_bytes(bytes(data))
    check_code(gatekit, tmp_path, DOCUMENTS["inspect"][1], path)


@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
def test_document_with_a_key_deleted_never_crashes(gatekit: Callable[..., Run], tmp_path: Path, kind: str) -> None:
    source, gate = DOCUMENTS[kind]
    document = json.loads(source.read_text())
    paths = list(key_paths(document))

    @FUZZ
    @given(path=st.sampled_from(paths))
    def one(path: tuple[Any, ...]) -> None:
        target = tmp_path / source.name
        target.write_text(json.dumps(deleted(document, path)))
        check_code(gatekit, tmp_path, gate, target)

    one()


def _nan_at(document: dict[str, Any], kind: str, index: int) -> dict[str, Any]:
    """The document with a gated score replaced by NaN (which index: of the gated entries)."""
    copy = json.loads(json.dumps(document))
    if kind == "lm-eval":
        copy["results"]["gk_group"]["acc,none"] = math.nan
        if index % 2:
            copy["groups"]["gk_group"]["acc,none"] = math.nan
    elif kind == "inspect":
        copy["results"]["scores"][0]["metrics"]["accuracy"]["value"] = math.nan
    else:
        rows = copy["results"]["results"]
        rows[index % len(rows)]["success"] = math.nan
    return copy


@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
@pytest.mark.parametrize("index", [0, 1, 3])
def test_nan_gated_score_never_ships(gatekit: Callable[..., Run], tmp_path: Path, kind: str, index: int) -> None:
    source, gate = DOCUMENTS[kind]
    target = tmp_path / source.name
    # json.dumps writes NaN as the bare token NaN, as Inspect and lm-eval do.
    target.write_text(json.dumps(_nan_at(json.loads(source.read_text()), kind, index)))
    result = check_code(gatekit, tmp_path, gate, target)
    assert result.code in (2, 3, 4)
