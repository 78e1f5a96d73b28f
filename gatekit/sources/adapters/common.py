"""What the harness adapters share: choosing the one model of a file that holds several, reading a whole JSON
file, and the spec a file is read with when there is none (`gatekit inspect`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gatekit.errors import ResultsError
from gatekit.spec.model import Spec


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
