"""Adapters for results files written by other tools, one module per format, chosen by the file's content.

Each adapter module has `NAME`, `detect(data) -> bool` for a parsed JSON document (or the first row of a
JSONL file), and `load(path, data, spec, model) -> Results` (`model`: the model or provider to select from a file
holding several, or None). `gatekit.sources.load.load_results` asks them in order; a
`--candidate-format` / `--format` option names one and skips detection. Heavy imports stay inside functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gatekit.errors import UsageError
from gatekit.results import Results
from gatekit.spec.model import Spec

FORMATS = ("gatekit", "jsonl", "csv", "parquet", "lm-eval", "lm-eval-samples", "inspect", "promptfoo", "stats")
"""Every name `--format` accepts."""


def _loaders() -> dict[str, Callable[[Path, Any, Spec | None, str | None], Results]]:
    from gatekit.sources.adapters import inspect_ai, lm_eval, promptfoo

    return {
        lm_eval.NAME: lm_eval.load,
        lm_eval.SAMPLES_NAME: lm_eval.load_samples,
        inspect_ai.NAME: inspect_ai.load,
        promptfoo.NAME: promptfoo.load,
    }


def detect(data: Any) -> str | None:
    """The adapter whose format a parsed JSON document has, or None (gatekit's own format, or unknown)."""
    from gatekit.sources.adapters import inspect_ai, lm_eval, promptfoo

    for module in (lm_eval, inspect_ai, promptfoo):
        if module.detect(data):
            return str(module.NAME)
    if lm_eval.detect_samples(data):
        return lm_eval.SAMPLES_NAME
    return None


def detect_jsonl(path: Path) -> str | None:
    """'lm-eval-samples' or 'promptfoo' when the first line of a JSONL file is such a record, else None."""
    from gatekit.sources.adapters import lm_eval, promptfoo

    with path.open("rb") as f:
        first = f.readline(1 << 20)
    try:
        row = json.loads(first)
    except ValueError:
        return None
    if lm_eval.detect_samples([row]):
        return lm_eval.SAMPLES_NAME
    return promptfoo.NAME if promptfoo.detect_line(row) else None


def load_with(name: str, path: Path, data: Any, spec: Spec | None, model: str | None = None) -> Results:
    loaders = _loaders()
    if name not in loaders:
        raise UsageError(f"unknown results format {name!r}; choose one of: {', '.join(FORMATS)}")
    return loaders[name](path, data, spec, model)
