"""Checks for ``04_job_search/portfolio_and_resume.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks, the hints and the
reference computations the checks compare with, never a solution or a
hidden test.
"""

from __future__ import annotations

import math  # noqa: F401 - the hidden checks run with this module's globals

import numpy as np
import pandas as pd

from mlcourse.check import choice, number, problem

COLUMNS = ["project", "metric", "value", "unit", "time"]


def smallest_n(p: float, target: float) -> int:
    """The smallest whole n with 1 - (1 - p)**n >= target, found by counting up."""
    n = 1
    while 1 - (1 - p) ** n < target:
        n += 1
    return n


def simulate_reference(rates, n: int, searches: int, seed: int) -> float:
    """The notebook's recipe for simulated job searches, written out once more."""
    gen = np.random.default_rng(seed)
    alive = np.repeat(n, searches)
    for rate in rates:
        alive = gen.binomial(alive, rate)
    return float((alive >= 1).mean())


def uncertain_reference(priors, n: int, draws: int, seed: int) -> float:
    """The notebook's Monte Carlo recipe for uncertain rates, written out once more."""
    gen = np.random.default_rng(seed)
    offer = np.ones(draws)
    for a, b in priors:
        offer *= gen.beta(a, b, size=draws)
    return float(1 - np.mean((1 - offer) ** n))


def warnings_of(function, *args) -> list:
    """The messages of the warnings a call emits, run on the learner's side (for t.call)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        function(*args)
    return [f"{w.category.__name__}: {w.message}" for w in caught]


def rank_reference(ad: str, projects: dict) -> list:
    """scikit-learn's TF-IDF cosine of every project with the ad, best first, ties by name."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer().fit_transform([*projects.values(), ad])
    sims = (matrix[:-1] @ matrix[-1].T).toarray().ravel()
    return sorted(zip(projects, sims.tolist()), key=lambda item: (-item[1], item[0]))


@problem(
    "pf_format_figure",
    hints=(
        "A figure is printed to a fixed number of significant digits, counted from its first "
        "non-zero digit, whatever its size; the unit decides how many, and where it is written.",
        "Find the power of ten of the value's magnitude with a base-ten logarithm; the number "
        "of decimals to keep is the digits minus one minus that power (negative means rounding "
        "left of the point). Round, and if the rounding carried into a new power of ten, keep "
        "one decimal less. Print with thousands separators and that many decimals (none if "
        "negative), then add the sign and the unit.",
        "Python's format specification ',.2f' prints thousands separators and two decimals; "
        "round(x, -2) rounds to hundreds. Handle a whole number without a unit, and zero, "
        "before taking any logarithm.",
    ),
)
def _pf_format_figure(t):
    t.equal(t.call("pf_format_figure", 0.9132, ""), "0.91", what="a score")
    t.equal(
        t.call("pf_format_figure", 2312.4, "req/s"),
        "2,300 req/s",
        wrong={
            "Round to two significant digits, not to whole requests.": "2,312 req/s",
            "Thousands separators: 2,300.": "2300 req/s",
        },
    )
    t.equal(
        t.call("pf_format_figure", 44870.3, "$"),
        "$44,900",
        wrong={
            "Dollars keep three significant digits.": "$45,000",
            "The dollar sign goes before the number.": "44,900 $",
        },
    )
    t.equal(t.call("pf_format_figure", 4.712, "ms"), "4.7 ms", what="milliseconds")
    t.equal(
        t.call("pf_format_figure", 4128.0, ""),
        "4,128",
        nudge="Without a unit, a whole number prints whole, with separators.",
    )
    t.equal(
        t.call("pf_format_figure", 0.9, ""),
        "0.90",
        wrong={"The second significant digit is a zero, and it stays.": "0.9"},
    )
    t.equal(
        t.call("pf_format_figure", 9.96, "ms"),
        "10 ms",
        wrong={"9.96 rounds up to 10, which already has two digits: one decimal less.": "10.0 ms"},
    )
    t.raises(
        ValueError,
        "pf_format_figure",
        float("nan"),
        "",
        nudge="NaN is not a figure: raise a ValueError.",
    )


