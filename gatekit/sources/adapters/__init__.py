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

from gatekit.errors import ResultsError, UsageError
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


def select_model(available: list[str], model: str | None, source: str, what: str = "provider") -> str | None:
    """The one model or provider of a file that holds several: `model`, which must be one of them. A file of
    several is never pooled: without a selection it is an error that lists them."""
    from gatekit.names import did_you_mean

    if model is not None:
        if model not in available:
            raise ResultsError.at(
                f"{what} {model!r} is not in the file{did_you_mean(model, available)}; "
                f"it holds: {', '.join(available)}",
                source,
            )
        return model
    if len(available) > 1:
        raise ResultsError.at(
            f"the file holds {len(available)} {what}s ({', '.join(available)}) and gatekit never pools them: "
            "choose one with `candidate_model:`/`baseline_model:` in the spec or --candidate-model/--baseline-model "
            "(gatekit inspect: --model)",
            source,
        )
    return available[0] if available else None


def read_json(path: Path) -> Any:
    """A whole JSON file, NaN kept as float NaN (harnesses write it; it is reported, never compared)."""
    from gatekit.spec.yamlio import RESULTS_MAX_BYTES, load_json_text, read_text

    return load_json_text(
        read_text(path, max_bytes=RESULTS_MAX_BYTES, error=ResultsError), str(path), error=ResultsError
    ).data


def minimal_spec() -> Spec:
    """A spec with no gates' worth of meaning, for reading a file without one (`gatekit inspect`)."""
    import datetime as dt

    return Spec.model_validate(
        {
            "version": 1,
            "name": "inspect",
            "hypothesis": {
                "statement": "-",
                "stage": "other",
                "improves": "-",
                "owner": "-",
                "written": dt.date(2000, 1, 1),
            },
            "gates": [{"id": "none", "metric": "-", "min": 0.0}],
            "rollback": {},
        }
    )
