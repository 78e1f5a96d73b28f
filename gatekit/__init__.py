"""gatekit: hold a checkpoint to the release gate written before its run.

The public API is `gatekit.check`, which returns a `gatekit.decide.verdict.Verdict`. Importing this package is
cheap: the evaluator and its dependencies load on first use, so `gatekit --version` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from gatekit.api import check as check
    from gatekit.sources.load import load_results as load_results
    from gatekit.sources.load import load_spec as load_spec

__all__ = ["__version__", "check", "load_results", "load_spec"]


def __getattr__(name: str) -> Any:
    if name == "check":
        from gatekit.api import check

        return check
    if name in ("load_spec", "load_results"):
        from gatekit.sources import load

        return getattr(load, name)
    raise AttributeError(f"module 'gatekit' has no attribute {name!r}")
