"""Is the rollback manifest complete? Form checks only (pure); `gatekit verify` checks the artifacts themselves.

Complete means every entry the stage requires (plus `rollback.require`) is present and pinned:
digests are ``sha256:`` + 64 lowercase hex (not all zeros), git revisions are full 40- or 64-hex commit ids
(short ids grow ambiguous, branch names move), and the serving image is pinned by digest, not by a tag.
"""

from __future__ import annotations

from gatekit.outcomes import ArtifactOutcome
from gatekit.spec.model import FULL_GIT_REVISION, IMAGE_PINNED, SHA256_DIGEST, ArtifactName, ArtifactRef, Spec

_REVISION_FIRST: frozenset[ArtifactName] = frozenset({"code_revision", "data_revision"})


def check_manifest(spec: Spec) -> tuple[ArtifactOutcome, ...]:
    required = set(spec.required_artifacts())
    return tuple(_check_entry(name, ref, name in required) for name, ref in spec.rollback.entries())


def manifest_complete(outcomes: tuple[ArtifactOutcome, ...]) -> bool:
    """Every required entry pinned, and no entry present that pins nothing (a rollback would use it)."""
    return all(o.status in ("pinned", "not_required") for o in outcomes)


def _check_entry(name: ArtifactName, ref: ArtifactRef | None, required: bool) -> ArtifactOutcome:
    if ref is None:
        status = "missing" if required else "not_required"
        reason = "required by the stage, but absent" if required else "not required for this stage"
        return ArtifactOutcome(name=name, required=required, uri=None, pin=None, status=status, reason=reason)
    problems = [p for p in (_digest_problem(ref.digest), _revision_problem(ref.revision)) if p]
    pin = ref.digest or ref.revision
    if name == "serving_image" and ref.digest is None and IMAGE_PINNED.search(ref.uri):
        pin = ref.uri.rsplit("@", 1)[1]
    if pin is None:
        hint = "a full git revision" if name in _REVISION_FIRST else "a sha256 digest"
        if name == "serving_image":
            hint = "an image digest (name@sha256:...); a tag can be moved to another image"
        problems.append(f"not pinned: give {hint}")
    if problems:
        return ArtifactOutcome(
            name=name, required=required, uri=ref.uri, pin=pin, status="unpinned", reason="; ".join(problems)
        )
    return ArtifactOutcome(name=name, required=required, uri=ref.uri, pin=pin, status="pinned", reason="pinned")


def _digest_problem(digest: str | None) -> str | None:
    if digest is None:
        return None
    if not SHA256_DIGEST.match(digest):
        return f"digest {digest!r} is not sha256: followed by 64 lowercase hex digits"
    if set(digest.removeprefix("sha256:")) == {"0"}:
        return "digest is all zeros: a placeholder, not a pin"
    return None


def _revision_problem(revision: str | None) -> str | None:
    if revision is None:
        return None
    if not FULL_GIT_REVISION.match(revision):
        return f"revision {revision!r} is not a full 40- or 64-hex commit id (branches and short ids move)"
    if set(revision) == {"0"}:
        return "revision is all zeros: a placeholder, not a pin"
    return None
