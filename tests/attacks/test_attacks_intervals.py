"""Wilson and bootstrap intervals against closed forms and their defining properties."""

from __future__ import annotations

import math

import numpy as np
import pytest

import attacks


def test_wilson_closed_forms():
    z = 1.959963984540054
    lo, hi = attacks.wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(z * z / (10 + z * z))
    lo, hi = attacks.wilson(10, 10)
    assert hi == 1.0 and lo == pytest.approx(10 / (10 + z * z))
    lo, hi = attacks.wilson(64, 128)
    assert (lo + hi) / 2 == pytest.approx(0.5) and hi - lo == pytest.approx(0.1707, abs=1e-3)
    assert attacks.wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(attacks.AttackInputError, match="successes"):
        attacks.wilson(11, 10)


def test_wilson_coverage_near_the_nominal_level():
    rng = np.random.default_rng(0)
    n, p = 50, 0.9
    hits = rng.binomial(n, p, size=4000)
    covered = np.mean([lo <= p <= hi for lo, hi in (attacks.wilson(k, n) for k in hits)])
    assert 0.93 <= covered <= 0.975


def test_bootstrap_is_seeded_and_brackets_the_statistic():
    values = np.random.default_rng(1).normal(size=200)
    a = attacks.bootstrap(values, np.median, seed=3)
    assert a == attacks.bootstrap(values, np.median, seed=3)
    assert a != attacks.bootstrap(values, np.median, seed=4)
    assert a[0] < np.median(values) < a[1]
    assert attacks.bootstrap(values, lambda v: None, seed=0) is None
    mostly_inf = np.array([1.0] * 5 + [math.inf] * 95)
    assert attacks.bootstrap(mostly_inf, np.median, seed=0) == (math.inf, math.inf)


def test_every_accuracy_of_a_curve_has_its_interval(loop_rnn, data):
    x, y = data
    curve = attacks.adversarial(loop_rnn, x, y, epsilons=[0.0, 0.05, 0.1], strength="quick")
    iv = curve.intervals
    assert iv["clean"][0] <= curve.clean_accuracy <= iv["clean"][1]
    for value, (lo, hi) in zip(curve.robust_accuracy, iv["robust"], strict=True):
        assert lo <= value <= hi
    for name, values in curve.per_attack.items():
        assert all(
            lo <= v <= hi for v, (lo, hi) in zip(values, iv["per_attack"][name], strict=True)
        )
    if curve.eps50 is not None and iv["eps50"] is not None:
        assert iv["eps50"][0] <= curve.eps50 <= iv["eps50"][1]
    noise = attacks.noise(loop_rnn, x, y, norm="linf", epsilons=[0.1], draws=3)
    assert (
        noise.intervals["robust"][0][0]
        <= noise.robust_accuracy[0]
        <= noise.intervals["robust"][0][1]
    )
