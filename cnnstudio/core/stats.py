"""Figures over repeated runs, and a plain-words verdict on whether two settings really differ.

A verdict compares two arms (the runs of two settings, one run per seed) with Welch's
t-test (two-sided, unequal variances, p < 0.05) and says so in words: "LeNet-5 beats the
MLP by 2.9 points of test accuracy; the seeds differ by at most 0.4: a real difference".
With one seed in an arm no test can tell noise from a difference, and the verdict says that.

The t distribution is computed here (the regularized incomplete beta function, by its
continued fraction) rather than taken from SciPy: core stays NumPy-only, and one
20-line function does not justify a 100 MB dependency. Tests check it against SciPy's values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

SIGNIFICANCE = 0.05
WELCH = "Welch's t-test"


@dataclass(frozen=True)
class Summary:
    """Mean, sample standard deviation, lowest and highest of some values (None ones left out)."""

    count: int
    mean: float | None
    std: float | None  # sample standard deviation (n - 1); 0.0 for a single value
    low: float | None
    high: float | None

    @property
    def spread(self) -> float:
        """Highest minus lowest (0 for fewer than two values)."""
        return 0.0 if self.count < 2 else float(self.high - self.low)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def summarize(values: Iterable[float | None]) -> Summary:
    """The Summary of the finite numbers among `values`."""
    kept = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not kept:
        return Summary(0, None, None, None, None)
    n = len(kept)
    mean = math.fsum(kept) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in kept) / (n - 1)) if n > 1 else 0.0
    return Summary(n, mean, std, min(kept), max(kept))


# -- Welch's t-test ------------------------------------------------------------------------

@dataclass(frozen=True)
class TTest:
    """The result of a two-sided Welch's t-test: statistic, degrees of freedom, p-value."""

    t: float
    df: float
    p: float
    name: str = WELCH


def welch_t_test(a: Iterable[float], b: Iterable[float]) -> TTest:
    """Two-sided Welch's t-test of "a and b have the same mean"; needs two values in each.

    When both samples have no spread at all the test is decided by the means alone:
    p = 1 when they are equal, p = 0 when they differ (every repetition agrees).
    """
    a, b = [float(v) for v in a], [float(v) for v in b]
    if len(a) < 2 or len(b) < 2:
        raise ValueError("Welch's t-test needs at least two values in each sample")
    sa, sb = summarize(a), summarize(b)
    va, vb = sa.std ** 2 / len(a), sb.std ** 2 / len(b)
    difference = sa.mean - sb.mean
    if va + vb == 0.0:
        if difference == 0.0:
            return TTest(0.0, float(len(a) + len(b) - 2), 1.0)
        return TTest(math.copysign(math.inf, difference), float(len(a) + len(b) - 2), 0.0)
    t = difference / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return TTest(t, df, t_two_sided_p(t, df))


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t distribution with `df` (possibly fractional) degrees of freedom."""
    if df <= 0:
        raise ValueError("degrees of freedom must be above 0")
    if math.isinf(t):
        return 0.0
    return min(1.0, max(0.0, regularized_beta(df / 2.0, 0.5, df / (df + t * t))))


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function (Numerical Recipes' continued fraction)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b), evaluated by the modified Lentz method."""
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


# -- verdicts ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Metric:
    """What the arms are compared on, and how to write a difference in it."""

    name: str  # "test accuracy"
    higher_is_better: bool = True
    scale: float = 100.0  # accuracy 0.029 -> 2.9 points
    unit: str = "points"

    def amount(self, value: float) -> str:
        text = f"{abs(value) * self.scale:.1f}" if self.scale != 1 else f"{abs(value):.3g}"
        return f"{text} {self.unit}".strip()


