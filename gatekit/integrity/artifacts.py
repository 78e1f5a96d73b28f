"""Rollback verification: do the artifacts the manifest pins exist, and are they the pinned bytes?

`gatekit.decide.rollback` checks the manifest's *form* (pure). This module looks at the artifacts themselves:

* a **local path** (a uri without a scheme, relative to the spec's folder or absolute, or a ``file://`` uri):
  the file or directory must exist and its digest must equal `digest`. A file's digest is its SHA-256
  (what ``sha256sum FILE`` prints); a directory's is the *tree digest* below. Files are read in 1 MiB
  chunks, so a multi-GB checkpoint is hashed in bounded memory.
* a **git revision** on a local path: the commit must exist in that repository
  (``git -C PATH cat-file -e REV^{commit}``).
* a **container image** (`serving_image`) must be pinned by digest (``name@sha256:...``); the registry is not
  contacted, so a pinned image is "not verified", never "verified".
* a **remote uri** (``s3://``, ``hf://``, ``https://``, ...) is checked for form only and marked "not
  verified". Write hub ids with their scheme (``hf://org/model``): a bare ``org/model`` is a local path.

**The tree digest** of a directory is the SHA-256 of one line per regular file below it,
``<sha256 hex of the file>  <path relative to the directory, '/'-separated>\\n``, sorted by the path's bytes.
It ignores the order the file system lists files in and empty directories; it changes when any file's
content changes, or a file is added, removed or renamed. Symlinks to files count as the file they point to;
a symlink to a directory, a broken symlink, a special file or a name with a newline makes the tree
unreadable. For names without backslashes or newlines it equals::

    cd DIR && find . \\( -type f -o -type l \\) -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from gatekit.errors import ArtifactError
from gatekit.outcomes import ArtifactVerification, VerificationStatus
from gatekit.spec.model import FULL_GIT_REVISION, IMAGE_PINNED, SHA256_DIGEST, ArtifactName, ArtifactRef, Spec

CHUNK_BYTES = 1 << 20


def sha256_file(path: Path) -> str:
    """`sha256:` digest of a regular file, read in `CHUNK_BYTES` chunks (bounded memory)."""
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK_BYTES)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as f:
        while True:
            n = f.readinto(buffer)
            if not n:
                break
            digest.update(view[:n])
    return "sha256:" + digest.hexdigest()


def tree_digest(root: Path) -> str:
    """`sha256:` tree digest of a directory (see the module docstring)."""
    lines: list[tuple[bytes, bytes]] = []

    def fail(error: OSError) -> None:
        raise error

    for folder, dirnames, filenames in os.walk(root, onerror=fail, followlinks=False):
        for name in dirnames:
            if os.path.islink(os.path.join(folder, name)):
                raise ArtifactError.at(
                    "a symlink to a directory is not followed; copy or remove it", folder, field=name
                )
        for name in filenames:
            full = Path(folder, name)
            relative = os.fsencode(full.relative_to(root).as_posix())
            if b"\n" in relative or b"\r" in relative:
                raise ArtifactError.at("a file name with a line break cannot be part of a tree digest", str(full))
            lines.append((relative, _sha256_regular(full).removeprefix("sha256:").encode("ascii")))
    digest = hashlib.sha256()
    for relative, file_hex in sorted(lines):
        digest.update(file_hex + b"  " + relative + b"\n")
    return "sha256:" + digest.hexdigest()


def _sha256_regular(path: Path) -> str:
    try:
        mode = path.stat().st_mode  # follows a symlink; a broken one raises
    except FileNotFoundError as e:
        raise ArtifactError.at("a broken symlink or a file that vanished while hashing", str(path)) from e
    if not stat.S_ISREG(mode):
        # Opening a FIFO would block forever; devices and sockets are not artifacts.
        raise ArtifactError.at("not a regular file (a FIFO, socket or device)", str(path))
    return sha256_file(path)


def digest_path(path: Path) -> str:
    """The `sha256:` digest of a file, or the tree digest of a directory. Raises `ArtifactError`."""
    try:
        if path.is_dir():
            return tree_digest(path)
        if not path.exists() and not path.is_symlink():
            raise ArtifactError.at("no such file or directory", str(path))
        return _sha256_regular(path)
    except OSError as e:
        raise ArtifactError.at(f"cannot read: {e.strerror or e}", str(e.filename or path)) from e


def local_path(uri: str, base: Path) -> Path | None:
    """The local path a uri names (relative uris against `base`), or None when it is remote."""
    if "://" in uri:
        try:
            parts = urlsplit(uri)
        except ValueError:  # "Invalid IPv6 URL": a `[` in the host; not a local file either way
            return None
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return None
        return Path(unquote(parts.path))
    path = Path(uri)
    return path if path.is_absolute() else base / path


def verify_entry(name: ArtifactName, ref: ArtifactRef, base: Path) -> ArtifactVerification:
    """Verify one manifest entry; never raises for a missing or unreadable artifact (that is a status)."""
    expected = ref.digest or ref.revision

    def result(kind: str, status: VerificationStatus, message: str, actual: str | None = None) -> ArtifactVerification:
        return ArtifactVerification.model_validate(
            {
                "name": name,
                "uri": ref.uri,
                "kind": kind,
                "status": status,
                "expected": expected,
                "actual": actual,
                "message": message,
            }
        )

    if name == "serving_image":
        pinned = IMAGE_PINNED.search(ref.uri) is not None or (
            ref.digest is not None and SHA256_DIGEST.match(ref.digest) is not None
        )
        if not pinned:
            return result("image", "unpinned", "an image must be pinned by digest (name@sha256:...); a tag can move")
        return result("image", "not_verified", "pinned by digest; the registry is not contacted")
    path = local_path(ref.uri, base)
    if path is None:
        if expected is None:
            return result("remote", "unpinned", "remote and not pinned: nothing to verify against")
        return result("remote", "not_verified", "remote: form checked only")
    if ref.digest is None and ref.revision is None:
        return result("local", "unpinned", "no digest or revision to verify against")
    try:
        return _verify_local(path, ref, result)
    except OSError as e:  # a name too long for the OS, a permission denied on a parent folder
        return result("local", "unreadable", f"cannot look at {path}: {e.strerror or e}")


def _verify_local(path: Path, ref: ArtifactRef, result: Callable[..., ArtifactVerification]) -> ArtifactVerification:
    """`verify_entry` for a local path; may raise `OSError` from looking at the path."""
    if ref.revision is not None:
        checked = _verify_revision(path, ref.revision)
        if checked is not None:
            return result("git", *checked)
        if ref.digest is None:
            return result("git", "verified", f"commit {ref.revision[:12]} exists in {path}")
    assert ref.digest is not None
    if not SHA256_DIGEST.match(ref.digest):
        return result("local", "unpinned", f"digest {ref.digest!r} is not sha256: followed by 64 lowercase hex")
    kind = "directory" if path.is_dir() else "file"
    if not path.exists():
        return result("local", "missing", f"{path} does not exist")
    try:
        actual = digest_path(path)
    except ArtifactError as e:
        return result(kind, "unreadable", "; ".join(d.format() for d in e.diagnostics))
    if actual != ref.digest:
        return result(kind, "mismatch", f"content differs from the pin: found {actual}", actual)
    return result(kind, "verified", f"{kind} matches its digest", actual)


def _verify_revision(path: Path, revision: str) -> tuple[VerificationStatus, str] | None:
    """None when the commit exists in the repository at `path`; otherwise (status, message)."""
    if not FULL_GIT_REVISION.match(revision):
        return "unpinned", f"revision {revision!r} is not a full commit id"
    if not path.is_dir():
        return "missing", f"{path} is not a directory (a git repository was expected)"
    try:
        # The revision is hex (checked above), so it cannot be read as an option.
        done = subprocess.run(
            ["git", "-C", str(path), "cat-file", "-e", f"{revision}^{{commit}}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except FileNotFoundError:
        return "unreadable", "git is not installed, so the revision cannot be checked"
    except (OSError, subprocess.SubprocessError) as e:
        return "unreadable", f"git failed: {e}"
    if done.returncode == 0:
        return None
    if "not a git repository" in done.stderr:
        return "missing", f"{path} is not a git repository"
    return "missing", f"commit {revision} does not exist in {path}"


def verify_manifest(spec: Spec, base: Path) -> tuple[ArtifactVerification, ...]:
    """Verify every entry the manifest gives (required or not), in manifest order."""
    return tuple(verify_entry(name, ref, base) for name, ref in spec.rollback.entries() if ref is not None)
