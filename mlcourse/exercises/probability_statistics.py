"""Checks for ``01_foundations/probability_statistics.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks and the hints, never
a solution or a hidden test.
"""

from __future__ import annotations

import numpy as np

from mlcourse.check import choice, number, problem


def _floats(values) -> bool:
    return isinstance(values, tuple) and all(type(v) is float for v in values)


@problem(
    "birthday_probability",
    hints=(
        "It is easier to count the opposite event, that everybody has a different birthday, "
        "and then take its complement.",
        "Go through the people one at a time: the first may have any day, the next must avoid "
        "one day, the one after that two days, and so on. Multiply those chances together, "
        "then subtract the product from one. With more people than days, one of the factors "
        "is zero.",
        "Start a running product at 1.0 and loop over the k people; person i (counting from "
        "0) contributes the fraction of days not yet taken. Return a Python float.",
    ),
)
def _birthday_probability(t):
    got = t.call("birthday_probability", 23)
    t.true(
        type(got) is float,
        f"the probability is a {type(got).__name__}",
        "Return a Python float (float(...)), not a NumPy scalar or a Fraction.",
    )
    t.close(
        got,
        0.5072972343239857,
        wrong={
            "That is P(all birthdays differ): the question asks for its complement.": (
                0.49270276567601434
            ),
            "That is the chance that someone shares the FIRST person's birthday; "
            "any pair counts.": 0.058571325264343166,
            "Your product starts one factor late: the first person may have any day, "
            "a factor of days / days.": 0.538344257914529,
        },
        nudge="For k = 23 the answer is just over one half.",
    )
    t.close(
        t.call("birthday_probability", 2),
        1 / 365,
        case="k = 2",
        nudge="Two people share a day with probability 1/365.",
    )
    t.close(t.call("birthday_probability", 3, days=4), 0.625, case="k = 3, days = 4")


@problem(
    "sample_moments",
    hints=(
        "Every moment here is an average of a power of the deviations from the sample mean; "
        "only the variance uses n - 1 in its denominator.",
        "Centre the data once. The second, third and fourth central moments are the means of "
        "the deviations squared, cubed and raised to the fourth power. The variance is the sum "
        "of squared deviations over n - 1; the skewness divides the third central moment by "
        "the second to the power 1.5; the excess kurtosis divides the fourth by the square of "
        "the second, then subtracts 3.",
        "Convert the input to a float array first, and make each of the four results a Python "
        "float, so the tuple holds no NumPy scalars.",
    ),
)
def _sample_moments(t):
    got = t.call("sample_moments", np.array([1.0, 2.0, 3.0, 4.0, 10.0]))
    t.true(
        isinstance(got, tuple) and len(got) == 4,
        f"sample_moments returned {type(got).__name__}"
        + (f" of length {len(got)}" if isinstance(got, tuple | list) else ""),
        "Return a tuple: (mean, variance, skewness, excess_kurtosis).",
    )
    t.close(
        got,
        (4.0, 12.5, 1.1384199576606167, -0.212),
        wrong={
            "Your variance divides by n: the sample variance divides by n - 1.": (
                4.0,
                10.0,
                1.1384199576606167,
                -0.212,
            ),
            "The kurtosis must be EXCESS kurtosis: subtract 3, so a normal distribution "
            "scores 0.": (4.0, 12.5, 1.1384199576606167, 2.788),
            "The skewness uses m2 (divide by n) for sigma, not the n - 1 variance.": (
                4.0,
                12.5,
                0.8145870119269027,
                -0.212,
            ),
        },
        nudge="Check each of the four values against the definitions above the exercise.",
    )
    t.true(
        _floats(got),
        "the four values are " + ", ".join(type(v).__name__ for v in got),
        "Return Python floats (float(...)), not NumPy scalars.",
    )


@problem(
    "standardize_means",
    hints=(
        "The mean of n independent draws varies less than a single draw does: its standard "
        "deviation is sigma divided by the square root of n.",
        "Average each row (one experiment), subtract mu, and divide by the standard error, "
        "where n is the number of draws in one row, that is the number of columns.",
        "NumPy reductions take an axis argument, the axis that disappears: for one value per "
        "row, reduce along the columns.",
    ),
)
def _standardize_means(t):
    d3 = np.array([[1.0, 3.0, 2.0, 2.0], [0.0, 0.0, 0.0, 0.0], [4.0, 1.0, 1.0, 2.0]])
    got = t.call("standardize_means", d3, 1.0, 2.0)
    t.shape(got, (3,), nudge="One Z per experiment, that is per ROW: average each row.")
    t.close(
        got,
        [1.0, -1.0, 1.0],
        wrong={
            "You divided by sigma: the mean of n draws has standard deviation sigma / sqrt(n).": [
                0.5,
                -0.5,
                0.5,
            ],
            "You divided by sigma / n: the standard error uses the SQUARE ROOT of n.": [
                2.0,
                -2.0,
                2.0,
            ],
        },
    )


