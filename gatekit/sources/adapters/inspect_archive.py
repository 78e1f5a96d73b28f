"""Reading an Inspect `.eval` log: a ZIP whose members current Inspect compresses with zstd (ZIP method 93).

Python's `zipfile` lists such an archive but cannot inflate its members (`NotImplementedError`); the
`zstandard` package does (Python 3.11 has no `compression.zstd`). Stored and deflated members go through
`zipfile`. Whatever cannot be read (a truncated archive, an unknown compression method, a CRC mismatch, a
member larger than the results limit, bad JSON) is a `ResultsError` naming the file and the reason.

A log whose run is still going, or whose process died, has no `header.json` yet: Inspect itself then reads
`_journal/start.json` and reports the status `started`; so does gatekit.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from gatekit.errors import ResultsError
from gatekit.spec.yamlio import RESULTS_MAX_BYTES, DuplicateJsonKeyError, loads_strict

ZSTD = 93
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_SIGNATURE = b"PK\x03\x04"


def _zstd_member(path: Path, info: zipfile.ZipInfo) -> bytes:
    import zstandard

    with path.open("rb") as f:
        f.seek(info.header_offset)
        header = f.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
            raise ValueError(f"{info.filename}: no local file header where the directory says")
        fields = _LOCAL_HEADER.unpack(header)
        f.seek(fields[9] + fields[10], 1)  # the name and the extra field
        data = f.read(info.compress_size)
    if len(data) < info.compress_size:
        raise ValueError(f"{info.filename}: the archive ends inside this member (truncated)")
    reader = zstandard.ZstdDecompressor().stream_reader(data)
    out = reader.read(info.file_size + 1)
    if len(out) != info.file_size:
        raise ValueError(f"{info.filename}: decompresses to {len(out)} bytes, the directory says {info.file_size}")
    if zlib.crc32(out) != info.CRC:
        raise ValueError(f"{info.filename}: CRC mismatch (damaged member)")
    return out


def _sample_order(name: str) -> tuple[int, int, str]:
    """`samples/<id>_epoch_<n>.json` in the order of the ids as numbers (7 before 19), then the epoch."""
    stem = name.removeprefix("samples/").removesuffix(".json")
    sample_id, _, epoch = stem.rpartition("_epoch_")
    number = int(sample_id) if sample_id.isdigit() else -1
    return (number, int(epoch) if epoch.isdigit() else 0, sample_id)


def read_eval_log(path: Path) -> dict[str, Any]:
    """The EvalLog in an `.eval` archive as one document: header (or journal start), samples, reductions."""
    source = str(path)
    try:
        import zstandard
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        raise ResultsError.at("reading a zstd-compressed .eval log needs the `zstandard` package", source) from None
    try:
        with zipfile.ZipFile(path) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            if sum(info.file_size for info in infos.values()) > RESULTS_MAX_BYTES:
                raise ValueError(f"its members expand to more than {RESULTS_MAX_BYTES >> 20} MiB")

            def member(name: str) -> Any:
                info = infos[name]
                if info.compress_type == ZSTD:
                    raw = _zstd_member(path, info)
                elif info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raw = archive.read(info)
                else:
                    raise ValueError(f"{name}: compression method {info.compress_type} is not supported")
                return loads_strict(raw)

            if "header.json" in infos:
                log = member("header.json")
            elif "_journal/start.json" in infos:
                log = {**member("_journal/start.json"), "status": "started"}
            else:
                raise ValueError("no header.json (and no _journal/start.json): not an Inspect .eval log")
            if not isinstance(log, dict):
                raise ValueError("header.json is not an object")
            names = [name for name in infos if name.startswith("samples/") and name.endswith(".json")]
            log["samples"] = [member(name) for name in sorted(names, key=_sample_order)]
            if "reductions.json" in infos:
                log["reductions"] = member("reductions.json")
            return dict(log)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        EOFError,
        OSError,
        ValueError,
        RuntimeError,
        struct.error,
        zstandard.ZstdError,
        DuplicateJsonKeyError,
        json.JSONDecodeError,
    ) as e:
        raise ResultsError.at(f"not a readable Inspect .eval log: {e}", source) from None