@problem(
    "pf_fill_bullet",
    hints=(
        "Only the project's own real figures count, and of each the most recent one; a field "
        "with no figure is a reason to refuse, not to guess.",
        "Keep the rows of the project whose value is present; order them by time (keeping the "
        "table's order among equal times) and keep the last row of each metric. Read the "
        "field names out of the template, raise a ValueError listing the ones with no figure, "
        "and format the template with your formatted figures.",
        "A stable sort by the time column followed by a group-by on the metric and tail of "
        "one gives the latest row of each metric.",
    ),
)
def _pf_fill_bullet(t):
    table = pd.DataFrame(
        [
            ("api", "p99_ms", 9.1, "ms", 1.0),
            ("api", "p99_ms", 7.34, "ms", 2.0),
            ("api", "test_accuracy", 0.9132, "", 1.5),
            ("web", "test_accuracy", 0.7, "", 3.0),
        ],
        columns=COLUMNS,
    )
    got = t.call("pf_fill_bullet", table, "api", "p99 {p99_ms}, accuracy {test_accuracy}.")
    t.equal(
        got,
        "p99 7.3 ms, accuracy 0.91.",
        wrong={
            "That is the first p99 recorded; the latest one (largest time) counts.": (
                "p99 9.1 ms, accuracy 0.91."
            ),
            "That accuracy belongs to another project.": "p99 7.3 ms, accuracy 0.70.",
        },
    )
    t.raises(
        ValueError,
        "pf_fill_bullet",
        table,
        "api",
        "{p99_ms} at {requests_per_second}",
        match="requests_per_second",
        nudge="A missing figure is refused with a ValueError that names it.",
    )


@problem(
    "pf_lint_bullet",
    hints=(
        "Each problem is a pattern in the text: a listed phrase, a pronoun, the absence of any "
        "figure, or too many words; words count only whole, and case does not matter.",
        "Lowercase the text; search each generic phrase and each pronoun between word "
        "boundaries; search for a digit that does not follow a letter, digit, underscore, at "
        "sign or full stop; count the whitespace-separated words. Collect the codes in a set "
        "and return them sorted.",
        "In a regular expression, a word boundary is \\b and a negative lookbehind is (?<!...); "
        "re.escape protects a phrase's special characters.",
    ),
)
def _pf_lint_bullet(t):
    t.equal(
        t.call("pf_lint_bullet", "Built a recommender: NDCG@10 0.17 against 0.11."),
        [],
        what="a good bullet",
    )
    t.equal(
        t.call("pf_lint_bullet", "Responsible for various machine learning models."),
        ["generic", "no-number"],
        nudge="Two problems, in alphabetical order, each once.",
    )
    t.equal(
        t.call("pf_lint_bullet", "I tuned NDCG@10 and p99."),
        ["first-person", "no-number"],
        nudge="The digits of NDCG@10 and p99 are glued to a name: they are not figures.",
    )


@problem(
    "pf_unbacked_numbers",
    hints=(
        "A rounded number stands for every value within half a unit of its last written "
        "digit; for a whole number, trailing zeros are not written digits.",
        "For each match: remove the separators; with decimals, half a unit is half of ten "
        "to the minus number of decimals; without, half of ten to the number of trailing "
        "zeros (none for zero itself); a percent sign divides the number and its half unit "
        "by a hundred. Keep the match's text when no value lies within that distance.",
    ),
)
def _pf_unbacked_numbers(t):
    text = "accuracy 0.91 at 2,300 req/s and 7 ms"
    t.equal(
        t.call("pf_unbacked_numbers", text, [0.9132, 2312.4, 7.2]),
        [],
        nudge="0.9132 rounds to 0.91, 2312.4 to 2,300 (two significant digits), 7.2 to 7.",
    )
    t.equal(
        t.call("pf_unbacked_numbers", text, [0.9132, 2312.4]),
        ["7"],
        nudge="Nothing recorded rounds to 7.",
    )
    t.equal(
        t.call("pf_unbacked_numbers", "recall 91%", [0.9132]),
        [],
        nudge="91% is the fraction 0.91.",
    )