@problem(
    "gaussian_log_likelihood",
    hints=(
        "The log of a product of densities is the sum of their logs, so every observation "
        "brings its own normalising term and its own squared-deviation term.",
        "Add two parts: n times minus one half of the log of two pi sigma squared, and minus "
        "the sum of the squared deviations from mu divided by two sigma squared. Check sigma "
        "first and refuse any value that is not positive.",
        "Turn x into a float array before subtracting mu (8-bit or integer data must not wrap "
        "around), and return the total as a Python float.",
    ),
)
def _gaussian_log_likelihood(t):
    got = t.call("gaussian_log_likelihood", np.array([0.0]), 0.0, 1.0)
    t.true(
        type(got) is float,
        f"the log-likelihood is a {type(got).__name__}",
        "Return a Python float (float(...)), not a NumPy scalar.",
    )
    t.close(
        got,
        -0.9189385332046727,
        case="x = [0], mu = 0, sigma = 1",
        nudge="log N(0 | 0, 1) = -log(2 pi) / 2.",
    )
    x4 = np.array([1.0, 2.0, 4.0])  # squared deviations from mu = 2: 1 + 0 + 4 = 5
    t.close(
        t.call("gaussian_log_likelihood", x4, 2.0, 2.0),
        -5.461257141293855,
        wrong={
            "The normalising term must contain sigma: -n/2 * log(2 pi sigma^2).": (
                -3.381815599614018
            ),
            "The squared deviations are divided by 2 sigma^2, not 2 sigma.": -6.086257141293855,
            "The normalising term counts once per observation: multiply by n.": (
                -2.237085713764618
            ),
        },
        case="x = [1, 2, 4], mu = 2, sigma = 2",
    )
    t.raises(
        ValueError,
        "gaussian_log_likelihood",
        x4,
        0.0,
        0.0,
        nudge="sigma = 0 is not a valid standard deviation: raise a ValueError.",
    )


@problem(
    "t_interval",
    hints=(
        "With the standard deviation estimated from the same small sample, the normal critical "
        "value is too optimistic: the Student t distribution with one degree of freedom fewer "
        "than the sample size accounts for it, and the leftover probability is split between "
        "both tails.",
        "Compute the mean, the standard deviation with n - 1, and the standard error (that "
        "deviation over the square root of n). The critical value is the t quantile at one "
        "minus half of alpha, with n - 1 degrees of freedom. The interval is the mean minus "
        "and plus the critical value times the standard error.",
        "SciPy's t distribution has a ppf method, the quantile function, which takes the "
        "probability and the degrees of freedom. Return a tuple of two Python floats.",
    ),
)
def _t_interval(t):
    got = t.call("t_interval", np.array([2.0, 4.0, 4.0, 5.0, 7.0]))
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"t_interval returned {type(got).__name__}",
        "Return a tuple (low, high).",
    )
    t.close(
        got,
        (2.1444053337009605, 6.65559466629904),
        wrong={
            "That is the normal (z) interval: with s estimated from 5 values, use the t "
            "distribution with n - 1 degrees of freedom.": (2.8077177317893285, 5.992282268210673),
            "Your interval is a 90% one: the critical value is the 1 - alpha/2 quantile, "
            "because alpha is split over two tails.": (2.6680794835082544, 6.131920516491745),
            "You used the standard deviation of the data; the interval needs the standard "
            "ERROR of the mean, s / sqrt(n).": (-0.6436630035306079, 9.44366300353061),
            "Almost: the t distribution here has n - 1 degrees of freedom, not n.": (
                2.3116494445030984,
                6.488350555496902,
            ),
        },
        case="x = [2, 4, 4, 5, 7], 95%",
    )
    t.true(
        _floats(got),
        "the ends are " + ", ".join(type(v).__name__ for v in got),
        "Return Python floats (float(...)), not NumPy scalars.",
    )


