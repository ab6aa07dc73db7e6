from __future__ import annotations

import pytest

from leadrelay.pulse.stats import median, quantile, wilson

# Hand computation with z = 1.96, z² = 3.8416, for n = 10:
# z²/n = 0.38416, so every interval is divided by 1.38416.


def test_wilson_of_none_of_ten_starts_at_zero() -> None:
    # centre = half = (z²/2n) / 1.38416 = 0.19208 / 1.38416 = 0.138770
    low, high = wilson(0, 10)

    assert low == 0.0
    assert high == pytest.approx(0.277540, abs=1e-6)


def test_wilson_of_ten_of_ten_ends_at_one() -> None:
    low, high = wilson(10, 10)

    assert low == pytest.approx(0.722460, abs=1e-6)
    assert high == 1.0


def test_wilson_of_half_is_centred_on_a_half() -> None:
    # half = 1.96 · √(0.25/10 + 3.8416/400) / 1.38416
    #      = 1.96 · √0.034604 / 1.38416 = 1.96 · 0.186022 / 1.38416 = 0.263411
    low, high = wilson(5, 10)

    assert low == pytest.approx(0.236589, abs=1e-6)
    assert high == pytest.approx(0.763411, abs=1e-6)


def test_wilson_of_81_of_263() -> None:
    # p = 0.307985, z²/n = 0.014607, so the divisor is 1.014607
    # centre = (0.307985 + 0.007303) / 1.014607 = 0.310749
    # half = 1.96 · √(0.307985 · 0.692015 / 263 + 3.8416 / 276676) / 1.014607
    #      = 1.96 · √(0.00081038 + 0.00001388) / 1.014607 = 0.055462
    low, high = wilson(81, 263)

    assert low == pytest.approx(0.255288, abs=1e-5)
    assert high == pytest.approx(0.366211, abs=1e-5)


def test_wilson_of_no_trials_is_none() -> None:
    assert wilson(0, 0) is None


def test_wilson_refuses_more_successes_than_trials() -> None:
    with pytest.raises(ValueError, match="0 <= successes <= n"):
        wilson(11, 10)


def test_a_wider_z_gives_a_wider_interval() -> None:
    narrow = wilson(30, 100)
    wide = wilson(30, 100, z=2.576)

    assert wide[0] < narrow[0] < narrow[1] < wide[1]


def test_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    assert median([4, 1, 3, 2]) == 2.5


def test_median_of_an_odd_count_is_the_middle_value() -> None:
    assert median([9, 1, 5]) == 5


def test_p90_interpolates_between_order_statistics() -> None:
    # Sorted 1, 2, 3, 4: h = 3 · 0.9 = 2.7, so 3 + 0.7 · (4 - 3) = 3.7.
    assert quantile([1, 2, 3, 4], 0.9) == pytest.approx(3.7)


def test_p90_of_ten_values() -> None:
    # Sorted 0, 5, ..., 45: h = 9 · 0.9 = 8.1, so 40 + 0.1 · 5 = 40.5.
    values = [10, 0, 5, 20, 15, 30, 25, 35, 40, 45]

    assert quantile(values, 0.9) == pytest.approx(40.5)


def test_a_single_value_is_every_quantile() -> None:
    assert quantile([7.0], 0.0) == quantile([7.0], 0.9) == 7.0


def test_quantiles_of_nothing_are_none() -> None:
    assert median([]) is None
    assert quantile([], 0.9) is None


def test_a_quantile_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        quantile([1, 2], 1.5)
