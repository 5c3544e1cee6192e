"""The rollout gate's statistics: one-sided confidence bounds, in plain Python.

- :func:`wilson_bounds`: Wilson's score interval for a proportion (Wilson 1927; Brown, Cai and
  DasGupta 2001 recommend it over the normal "Wald" interval, which collapses to zero width
  at 0 events). Closed form, so the Prometheus recording rules compute the same numbers.
- :func:`newcombe_difference_bounds`: Newcombe's hybrid score interval for the difference of
  two independent proportions (Newcombe 1998, method 10), built from the two Wilson intervals.
- :func:`quantile_bounds`: a distribution-free confidence interval for a quantile from
  bucketed observations: the order statistics whose ranks bracket the quantile with the
  wanted probability (a binomial argument; Conover, *Practical Nonparametric Statistics*,
  section 3.2), widened to the edges of the buckets those ranks fall in.
- :func:`binomial_cdf` through the regularised incomplete beta function (continued fraction,
  modified Lentz; Press et al., *Numerical Recipes*, 6.4).

A bound at ``confidence`` c is one-sided: the true value is below an upper bound (or above a
lower bound) with probability at least c. Each criterion of the gate asks one such question.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

_LENTZ_TINY = 1e-300
_LENTZ_EPS = 1e-15
_LENTZ_MAX_ITERATIONS = 100_000


def one_sided_z(confidence: float) -> float:
    """The standard normal quantile for a one-sided bound (0.95 -> 1.6449)."""
    if not 0.5 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0.5 and 1, not {confidence!r}")
    return NormalDist().inv_cdf(confidence)


def wilson_bounds(successes: int, n: int, confidence: float) -> tuple[float, float]:
    """(lower, upper) one-sided Wilson score bounds for a proportion; (0, 1) when ``n`` is 0."""
    _check_counts(successes, n)
    if n == 0:
        return 0.0, 1.0
    z = one_sided_z(confidence)
    p = successes / n
    z2n = z * z / n
    center = (p + z2n / 2) / (1 + z2n)
    half = (z / (1 + z2n)) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # exactly 0 (1) at 0 (n) successes; the closed form leaves a rounding error there
    lower = 0.0 if successes == 0 else max(0.0, center - half)
    upper = 1.0 if successes == n else min(1.0, center + half)
    return lower, upper


def newcombe_difference_bounds(
    successes_a: int, n_a: int, successes_b: int, n_b: int, confidence: float
) -> tuple[float, float]:
    """(lower, upper) one-sided bounds for ``p_a - p_b`` (Newcombe's hybrid score method):
    each side's Wilson interval at the same z, combined in quadrature."""
    lower_a, upper_a = wilson_bounds(successes_a, n_a, confidence)
    lower_b, upper_b = wilson_bounds(successes_b, n_b, confidence)
    p_a = successes_a / n_a if n_a else 0.0
    p_b = successes_b / n_b if n_b else 0.0
    d = p_a - p_b
    lower = d - math.sqrt((p_a - lower_a) ** 2 + (upper_b - p_b) ** 2)
    upper = d + math.sqrt((upper_a - p_a) ** 2 + (p_b - lower_b) ** 2)
    return max(-1.0, lower), min(1.0, upper)


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if a <= 0 or b <= 0:
        raise ValueError("a and b must be positive")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    # the continued fraction converges fast for x < (a + 1) / (a + b + 2); else use symmetry
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _LENTZ_TINY else _LENTZ_TINY)
    h = d
    step = 0.0
    for m in range(1, _LENTZ_MAX_ITERATIONS):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _LENTZ_TINY else _LENTZ_TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _LENTZ_TINY else _LENTZ_TINY
            step = d * c
            h *= step
        if abs(step - 1.0) < _LENTZ_EPS:
            return h
    raise ArithmeticError(f"incomplete beta did not converge (a={a}, b={b}, x={x})")


# Past this many trials the binomial is computed through the normal distribution: the
# continued fraction's terms overflow near 1e15, and the approximation's error (the
# Berry-Esseen bound, below 1e-3 here for p in 0.01..0.99) no longer moves a rank that matters.
NORMAL_APPROXIMATION_TRIALS = 10**8


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    if n > NORMAL_APPROXIMATION_TRIALS:  # with continuity correction
        return NormalDist(n * p, math.sqrt(n * p * (1 - p))).cdf(k + 0.5)
    return regularized_incomplete_beta(n - k, k + 1, 1.0 - p)


