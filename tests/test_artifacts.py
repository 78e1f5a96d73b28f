"""Rollback verification against real files, folders and git repositories."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekit.api import check
from gatekit.integrity.artifacts import tree_digest, verify_entry
from gatekit.spec.model import ArtifactRef

from .conftest import MINIMAL_SPEC, Run

Write = Callable[[str, str], Path]
Gatekit = Callable[..., Run]

CHECKPOINT_LINE = '  checkpoint: {uri: s3://m, digest: "sha256:' + "1" * 64 + '"}\n'


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


FILES = {"model.safetensors": b"\x00\x01weights", "config.json": b"{}", "tok/vocab.txt": b"a\nb\n"}


@pytest.fixture
def gate_with_local_checkpoint(write: Write) -> Path:
    """MINIMAL_SPEC whose checkpoint is a local file `ckpt.bin`, pinned to its current content."""
    write("candidate.yaml", "model: cand\nmetrics: {accuracy: {all: 0.9}}\n")
    write("baseline.yaml", "model: base\nmetrics: {accuracy: {all: 0.8}}\n")
    checkpoint = write("ckpt.bin", "weights " * 1000)
    entry = f'  checkpoint: {{uri: ckpt.bin, digest: "{sha256(checkpoint.read_bytes())}"}}\n'
    remote = MINIMAL_SPEC.replace("{uri: d,", "{uri: hf://d,").replace("{uri: c,", "{uri: https://c,")
    remote = remote.replace("{uri: e,", "{uri: s3://e,")
    return write("gate.yaml", remote.replace(CHECKPOINT_LINE, entry))


def test_untouched_local_checkpoint_verifies(gate_with_local_checkpoint: Path, gatekit: Gatekit) -> None:
    result = gatekit("verify", gate_with_local_checkpoint)
    assert (result.code, result.out.splitlines()[:2]) == (
        0,
        ["checkpoint         VERIFIED      ckpt.bin", "                   file matches its digest"],
    )


def test_one_changed_byte_in_a_checkpoint_is_caught(gate_with_local_checkpoint: Path, gatekit: Gatekit) -> None:
    checkpoint = gate_with_local_checkpoint.parent / "ckpt.bin"
    data = bytearray(checkpoint.read_bytes())
    data[4000] ^= 0x01
    checkpoint.write_bytes(bytes(data))
    result = gatekit("verify", gate_with_local_checkpoint)
    assert (result.code, result.out.splitlines()[0], result.err) == (
        3,
        "checkpoint         MISMATCH      ckpt.bin",
        f"{gate_with_local_checkpoint}: 1 artifact failed verification: checkpoint\n",
    )


def test_check_with_verify_artifacts_revises_on_a_tampered_checkpoint(gate_with_local_checkpoint: Path) -> None:
    (gate_with_local_checkpoint.parent / "ckpt.bin").write_text("other weights")
    verdict = check(gate_with_local_checkpoint, verify_artifacts=True)
    assert [(r.kind, r.subject, r.status) for r in verdict.reasons] == [("artifact", "checkpoint", "mismatch")]


def test_check_without_verify_artifacts_does_not_read_them(gate_with_local_checkpoint: Path) -> None:
    (gate_with_local_checkpoint.parent / "ckpt.bin").unlink()
    verdict = check(gate_with_local_checkpoint)
    assert (verdict.verdict, verdict.artifacts) == ("ship", None)


def test_missing_local_checkpoint_is_missing(tmp_path: Path) -> None:
    found = verify_entry("checkpoint", ArtifactRef(uri="gone.bin", digest=sha256(b"")), tmp_path)
    assert (found.status, found.message) == ("missing", f"{tmp_path / 'gone.bin'} does not exist")


def test_file_uri_is_a_local_path(tmp_path: Path) -> None:
    (tmp_path / "w.bin").write_bytes(b"w")
    uri = (tmp_path / "w.bin").as_uri()
    found = verify_entry("checkpoint", ArtifactRef(uri=uri, digest=sha256(b"w")), Path("/nonexistent"))
    assert (found.kind, found.status) == ("file", "verified")


def test_remote_uri_is_not_verified(tmp_path: Path) -> None:
    found = verify_entry("checkpoint", ArtifactRef(uri="s3://bucket/m", digest=sha256(b"")), tmp_path)
    assert (found.kind, found.status) == ("remote", "not_verified")


def test_image_pinned_by_tag_is_unpinned(tmp_path: Path) -> None:
    found = verify_entry("serving_image", ArtifactRef(uri="registry.example/serve:v3"), tmp_path)
    assert (found.kind, found.status) == ("image", "unpinned")


def test_image_pinned_by_digest_is_not_verified(tmp_path: Path) -> None:
    found = verify_entry("serving_image", ArtifactRef(uri="registry.example/serve@sha256:" + "e" * 64), tmp_path)
    assert (found.kind, found.status) == ("image", "not_verified")


def test_tree_digest_does_not_depend_on_creation_order(tmp_path: Path) -> None:
    forward = make_tree(tmp_path / "a", FILES)
    backward = make_tree(tmp_path / "b", dict(reversed(FILES.items())))
    assert tree_digest(forward) == tree_digest(backward)


def test_tree_digest_changes_with_content(tmp_path: Path) -> None:
    before = tree_digest(make_tree(tmp_path / "a", FILES))
    (tmp_path / "a" / "tok" / "vocab.txt").write_bytes(b"a\nc\n")
    assert tree_digest(tmp_path / "a") != before


def test_tree_digest_changes_with_a_rename(tmp_path: Path) -> None:
    before = tree_digest(make_tree(tmp_path / "a", FILES))
    (tmp_path / "a" / "config.json").rename(tmp_path / "a" / "config2.json")
    assert tree_digest(tmp_path / "a") != before


def test_tree_digest_changes_with_an_added_file(tmp_path: Path) -> None:
    before = tree_digest(make_tree(tmp_path / "a", FILES))
    (tmp_path / "a" / "extra").write_bytes(b"")
    assert tree_digest(tmp_path / "a") != before


@pytest.mark.skipif(sys.platform != "linux", reason="the recipe uses GNU find -printf")
def test_tree_digest_equals_the_documented_shell_recipe(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "a", FILES)
    recipe = "find . \\( -type f -o -type l \\) -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum"
    done = subprocess.run(["sh", "-c", recipe], cwd=root, capture_output=True, text=True, check=True)
    assert tree_digest(root) == "sha256:" + done.stdout.split()[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_a_folder_is_unreadable_not_a_hang(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "a", FILES)
    os.mkfifo(root / "pipe")
    found = verify_entry("checkpoint", ArtifactRef(uri="a", digest=sha256(b"")), tmp_path)
    assert (found.kind, found.status) == ("directory", "unreadable")


def test_folder_checkpoint_verifies_against_its_tree_digest(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "ckpt", FILES)
    found = verify_entry("checkpoint", ArtifactRef(uri="ckpt", digest=tree_digest(root)), tmp_path)
    assert (found.kind, found.status) == ("directory", "verified")


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    """A git repository with one commit; returns (its folder, the commit id)."""
    root = tmp_path / "code"
    root.mkdir()
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        return done.stdout.strip()

    git("init", "-q")
    (root / "train.py").write_text("print('train')\n")
    git("add", "train.py")
    git("commit", "-q", "-m", "train")
    return root, git("rev-parse", "HEAD")


def test_git_revision_present_in_the_local_repository_verifies(repo: tuple[Path, str]) -> None:
    root, commit = repo
    found = verify_entry("code_revision", ArtifactRef(uri="code", revision=commit), root.parent)
    assert (found.kind, found.status) == ("git", "verified")


def test_git_revision_absent_from_the_local_repository_is_missing(repo: tuple[Path, str]) -> None:
    root, _ = repo
    found = verify_entry("code_revision", ArtifactRef(uri="code", revision="ab" * 20), root.parent)
    assert (found.kind, found.status, found.message) == (
        "git",
        "missing",
        f"commit {'ab' * 20} does not exist in {root}",
    )


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status (Linux); sparse files")
def test_a_2_gb_file_is_hashed_in_bounded_memory(tmp_path: Path) -> None:
    big = tmp_path / "sparse.bin"
    with big.open("wb") as f:
        f.truncate(2 * 1024**3)  # sparse: 2 GiB of zeros that take no disk space
    # VmHWM is the peak of this process image alone: ru_maxrss would carry over the high-water mark of the
    # forking parent (pytest, hundreds of MB late in the suite) across fork and exec.
    code = (
        "import sys; from pathlib import Path; from gatekit.integrity.artifacts import sha256_file; "
        "print(sha256_file(Path(sys.argv[1]))); "
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(big)], capture_output=True, text=True, check=True)
    digest, peak_kib = done.stdout.split()
    # `head -c 2147483648 /dev/zero | sha256sum`
    assert digest == "sha256:a7c744c13cc101ed66c29f672f92455547889cc586ce6d44fe76ae824958ea51"
    assert int(peak_kib) < 200 * 1024  # VmHWM is in KiB