TEST_ACCURACY = Metric("test accuracy")
VALIDATION_ACCURACY = Metric("validation accuracy")
TEST_LOSS = Metric("test loss", higher_is_better=False, scale=1.0, unit="")
TEST_MEAN_IOU = Metric("test mean IoU")  # segmentation
TEST_MAE = Metric("test MAE", higher_is_better=False, scale=1.0, unit="")  # regression
TEST_AUC = Metric("test AUC")  # multi-label


@dataclass(frozen=True)
class Verdict:
    """Whether arm `better` really beats arm `worse`, in words, with the test behind it.

    `real` is True (a real difference), False (inside seed noise) or None (cannot tell:
    an arm has a single seed). `difference` is mean(better) - mean(worse) in the metric's
    own units (signed so that it favours `better`); `spread` is the largest highest-minus-
    lowest within an arm.
    """

    better: str
    worse: str
    metric: str
    difference: float
    spread: float
    seeds: tuple[int, int]  # values in the better and the worse arm
    real: bool | None
    text: str
    details: str
    test: str | None = None
    p: float | None = None
    t: float | None = None
    df: float | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seeds"] = list(self.seeds)
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in data.items()}


def compare(name_a: str, values_a: Iterable[float | None], name_b: str, values_b: Iterable[float | None],
            metric: Metric = TEST_ACCURACY) -> Verdict:
    """The verdict on two arms: which is better, by how much, and whether that is more than seed noise."""
    a = [float(v) for v in values_a if v is not None and math.isfinite(v)]
    b = [float(v) for v in values_b if v is not None and math.isfinite(v)]
    if not a or not b:
        missing = name_a if not a else name_b
        raise ValueError(f"no {metric.name} for {missing}")
    sa, sb = summarize(a), summarize(b)
    sign = 1.0 if metric.higher_is_better else -1.0
    if sign * (sa.mean - sb.mean) < 0:
        (name_a, a, sa), (name_b, b, sb) = (name_b, b, sb), (name_a, a, sa)
    difference = sa.mean - sb.mean
    spread = max(sa.spread, sb.spread)
    seeds = (len(a), len(b))
    if difference == 0:
        claim = f"{name_a} and {name_b} score the same {metric.name} ({_value(sa.mean, metric)})"
    else:
        verb = "beats" if metric.higher_is_better else "has a lower loss than"
        claim = f"{name_a} {verb} {name_b} by {metric.amount(difference)} of {metric.name}"
    if min(seeds) < 2:
        few = "one seed each" if max(seeds) < 2 else f"one seed for {name_a if len(a) < 2 else name_b}"
        return Verdict(name_a, name_b, metric.name, difference, spread, seeds, None,
                       f"{claim}; {few}: cannot tell noise from a difference; run more seeds",
                       f"no test: {WELCH} needs at least two seeds per setting "
                       f"(seeds: {len(a)} and {len(b)})")
    test = welch_t_test(a, b)
    real = test.p < SIGNIFICANCE and difference != 0
    spread_text = metric.amount(spread).removesuffix(" points")
    if real:
        text = f"{claim}; the seeds differ by at most {spread_text}: a real difference"
    elif difference == 0:
        text = f"{claim}: no difference"
    else:
        text = f"{claim}, but the seeds differ by up to {spread_text}: inside seed noise"
    details = (f"{test.name} over {len(a)} and {len(b)} seeds: t = {test.t:.2f}, df = {test.df:.1f}, "
               f"p = {_p_text(test.p)}, {'below' if test.p < SIGNIFICANCE else 'not below'} {SIGNIFICANCE}")
    return Verdict(name_a, name_b, metric.name, difference, spread, seeds, real, text, details,
                   test.name, test.p, test.t, test.df)


def _value(value: float, metric: Metric) -> str:
    return f"{value * metric.scale:.1f}%" if metric.scale == 100 else f"{value:.3g}"


def _p_text(p: float) -> str:
    if p < 0.0001:
        return "< 0.0001"
    return f"{p:.4f}" if p < 0.01 else f"{p:.3f}"
