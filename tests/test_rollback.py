"""Rollback manifest completeness: required entries present and pinned by digest or full revision."""

from __future__ import annotations

from typing import Any

import pytest

from gatekit.decide.rollback import check_manifest, manifest_complete
from tests.factories import PINNED, spec


def entry(name: str, ref: dict[str, Any] | None, stage: str = "other") -> Any:
    manifest = {k: v for k, v in PINNED.items() if k != name}
    if ref is not None:
        manifest[name] = ref
    gate_spec = spec({"id": "g", "metric": "m", "min": 0}, rollback=manifest)
    gate_spec = gate_spec.model_copy(update={"hypothesis": gate_spec.hypothesis.model_copy(update={"stage": stage})})
    return {o.name: o for o in check_manifest(gate_spec)}[name]


@pytest.mark.parametrize(
    ("name", "ref", "status", "reason"),
    [
        ("checkpoint", {"uri": "s3://m", "digest": "sha256:" + "a" * 64}, "pinned", "pinned"),
        ("checkpoint", None, "missing", "required by the stage, but absent"),
        ("checkpoint", {"uri": "s3://m"}, "unpinned", "not pinned: give a sha256 digest"),
        (
            "checkpoint",
            {"uri": "s3://m", "digest": "sha256:" + "a" * 63},
            "unpinned",
            "digest 'sha256:" + "a" * 63 + "' is not sha256: followed by 64 lowercase hex digits",
        ),
        (
            "checkpoint",
            {"uri": "s3://m", "digest": "sha256:" + "A" * 64},
            "unpinned",
            "digest 'sha256:" + "A" * 64 + "' is not sha256: followed by 64 lowercase hex digits",
        ),
        (
            "checkpoint",
            {"uri": "s3://m", "digest": "sha256:" + "0" * 64},
            "unpinned",
            "digest is all zeros: a placeholder, not a pin",
        ),
        (
            "code_revision",
            {"uri": "git", "revision": "a1b2c3d"},
            "unpinned",
            "revision 'a1b2c3d' is not a full 40- or 64-hex commit id (branches and short ids move)",
        ),
        (
            "code_revision",
            {"uri": "git", "revision": "main"},
            "unpinned",
            "revision 'main' is not a full 40- or 64-hex commit id (branches and short ids move)",
        ),
        ("code_revision", {"uri": "git", "revision": "b" * 40}, "pinned", "pinned"),
        (
            "serving_image",
            {"uri": "repo/app:latest"},
            "unpinned",
            "not pinned: give an image digest (name@sha256:...); a tag can be moved to another image",
        ),
        ("serving_image", {"uri": "repo/app:1.2@sha256:" + "c" * 64}, "pinned", "pinned"),
        ("serving_image", {"uri": "repo/app:1.2", "digest": "sha256:" + "c" * 64}, "pinned", "pinned"),
    ],
)
def test_entry_status(name: str, ref: dict[str, Any] | None, status: str, reason: str) -> None:
    outcome = entry(name, ref)

    assert (outcome.status, outcome.reason) == (status, reason)


def test_adapter_is_required_only_for_the_adapter_stage() -> None:
    assert entry("adapter", None, stage="sft").status == "not_required"
    assert entry("adapter", None, stage="adapter").status == "missing"


def test_manifest_is_complete_only_when_every_required_entry_is_pinned() -> None:
    complete = check_manifest(spec({"id": "g", "metric": "m", "min": 0}))
    incomplete = check_manifest(
        spec({"id": "g", "metric": "m", "min": 0}, rollback={**PINNED, "checkpoint": {"uri": "x"}})
    )

    assert manifest_complete(complete)
    assert not manifest_complete(incomplete)


def test_a_present_optional_entry_must_still_be_pinned() -> None:
    outcomes = check_manifest(
        spec({"id": "g", "metric": "m", "min": 0}, rollback={**PINNED, "adapter": {"uri": "x", "digest": "sha256:1"}})
    )

    assert {o.name: o.status for o in outcomes}["adapter"] == "unpinned"
    assert not manifest_complete(outcomes)
