"""The gate's statistics against reference implementations (scipy, statsmodels)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from comparator.core.gate.statistics import (
    binomial_cdf,
    newcombe_difference_bounds,
    one_sided_z,
    quantile_bounds,
    quantile_estimate,
    quantile_rank_bounds,
    ratio_bounds,
    regularized_incomplete_beta,
    wilson_bounds,
)

# one-sided bounds at c are the ends of a two-sided interval at 2c - 1 (alpha = 2 (1 - c))
CASES = [(0, 1), (0, 50), (1, 50), (3, 100), (30, 1000), (10, 10_000), (999, 1000), (0, 10**6)]


def test_one_sided_z_is_the_normal_quantile():
    for confidence in (0.8, 0.9, 0.95, 0.99, 0.999):
        assert one_sided_z(confidence) == pytest.approx(stats.norm.ppf(confidence), rel=1e-12)
    with pytest.raises(ValueError):
        one_sided_z(0.5)


@pytest.mark.parametrize(("k", "n"), CASES)
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_bounds_match_statsmodels(k: int, n: int, confidence: float):
    low, high = proportion_confint(k, n, alpha=2 * (1 - confidence), method="wilson")
    assert wilson_bounds(k, n, confidence) == pytest.approx((low, high), abs=1e-12)


@given(
    st.integers(0, 10**6).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.sampled_from([0.9, 0.95, 0.99]),
)
@settings(max_examples=300, deadline=None)
def test_wilson_bounds_match_statsmodels_everywhere(kn: tuple[int, int], confidence: float):
    k, n = kn
    if n == 0:
        assert wilson_bounds(k, n, confidence) == (0.0, 1.0)
        return
    low, high = proportion_confint(k, n, alpha=2 * (1 - confidence), method="wilson")
    lower, upper = wilson_bounds(k, n, confidence)
    assert (lower, upper) == pytest.approx((low, high), abs=1e-10)
    assert lower <= k / n <= upper


@pytest.mark.parametrize(
    ("dark", "n_dark", "stable", "n_stable"),
    [
        (30, 1000, 20, 1100),
        (0, 500, 0, 500),
        (5, 200, 40, 210),
        (120, 5000, 60, 5000),
        (1, 10, 0, 7),
    ],
)
@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_newcombe_bounds_match_statsmodels(
    dark: int, n_dark: int, stable: int, n_stable: int, confidence: float
):
    low, high = confint_proportions_2indep(
        dark, n_dark, stable, n_stable, method="newcomb", compare="diff",
        alpha=2 * (1 - confidence),
    )  # fmt: skip
    expected = (float(low), float(high))
    got = newcombe_difference_bounds(dark, n_dark, stable, n_stable, confidence)
    assert got == pytest.approx(expected, abs=1e-10)


@given(
    st.floats(0.1, 5e4),
    st.floats(0.1, 5e4),
    st.floats(0.0, 1.0, exclude_min=True, exclude_max=True),
)
@settings(max_examples=300, deadline=None)
def test_incomplete_beta_matches_scipy(a: float, b: float, x: float):
    expected = stats.beta.cdf(x, a, b)
    assert regularized_incomplete_beta(a, b, x) == pytest.approx(expected, rel=1e-8, abs=1e-12)


@given(
    st.integers(1, 200_000).flatmap(lambda n: st.tuples(st.integers(-1, n + 1), st.just(n))),
    st.floats(0.001, 0.999),
)
@settings(max_examples=300, deadline=None)
def test_binomial_cdf_matches_scipy(kn: tuple[int, int], p: float):
    k, n = kn
    assert binomial_cdf(k, n, p) == pytest.approx(stats.binom.cdf(k, n, p), rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("n", [1, 10, 59, 100, 1000, 12_345, 10**6])
@pytest.mark.parametrize(("quantile", "confidence"), [(0.95, 0.95), (0.5, 0.9), (0.99, 0.95)])
def test_quantile_ranks_are_the_binomial_order_statistic_bounds(
    n: int, quantile: float, confidence: float
):
    lower, upper = quantile_rank_bounds(n, quantile, confidence)
    # upper: the smallest rank u with P(Bin(n, q) <= u - 1) >= c (scipy's binom.ppf is that)
    u = int(stats.binom.ppf(confidence, n, quantile)) + 1
    assert upper == (u if u <= n else None)
    # lower: the largest rank l with P(Bin(n, q) <= l - 1) <= 1 - c
    if lower:
        assert stats.binom.cdf(lower - 1, n, quantile) <= 1 - confidence + 1e-12
    if lower < n:
        assert stats.binom.cdf(lower, n, quantile) > 1 - confidence - 1e-12


def test_quantile_bounds_cover_the_true_quantile_at_the_stated_rate():
    """Coverage by simulation: each one-sided bound misses at most about 5% of the time."""
    import random

    rng = random.Random(7)
    edges = [1.02**i / 1000 for i in range(0, 400)]
    true_p95 = stats.lognorm.ppf(0.95, 0.5, scale=0.05)
    misses_upper = misses_lower = 0
    trials = 400
    for _ in range(trials):
        values = [rng.lognormvariate(math.log(0.05), 0.5) for _ in range(800)]
        counts = [0] * len(edges)
        for value in values:
            index = min(len(edges) - 1, max(0, math.ceil(math.log(value * 1000) / math.log(1.02))))
            counts[index] += 1
        lower, upper = quantile_bounds(edges, counts, 0.95, 0.95)
        misses_upper += upper < true_p95
        misses_lower += lower > true_p95
    # binomial(400, 0.05) stays below 32 with probability > 0.999
    assert misses_upper < 32 and misses_lower < 32


def test_quantile_bounds_are_bucket_edges():
    edges = [0.1, 0.2, 0.5, math.inf]
    counts = [500, 400, 90, 10]  # p95 lies in the (0.2, 0.5] bucket
    lower, upper = quantile_bounds(edges, counts, 0.95, 0.95)
    assert (lower, upper) == (0.2, 0.5)
    # too few observations for an upper bound of a p95
    assert quantile_bounds([0.1], [10], 0.95, 0.95)[1] == math.inf
    # everything above the last finite edge: no finite upper bound
    assert quantile_bounds(edges, [0, 0, 0, 100], 0.95, 0.95) == (0.5, math.inf)


@pytest.mark.parametrize("n", [10**8 + 1, 10**9, 10**12])
def test_binomial_cdf_at_huge_n_is_the_normal_approximation_and_does_not_overflow(n: int):
    """Past 1e8 trials the continued fraction is replaced (it overflowed near 1e15)."""
    k = int(n * 0.95) - 1000
    assert binomial_cdf(k, n, 0.95) == pytest.approx(stats.binom.cdf(k, n, 0.95), abs=2e-3)
    lower, upper = quantile_rank_bounds(n, 0.95, 0.95)
    assert upper is not None and lower < n * 0.95 < upper


def test_judging_the_largest_counts_evidence_accepts():
    """The largest evidence a document may hold is judged, not crashed on (fuzzing found
    counts of 5e15 crashing the incomplete beta, and sums past 64 bits crashing orjson)."""
    import orjson

    from comparator.core.gate.criteria import GatePolicy
    from comparator.core.gate.evidence import MAX_COUNT, EvidenceError, GateEvidence
    from comparator.core.gate.verdict import judge

    route = {
        "pairs": MAX_COUNT,
        "mismatches": 10,
        "responses": {"stable": MAX_COUNT, "dark": MAX_COUNT},
        "latency_seconds": {"stable": [[0.05, MAX_COUNT]], "dark": [[0.05, MAX_COUNT]]},
    }
    document = {"routes": {f"GET /{i}": route for i in range(100)}}
    evidence = GateEvidence.from_json(document, "peer")
    report = judge(evidence, GatePolicy())
    checks = {check.name: check for check in report.routes[0].checks}
    assert checks["divergence"].verdict == "pass" and checks["error_rate"].verdict == "pass"
    # every latency in one bucket: a p95 known only to lie in (0, 50 ms]: cannot tell
    assert checks["latency_p95"].verdict == "inconclusive"
    orjson.dumps({**report.to_json(), "evidence": evidence.to_json()})
    with pytest.raises(EvidenceError):
        GateEvidence.from_json({"routes": {"a": {"pairs": MAX_COUNT + 1}}}, "peer")


def test_interpolated_bounds_use_the_lower_edge_of_the_bucket_even_after_empty_ones():
    # every observation in (0.25, 0.5]; the empty buckets before it say where it starts
    edges = [0.1, 0.15, 0.25, 0.5, math.inf]
    counts = [0, 0, 0, 1000, 0]
    lower, upper = quantile_bounds(edges, counts, 0.95, 0.95, interpolate=True)
    assert 0.48 < lower <= upper < 0.495  # 0.25 + 0.25 * rank / 1000, ranks around 950


def test_quantile_estimate_interpolates_within_the_bucket():
    assert quantile_estimate([0.1, 0.2], [50, 50], 0.95) == pytest.approx(0.19)
    assert quantile_estimate([0.1, math.inf], [90, 10], 0.95) == 0.1


def test_ratio_bounds_cover_the_true_ratio_at_the_stated_rate():
    """MOVER on the log scale: with two samples of the same lognormal distribution (true p95
    ratio 1.0), the upper bound falls below 1 and the lower bound above 1 each at most ~5% of
    the time; a quotient of the one-sided bounds would not be a 95% bound."""
    import random

    rng = random.Random(11)
    edges = [1.02**i / 1000 for i in range(0, 500)]

    def bucketed(values: list[float]) -> list[int]:
        counts = [0] * len(edges)
        for value in values:
            index = min(len(edges) - 1, max(0, math.ceil(math.log(value * 1000) / math.log(1.02))))
            counts[index] += 1
        return counts

    misses_upper = misses_lower = 0
    trials = 300
    for _ in range(trials):
        sides = []
        for _side in range(2):
            counts = bucketed([rng.lognormvariate(math.log(0.05), 0.5) for _ in range(1500)])
            low, high = quantile_bounds(edges, counts, 0.95, 0.95)
            estimate = min(max(quantile_estimate(edges, counts, 0.95), low), high)
            sides.append((estimate, low, high))
        lower, upper = ratio_bounds(sides[0], sides[1])
        misses_upper += upper < 1.0
        misses_lower += lower > 1.0
    # binomial(300, 0.05) stays below 26 with probability > 0.999
    assert misses_upper < 26 and misses_lower < 26
    # and the bounds are not so wide as to say nothing: a 10% threshold can be met
    assert ratio_bounds(sides[0], sides[1])[1] < 1.25


def test_ratio_bounds_edge_cases():
    assert ratio_bounds((1.0, 0.0, 2.0), (1.0, 0.5, 2.0))[0] == 0.0  # no lower bound on top
    assert ratio_bounds((1.0, 0.5, math.inf), (1.0, 0.5, 2.0))[1] == math.inf
    assert ratio_bounds((1.0, 0.5, 2.0), (1.0, 0.0, 2.0))[1] == math.inf
    assert ratio_bounds((0.0, 0.0, 1.0), (1.0, 0.5, 2.0)) == (0.0, math.inf)
