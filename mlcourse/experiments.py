"""Online-experiment helpers for the ML system design notebook: a z-test, a simulated
experiment, and a drift index.

* :func:`two_proportion_z`: the two-proportion z-test with the pooled variance,
  vectorised over arrays of counts (the peeking simulation runs thousands of
  them at once).
* :func:`simulate_experiment`: a seeded, **simulated** A/B test (conversion
  and revenue per user, with a pre-period covariate for CUPED). It is design
  practice, not data about any real product; the notebook says so.
* :func:`psi`: the population stability index between a reference sample
  and a current one, a common drift alarm.

The learner's exercises (sample size, power, confidence interval, peeking,
CUPED) are written from scratch in the notebook; nothing here solves them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = ["psi", "simulate_experiment", "two_proportion_z"]


def _counts(conv, n, name: str) -> tuple[np.ndarray, np.ndarray]:
    conv = np.asarray(conv, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.isnan(conv).any() or np.isnan(n).any():
        raise ValueError(f"arm {name}: a count is NaN")
    if (n <= 0).any():
        raise ValueError(f"arm {name}: every number of users must be positive")
    if ((conv < 0) | (conv > n)).any():
        raise ValueError(f"arm {name}: conversions must lie between 0 and the number of users")
    return conv, n


def two_proportion_z(conv_a, n_a, conv_b, n_b):
    """The z statistic and two-sided p-value of H0: p_a = p_b, with the pooled variance.

    ``z = (p_b - p_a) / sqrt(p (1 - p) (1/n_a + 1/n_b))`` with ``p`` the pooled
    rate ``(conv_a + conv_b) / (n_a + n_b)``. Arrays broadcast; when both arms
    have all or no conversions the variance is 0 and the test cannot reject
    (z = 0, p-value = 1). Scalars in, Python floats out.

    Raises:
        ValueError: For a non-positive number of users, conversions outside
            ``[0, n]``, or NaN.
    """
    scalar = all(np.ndim(v) == 0 for v in (conv_a, n_a, conv_b, n_b))
    ca, na = _counts(conv_a, n_a, "a")
    cb, nb = _counts(conv_b, n_b, "b")
    pooled = (ca + cb) / (na + nb)
    se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb))
    diff = cb / nb - ca / na
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / np.where(se > 0, se, 1.0), 0.0)
    p_value = 2.0 * norm.sf(np.abs(z))
    if scalar:
        return float(z), float(p_value)
    return z, p_value


def simulate_experiment(
    n_per_arm: int = 15_000,
    days: int = 14,
    p_control: float = 0.10,
    conversion_lift: float = 0.008,
    revenue_lift: float = 0.4,
    seed: int = 2024,
) -> pd.DataFrame:
    """A simulated A/B test, one row per user: who, when, which arm, and what they did.

    Columns: ``user`` (0..), ``arm`` ("A" control, "B" treatment, exactly
    ``n_per_arm`` each, in random order), ``day`` (the enrolment day, 0 to
    ``days - 1``, users arriving uniformly), ``converted`` (bool; probability
    ``p_control`` in A, ``p_control + conversion_lift`` in B), ``pre_revenue``
    (spend in the four weeks before the test, a gamma with mean 20, the same
    distribution in both arms since it was measured before randomisation) and
    ``revenue`` (spend during the test: 0.9 times the pre-period spend plus
    gamma noise with mean 16, plus ``revenue_lift`` in B).

    The numbers are simulated with ``np.random.default_rng(seed)``: design
    practice, not data about a real product.

    Raises:
        ValueError: For a non-positive size or duration, or rates outside [0, 1].
    """
    if not (isinstance(n_per_arm, int) and n_per_arm > 0):
        raise ValueError(f"n_per_arm must be a positive int, got {n_per_arm!r}")
    if not (isinstance(days, int) and days > 0):
        raise ValueError(f"days must be a positive int, got {days!r}")
    p_treatment = p_control + conversion_lift
    if not (0.0 <= p_control <= 1.0 and 0.0 <= p_treatment <= 1.0):
        raise ValueError(f"conversion rates must lie in [0, 1], got {p_control} and {p_treatment}")
    rng = np.random.default_rng(seed)
    n = 2 * n_per_arm
    arm = rng.permutation(np.repeat(np.array(["A", "B"]), n_per_arm))
    treated = arm == "B"
    day = np.sort(rng.integers(0, days, size=n))
    pre_revenue = rng.gamma(shape=2.0, scale=10.0, size=n)
    converted = rng.random(n) < np.where(treated, p_treatment, p_control)
    revenue = 0.9 * pre_revenue + rng.gamma(shape=2.0, scale=8.0, size=n) + revenue_lift * treated
    return pd.DataFrame(
        {
            "user": np.arange(n),
            "arm": arm,
            "day": day,
            "converted": converted,
            "pre_revenue": pre_revenue,
            "revenue": revenue,
        }
    )


def psi(reference, current, bins: int = 10, eps: float = 1e-4) -> float:
    """The population stability index of ``current`` against ``reference``.

    The bins are the reference's deciles (``bins`` quantile bins, the outer
    edges open), so each holds about ``1 / bins`` of the reference.
    ``PSI = sum((c - r) * ln(c / r))`` over the bins' shares ``r`` and ``c``,
    each floored at ``eps`` so an empty bin does not give infinity. A common
    reading: below 0.1 stable, 0.1 to 0.25 worth a look, above 0.25 a shift.

    Raises:
        ValueError: For an empty sample, NaN, or fewer than 2 bins.
    """
    reference = np.asarray(reference, dtype=float).ravel()
    current = np.asarray(current, dtype=float).ravel()
    if reference.size == 0 or current.size == 0:
        raise ValueError("both samples need at least one value")
    if np.isnan(reference).any() or np.isnan(current).any():
        raise ValueError("the samples contain NaN")
    if not (isinstance(bins, int) and bins >= 2):
        raise ValueError(f"bins must be an int >= 2, got {bins!r}")
    inner = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    width = len(inner) + 1
    ref_count = np.bincount(np.searchsorted(inner, reference, side="right"), minlength=width)
    cur_count = np.bincount(np.searchsorted(inner, current, side="right"), minlength=width)
    r = np.maximum(ref_count / reference.size, eps)
    c = np.maximum(cur_count / current.size, eps)
    value = float(np.sum((c - r) * np.log(c / r)))
    return 0.0 if math.isclose(value, 0.0, abs_tol=1e-15) else value
