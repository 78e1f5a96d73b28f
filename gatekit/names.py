"""Hints about names a user wrote: the closest existing name, for every error message that reports an unknown one."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.75) -> str:
    """A hint naming the closest existing name. Near-misses in case or Unicode form are never matched silently."""
    choices = list(choices)
    folded = fold(word)
    same = [c for c in choices if fold(c) == folded]
    if not same:
        # lm-eval names metrics `<metric>,<filter>`: `acc` means `acc,none`, `exact_match` one of its filters.
        filtered = [c for c in choices if "," in c and fold(c.rpartition(",")[0]) == folded]
        if filtered:
            return " (did you mean " + " or ".join(repr(c) for c in filtered) + "?)"
    close = same or difflib.get_close_matches(word, choices, n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


def fold(name: str) -> str:
    """The form two names are compared in: NFKC-normalised and case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()
