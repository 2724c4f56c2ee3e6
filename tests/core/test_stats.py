"""Summaries over seeds, Welch's t-test (against SciPy's figures) and the verdict's words."""

from __future__ import annotations

import math

import pytest

from cnnstudio.core.stats import (
    TEST_LOSS,
    WELCH,
    compare,
    regularized_beta,
    summarize,
    t_two_sided_p,
    welch_t_test,
)

# (t, degrees of freedom, two-sided p) from scipy.stats.t.sf(|t|, df) * 2, SciPy 1.17.1
SCIPY_T = [
    (2.228, 10, 0.05001177181711132),
    (12.706, 1, 0.05000080235813319),
    (1.0, 3.7, 0.37814139976045247),
    (0.3, 2.2, 0.7901811784578707),
    (5.5, 4.4, 0.004017748394524367),
    (-2.0, 7.5, 0.08289699529816631),
    (30.0, 2.1, 0.0008439317577479828),
    (0.0, 5, 1.0),
]


@pytest.mark.parametrize("t, df, p", SCIPY_T)
def test_t_distribution_matches_scipy(t, df, p):
    assert t_two_sided_p(t, df) == pytest.approx(p, rel=1e-9, abs=1e-14)


def test_incomplete_beta_matches_scipy_on_both_sides_of_its_switch():
    assert regularized_beta(2.5, 0.5, 0.3) == pytest.approx(0.018927124071945658, rel=1e-10)
    assert regularized_beta(0.5, 7, 0.9) == pytest.approx(0.9999999780702157, rel=1e-12)
    assert regularized_beta(1, 1, 0.0) == 0.0 and regularized_beta(1, 1, 1.0) == 1.0


def test_welch_matches_scipy_ttest_ind_with_unequal_variances():
    result = welch_t_test([0.971, 0.968, 0.975], [0.942, 0.939, 0.947])
    assert result.t == pytest.approx(9.273618495495716, rel=1e-9)
    assert result.df == pytest.approx(3.923607427055702, rel=1e-9)
    assert result.p == pytest.approx(0.000823511364706046, rel=1e-7)
    other = welch_t_test([0.5, 0.61, 0.55, 0.52], [0.56, 0.49, 0.6])
    assert other.p == pytest.approx(0.9067718758467473, rel=1e-7) and other.name == WELCH


def test_welch_without_any_spread_is_decided_by_the_means():
    assert welch_t_test([0.9, 0.9], [0.8, 0.8]).p == 0.0
    assert welch_t_test([0.9, 0.9], [0.9, 0.9]).p == 1.0
    with pytest.raises(ValueError):
        welch_t_test([0.9], [0.8, 0.7])


def test_summary_leaves_out_missing_and_not_a_number():
    s = summarize([0.9, None, 0.7, float("nan"), 0.8])
    assert s.count == 3 and s.mean == pytest.approx(0.8) and s.std == pytest.approx(0.1)
    assert (s.low, s.high) == (0.7, 0.9) and s.spread == pytest.approx(0.2)
    assert summarize([]).mean is None and summarize([0.5]).std == 0.0


def test_a_clear_difference_is_called_real_with_the_test_named():
    v = compare("MLP", [0.942, 0.939, 0.947], "LeNet-5", [0.971, 0.968, 0.975])
    assert v.better == "LeNet-5" and v.worse == "MLP" and v.real is True
    assert v.text == ("LeNet-5 beats MLP by 2.9 points of test accuracy; the seeds differ by at most 0.8: "
                      "a real difference")
    assert v.test == WELCH and "Welch's t-test" in v.details and "p = 0.0008" in v.details
    assert v.difference == pytest.approx(0.02866666, rel=1e-5) and v.seeds == (3, 3)


def test_a_small_difference_among_noisy_seeds_is_inside_seed_noise():
    v = compare("lr 0.001", [0.5, 0.61, 0.55, 0.52], "lr 0.004", [0.56, 0.49, 0.6])
    assert v.real is False and v.text.endswith("inside seed noise")
    assert "by up to 11.0" in v.text and "p = 0.907" in v.details


def test_one_seed_each_cannot_tell_noise_from_a_difference():
    v = compare("a", [0.9], "b", [0.8])
    assert v.real is None and v.test is None and v.p is None
    assert v.text == ("a beats b by 10.0 points of test accuracy; one seed each: cannot tell noise from a "
                      "difference; run more seeds")
    w = compare("a", [0.9, 0.91], "b", [0.8])
    assert w.real is None and "one seed for b" in w.text


def test_loss_is_better_when_lower():
    v = compare("a", [0.30, 0.31], "b", [0.20, 0.21], metric=TEST_LOSS)
    assert v.better == "b" and v.text.startswith("b has a lower loss than a by 0.1 of test loss")


def test_verdict_json_is_strict():
    v = compare("a", [0.9, 0.9], "b", [0.8, 0.8])
    data = v.to_json()
    assert data["t"] is None and data["p"] == 0.0 and data["seeds"] == [2, 2] and data["real"] is True
    assert not any(isinstance(x, float) and not math.isfinite(x) for x in data.values())
