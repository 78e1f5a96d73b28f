"""Sequential designs: decisions that stay valid when the same candidate's results are checked as they grow.

A fixed-n interval at level alpha, checked at every look, passes a bad candidate by luck far more often than
alpha (with 50 looks, several times alpha). Two remedies, both applied as the confidence at which the gate's
own interval method is read at a look (so every method in `gatekit.decide.confidence` serves):

* **confidence-sequence**: the two-sided normal-mixture boundary of Robbins (1970), in the form of Howard,
  Ramdas, McAuliffe & Sekhon (2021, eq. 14): with unit variance per example, the running mean stays within
  sqrt((n + rho) log((n + rho) / (rho alpha^2))) / n of the truth at every n at once with probability
  1 - alpha (Ville's inequality on the mixture martingale). Dividing by the fixed-n standard error gives the
  critical value z_n = sqrt((1 + eta) log((1 + eta) / (eta alpha^2))), eta = rho / n: the interval at
  confidence Phi(z_n) is the confidence sequence. rho is chosen so that the boundary is tightest at the
  design's `max_n`. Using the gate's interval (Clopper-Pearson, MOVER, t) in place of the normal one makes it an
  asymptotic confidence sequence (Waudby-Smith, Arnold, Wu, Howard & Ramdas 2024); the calibration bench
  (bench/calibration_sequential.py) measures the false-ship rate it keeps.
* **obrien-fleming / pocock**: Lan-DeMets alpha spending over `max_looks` equally spaced looks. Look k may
  spend alpha(k / K) - alpha((k - 1) / K), with alpha(t) = 2 - 2 Phi(z_{1 - alpha/2} / sqrt(t)) (O'Brien-
  Fleming type) or alpha log(1 + (e - 1) t) (Pocock type). Each look is decided at its own share of alpha,
  so by the union bound the chance of ever passing falsely is at most alpha(1) = alpha. (The exact
  group-sequential boundaries, which account for the correlation between looks, would be a little less
  strict; the union bound is simpler and never anti-conservative.) A look past K has no alpha left.

Pure: the look number comes from the decision ledger, read by the caller.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

from gatekit.spec.model import Sequential

_NORMAL = NormalDist()
NO_ALPHA = 1e-12
"""The alpha of a look that has none left: its bound is effectively unbounded and cannot pass."""


def _mixture_z(eta: float, alpha: float) -> float:
    return math.sqrt((1 + eta) * math.log((1 + eta) / (eta * alpha * alpha)))


@functools.lru_cache(maxsize=256)
def _best_eta(alpha: float) -> float:
    """The eta = rho / n that makes the mixture boundary narrowest at n (golden-section search on log eta)."""
    lo, hi = math.log(1e-6), math.log(1e3)
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(200):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if _mixture_z(math.exp(a), alpha) < _mixture_z(math.exp(b), alpha):
            hi = b
        else:
            lo = a
    return math.exp((lo + hi) / 2)


def confidence_sequence_z(n: int, alpha: float, max_n: int) -> float:
    """The critical value of the normal-mixture confidence sequence at n examples, tuned for max_n."""
    rho = _best_eta(alpha) * max_n
    return _mixture_z(rho / max(n, 1), alpha)


def spending(method: str, t: float, alpha: float) -> float:
    """The cumulative alpha a Lan-DeMets spending function allows at information fraction t in [0, 1]."""
    t = min(max(t, 0.0), 1.0)
    if t == 0:
        return 0.0
    if method == "obrien-fleming":
        return 2 - 2 * _NORMAL.cdf(_NORMAL.inv_cdf(1 - alpha / 2) / math.sqrt(t))
    if method == "pocock":
        return alpha * math.log(1 + (math.e - 1) * t)
    raise ValueError(f"not an alpha-spending method: {method}")


def look_alpha(method: str, look: int, max_looks: int, alpha: float) -> float:
    """The alpha look `look` (1-based) may spend; NO_ALPHA past the last look."""
    if look > max_looks:
        return NO_ALPHA
    spent = spending(method, look / max_looks, alpha) - spending(method, (look - 1) / max_looks, alpha)
    return max(spent, NO_ALPHA)


def fraction_alpha(method: str, n: int, previous_n: int, max_n: int, alpha: float) -> float:
    """The alpha a look at n examples may spend when the previous look of the same cell saw `previous_n`:
    alpha(n / max_n) - alpha(previous_n / max_n); NO_ALPHA once the previous look reached max_n (or when
    the results did not grow)."""
    spent = spending(method, n / max_n, alpha) - spending(method, previous_n / max_n, alpha)
    return max(spent, NO_ALPHA)


def look_confidence(design: Sequential, confidence: float, *, n: int, look: int, previous_n: int = 0) -> float:
    """The confidence at which a check under `design` reads its interval at this look with n examples
    (`previous_n`: the same cell's n at the previous look, for spending by information fraction)."""
    alpha = 1 - confidence
    if design.method == "confidence-sequence":
        assert design.max_n is not None
        z = confidence_sequence_z(n, alpha, design.max_n)
        return min(_NORMAL.cdf(z), 1 - NO_ALPHA)
    if design.max_looks is not None and look > design.max_looks:
        return 1 - NO_ALPHA
    if design.max_n is not None:
        return 1 - fraction_alpha(design.method, n, previous_n, design.max_n, alpha)
    assert design.max_looks is not None
    return 1 - look_alpha(design.method, look, design.max_looks, alpha)


def describe(design: Sequential) -> str:
    if design.method == "confidence-sequence":
        return f"confidence sequence (normal mixture, tuned for n = {design.max_n:,})"
    name = "O'Brien-Fleming" if design.method == "obrien-fleming" else "Pocock"
    if design.max_n is not None:
        capped = f", at most {design.max_looks} looks" if design.max_looks is not None else ""
        return f"{name}-type alpha spending up to n = {design.max_n:,}{capped}"
    return f"{name}-type alpha spending over {design.max_looks} looks"


# --- looks -------------------------------------------------------------------------------------------------


Sizes = Mapping[str, int]
"""Examples per gated cell, `metric[slice]` -> n: what a look saw."""


@dataclass(frozen=True)
class Look:
    """Where this check stands among the recorded looks at the same candidate under the same spec."""

    number: int
    """1 for the first look; a re-check of results already seen keeps that look's number."""
    previous: Mapping[str, int]
    """The sizes at the look before this one (empty at the first look)."""
    earlier_decisions: tuple[int, ...]
    """Ledger ids of the earlier decisions on this candidate under this spec."""
    grew: bool
    """Whether some cell has more examples than at an earlier look."""

    @property
    def repeated(self) -> bool:
        return self.number > 1


def locate_look(earlier: Sequence[tuple[int, Sizes]], current: Sizes) -> Look:
    """The look number of `current` among earlier decisions (id, sizes), oldest first. A look is a distinct
    set of sizes: checking the same results twice is one look."""
    distinct: list[Sizes] = []
    for _, sizes in earlier:
        if sizes and all(dict(sizes) != dict(d) for d in distinct):
            distinct.append(sizes)
    number = next((i + 1 for i, d in enumerate(distinct) if dict(d) == dict(current)), len(distinct) + 1)
    grew = any(any(n > d.get(cell, 0) for cell, n in current.items()) for d in distinct[: number - 1])
    previous = dict(distinct[number - 2]) if number >= 2 else {}
    return Look(number, previous, tuple(i for i, _ in earlier), grew)


def peeking_message(look: Look, candidate: str) -> str:
    return (
        f"look {look.number} of this candidate ({candidate}) under this spec "
        f"(earlier decisions {', '.join(f'#{i}' for i in look.earlier_decisions)}); fixed-n intervals are not "
        "valid under repeated looks: declare `sequential:` in the spec to check results as they arrive"
    )
