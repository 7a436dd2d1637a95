"""Number formatting used everywhere in the letter, so text, tables and tests agree.

AUC and AUC differences to three decimals, p-values in the usual style ("p < 0.001",
"p = 0.012"), intervals as "[0.712, 0.801]". Negative numbers use the typographic minus
sign (U+2212). Missing values (``None`` or NaN in the metrics) print as an en dash.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

MISSING = "\u2013"  # en dash: a value the statistics could not compute
MINUS = "\u2212"  # typographic minus sign
TIMES = "\u00d7"  # multiplication sign
EN_DASH = "\u2013"  # ranges: "1,000-3,000" with an en dash


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _signed(text: str) -> str:
    return MINUS + text[1:] if text.startswith("-") else text


def fixed(value: float | None, decimals: int = 3) -> str:
    """A number with a fixed number of decimals ("0.813", MINUS + "0.012"); never "-0.000"."""
    if _missing(value):
        return MISSING
    text = f"{float(value):.{decimals}f}"
    if float(text) == 0.0:
        text = text.lstrip("-")
    return _signed(text)


def auc(value: float | None) -> str:
    """An AUC: three decimals ("0.849")."""
    return fixed(value, 3)


def diff(value: float | None) -> str:
    """A difference of AUCs with an explicit sign ("+0.012", MINUS + "0.034", "0.000")."""
    text = fixed(value, 3)
    if text == MISSING or text.startswith(MINUS) or float(text) == 0.0:
        return text
    return "+" + text


def interval(bounds: Any, decimals: int = 3) -> str:
    """A confidence or seed interval: "[0.712, 0.801]" (en dash if unavailable)."""
    if bounds is None or len(bounds) != 2 or any(_missing(b) for b in bounds):
        return MISSING
    low, high = bounds
    return f"[{fixed(low, decimals)}, {fixed(high, decimals)}]"


def simultaneous_interval(bounds: Any, claimed: bool, decimals: int = 3) -> str:
    """A Holm-compatible simultaneous interval: "[-0.012, 0.034]", or, where the procedure
    claims a direction (``claimed``) and so ends the interval at zero on that side,
    "(0, 0.082]" / "[-0.082, 0)": zero itself is excluded by the claim
    (``stats.holm_compatible_intervals``)."""
    if bounds is None or len(bounds) != 2 or any(_missing(b) for b in bounds):
        return MISSING
    low, high = bounds
    if claimed and low == 0.0:
        return f"(0, {fixed(high, decimals)}]"
    if claimed and high == 0.0:
        return f"[{fixed(low, decimals)}, 0)"
    return interval(bounds, decimals)


def mean_sd(mean: float | None, sd: float | None) -> str:
    """Mean ± standard deviation of AUCs over seeds: "0.770 ± 0.012"."""
    if _missing(mean):
        return MISSING
    if _missing(sd):
        return auc(mean)
    return f"{auc(mean)} ± {fixed(sd, 3)}"


def p_value(value: float | None) -> str:
    """A p-value in running text: "p < 0.001" or "p = 0.012"."""
    cell = p_cell(value)
    if cell == MISSING:
        return "p not computable"
    return f"p {cell}" if cell.startswith("<") else f"p = {cell}"


def p_cell(value: float | None) -> str:
    """A p-value in a table column headed "p": "< 0.001" or "0.012"."""
    if _missing(value):
        return MISSING
    value = float(value)
    if value < 0.0005:
        return "< 0.001"
    return f"{min(value, 1.0):.3f}"


def statistic(value: float | None) -> str:
    """A test statistic (t): two decimals."""
    return fixed(value, 2)


def dof(value: float | None) -> str:
    """Degrees of freedom: an integer when integral, else one decimal."""
    if _missing(value):
        return MISSING
    value = float(value)
    return str(int(value)) if value.is_integer() else fixed(value, 1)


def integer(value: float | int | None) -> str:
    """A count with thousands separators: "1,378,120"."""
    if _missing(value):
        return MISSING
    return f"{int(value):,}"


def percent(share: float | None, decimals: int = 1) -> str:
    """A share in [0, 1] as a percentage: "2.2%"; below 1% one more decimal is kept."""
    if _missing(share):
        return MISSING
    value = 100.0 * float(share)
    if 0 < abs(value) < 1:
        decimals += 1
    return f"{fixed(value, decimals)}%"


def ratio(value: float | None) -> str:
    """A multiplicative factor: "3.4" and the multiplication sign."""
    if _missing(value):
        return MISSING
    return f"{fixed(value, 1)}{TIMES}"


def number(value: Any) -> str:
    """A parameter value as written in params (generator seed, leakage strength...)."""
    if _missing(value):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def long_date(moment: datetime) -> str:
    """A letter date: "5 March 2025" (independent of the locale)."""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def join_words(items: list[str], conjunction: str = "and") -> str:
    """"a", "a and b", "a, b and c"."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def value_range(values: list[float], show: Any) -> str:
    """The range of ``values``, each end shown by ``show``, joined by an en dash; one value
    where both ends show alike."""
    low, high = min(values), max(values)
    return show(low) if show(low) == show(high) else f"{show(low)}{EN_DASH}{show(high)}"
