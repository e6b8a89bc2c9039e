"""Checks for ``04_job_search/ml_system_design.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks, the hints and the
fixtures the checks use, never a solution or a hidden test. The expected
values of the visible checks are worked out by hand (or are literal numbers
from the formulas in the notebook), not computed here by a copy of the
solution.
"""

from __future__ import annotations

import numpy as np

from mlcourse.check import choice, number, problem


def visible_latencies() -> np.ndarray:
    """100 requests x 3 stages of made-up latencies (ms), with no randomness at all.

    Column 0 is a shuffle of 1, 2, ..., 100; column 1 of 20, 20.5, ..., 69.5;
    column 2 of 3, 3.25, ..., 27.75. Each row is one request.
    """
    i = np.arange(100)
    return np.column_stack(
        [1.0 + (i * 37 % 100), 20.0 + (i * 61 % 100) / 2, 3.0 + (i * 13 % 100) / 4]
    )


def stage_latencies(seed: int, n: int = 2000, shared: float = 0.0) -> np.ndarray:
    """Simulated per-stage latencies (ms) of ``n`` requests through five stages.

    Each stage is log-normal with its own median and tail; ``shared`` in
    [0, 1] mixes in one common factor per request (a busy machine slows every
    stage of that request), so the stages are positively correlated.
    """
    rng = np.random.default_rng(seed)
    medians = np.array([4.0, 12.0, 25.0, 3.0, 8.0])
    sigmas = np.array([0.5, 0.35, 0.3, 0.6, 0.4])
    common = rng.standard_normal((n, 1))
    own = rng.standard_normal((n, len(medians)))
    z = np.sqrt(shared) * common + np.sqrt(1.0 - shared) * own
    return medians * np.exp(sigmas * z)