def quantile_rank_bounds(n: int, quantile: float, confidence: float) -> tuple[int, int | None]:
    """The 1-based ranks (l, u) of the order statistics that bound the ``quantile`` of the
    population one-sidedly at ``confidence``: P(X(l) <= q) >= c and P(X(u) >= q) >= c.

    ``l`` is 0 when no observation is a lower bound (the bound is then -inf); ``u`` is None
    when no observation is an upper bound (too few observations)."""
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be between 0 and 1, not {quantile!r}")
    if n <= 0:
        return 0, None
    # u: the smallest rank with P(Bin(n, q) <= u - 1) >= c
    low, high = 1, n + 1  # n + 1 stands for "none"
    while low < high:
        middle = (low + high) // 2
        if binomial_cdf(middle - 1, n, quantile) >= confidence:
            high = middle
        else:
            low = middle + 1
    upper: int | None = low if low <= n else None
    # l: the largest rank with P(Bin(n, q) <= l - 1) <= 1 - c
    low, high = 0, n
    while low < high:
        middle = (low + high + 1) // 2
        if binomial_cdf(middle - 1, n, quantile) <= 1.0 - confidence:
            low = middle
        else:
            high = middle - 1
    return low, upper


def quantile_bounds(
    edges: Sequence[float],
    counts: Sequence[int],
    quantile: float,
    confidence: float,
    *,
    interpolate: bool = False,
) -> tuple[float, float]:
    """(lower, upper) one-sided bounds for a quantile of the population the bucketed
    observations were drawn from. ``edges`` are the buckets' upper edges, ascending (the last
    may be ``inf``), ``counts`` the observations in each (not cumulative); a bucket holds the
    values above the previous edge (above 0 for the first) up to its own. The bounds are bucket
    edges: the lower edge of the bucket holding rank l, the upper edge of the one holding
    rank u (``inf`` when u does not exist or lies in an unbounded bucket).

    With ``interpolate`` the ranks are placed inside their buckets linearly, as Prometheus'
    ``histogram_quantile`` does: tighter, but it assumes values spread evenly in a bucket (the
    order statistics' guarantee then holds only up to that assumption)."""
    if len(edges) != len(counts):
        raise ValueError("edges and counts differ in length")
    n = sum(counts)
    lower_rank, upper_rank = quantile_rank_bounds(n, quantile, confidence)
    lower, upper = 0.0, math.inf
    cumulative = 0
    previous_edge = 0.0
    for edge, count in zip(edges, counts, strict=True):
        if count:
            first, cumulative = cumulative + 1, cumulative + count
            if lower_rank and first <= lower_rank <= cumulative:
                lower = previous_edge
                if interpolate and not math.isinf(edge):
                    lower += (edge - previous_edge) * (lower_rank - first + 1) / count
            if upper_rank is not None and first <= upper_rank <= cumulative:
                upper = edge
                if interpolate and not math.isinf(edge):
                    upper = (
                        previous_edge + (edge - previous_edge) * (upper_rank - first + 1) / count
                    )
        previous_edge = edge
    return lower, upper


def quantile_estimate(edges: Sequence[float], counts: Sequence[int], quantile: float) -> float:
    """The sample quantile from bucketed observations: its rank placed linearly inside its
    bucket (the upper edge when the bucket is unbounded)."""
    n = sum(counts)
    rank = max(1, math.ceil(quantile * n))
    cumulative = 0
    previous_edge = 0.0
    for edge, count in zip(edges, counts, strict=True):
        if count and cumulative + count >= rank:
            if math.isinf(edge):
                return previous_edge
            return previous_edge + (edge - previous_edge) * (rank - cumulative) / count
        cumulative += count
        previous_edge = edge
    return previous_edge


def ratio_bounds(
    numerator: tuple[float, float, float], denominator: tuple[float, float, float]
) -> tuple[float, float]:
    """(lower, upper) bounds of a ratio of two independent positive quantities, each given as
    (estimate, lower, upper) with one-sided bounds at the same confidence: the MOVER method
    on the log scale (Zou and Donner, "Construction of confidence limits about effect
    measures: a general approach", Statistics in Medicine 2008), which combines the two
    intervals' half-widths in quadrature as Newcombe's interval does for a difference (a
    quotient of the two bounds, dark high / stable low, would hold only at 1 - 2(1 - c))."""
    (a, a_low, a_high), (b, b_low, b_high) = numerator, denominator
    if a <= 0 or b <= 0:
        return 0.0, math.inf
    log_a, log_b = math.log(a), math.log(b)
    estimate = log_a - log_b
    lower = estimate - math.hypot(log_a - _log(a_low), _log(b_high) - log_b)
    upper = estimate + math.hypot(_log(a_high) - log_a, log_b - _log(b_low))
    return _exp(lower), _exp(upper)


def _log(value: float) -> float:
    return -math.inf if value <= 0 else math.log(value)


def _exp(value: float) -> float:
    if math.isnan(value):
        return math.nan
    return math.exp(value) if value < 700 else math.inf


def _check_counts(successes: int, n: int) -> None:
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, not {successes} of {n}")
