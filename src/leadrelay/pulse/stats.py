"""Small-sample statistics for the leak report: intervals and quantiles.

Plain arithmetic on numbers, with no database and no Django, so that every
figure the report states can be checked by hand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: The normal quantile for a two-sided 95% interval.
Z95 = 1.96


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Return the Wilson score interval for `successes` out of `n`, or None if n is 0.

    With p = successes / n, the interval is

        (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)

    Unlike p ± z·√(p(1−p)/n) it stays inside [0, 1] and does not collapse
    to a single point at 0 of n or n of n, which is what makes it fit for
    the small counts a breakdown produces.
    """
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, not {successes} of {n}")

    if n == 0:
        return None

    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # Clamp the rounding error at the ends: 0 of n must give exactly 0.
    return max(0.0, centre - half), min(1.0, centre + half)


def quantile(values: Sequence[float], q: float) -> float | None:
    """Return the q-quantile of `values` (0 <= q <= 1), or None if there are none.

    Linear interpolation between order statistics: with the values sorted as
    x[0] <= ... <= x[m-1] and h = (m - 1)·q, the result is
    x[⌊h⌋] + (h - ⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋]). This is the common default of
    spreadsheets and NumPy, so a reader's own check agrees.
    """
    if not 0 <= q <= 1:
        raise ValueError(f"a quantile is between 0 and 1, not {q}")

    if not values:
        return None

    ordered = sorted(values)
    h = (len(ordered) - 1) * q
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


def median(values: Sequence[float]) -> float | None:
    return quantile(values, 0.5)