def revenue_pair(seed: int, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """(revenue during the test, revenue before it) of ``n`` simulated users (both arms)."""
    from mlcourse.experiments import simulate_experiment

    df = simulate_experiment(n_per_arm=n // 2, seed=seed)
    return df["revenue"].to_numpy(), df["pre_revenue"].to_numpy()


# -- 1. capacity ------------------------------------------------------------------------


@problem(
    "sd_serving_capacity",
    hints=(
        "Servers are bought for the busiest minute, not the average one, they are never "
        "run flat out, and you cannot buy a fraction of one.",
        "Spread the day's requests over the seconds of a day for the average; multiply by "
        "the peak factor; divide the peak by what one core can serve at the allowed "
        "utilisation to get cores; turn cores into whole servers by rounding up, then add "
        "the spare. The monthly bill is servers times the hourly price times 730 hours.",
        "math.ceil rounds up and returns an int. A day has 86,400 seconds. Validate the "
        "inputs before computing anything.",
    ),
)
def _sd_serving_capacity(t):
    got = t.call("sd_serving_capacity", 8_000_000, 30, 3.0, 250.0, 16, 0.5, 1.2)
    t.true(
        isinstance(got, dict) and set(got) == {"avg_qps", "peak_qps", "servers", "monthly_cost"},
        f"sd_serving_capacity returned {type(got).__name__}"
        + (f" with keys {sorted(got)}" if isinstance(got, dict) else ""),
        "Return a dict with the keys avg_qps, peak_qps, servers and monthly_cost.",
    )
    t.close(
        got["avg_qps"],
        2777.777777777778,
        what="avg_qps",
        wrong={"A day has 24 * 60 * 60 = 86,400 seconds.": 8_000_000 * 30 / 1440},
        nudge="Average QPS: all the day's requests divided by the seconds in a day.",
    )
    t.close(
        got["peak_qps"],
        8333.333333333334,
        what="peak_qps",
        nudge="The peak is the average times the peak factor.",
    )
    t.true(
        type(got["servers"]) is int,
        f"servers is a {type(got['servers']).__name__}",
        "You cannot buy 2.3 servers: return a whole number, a Python int.",
    )
    t.equal(
        got["servers"],
        6,
        what="servers",
        wrong={
            "Size for the PEAK: the average would leave the evening rush unserved.": 3,
            "Cores run at most at the given utilisation: divide by per_core_qps times "
            "utilization.": 4,
            "Round the servers up, then add the one spare (N + 1).": 5,
        },
    )
    t.close(
        got["monthly_cost"],
        6 * 1.2 * 730,
        what="monthly_cost",
        wrong={"The task's month has 730 hours (24 * 365 / 12), not 720.": 6 * 1.2 * 720},
    )
    exact = t.call("sd_serving_capacity", 864_000, 10, 2.0, 50.0, 4, 0.5, 1.0)
    t.equal(
        exact["servers"],
        3,
        case="exactly 2 servers' worth of cores, plus the spare",
        wrong={"int(x) + 1 is not rounding up: it adds a server when x is whole.": 4},
    )
    t.raises(
        ValueError,
        "sd_serving_capacity",
        1_000_000,
        10,
        3.0,
        250.0,
        16,
        1.5,
        1.0,
        nudge="A utilisation above 1 means more than 100 % busy: refuse it with a ValueError.",
    )


@problem(
    "sd_storage",
    hints=(
        "A byte is eight bits, a terabyte here is ten to the twelfth bytes, and every "
        "replica is a full copy on its own disk.",
        "Multiply records per day, values per record and bits per value, turn bits into "
        "bytes, multiply by the days kept: that is the raw size. Multiply by the "
        "replication factor for what the disks hold, and divide by one disk's size, "
        "rounding up.",
    ),
)
def _sd_storage(t):
    got = t.call("sd_storage", 200_000_000, 100, 32, 90, 3, 16.0)
    t.true(
        isinstance(got, dict) and set(got) == {"raw_tb", "stored_tb", "disks"},
        f"sd_storage returned {type(got).__name__}"
        + (f" with keys {sorted(got)}" if isinstance(got, dict) else ""),
        "Return a dict with the keys raw_tb, stored_tb and disks.",
    )
    t.close(
        got["raw_tb"],
        7.2,
        what="raw_tb",
        wrong={
            "Those are bits counted as bytes: divide the bits by 8.": 57.6,
            "The task uses decimal terabytes (10**12 bytes), as disk makers and cloud bills "
            "do, not 2**40.": 7.2e12 / 2**40,
        },
    )
    t.close(
        got["stored_tb"],
        21.6,
        what="stored_tb",
        wrong={"Each of the 3 replicas is a full copy: multiply by the replication.": 7.2},
    )
    t.equal(got["disks"], 2, what="disks", wrong={"Size the disks for the replicated data.": 1})
    edge = t.call("sd_storage", 250_000_000, 64, 16, 100, 5, 16.0)
    t.equal(
        edge["disks"],
        1,
        case="16 TB of data on 16 TB disks",
        wrong={"Exactly one disk's worth needs one disk: round up, do not add one.": 2},
    )


# -- 3. A/B test size and power ------------------------------------------------------------


@problem(
    "sd_sample_size",
    hints=(
        "Under the null hypothesis both arms share one conversion rate, under the "
        "alternative each has its own; the test must reject in either direction, and "
        "a person cannot be split.",
        "Take the two-sided critical value for alpha and the quantile for the power from "
        "the standard normal; weight the null's pooled spread by the first and the "
        "alternative's spread by the second; divide the sum by the effect, square, and "
        "round up. That is the size of ONE arm.",
        "The pooled rate is the mean of the two rates. scipy.stats.norm.ppf gives the "
        "quantiles; math.ceil returns an int.",
    ),
)
def _sd_sample_size(t):
    got = t.call("sd_sample_size", 0.10, 0.01)
    t.true(
        type(got) is int,
        f"sd_sample_size returned a {type(got).__name__}",
        "A sample size counts people: return a Python int, rounded UP.",
    )
    t.equal(
        got,
        14751,
        case="a 10 % baseline, a 1 point lift, alpha 0.05, power 0.8",
        wrong={
            "That is a one-sided test: a two-sided alpha of 0.05 puts 0.025 in each tail.": 11620,
            "Under the null both arms share one rate: use the pooled rate's spread there.": 14749,
            "Both arms' spread matters under the alternative, not the baseline arm's alone.": 14128,
            "The alternative's spread uses each arm's own rate, not the pooled one.": 14752,
            "That is both arms together; the task asks for ONE arm.": 29502,
            "Round UP: rounding down leaves the test slightly short of its power.": 14750,
        },
    )
    t.equal(
        t.call("sd_sample_size", 0.05, 0.005),
        31234,
        case="a 5 % baseline, a half-point lift (the formula gives 31,233.4)",
        wrong={"Round UP: 31,233 people leave the test just short of its power.": 31233},
    )
    t.equal(
        t.call("sd_sample_size", 0.10, -0.01),
        13495,
        case="a 1 point DROP from 10 % (a negative effect)",
        nudge="A negative effect moves the treatment rate down; square the effect.",
    )
    t.raises(
        ValueError,
        "sd_sample_size",
        0.10,
        0.0,
        nudge="No test can detect an effect of 0: refuse it with a ValueError.",
    )


@problem(
    "sd_power",
    hints=(
        "Power is the chance that the test rejects when the true rates are the ones "
        "given; a two-sided test rejects in both tails.",
        "Compute the null's standard error from the pooled rate and the alternative's "
        "from each arm's rate. The test rejects when the observed difference is beyond "
        "the critical value times the null's standard error on either side; under the "
        "alternative the difference is normal around the true one, so add the "
        "probabilities of the two tails.",
        "Use the absolute difference, norm.cdf for each tail and return a Python float.",
    ),
)
def _sd_power(t):
    got = t.call("sd_power", 0.10, 0.11, 14751)
    t.true(
        type(got) is float,
        f"sd_power returned a {type(got).__name__}",
        "Return a Python float (float(...)), not a NumPy scalar.",
    )
    t.close(
        got,
        0.8000065290879333,
        rtol=1e-5,
        case="the sample size of exercise 3 (power just above 0.8)",
        wrong={
            "That is a one-sided test: a two-sided alpha puts alpha / 2 in each tail.": (
                0.8763216132249605
            ),
            "n_per_arm is the size of EACH arm.": 0.5084151235407749,
            "The rejection boundary is set under the null: use the pooled rate's standard "
            "error there.": 0.8000795225282652,
        },
    )
    t.close(
        t.call("sd_power", 0.20, 0.20, 1000),
        0.05,
        rtol=1e-6,
        case="no true difference (the power is then the false-positive rate)",
        wrong={"A two-sided test rejects in BOTH tails: add the far tail too.": 0.025},
    )
    t.close(
        t.call("sd_power", 0.10, 0.12, 50),
        0.061660047261047284,
        rtol=1e-5,
        case="a tiny test (50 per arm), where the far tail matters",
        wrong={"Add the far tail as well: it matters for tiny tests.": 0.05037784751088935},
    )


# -- 4. analysing an experiment -----------------------------------------------------------


@problem(
    "sd_lift_ci",
    hints=(
        "A confidence interval describes where the true difference may be, so it does "
        "not assume the null: each arm keeps its own variance.",
        "Difference of the two rates (treatment minus control); its standard error adds "
        "the two arms' binomial variances, each divided by its own size; the interval is "
        "the difference plus or minus the two-sided normal quantile times that error.",
    ),
)
def _sd_lift_ci(t):
    got = t.call("sd_lift_ci", 100, 1000, 300, 2000)
    t.true(
        isinstance(got, tuple) and len(got) == 3,
        f"sd_lift_ci returned {type(got).__name__}",
        "Return a tuple (diff, low, high).",
    )
    t.true(
        all(type(v) is float for v in got),
        "not every value is a Python float: " + ", ".join(type(v).__name__ for v in got),
        "Return Python floats (float(...)), not NumPy scalars.",
    )
    t.close(
        got[0],
        0.05,
        what="diff",
        wrong={"The lift is treatment (b) minus control (a).": -0.05},
    )
    t.close(
        got[1:],
        [0.025697236912611717, 0.07430276308738826],
        what="(low, high)",
        wrong={
            "The interval uses each arm's own rate (unpooled); the pooled rate belongs to "
            "the test of 'no difference'.": [0.024195875092271616, 0.07580412490772839],
            "A two-sided 95 % interval uses the 97.5 % quantile (1.96), not 1.645.": [
                0.029604478284016127,
                0.07039552171598387,
            ],
        },
    )
    t.raises(
        ValueError,
        "sd_lift_ci",
        120,
        100,
        50,
        100,
        nudge="120 conversions out of 100 users is impossible: raise a ValueError.",
    )


@problem(
    "sd_peeking_fpr",
    hints=(
        "Under the null every look can produce a false alarm, and an experimenter who "
        "stops at the first one keeps every alarm raised so far.",
        "Draw the daily conversions of arm A, then of arm B, with the seeded generator; "
        "accumulate them along the looks so each look tests all the data so far; test "
        "every look at once with the course's z-test; mark a simulated experiment as "
        "stopped from its first rejection on; average over the simulations.",
        "cumsum along the looks, a cumulative OR (np.logical_or.accumulate) along the "
        "same axis, then the mean over the simulations.",
    ),
)
def _sd_peeking_fpr(t):
    got = t.call("sd_peeking_fpr", 0.1, 200, 5, n_sims=400, seed=1)
    t.shape(got, (5,), nudge="One rate per number of looks: shape (looks,).")
    t.dtype(got, "f")
    t.close(
        got,
        [0.0525, 0.0875, 0.125, 0.1475, 0.16],
        case="p = 0.1, 200 users per arm per look, 5 looks, 400 runs, seed 1",
        wrong={
            "Each look must test ALL the users so far (cumulative counts), not only the new "
            "ones.": [0.0525, 0.0975, 0.15, 0.1825, 0.22],
            "Count a run as stopped from its first rejection on (any look so far), not only "
            "at the looks where it rejects.": [0.0525, 0.0525, 0.075, 0.06, 0.055],
        },
        nudge="Draw A's (n_sims, looks) block first, then B's; test the CUMULATIVE counts; "
        "count a run once it has rejected at any look so far.",
    )
    t.true(
        bool(np.all(np.diff(got) >= 0)),
        "the rate goes down at some look",
        "A run that stopped stays stopped: the rate can only grow with more looks.",
    )
    other = t.call("sd_peeking_fpr", 0.1, 200, 5, n_sims=400, seed=2)
    t.true(
        not np.allclose(other, got),
        "seeds 1 and 2 give the same rates",
        "Create the generator from the seed argument.",
    )


@problem(
    "sd_cuped",
    hints=(
        "A pre-period metric that moves with the outcome explains part of its variance; "
        "subtract the part it predicts, keeping the mean where it was.",
        "Theta is the covariance of the covariate and the outcome divided by the "
        "covariate's variance (both with the same denominator). The adjusted outcome "
        "subtracts theta times the covariate's deviation from its mean. The reduction is "
        "one minus the ratio of the adjusted variance to the original one.",
    ),
)
def _sd_cuped(t):
    y, x = [2.0, 4.0, 5.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0]
    got = t.call("sd_cuped", y, x)
    t.true(
        isinstance(got, tuple) and len(got) == 3,
        f"sd_cuped returned {type(got).__name__}",
        "Return a tuple (y_adjusted, theta, variance_reduction).",
    )
    y_adj, theta, reduction = got
    t.true(
        type(theta) is float and type(reduction) is float,
        f"theta is a {type(theta).__name__} and the reduction a {type(reduction).__name__}",
        "Return theta and the reduction as Python floats.",
    )
    t.close(
        theta,
        0.6,
        what="theta",
        wrong={
            "Covariance and variance must use the same denominator (np.cov divides by "
            "n - 1, np.var by n).": 0.75,
            "Theta divides by the variance of the COVARIATE x, not of y.": 1.0,
            "Theta is a covariance over a variance, not the correlation.": 1.2 / np.sqrt(2.4),
        },
    )
    t.shape(y_adj, (5,))
    t.close(
        y_adj,
        [3.2, 4.6, 5.0, 3.4, 3.8],
        what="y_adjusted",
        wrong={
            "Subtract theta times the covariate's DEVIATION from its mean, so the mean "
            "of y stays put.": [1.4, 2.8, 3.2, 1.6, 2.0],
        },
    )
    t.close(
        reduction,
        0.6,
        what="variance_reduction",
        wrong={"That is the remaining share; the reduction is 1 minus it.": 0.4},
    )
    t.raises(
        ValueError,
        "sd_cuped",
        [1.0, 2.0, 3.0],
        [5.0, 5.0, 5.0],
        nudge="A constant covariate has no variance: theta is undefined, raise a ValueError.",
    )


# -- 7. latency -------------------------------------------------------------------------------


@problem(
    "sd_percentile",
    hints=(
        "The nearest-rank percentile is an actual sample: the smallest value that at "
        "least q percent of the samples do not exceed. Ranks count from one, positions "
        "from zero.",
        "Sort; the rank is q percent of the count, rounded up; the value at that rank is "
        "at the position one below it.",
    ),
)
def _sd_percentile(t):
    data = [35.0, 20.0, 50.0, 15.0, 40.0]
    got = t.call("sd_percentile", data, 40)
    t.true(
        type(got) is float,
        f"sd_percentile returned a {type(got).__name__}",
        "Return a Python float.",
    )
    t.close(
        got,
        20.0,
        case="q = 40 of five values (rank exactly 2)",
        wrong={
            "Ranks count from 1, positions from 0: the value of rank r is at position r - 1.": 35.0,
            "Nearest rank returns one of the samples; that is an interpolation.": 29.0,
        },
    )
    t.close(t.call("sd_percentile", data, 30), 20.0, case="q = 30 (rank 1.5, rounded up to 2)")
    t.close(
        t.call("sd_percentile", data, 100),
        50.0,
        case="q = 100 (the maximum)",
        nudge="The 100th percentile is the largest sample: sort before taking a rank.",
    )
    t.raises(
        ValueError,
        "sd_percentile",
        [],
        99,
        nudge="An empty sample has no percentile: raise a ValueError.",
    )


@problem(
    "sd_latency_report",
    hints=(
        "Each row is one request, and a request's end-to-end latency is the sum of its "
        "own stages; the percentile of a sum is not the sum of the percentiles.",
        "Check the inputs; take each column's p99 (nearest rank); list the stages whose "
        "p99 is strictly above their budget, in stage order; add the per-stage p99s; "
        "take the p99 of the row sums; compare that one with the target.",
    ),
)
def _sd_latency_report(t):
    stages = ["fetch", "rank", "net"]
    budgets = {"fetch": 99.0, "rank": 60.0, "net": 30.0}
    got = t.call("sd_latency_report", visible_latencies(), stages, budgets, 190.0)
    keys = {"p99", "over_budget", "sum_of_p99", "end_to_end_p99", "meets_target"}
    t.true(
        isinstance(got, dict) and set(got) == keys,
        f"sd_latency_report returned {type(got).__name__}"
        + (f" with keys {sorted(got)}" if isinstance(got, dict) else ""),
        "Return a dict with the keys " + ", ".join(sorted(keys)) + ".",
    )
    t.true(
        isinstance(got["p99"], dict) and list(got["p99"]) == stages,
        "p99 is not a dict keyed by the stages, in their order",
        "p99 maps each stage name to its p99, in the order of `stages`.",
    )
    t.close(
        [got["p99"][s] for s in stages],
        [99.0, 69.0, 27.5],
        what="the stages' p99",
        wrong={
            "Those are means: the budget is on the p99.": [50.5, 44.75, 15.375],
        },
    )
    t.equal(
        got["over_budget"],
        ["rank"],
        what="over_budget",
        nudge="fetch's p99 equals its budget exactly: that fits. Only strictly above is over.",
    )
    t.close(got["sum_of_p99"], 195.5, what="sum_of_p99")
    t.close(
        got["end_to_end_p99"],
        169.5,
        what="end_to_end_p99",
        wrong={"That is the sum of the p99s: take the p99 of each request's total.": 195.5},
    )
    t.equal(
        got["meets_target"],
        True,
        what="meets_target",
        nudge="Judge the target on the end-to-end p99 (169.5 ms here), not the sum of p99s.",
    )


# -- 11. the rubric --------------------------------------------------------------------------


@problem(
    "sd_rubric_score",
    hints=(
        "Each criterion counts by its weight, and a score only means something as a "
        "share of that criterion's maximum; a score the rubric cannot give is a mistake "
        "to report, not to clip.",
        "Check that the scores name exactly the rubric's criteria and that each lies "
        "between 0 and its maximum; then add weight times score over maximum, divide by "
        "the total weight, and express it in percent.",
    ),
)
def _sd_rubric_score(t):
    rubric = {"a": (3.0, 4), "b": (1.0, 5)}
    got = t.call("sd_rubric_score", {"a": 2, "b": 5}, rubric)
    t.true(
        type(got) is float,
        f"sd_rubric_score returned a {type(got).__name__}",
        "Return a Python float (a percentage).",
    )
    t.close(
        got,
        62.5,
        wrong={
            "Each criterion counts by its WEIGHT.": 75.0,
            "Divide each score by its own maximum before weighting.": 11 / 17 * 100,
            "The task asks for a percentage (0 to 100), not a fraction.": 0.625,
        },
    )
    t.raises(
        ValueError,
        "sd_rubric_score",
        {"a": 2, "b": 6},
        rubric,
        nudge="b's maximum is 5: a score of 6 must raise a ValueError, not be clipped.",
    )
    t.raises(
        ValueError,
        "sd_rubric_score",
        {"a": 2},
        rubric,
        nudge="A criterion without a score is an error, not a zero.",
    )


# -- the quiz -----------------------------------------------------------------------------

choice(
    "q_sd_offline_online",
    options="abcd",
    hints=(
        "Ask what each metric measures and on which data it was measured.",
        "An offline metric is computed on logs that the old system produced.",
    ),
)
choice(
    "q_sd_two_stage",
    options="abcd",
    hints=(
        "Think about what each stage costs per item it scores, and how many items there are.",
        "Multiply the ranker's cost per item by the size of the catalogue and compare it "
        "with the latency budget.",
    ),
)
choice(
    "q_sd_monitor",
    options="abcd",
    hints=(
        "Before the labels arrive, what do you already observe about the model?",
        "The inputs and the outputs of the model are available at once.",
    ),
)
choice(
    "q_sd_feature_store",
    options="abcd",
    hints=(
        "A feature store solves the problem of computing the same feature in two places.",
        "Look for the option with features needed both for training and at request time.",
    ),
)
number(
    "q_sd_fanout",
    hints=(
        "The request is fast only if every shard is fast.",
        "Multiply the chance that one shard is fast over all the shards, and take the "
        "complement; answer in percent.",
    ),
)
choice(
    "q_sd_p99_mean",
    options="abcd",
    hints=(
        "Who is hurt by a slow request, and how many requests does one user make?",
        "A mean can stay flat while the slowest few percent get much slower.",
    ),
)
number(
    "q_sd_days",
    hints=(
        "The sample size is per arm, and the traffic is shared by the arms.",
        "Total users needed divided by the users per day, rounded up to whole days.",
    ),
)