@problem(
    "bootstrap_ci",
    hints=(
        "The sample stands in for the population: drawing new samples of the same size from "
        "it, with replacement, imitates repeating the experiment, and the spread of the "
        "statistic over those resamples measures its uncertainty.",
        "Make one generator from the seed. For each of the n_boot resamples, draw as many "
        "random positions as there are values (repeats allowed), apply the statistic to the "
        "values at those positions and store the result. The interval is the pair of "
        "quantiles of the stored statistics that leave half of alpha in each tail.",
        "The generator's integers method takes a low end (0), a high end that is excluded "
        "(the number of values) and a size; index the data with what it returns. NumPy's "
        "quantile accepts both probabilities in one list. Return two Python floats.",
    ),
)
def _bootstrap_ci(t):
    x = np.array([3.0, 8.0, 1.0, 9.0, 4.0, 6.0, 2.0, 7.0])
    mean = t.ref("numpy:mean")  # the statistic, found on the learner's side
    got = t.call("bootstrap_ci", x, mean, n_boot=1000, seed=1)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"bootstrap_ci returned {type(got).__name__}",
        "Return a tuple (low, high).",
    )
    t.close(
        got,
        (3.25, 6.875),
        rtol=1e-9,
        case="8 values, the mean, 1,000 resamples, seed 1",
        wrong={
            "Those are quantiles of the DATA: take the quantiles of the bootstrap statistics.": (
                1.175,
                8.825,
            ),
            "Your interval is a 90% one: leave alpha / 2 in EACH tail.": (3.375, 6.50625),
            "Your interval has no width: resample WITH replacement (every resample without "
            "it is the data reordered, with the same mean).": (5.0, 5.0),
            "You applied the statistic to the random positions themselves: index the data "
            "with them.": (1.875, 5.0),
        },
        nudge="Follow the recipe exactly: one generator made from the seed, then for each "
        "resample one draw of len(x) positions.",
    )
    t.true(
        _floats(got),
        "the ends are " + ", ".join(type(v).__name__ for v in got),
        "Return Python floats (float(...)), not NumPy scalars.",
    )
    again = t.call("bootstrap_ci", x, mean, n_boot=1000, seed=1)
    t.equal(
        again,
        got,
        case="the same seed twice",
        nudge="Create the generator from `seed` inside the function, and use only it.",
    )
    other = t.call("bootstrap_ci", x, mean, n_boot=1000, seed=2)
    t.true(
        other != got,
        "seeds 1 and 2 gave the same interval",
        "The seed must decide the resamples: make the generator from it.",
    )


@problem(
    "permutation_test",
    hints=(
        "If the group labels made no difference, every way of splitting the pooled values into "
        "groups of the original sizes was just as likely as the one observed; the p-value asks "
        "how often such a split is at least as extreme.",
        "Pool the two groups. For each shuffle, take a fresh random permutation of the pooled "
        "values, call the first len(a) of them the new a and the rest the new b, and store the "
        "difference of their means. Count the shuffles whose absolute difference reaches the "
        "observed absolute difference, add one to the count and to the number of shuffles, "
        "and divide.",
        "One generator made from the seed, and its permutation method on the pooled array "
        "each time (not an in-place shuffle of an already shuffled array). Return the "
        "observed difference and the p-value as Python floats, the null as a NumPy array.",
    ),
)
def _permutation_test(t):
    a7, b7 = np.array([1.0, 2.0, 3.0, 4.0]), np.array([5.0, 6.0, 7.0, 8.0])
    got = t.call("permutation_test", a7, b7, n_perm=20_000, seed=0)
    t.true(
        isinstance(got, tuple) and len(got) == 3,
        f"permutation_test returned {type(got).__name__}",
        "Return a tuple (observed, p_value, null).",
    )
    observed, p_value, null = got
    t.close(
        observed,
        -4.0,
        what="observed",
        wrong={"The statistic is mean(a) - mean(b), in that order.": 4.0},
    )
    t.shape(null, (20_000,), nudge="null holds one statistic per shuffle.")
    t.true(
        float(np.ptp(null)) > 0,
        "every shuffled statistic is the same",
        "Shuffle the POOLED values of both groups, then split them again.",
    )
    # Exactly 2 of the C(8, 4) = 70 equally likely splits are as extreme: p = 2/70.
    t.close(
        p_value,
        2 / 70,
        atol=0.006,
        rtol=0,
        what="p_value",
        wrong={
            "That is a one-sided p-value: compare absolute values, |d| >= |observed|.": 1 / 70,
            "You counted shuffles with d >= observed: a one-sided test, and in the wrong "
            "direction. Compare absolute values.": 1.0,
        },
        case="a = [1, 2, 3, 4], b = [5, 6, 7, 8]",
    )
    t.true(
        type(observed) is float and type(p_value) is float,
        f"observed is a {type(observed).__name__} and p_value a {type(p_value).__name__}",
        "Return observed and p_value as Python floats (float(...)).",
    )
    low, high = np.arange(30.0), np.arange(30.0) + 100
    _, p8, _ = t.call("permutation_test", low, high, n_perm=2_000, seed=1)
    t.close(
        p8,
        1 / 2001,
        rtol=1e-9,
        what="p_value",
        wrong={"A permutation p-value is never 0: add 1 to the count and to n_perm.": 0.0},
        case="two groups that do not overlap at all, 2,000 shuffles",
    )
    _, _, first = t.call("permutation_test", a7, b7, n_perm=6, seed=0)
    t.close(
        first,
        [0.5, 2.5, -0.5, -1.0, -1.0, 4.0],
        case="the 6 shuffles of seed 0",
        nudge="Follow the recipe exactly: one generator made from the seed, and each shuffle "
        "a fresh permutation of the pooled values (a first, then b).",
    )
    _, _, other = t.call("permutation_test", a7, b7, n_perm=6, seed=1)
    t.true(
        not np.array_equal(other, first),
        "seeds 0 and 1 gave the same shuffles",
        "The seed must decide the shuffles: make the generator from it.",
    )


