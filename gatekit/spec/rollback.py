"""The rollback manifest: every artifact needed to put the previous release back, each pinned."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from gatekit.spec.base import ARTIFACT_NAMES, ArtifactName, AsTuple, NonEmptyStr, _Model


class ArtifactRef(_Model):
    """Where an artifact lives and what pins it: a sha256 digest or a full git revision."""

    uri: NonEmptyStr
    """A path, URL, hub id or image reference."""
    digest: str | None = None
    """"sha256:" followed by 64 lowercase hex digits."""
    revision: str | None = None
    """A full 40- (or 64-) hex git commit id. Branch names and short ids are not pins."""


class RollbackManifest(_Model):
    """Everything needed to put the previous release back, each entry pinned so that it cannot drift."""

    require: Annotated[tuple[ArtifactName, ...], AsTuple] = ()
    """Entries required in addition to those the stage requires."""
    checkpoint: ArtifactRef | None = None
    tokenizer: ArtifactRef | None = None
    adapter: ArtifactRef | None = None
    generation_config: ArtifactRef | None = None
    serving_image: ArtifactRef | None = None
    data_revision: ArtifactRef | None = None
    code_revision: ArtifactRef | None = None
    eval_record: ArtifactRef | None = None

    def entries(self) -> Iterator[tuple[ArtifactName, ArtifactRef | None]]:
        for name in ARTIFACT_NAMES:
            yield name, getattr(self, name)
