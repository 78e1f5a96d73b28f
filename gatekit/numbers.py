"""One way to print a number in every report and message.

A value is shown to the precision its uncertainty allows: given the width of its confidence interval, it is
rounded to the decimal place of the width's second significant digit (0.0464833 with an interval 0.023 wide
is 0.046). Without one, six significant digits with float noise dropped. Ordinary magnitudes are never in
exponent form (1,590, not 1.59e+03) and thousands are grouped; only magnitudes below 1e-4 or from 1e15 up use
an exponent, where fixed notation would be a row of zeros.
"""

from __future__ import annotations

import math

SIGNIFICANT = 6
"""Significant digits of a value with no known uncertainty."""
_MAX_DECIMALS = 12


def format_number(value: float | None, *, uncertainty: float | None = None, signed: bool = False) -> str:
    """`value` as reports print it; `uncertainty` is the width of its interval, `signed` puts '+' on a gain."""
    if value is None:
        return "n/a"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    if uncertainty is not None and math.isfinite(uncertainty) and uncertainty > 0:
        decimals = min(_MAX_DECIMALS, max(0, 1 - math.floor(math.log10(uncertainty))))
        text = f"{value:,.{decimals}f}"
    else:
        text = _plain(value)
    if text.startswith("-") and not any(c in "123456789" for c in text):
        text = text[1:]  # a value that rounds to zero has no sign
    return "+" + text if signed and value > 0 and not text.startswith("-") else text


def interval_width(interval: tuple[float | None, float | None] | None) -> float | None:
    """The width of a two-sided interval; None when there is none or one side is open."""
    if interval is None or interval[0] is None or interval[1] is None:
        return None
    width = interval[1] - interval[0]
    return width if math.isfinite(width) else None


def _plain(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude < -4 or magnitude >= 15:
        return f"{value:.{SIGNIFICANT}g}"
    decimals = max(0, SIGNIFICANT - 1 - magnitude)
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