@problem(
    "posterior",
    hints=(
        "Bayes' rule turns the chance of the evidence given the disease into the chance of the "
        "disease given the evidence; with independent tests, each posterior becomes the prior "
        "for the next result.",
        "For each result, choose the two likelihoods: for a positive test, the sensitivity and "
        "one minus the specificity; for a negative one, one minus the sensitivity and the "
        "specificity. The new belief is the sick likelihood times the belief, divided by the "
        "total probability of that result. Validate the prior before anything else.",
        "The total probability of a result is the sick likelihood times the belief plus the "
        "healthy likelihood times one minus the belief. Return a Python float, even when "
        "there are no results.",
    ),
)
def _posterior(t):
    got = t.call("posterior", 0.01, 0.95, 0.90, [True])
    t.true(
        type(got) is float,
        f"the posterior is a {type(got).__name__}",
        "Return a Python float (float(...)).",
    )
    t.close(
        got,
        0.08755760368663597,
        case="one positive test",
        wrong={
            "That is the sensitivity, P(+ | D). The question is P(D | +): apply Bayes' rule.": 0.95,
            "A healthy person tests positive with probability 1 - specificity, not "
            "specificity.": 0.010549694614103275,
        },
    )
    t.close(
        t.call("posterior", 0.01, 0.95, 0.90, []),
        0.01,
        case="no results",
        nudge="With no evidence the posterior is the prior.",
    )
    t.close(
        t.call("posterior", 0.01, 0.95, 0.90, [False]),
        0.01 * 0.05 / (0.01 * 0.05 + 0.99 * 0.90),
        case="one negative test",
        wrong={"A negative result is evidence too: it should lower the belief.": 0.01},
        nudge="For a negative result, P(- | D) = 1 - sensitivity and P(- | not D) = specificity.",
    )
    t.raises(
        ValueError,
        "posterior",
        1.5,
        0.95,
        0.9,
        [True],
        nudge="A prior of 1.5 is not a probability: raise a ValueError.",
    )


# -- the quiz ---------------------------------------------------------------------------

number(
    "q_mc_runs",
    hints=(
        "A Monte Carlo standard error shrinks with the square root of the number of runs, not "
        "with the number itself.",
        "Work out by what factor the error must shrink, square that factor, and multiply the "
        "number of runs by it.",
    ),
)
number(
    "q_np_var",
    hints=(
        "NumPy's variance divides by the number of values unless you ask for another denominator.",
        "Find the mean, add up the squared deviations from it, and divide by the count.",
    ),
)
choice(
    "q_ci_meaning",
    options="abcd",
    hints=(
        "In the frequentist view the true mean is fixed and the interval is what is random.",
        "Ask of each statement whether it talks about one interval, about the data, or about "
        "the procedure repeated many times.",
    ),
)
choice(
    "q_clt_condition",
    options="abcd",
    hints=(
        "Remember the distribution whose running mean never settled in section 3.",
        "Means of skewed or discrete draws still become normal; find the one assumption the "
        "theorem cannot do without.",
    ),
)
number(
    "q_min_pvalue",
    hints=(
        "The observed labelling counts as one of the permutations, so the count of extreme "
        "cases is never zero.",
        "Take the smallest possible count of extreme shuffles, add one to it and to the number "
        "of shuffles, and divide.",
    ),
)
number(
    "q_odds_factor",
    hints=(
        "In odds form, Bayes' rule multiplies the prior odds by the likelihood ratio of the "
        "evidence.",
        "Independent results each bring their own likelihood ratio, and the ratios multiply.",
    ),
)