@problem(
    "pf_pick_metric",
    hints=(
        "The metric must measure what the task needs: the rare class when one is rare, the "
        "unit of the quantity for a regression, the top of the list for a ranking, the slow "
        "tail for a service.",
        "Branch on the kind; for a classification look first for a required precision, then "
        "compare the rarer class's share with the threshold; build the names with the unit "
        "or the k when they are given; raise for any other kind.",
    ),
)
def _pf_pick_metric(t):
    t.equal(
        t.call("pf_pick_metric", {"kind": "classification", "positive_rate": 0.02}),
        "PR AUC",
        wrong={"With 2% positives, always 'no' scores 98% accuracy.": "accuracy"},
    )
    t.equal(
        t.call("pf_pick_metric", {"kind": "regression", "unit": "$"}),
        "RMSE in $",
        what="a regression in dollars",
    )
    t.equal(t.call("pf_pick_metric", {"kind": "ranking", "k": 20}), "NDCG@20", what="a ranking")
    t.equal(
        t.call("pf_pick_metric", {"kind": "latency"}),
        "p99 latency",
        wrong={"The mean hides the slow requests.": "mean latency"},
    )


@problem(
    "pf_applications_needed",
    hints=(
        "All applications failing is the complement of at least one offer, and independent "
        "failures multiply; solving for the number of applications takes logarithms.",
        "Multiply the rates into the offer probability per application; the answer is the "
        "ceiling of the log of one minus the target over the log of one minus that "
        "probability. Check that one application fewer does not already reach the target "
        "(rounding in the logarithms), and validate the inputs first.",
        "A message that names the bad argument (the rates or the target) is the clear error "
        "the task asks for.",
    ),
)
def _pf_applications_needed(t):
    got = t.call("pf_applications_needed", [0.15, 0.35, 0.30], 0.9)
    t.true(type(got) is int, f"the answer is a {type(got).__name__}", "Return a Python int.")
    t.equal(
        got,
        146,
        wrong={
            "Probabilities of independent trials do not add up: take one minus the chance "
            "that all fail.": 58,
            "That number of applications stays just below 90%: round up.": 145,
        },
    )
    t.equal(t.call("pf_applications_needed", [0.95], 0.9), 1, what="a single strong stage")
    t.raises(
        ValueError,
        "pf_applications_needed",
        [0.2, 0.0],
        0.9,
        match="rate",
        nudge="A rate of 0 can never give an offer: raise a ValueError that says so.",
    )
    t.raises(
        ValueError,
        "pf_applications_needed",
        [0.2],
        1.0,
        match="target",
        nudge="A target of 1 is never reached: raise a ValueError that names the target.",
    )


@problem(
    "pf_simulate_offers",
    hints=(
        "At every stage each surviving application passes or not, independently, so the "
        "number that passes is a binomial draw from the number that arrived.",
        "Make one generator from the seed, start an array of counts (one per search) at the "
        "number of applications, replace it by a binomial draw for each rate in turn, and "
        "return the share of searches whose final count is positive, as a Python float.",
    ),
)
def _pf_simulate_offers(t):
    got = t.call("pf_simulate_offers", [0.15, 0.35, 0.30], 50, 2000, 0)
    t.true(type(got) is float, f"the share is a {type(got).__name__}", "Return a Python float.")
    t.close(
        got,
        simulate_reference([0.15, 0.35, 0.30], 50, 2000, 0),
        nudge="Follow the recipe exactly: one generator from the seed, one binomial draw per "
        "stage for all the searches at once.",
    )
    t.true(
        t.call("pf_simulate_offers", [0.3], 3, 500, 1)
        != t.call("pf_simulate_offers", [0.3], 3, 500, 2),
        "two seeds gave the same share",
        "The generator must be made from the seed argument.",
    )


@problem(
    "pf_offer_chance_uncertain",
    hints=(
        "An uncertain rate is a distribution; the chance of an offer is then an average of "
        "the known-rate formula over many plausible rates.",
        "Make one generator from the seed; start an array of ones, one per draw, and multiply "
        "it by a Beta draw of the given size for each stage in turn; average one minus one "
        "minus that product to the power of the applications.",
    ),
)
def _pf_offer_chance_uncertain(t):
    priors = [(15, 85), (35, 65), (30, 70)]
    got = t.call("pf_offer_chance_uncertain", priors, 50, 5000, 0)
    t.true(type(got) is float, f"the chance is a {type(got).__name__}", "Return a Python float.")
    t.close(
        got,
        uncertain_reference(priors, 50, 5000, 0),
        nudge="Draw the stages in order from one generator made from the seed.",
    )
    known = 1 - (1 - 0.15 * 0.35 * 0.30) ** 50
    t.true(
        got < known,
        f"the chance with uncertain rates is {got:.4f}, not below {known:.4f} with known rates",
        "Averaging a concave curve over uncertain rates gives less than the curve at the mean.",
    )


@problem(
    "pf_rank_projects",
    hints=(
        "A document becomes a vector of word weights, frequent in it and rare elsewhere; two "
        "documents are similar when their vectors point the same way.",
        "Tokenise every description and the ad; count each vocabulary word per document; the "
        "document frequency is how many documents have the word; weight the counts by the "
        "smoothed inverse document frequency, scale each row to length one (leaving empty "
        "rows at zero), and score each project by its dot product with the ad's row. Sort by "
        "score, highest first, then by name.",
        "A matrix of counts with one row per document and one column per word makes every "
        "step a NumPy operation; a division with out and where leaves zero rows at zero.",
    ),
)
def _pf_rank_projects(t):
    projects = {
        "api": "FastAPI service latency tests",
        "vision": "PyTorch CNN vision",
        "both": "FastAPI PyTorch",
    }
    ad = "FastAPI service with tests and latency budgets"
    got = t.call("pf_rank_projects", ad, projects)
    expected = rank_reference(ad, projects)
    t.true(
        isinstance(got, list) and len(got) == len(projects),
        f"the result is {type(got).__name__}",
        "Return a list with one (name, score) tuple per project.",
    )
    t.equal(
        [name for name, _ in got],
        [name for name, _ in expected],
        nudge="Most similar first.",
    )
    t.close(
        [score for _, score in got],
        [score for _, score in expected],
        nudge="Compare your vectors with scikit-learn's TfidfVectorizer on the same documents "
        "(descriptions and ad together).",
    )


# -- the quiz ---------------------------------------------------------------------------

number(
    "q_pf_offer_odds",
    hints=(
        "At least one success is the complement of all failing.",
        "Multiply the three rates, then take one minus one minus that, to the power fifty.",
    ),
)
choice(
    "q_pf_uncertainty",
    options="abcd",
    hints=(
        "Think of the shape of the curve of the chance of an offer against the rate.",
        "For a curve that bends downwards, the average of its values lies below its value at "
        "the average.",
    ),
)
number(
    "q_pf_random_pr_auc",
    hints=(
        "Random scores do not change the share of positives among the cases they flag.",
        "Precision stays at the base rate at every recall.",
    ),
)
choice(
    "q_pf_backed",
    options="abcd",
    hints=(
        "A two-decimal number stands for the values within half a unit of its second decimal.",
        "Compute each value's distance from the quoted number and compare it with 0.005.",
    ),
)
number(
    "q_pf_idf",
    hints=(
        "The smoothed inverse document frequency adds one in three places.",
        "Natural logarithm of seven over three, plus one.",
    ),
)
