"""Checks for ``04_job_search/ml_theory_interview.ipynb``, and its bank of questions.

Learners may read this file: it holds the visible checks, the hints and the
fixtures the checks build on the learner's side, never a solution or a
hidden test.

It also holds the notebook's **question bank** as data (:data:`BANK`): each
quiz question's topic, prompt and options, the public text of the question.
The notebook's markdown cells show exactly this text
(:func:`question_markdown`), and ``mlcourse drill`` reads it to ask the
questions again in a terminal, with spaced repetition. The answers and their
explanations are not here: they live in the notebook's hidden tests
(``check.key``), which ``mlcourse start`` copies into a self-study
workspace's reveal store.

``choice`` and ``number`` below wrap :func:`mlcourse.check.choice` and
:func:`mlcourse.check.number`: each registers the quiz problem (its visible
check and hints) and adds the question to the bank.
"""

from __future__ import annotations

import textwrap

import numpy as np

from mlcourse.check import problem
from mlcourse.check import problems as _problems
from mlcourse.check.outcomes import AuthoringError

HERE = "mlcourse.exercises.ml_theory_interview"

#: The bank's topics, in the notebook's order: id -> title.
TOPICS = {
    "bias-variance": "Bias and variance",
    "regularisation": "Regularisation",
    "metrics": "Metrics, and which one to choose",
    "probability": "Probability puzzles",
    "optimisation": "Optimisation",
    "trees": "Trees and ensembles",
    "deep-learning": "Deep learning",
    "transformers": "Transformers",
    "evaluation": "Evaluation pitfalls",
}

#: Every quiz question of the notebook, in order: name, topic, kind ("choice" or
#: "number"), prompt (markdown), options (a tuple of texts for a, b, c... or None),
#: and whether ``mlcourse drill`` asks it (False for a question the learner answers
#: by running code in the notebook).
BANK: list[dict] = []
LETTERS = "abcdefgh"


def _add(kind: str, name: str, topic: str, prompt: str, options, drill: bool) -> dict:
    if topic not in TOPICS:
        raise AuthoringError(f"{name}: unknown topic {topic!r}")
    if any(entry["name"] == name for entry in BANK):
        raise AuthoringError(f"{name}: in the bank twice")
    entry = {
        "name": name,
        "topic": topic,
        "kind": kind,
        "prompt": textwrap.dedent(prompt).strip(),
        "options": None if options is None else tuple(str(o).strip() for o in options),
        "drill": bool(drill),
    }
    BANK.append(entry)
    return entry


def choice(name: str, *, topic: str, prompt: str, options, hints, drill: bool = True):
    """A multiple-choice question of the bank: options are the texts of a, b, c..."""
    _add("choice", name, topic, prompt, options, drill)
    return _problems.choice(name, options=LETTERS[: len(options)], hints=hints)


def number(name: str, *, topic: str, prompt: str, hints, drill: bool = True):
    """A question of the bank answered with a number."""
    _add("number", name, topic, prompt, None, drill)
    return _problems.number(name, hints=hints)


def question(name: str) -> dict:
    """The bank's entry for ``name``, with its place in the notebook (``number``, from 1)."""
    for position, entry in enumerate(BANK, start=1):
        if entry["name"] == name:
            return {**entry, "number": position}
    raise KeyError(name)


def question_markdown(name: str) -> str:
    """The notebook's markdown cell for question ``name``: its number, prompt and options."""
    entry = question(name)
    lines = [f"**Q{entry['number']}.** {entry['prompt']}"]
    if entry["options"]:
        lines.append("")
        lines.extend(f"* {LETTERS[i]}) {text}" for i, text in enumerate(entry["options"]))
    return "\n".join(lines)


def topic_counts() -> dict[str, int]:
    """Questions per topic, in the notebook's order."""
    counts = dict.fromkeys(TOPICS, 0)
    for entry in BANK:
        counts[entry["topic"]] += 1
    return counts


# -- fixtures the checks build on the learner's side ------------------------------------


class QuadraticGrad:
    """The gradient of f(x) = 0.5 x'Ax - b'x, as a callable that counts its calls."""

    def __init__(self, A, b):
        self.A = np.asarray(A, dtype=float)
        self.b = np.asarray(b, dtype=float)
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return self.A @ np.asarray(x, float) - self.b


class RosenbrockGrad:
    """The gradient of the Rosenbrock function (1 - x)^2 + 100 (y - x^2)^2."""

    def __init__(self):
        self.calls = 0

    def __call__(self, p):
        self.calls += 1
        x, y = float(p[0]), float(p[1])
        return np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)])


def _pair_of_floats(t, got, what: str, nudge: str) -> None:
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"{what} returned {type(got).__name__}"
        + (f" of length {len(got)}" if isinstance(got, tuple | list) else ""),
        nudge,
    )


# -- the code exercises ----------------------------------------------------------------


@problem(
    "bias_variance_split",
    hints=(
        "Bias compares the average model, over many training sets, with the truth; variance "
        "measures how far the individual models scatter around that average. Both are "
        "computed at each test point, then averaged over the points.",
        "Average the predictions over the training sets (down the rows) to get the mean "
        "prediction at each point. The squared gap between it and the true values, averaged "
        "over the points, is the bias squared. The spread of each column around its mean "
        "(divide by the number of training sets, not one less), averaged over the points, is "
        "the variance. Check the shapes first and raise a ValueError when they do not fit.",
        "The axis that runs over training sets is axis 0. NumPy's var divides by n by "
        "default. Return a tuple of two Python floats.",
    ),
)
def _bias_variance_split(t):
    preds = np.array([[1.0, 2.0, 0.0], [3.0, 2.0, 2.0]])  # 2 training sets, 3 test points
    truth = np.array([2.0, 1.0, 1.0])
    got = t.call("bias_variance_split", preds, truth)
    _pair_of_floats(t, got, "bias_variance_split", "Return a tuple (bias2, variance).")
    t.true(
        all(type(v) is float for v in got),
        f"the values are {', '.join(type(v).__name__ for v in got)}",
        "Return Python floats (float(...)), not NumPy scalars.",
    )
    bias2, variance = got
    t.close(
        bias2,
        1 / 3,
        what="bias2",
        wrong={
            "You averaged the bias before squaring it: square the gap at each point first.": 0.0,
            "That is the variance: the bias compares the mean prediction with the truth.": 2 / 3,
            "You summed over the test points instead of averaging.": 1.0,
        },
    )
    t.close(
        variance,
        2 / 3,
        what="variance",
        wrong={
            "You divided by the number of training sets minus one: the spread of the models "
            "is a population variance here.": 4 / 3,
            "You took the variance across the test points (axis 1), not across the training "
            "sets.": 0.3333333333333333,
        },
    )
    t.raises(
        ValueError,
        "bias_variance_split",
        np.ones((4, 3)),
        np.ones(5),
        case="3 test points in the predictions, 5 true values",
    )


@problem(
    "ridge_closed_form",
    hints=(
        "Ridge adds a penalty on the size of the weights to least squares; the intercept "
        "only sets the level of the predictions, so it is left out of the penalty by "
        "centring the data first.",
        "Subtract the column means from the features and the mean from the targets. Solve "
        "the regularised normal equations for the weights: the centred Gram matrix plus "
        "lambda times the identity, against the centred features times the centred targets. "
        "The intercept is the target mean minus the feature means dotted with the weights. "
        "Refuse a negative lambda.",
        "Use a linear solver, not an explicit inverse. Return the weights as a float array "
        "and the intercept as a Python float.",
    ),
)
def _ridge_closed_form(t):
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([1.0, 3.0, 5.0, 7.0])  # y = 2 x + 1 exactly
    got = t.call("ridge_closed_form", X, y, 0.0)
    _pair_of_floats(t, got, "ridge_closed_form", "Return a tuple (w, b).")
    w, b = got
    t.shape(w, (1,), nudge="One weight per feature, as a 1-D array.")
    t.close(w, [2.0], what="w at lambda 0", nudge="With lambda 0, ridge is least squares.")
    t.true(type(b) is float, f"b is a {type(b).__name__}", "Return b as a Python float.")
    t.close(
        b,
        1.0,
        what="b at lambda 0",
        wrong={"You left the intercept out: fit it from the means.": 0.0},
    )
    w5, b5 = t.call("ridge_closed_form", X, y, 5.0)
    t.close(
        w5,
        [1.0],
        what="w at lambda 5",
        wrong={
            "That penalises the intercept too (no centring): centre X and y first.": [
                1.5555555555555556
            ],
            "You left the intercept out of the model: fit it from the means.": [1.7894736842105263],
        },
    )
    t.close(b5, 2.5, what="b at lambda 5")
    t.raises(ValueError, "ridge_closed_form", X, y, -1.0, case="a negative lambda")


@problem(
    "prf_scores",
    hints=(
        "Precision asks how many of the predicted positives are real; recall asks how many "
        "of the real positives were found; F1 is their harmonic mean. A ratio with nothing "
        "to count is reported as zero.",
        "Count true positives, false positives and false negatives from the two label "
        "arrays. Precision divides the true positives by all predicted positives, recall by "
        "all real positives, and F1 is twice their product over their sum. Whenever a "
        "denominator is zero, that score is 0.0. Arrays of different lengths are a "
        "ValueError.",
        "Compare with 1 to turn labels (0/1 or booleans) into masks, combine masks with "
        "the bitwise operators, and return three Python floats.",
    ),
)
def _prf_scores(t):
    y_true = [1, 1, 1, 0, 0, 1]
    y_pred = [1, 0, 0, 1, 0, 1]  # 2 true positives, 1 false positive, 2 false negatives
    got = t.call("prf_scores", y_true, y_pred)
    t.true(
        isinstance(got, tuple) and len(got) == 3,
        f"prf_scores returned {type(got).__name__}",
        "Return a tuple (precision, recall, f1).",
    )
    t.true(
        all(type(v) is float for v in got),
        f"the values are {', '.join(type(v).__name__ for v in got)}",
        "Return Python floats (float(...)), not NumPy scalars.",
    )
    precision, recall, f1 = got
    t.close(
        precision,
        2 / 3,
        what="precision",
        wrong={"That is the recall: precision divides by the PREDICTED positives.": 0.5},
    )
    t.close(
        recall,
        0.5,
        what="recall",
        wrong={"That is the precision: recall divides by the REAL positives.": 2 / 3},
    )
    t.close(
        f1,
        4 / 7,
        what="f1",
        wrong={"That is the arithmetic mean; F1 is the harmonic mean.": 7 / 12},
    )
    t.equal(
        t.call("prf_scores", [1, 0, 1], [0, 0, 0]),
        (0.0, 0.0, 0.0),
        nudge="Nothing predicted positive: precision, recall and F1 are all 0.0 here.",
    )


@problem(
    "shared_birthday",
    hints=(
        "Count the opposite event, that all the birthdays differ, and take its complement.",
        "Let the people arrive one at a time: the first may take any day, the second must "
        "avoid one day, the third two, and so on. Multiply those chances and subtract the "
        "product from one. With more people than days one factor is zero, so the answer is "
        "one. A negative group size or fewer than one day is a ValueError.",
        "Start a running product at 1.0 and loop over the people; person i (counting from "
        "zero) finds a fraction of free days of the days not yet taken over all days.",
    ),
)
def _shared_birthday(t):
    got = t.call("shared_birthday", 23)
    t.true(
        type(got) is float,
        f"the probability is a {type(got).__name__}",
        "Return a Python float.",
    )
    t.close(
        got,
        0.5072972343239857,
        wrong={
            "That is the chance that all 23 birthdays differ: the question asks for its "
            "complement.": 0.49270276567601434,
        },
    )
    t.close(t.call("shared_birthday", 2), 1 / 365, what="two people")
    t.close(t.call("shared_birthday", 3, 4), 0.625, what="three people, four days")
    t.close(t.call("shared_birthday", 0), 0.0, what="nobody")


@problem(
    "adam_optimise",
    hints=(
        "Adam keeps two running averages, of the gradients and of their squares, corrects "
        "both for starting at zero, and moves each parameter by the first over the square "
        "root of the second.",
        "Start from a float copy of the initial point, with both averages at zero. At step "
        "t (counting from one) ask for the gradient at the current point once, update the "
        "two exponential averages with their betas, divide each by one minus its beta to "
        "the power t, and take a step of the learning rate times the corrected mean over "
        "the square root of the corrected second moment plus eps.",
        "The bias correction uses the step number counted from 1, not from 0. Do not change "
        "the caller's array in place.",
    ),
)
def _adam_optimise(t):
    grad = t.build(f"{HERE}:QuadraticGrad", [[2.0]], [0.0])  # f(x) = x^2
    got = t.call("adam_optimise", grad, np.array([1.0]), 0.1, 1)
    t.shape(got, (1,), nudge="Return the final point as an array shaped like x0.")
    t.close(
        got,
        [0.9],
        what="x after one step from 1.0 with lr 0.1",
        wrong={
            "Without the bias correction the first step is too long: divide the averages "
            "by one minus beta to the power t.": [0.683772233983162],
            "That is a plain gradient step (lr times the gradient).": [0.8],
        },
        nudge="Adam's first step moves each parameter by about lr, whatever its gradient.",
    )
    grad = t.build(f"{HERE}:QuadraticGrad", [[2.0, 0.0], [0.0, 20.0]], [2.0, -4.0])
    got = t.call("adam_optimise", grad, np.array([0.0, 0.0]), 0.05, 3)
    t.close(
        got,
        [0.14968830359394303, -0.14630251711701864],
        rtol=1e-7,
        what="x after three steps on a 2-D bowl",
        wrong={
            "You took two steps, or counted them from 0.": [
                0.09991675668945357,
                -0.09912875381281608,
            ],
            "You took four steps.": [0.19924755184023343, -0.18988090584132006],
        },
        nudge="Count the steps from 1 in the bias correction.",
    )
    t.equal(
        t.value(grad.calls),
        3,
        case="three steps",
        nudge="Ask for the gradient once per step.",
    )


@problem(
    "gini_split",
    hints=(
        "A split is good when the two groups it makes are purer than the node was; the "
        "purity of each group counts in proportion to its size.",
        "Compute the Gini impurity of a set of labels as one minus the sum of the squared "
        "class shares. Try a threshold halfway between each pair of neighbouring distinct "
        "values of the feature, send the points at or below it left, and compute the "
        "node's impurity minus the size-weighted impurities of the two sides. Keep the "
        "first threshold with the largest gain, and return no threshold with a gain of "
        "zero when no split helps.",
        "Sort the distinct values once. Only a strictly larger gain replaces the best so "
        "far. Return the threshold and the gain as Python floats (or None and 0.0).",
    ),
)
def _gini_split(t):
    got = t.call("gini_split", np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 0, 1, 1]))
    _pair_of_floats(t, got, "gini_split", "Return a tuple (threshold, gain).")
    threshold, gain = got
    t.close(
        threshold,
        2.5,
        what="threshold",
        wrong={
            "Thresholds sit halfway between neighbouring values, not on a value.": 2.0,
        },
    )
    t.close(
        gain,
        0.5,
        what="gain",
        wrong={"That is the impurity left after the split, not what the split removed.": 0.0},
    )
    t.equal(
        t.call("gini_split", np.array([1.0, 2.0, 3.0]), np.array([1, 1, 1])),
        (None, 0.0),
        nudge="A pure node cannot be improved: return (None, 0.0).",
    )


@problem(
    "softmax_xent_grad",
    hints=(
        "The loss is the average negative log-probability of the true classes under the "
        "softmax; its gradient with respect to the logits is the predicted probabilities "
        "minus the one-hot truth, averaged over the batch.",
        "Subtract each row's largest logit (it changes nothing and keeps the exponentials "
        "finite), compute the log-softmax with the log-sum-exp, average minus the true "
        "classes' log-probabilities for the loss, and for the gradient take the "
        "probabilities, subtract one at each true class and divide by the batch size. "
        "Refuse labels outside the classes and shapes that do not fit with a ValueError.",
        "Index the true classes with an array of row numbers and the labels. Return the "
        "loss as a Python float and the gradient as a float array shaped like the logits.",
    ),
)
def _softmax_xent_grad(t):
    got = t.call("softmax_xent_grad", np.array([[0.0, 0.0]]), np.array([0]))
    _pair_of_floats(t, got, "softmax_xent_grad", "Return a tuple (loss, grad).")
    loss, grad = got
    t.true(type(loss) is float, f"the loss is a {type(loss).__name__}", "Return a Python float.")
    t.close(loss, 0.6931471805599453, what="the loss of two equal logits")
    t.close(
        grad,
        [[-0.5, 0.5]],
        what="the gradient",
        wrong={"Mind the sign: the gradient is probabilities MINUS the one-hot.": [[0.5, -0.5]]},
    )
    loss2, grad2 = t.call(
        "softmax_xent_grad", np.array([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), np.array([0, 2])
    )
    t.close(
        loss2,
        0.8606453667441684,
        what="the loss of a batch of two",
        wrong={"Average over the batch, do not sum.": 1.7212907334883367},
    )
    t.close(
        grad2,
        [
            [-0.07810263275933027, 0.05709759969229724, 0.021005033067033024],
            [0.10597077880854272, 0.28805844238291456, -0.3940292211914573],
        ],
        what="the gradient of a batch of two",
        wrong={
            "Divide the gradient by the batch size too.": [
                [-0.15620526551866054, 0.11419519938459448, 0.04201006613406605],
                [0.21194155761708544, 0.5761168847658291, -0.7880584423829146],
            ]
        },
    )


@problem(
    "causal_attention",
    hints=(
        "Each position mixes the values of the positions it may see, weighted by how well "
        "its query matches their keys; a causal model may not see the future.",
        "Score every query against every key with a dot product divided by the square root "
        "of the key size. Set the scores above the diagonal (later positions) to minus "
        "infinity, take a softmax along each row, and multiply the weights by the values. "
        "Mismatched shapes are a ValueError.",
        "A lower-triangular boolean mask and a where give the masked scores; subtract each "
        "row's maximum before exponentiating. Return the output and the weights.",
    ),
)
def _causal_attention(t):
    Q = np.zeros((3, 2))
    V = np.array([[1.0], [2.0], [3.0]])
    got = t.call("causal_attention", Q, Q, V)
    _pair_of_floats(t, got, "causal_attention", "Return a tuple (output, weights).")
    out, weights = got
    t.shape(weights, (3, 3), nudge="One row of weights per query, one column per key.")
    t.close(
        weights,
        [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]],
        what="the weights of equal scores",
        wrong={
            "Every position sees the future too: mask the keys after each query.": np.full(
                (3, 3), 1 / 3
            ),
        },
    )
    t.close(out, [[1.0], [1.5], [2.0]], what="the output")
    Q2 = np.array([[1.0, 0.0], [0.0, 2.0]])
    K2 = np.array([[2.0, 0.0], [0.0, 1.0]])
    _, w2 = t.call("causal_attention", Q2, K2, np.eye(2))
    t.close(
        w2,
        [[1.0, 0.0], [0.19557031749304313, 0.8044296825069569]],
        what="the weights of a 2-token example",
        wrong={
            "Scale the scores by one over the square root of the key size.": [
                [1.0, 0.0],
                [0.11920292202211755, 0.8807970779778823],
            ],
        },
    )


# -- the bank: 1. bias and variance ---------------------------------------------------

choice(
    "q_bv_more_data",
    topic="bias-variance",
    prompt="""
        A model's training error and validation error are both high, and close to each
        other. You collect ten times more training data and retrain the same model. What
        happens to the validation error, most likely?
        """,
    options=(
        "It drops a lot: more data always helps.",
        "It barely moves: the model is too simple for the data, and more data does not "
        "make a simple model less biased.",
        "It rises, because the model now sees more noise.",
        "It falls to the noise level, because with enough data every error disappears "
        "except the noise.",
    ),
    hints=(
        "Ask which of the two error sources, bias or variance, shrinks as the training set grows.",
        "Both errors high and close together is the signature of underfitting; think about "
        "what a straight line does with a million points from a curve.",
    ),
)
choice(
    "q_bv_gap",
    topic="bias-variance",
    prompt="""
        A classifier has 2% training error and 19% validation error. Which change is most
        likely to bring the validation error down?
        """,
    options=(
        "A bigger model, with more layers.",
        "Training for more epochs.",
        "Stronger regularisation, or more training data.",
        "Removing the regularisation, so that the model fits better.",
    ),
    hints=(
        "A large gap between training and validation error says the model has learnt the "
        "training set rather than the pattern.",
        "Pick the change that reduces variance; the other three increase it.",
    ),
)
choice(
    "q_bv_knn",
    topic="bias-variance",
    prompt="In k-nearest-neighbours regression, increasing k...",
    options=(
        "raises the variance and lowers the bias.",
        "lowers the variance and raises the bias.",
        "lowers both.",
        "changes neither: k only changes the speed.",
    ),
    hints=(
        "Think of the two extremes: one neighbour, and every training point as a neighbour.",
        "Averaging more neighbours smooths the prediction: less sensitive to any one "
        "point, but blind to local detail.",
    ),
)
number(
    "q_bv_noise",
    topic="bias-variance",
    prompt="""
        The data follow y = f(x) + ε, where the noise ε has mean 0 and standard deviation
        0.5. What expected squared error on new data does even the true function f
        itself make? Answer with a number.
        """,
    hints=(
        "The noise is the part of the error that no model can remove, not even the truth.",
        "The expected squared error of the true function is the variance of the noise, the "
        "square of its standard deviation.",
    ),
)
number(
    "q_bv_bias_linear",
    topic="bias-variance",
    drill=False,
    prompt="""
        Use your `bias_variance_split` on the simulation `fit_polys(1)` of section 1
        (straight lines fitted to 200 noisy training sets from the sine curve). What is
        the bias² of a straight line? Answer with a number.
        """,
    hints=(
        "The helper returns the predictions of every fitted line and the true curve at the "
        "test points; your function turns them into the two error terms.",
        "Call the helper for degree one, pass both of its results to your function, and "
        "take the first of the two numbers it returns.",
    ),
)
number(
    "q_bv_best_degree",
    topic="bias-variance",
    drill=False,
    prompt="""
        With the same simulation, `fit_polys(degree)` for degrees 0 to 9, which degree
        has the lowest expected test error, bias² + variance + noise? Answer with the
        degree.
        """,
    hints=(
        "The noise is the same for every degree, so only the sum of the other two terms decides.",
        "Loop over the ten degrees, add the two terms your function returns for each, and "
        "report the degree where the sum is smallest.",
    ),
)
choice(
    "q_bv_bagging",
    topic="bias-variance",
    prompt="""
        Averaging many models, each trained on a bootstrap sample of the data (bagging),
        mainly reduces...
        """,
    options=(
        "the bias.",
        "the variance.",
        "the irreducible noise.",
        "the training time.",
    ),
    hints=(
        "An average of many noisy guesses is steadier than any one of them, but it is "
        "centred where they are centred.",
        "Ask whether averaging moves the mean prediction, or only its spread.",
    ),
)
choice(
    "q_bv_learning_curve",
    topic="bias-variance",
    prompt="""
        On a learning curve (error against training set size), the training and validation
        errors meet at a level well above what the product needs. What is the remedy?
        """,
    options=(
        "Collect more data.",
        "A more flexible model, or better features.",
        "Add dropout.",
        "Lower the learning rate.",
    ),
    hints=(
        "Curves that have met have nothing left to gain from more data: the gap, the "
        "variance, is gone.",
        "What remains is bias; choose the change that lets the model express more.",
    ),
)

# -- 2. regularisation ---------------------------------------------------------------

choice(
    "q_reg_l1_sparse",
    topic="regularisation",
    prompt="""
        Why does an L1 penalty (the lasso) set some weights exactly to zero, when an L2
        penalty (ridge) only makes them small?
        """,
    options=(
        "The L1 penalty is larger than the L2 penalty for every weight.",
        "The L1 penalty pulls towards zero with the same force however small a weight "
        "is, so a weight whose loss gradient is weaker than that pull stops exactly at "
        "zero.",
        "L2 is only applied to the bias term.",
        "The lasso is solved by gradient descent, which rounds small numbers to zero.",
    ),
    hints=(
        "Compare the slopes of the two penalties near zero.",
        "The slope of the absolute value stays at one as the weight shrinks; the slope of "
        "the square vanishes.",
    ),
)
choice(
    "q_reg_prior",
    topic="regularisation",
    prompt="""
        Ridge regression's weights are the maximum a posteriori estimate under which prior
        on the weights?
        """,
    options=("A Laplace prior.", "A Gaussian prior.", "A uniform prior.", "A Cauchy prior."),
    hints=(
        "Minus the log of the prior is the penalty added to the loss.",
        "Which density has a log that is a negative square of the weight?",
    ),
)
choice(
    "q_reg_scale",
    topic="regularisation",
    prompt="""
        You fit a lasso without standardising the features. One feature is measured in
        millimetres instead of metres, so its values are 1000 times larger. What happens
        to it?
        """,
    options=(
        "It is penalised more, and more likely to be dropped.",
        "It needs a weight 1000 times smaller for the same effect, which costs less "
        "penalty, so it is favoured.",
        "Nothing: the lasso is scale-invariant.",
        "The problem becomes non-convex.",
    ),
    hints=(
        "The penalty looks at the size of the weights, and the size of a weight depends "
        "on the units of its feature.",
        "If the feature's values grow by a factor, the weight giving the same prediction "
        "shrinks by that factor: what does that do to its penalty?",
    ),
)
choice(
    "q_reg_lambda_inf",
    topic="regularisation",
    prompt="""
        In ridge regression with an unpenalised intercept, as the penalty λ grows without
        limit, the predictions tend to...
        """,
    options=(
        "the least-squares predictions.",
        "zero.",
        "the mean of the training targets.",
        "infinity.",
    ),
    hints=(
        "An infinite penalty leaves only weights that cost nothing.",
        "With every weight forced to zero, only the intercept predicts, and the best "
        "constant under squared error is well known.",
    ),
)
number(
    "q_reg_dof",
    topic="regularisation",
    drill=False,
    prompt="""
        The effective degrees of freedom of ridge regression are the sum over j of
        d_j² / (d_j² + λ), where the d_j are the singular values of the centred feature
        matrix. Compute them for scikit-learn's diabetes data (`load_diabetes().data`,
        ten features) at λ = 0.1. Answer with a number.
        """,
    hints=(
        "Each singular direction counts as a whole parameter when its singular value is "
        "large against lambda, and as almost nothing when it is small.",
        "Centre the columns, take the singular values, and add up the ten shrinkage factors.",
    ),
)
choice(
    "q_reg_dropout",
    topic="regularisation",
    prompt="""
        A network is trained with dropout at rate p = 0.5, implemented as PyTorch does
        ("inverted" dropout). At test time you...
        """,
    options=(
        "drop half of the units at random, as in training.",
        "multiply every activation by 0.5.",
        "use every unit unchanged: during training the kept units were already scaled up by 2.",
        "multiply the weights by 2.",
    ),
    hints=(
        "The expected activation must be the same in training and at test time.",
        "Inverted dropout does the rescaling during training, so that inference needs "
        "nothing special.",
    ),
)
choice(
    "q_reg_early_stop",
    topic="regularisation",
    prompt="Early stopping acts like an L2 penalty because...",
    options=(
        "it removes features.",
        "gradient descent starts from small weights and moves them away from zero a step "
        "at a time, so stopping early keeps them small.",
        "it lowers the learning rate.",
        "it trains on the validation loss.",
    ),
    hints=(
        "Think about where the weights start and how far they can travel in a limited "
        "number of steps.",
        "On a quadratic loss, the directions with little curvature are learnt last; "
        "stopping early leaves them near their start, as ridge shrinks them.",
    ),
)
number(
    "q_reg_ridge_one",
    topic="regularisation",
    prompt="""
        One feature, no intercept: xᵀx = 4 and xᵀy = 8, so the least-squares weight is
        2. What is the ridge weight at λ = 4? Answer with a number.
        """,
    hints=(
        "Ridge adds lambda to the curvature of the loss before solving for the weight.",
        "The one-feature normal equation becomes a weight times the sum of xᵀx and lambda "
        "equal to xᵀy.",
    ),
)
choice(
    "q_reg_correlated",
    topic="regularisation",
    prompt="""
        Two strongly correlated features both carry the signal. What does the lasso tend
        to do with them?
        """,
    options=(
        "Keep both, with equal weights.",
        "Keep one and set the other to zero, rather arbitrarily; the elastic net, which "
        "adds an L2 part, tends to keep them together.",
        "Set both to zero.",
        "Give both negative weights.",
    ),
    hints=(
        "For the L1 penalty, one feature carrying the whole signal costs the same as two "
        "sharing it, and the loss hardly cares which.",
        "Ask what the L2 penalty prefers: one large weight, or two half-size ones?",
    ),
)

# -- 3. metrics, and which one to choose -------------------------------------------------

number(
    "q_met_precision",
    topic="metrics",
    prompt="""
        A spam filter flags 50 emails, and 40 of them really are spam. The inbox held 80
        spam emails in all. What is the filter's precision? Answer with a number.
        """,
    hints=(
        "Precision is about the flagged emails: how many of them deserved the flag.",
        "Divide the true positives by everything flagged.",
    ),
)
number(
    "q_met_f1",
    topic="metrics",
    prompt="""
        A spam filter flags 50 emails, 40 of which really are spam, in an inbox that held
        80 spam emails. What is its F1 score? Answer with a number.
        """,
    hints=(
        "F1 is the harmonic mean of precision and recall, which punishes the weaker of the two.",
        "Precision is 40 of 50 and recall 40 of 80; F1 is twice their product divided by "
        "their sum.",
    ),
)
choice(
    "q_met_rare",
    topic="metrics",
    prompt="""
        Fraud is 0.1% of the transactions. Which single number best compares two fraud
        models?
        """,
    options=(
        "Accuracy.",
        "ROC AUC.",
        "The area under the precision-recall curve (average precision).",
        "R².",
    ),
    hints=(
        "With so few positives, a metric whose denominator is the huge number of "
        "negatives barely moves, whatever the model does.",
        "Which of these looks only at the positives the model flags and the positives it finds?",
    ),
)
choice(
    "q_met_auc_meaning",
    topic="metrics",
    prompt="ROC AUC is the probability that...",
    options=(
        "a random positive example gets a higher score than a random negative one.",
        "a prediction is correct.",
        "the model is calibrated.",
        "precision is larger than recall.",
    ),
    hints=(
        "AUC depends only on the order of the scores, not on any threshold.",
        "Think of comparing every positive with every negative.",
    ),
)
number(
    "q_met_auc_pairs",
    topic="metrics",
    prompt="""
        Two positives score 0.9 and 0.4; three negatives score 0.6, 0.2 and 0.1. What is
        the ROC AUC? Answer with a number.
        """,
    hints=(
        "The AUC is the share of positive-negative pairs that the scores put in the right order.",
        "There are two times three pairs; count those where the positive scores higher.",
    ),
)
number(
    "q_met_cost",
    topic="metrics",
    drill=False,
    prompt="""
        In section 3, `cost_scores` and `cost_labels` hold the scores and true labels of
        40 cases. A missed positive (false negative) costs 10, a false alarm (false
        positive) costs 1, and you predict positive when the score is at least a threshold
        t. Over every threshold, what is the lowest total cost you can reach? Answer with
        a number.
        """,
    hints=(
        "The best threshold for unequal costs is not the one that maximises accuracy or "
        "F1: it trades errors at their prices.",
        "Try each distinct score as the threshold (and one above every score), count the "
        "false positives and false negatives, price them, and keep the smallest total.",
    ),
)
choice(
    "q_met_mae",
    topic="metrics",
    prompt="A model trained to minimise the mean absolute error predicts, for each input...",
    options=(
        "the conditional mean of the target.",
        "the conditional median of the target.",
        "the conditional mode of the target.",
        "the 90th percentile of the target.",
    ),
    hints=(
        "Each loss has a best constant guess; for squared error it is the mean.",
        "Moving a guess past the middle of the data adds more absolute error on one side "
        "than it removes on the other.",
    ),
)
choice(
    "q_met_rmse",
    topic="metrics",
    prompt="""
        Your house-price model makes a few huge misses among many small errors. Compared
        with the mean absolute error, the root mean squared error...
        """,
    options=(
        "weighs the huge misses more, so it is noticeably larger.",
        "ignores them.",
        "is always the smaller of the two.",
        "has no units.",
    ),
    hints=(
        "Squaring an error makes a large one much larger, compared with a small one.",
        "The RMSE is never below the MAE; the gap grows with the spread of the errors.",
    ),
)
number(
    "q_met_logloss",
    topic="metrics",
    prompt="""
        A classifier gives the true class probability 0.5 on every example. What is its
        log loss (natural logarithm)? Answer with a number.
        """,
    hints=(
        "The log loss averages minus the log of the probability given to the true class.",
        "Every example contributes the same term, minus the natural log of one half.",
    ),
)
choice(
    "q_met_calibrated",
    topic="metrics",
    prompt="A classifier is well calibrated. Among all the cases where it says 0.8...",
    options=(
        "about 80% are positive.",
        "it is right 80% of the time overall.",
        "its ROC AUC is 0.8.",
        "80% of the features matter.",
    ),
    hints=(
        "Calibration is a promise about what the predicted probabilities mean.",
        "Group the cases by their predicted probability and look at the share of "
        "positives in each group.",
    ),
)

# -- 4. probability puzzles --------------------------------------------------------------

number(
    "q_prob_birthday_90",
    topic="probability",
    drill=False,
    prompt="""
        With your `shared_birthday` (365 equally likely days), what is the smallest group
        in which a shared birthday has probability at least 0.9? Answer with a number.
        """,
    hints=(
        "The probability grows with the group; you want the first size past the target.",
        "Loop over group sizes from one and stop at the first where your function reaches 0.9.",
    ),
)
number(
    "q_prob_bayes",
    topic="probability",
    prompt="""
        A disease affects 1% of people. A test finds 90% of the sick (sensitivity) and
        clears 91% of the healthy (specificity). You test positive. What is the probability
        that you have the disease? Answer with a number.
        """,
    hints=(
        "Most positive tests come from the large healthy group, even though each healthy "
        "person rarely tests positive.",
        "Out of ten thousand people, count the sick who test positive and the healthy who "
        "test positive; the answer is the first count over their sum.",
    ),
)
number(
    "q_prob_monty",
    topic="probability",
    prompt="""
        Monty Hall: a car is behind one of three doors. You pick a door; the host, who
        knows where the car is, opens another door with a goat behind it and offers you
        the switch. What is your probability of winning the car if you switch? Answer with
        a number.
        """,
    hints=(
        "The host's choice is not random: he never opens your door, nor the car's.",
        "Switching wins exactly when your first pick was wrong.",
    ),
)
number(
    "q_prob_two_girls",
    topic="probability",
    prompt="""
        A family has two children, and you learn that at least one of them is a girl.
        Boys and girls are equally likely and independent. What is the probability that
        both are girls? Answer with a number.
        """,
    hints=(
        "List the equally likely families before the news, then cross out those the news "
        "rules out.",
        "Of the four orders of two children, one is ruled out; count the remaining ones "
        "with two girls.",
    ),
)
number(
    "q_prob_coupon",
    topic="probability",
    drill=False,
    prompt="""
        Each cereal box holds one of 10 toys, all equally likely. What is the expected
        number of boxes you buy to collect all 10? Compute it exactly, and check it by
        simulation. Answer with a number.
        """,
    hints=(
        "Split the wait into stages: the wait for a new toy when you already have some is "
        "a geometric wait.",
        "With k toys already collected, a new one comes with probability of the missing "
        "share, so the stage lasts its reciprocal on average; add up the ten stages.",
    ),
)
number(
    "q_prob_first_six",
    topic="probability",
    prompt="""
        You roll a fair die until the first 6. What is the expected number of rolls,
        the final 6 included? Answer with a number.
        """,
    hints=(
        "The number of tries until a first success is geometric.",
        "The mean of a geometric wait is one over the success probability.",
    ),
)
number(
    "q_prob_triangle",
    topic="probability",
    prompt="""
        A stick is broken at two points chosen uniformly at random. What is the probability
        that the three pieces form a triangle? Check your answer by simulation. Answer
        with a number.
        """,
    hints=(
        "Three lengths make a triangle when none of them is longer than the other two "
        "together, that is, when every piece is shorter than half the stick.",
        "Draw two uniform points many times, sort them, compute the three lengths, and "
        "count how often the longest is under one half; or find the area of that region "
        "in the unit square.",
    ),
)
number(
    "q_prob_max_uniform",
    topic="probability",
    prompt="""
        X and Y are independent and uniform on [0, 1]. What is the expected value of the
        larger of the two? Answer with a number.
        """,
    hints=(
        "The larger of the two is below m exactly when both are.",
        "Its distribution function is m squared on the unit interval; differentiate for "
        "the density and integrate m times it.",
    ),
)
number(
    "q_prob_std_error",
    topic="probability",
    prompt="""
        You average n = 100 independent measurements with standard deviation 5. What is
        the standard error of the mean? Answer with a number.
        """,
    hints=(
        "Averaging independent values divides the variance by their number.",
        "The standard error is the standard deviation over the square root of n.",
    ),
)
choice(
    "q_prob_independent",
    topic="probability",
    prompt="""
        P(A) = 0.5, P(B) = 0.4 and P(A and B) = 0.2. The events A and B are...
        """,
    options=(
        "independent.",
        "mutually exclusive.",
        "dependent: knowing A makes B more likely.",
        "impossible to classify from these numbers.",
    ),
    hints=(
        "Independence has a precise test on exactly these three numbers.",
        "Compare the joint probability with the product of the two single ones.",
    ),
)

# -- 5. optimisation --------------------------------------------------------------------

number(
    "q_opt_max_lr",
    topic="optimisation",
    prompt="""
        Gradient descent on f(x) = 5x², whose second derivative is 10. Gradient descent
        converges for every learning rate below a limit. What is the limit? Answer with a
        number.
        """,
    hints=(
        "Each step multiplies x by the same factor; the iteration converges when that "
        "factor is smaller than one in absolute value.",
        "The factor is one minus the learning rate times the curvature; solve for the "
        "learning rate that makes it minus one.",
    ),
)
number(
    "q_opt_steps",
    topic="optimisation",
    drill=False,
    prompt="""
        Gradient descent on f(x) = x² starts at x = 1 with learning rate 0.1. After how
        many steps is |x| first below 0.001? Answer with a number.
        """,
    hints=(
        "Every step multiplies x by the same factor.",
        "Run the steps in a loop until the size of x is below the target and count them, "
        "or solve the factor to the power k against the target with logarithms.",
    ),
)
number(
    "q_opt_adam_first",
    topic="optimisation",
    prompt="""
        Adam with learning rate 0.01, the default betas, and a negligible eps. On the very
        first step, by how much does a parameter whose gradient is 1000 change? Answer
        with the size of the change, a number.
        """,
    hints=(
        "Adam divides the averaged gradient by the root of the averaged squared gradient, "
        "after correcting both for starting at zero.",
        "After the bias correction, the first step's two averages are the gradient itself "
        "and its square.",
    ),
)
choice(
    "q_opt_momentum",
    topic="optimisation",
    prompt="Momentum speeds up gradient descent in a long, narrow valley because...",
    options=(
        "it averages the gradients over steps: the zig-zag across the valley cancels out, "
        "and the push along the valley adds up.",
        "it computes the second derivative.",
        "it makes the loss convex.",
        "it uses a larger learning rate for steep directions.",
    ),
    hints=(
        "Picture the gradients on the two walls of a ravine, step after step.",
        "A running sum of vectors that alternate in sign stays small; a running sum of "
        "vectors that agree grows.",
    ),
)
choice(
    "q_opt_saddle",
    topic="optimisation",
    prompt="""
        In the loss of a large neural network, most of the points where the gradient is
        zero are...
        """,
    options=(
        "local minima.",
        "saddle points.",
        "global minima.",
        "local maxima.",
    ),
    hints=(
        "At a critical point, each direction curves up or down; a minimum needs all of "
        "them to curve up.",
        "With millions of directions, having every one of them curve up is very unlikely.",
    ),
)
choice(
    "q_opt_batch",
    topic="optimisation",
    prompt="""
        You double the mini-batch size. The variance of the mini-batch gradient (as an
        estimate of the full gradient)...
        """,
    options=("halves.", "doubles.", "drops to a quarter.", "does not change."),
    hints=(
        "A mini-batch gradient is an average of independent per-example gradients.",
        "The variance of a mean of n independent terms is the variance of one term over n.",
    ),
)
choice(
    "q_opt_convex",
    topic="optimisation",
    prompt="Which of these losses is convex in the model's parameters?",
    options=(
        "The log loss of logistic regression.",
        "The squared error of a network with one hidden layer.",
        "The k-means objective, over both the centroids and the assignments.",
        "The cross-entropy of a deep convolutional network.",
    ),
    hints=(
        "A model that is linear in its parameters, inside a convex loss, keeps the "
        "convexity; hidden layers break it.",
        "Look for the option where swapping two parameter values would not give a second, "
        "equally good solution.",
    ),
)
choice(
    "q_opt_warmup",
    topic="optimisation",
    prompt="""
        Why do transformer trainings with Adam often use a learning-rate warm-up (a small
        learning rate that grows over the first few thousand steps)?
        """,
    options=(
        "In the first steps, Adam's second-moment estimates rest on few gradients and are "
        "unreliable, so full-size steps can throw the model into a bad region.",
        "To save memory.",
        "To make the loss convex.",
        "Because the tokenizer needs time to learn its vocabulary.",
    ),
    hints=(
        "Think about what Adam knows about the scale of each gradient after only a few steps.",
        "Early steps divide by estimates built from a handful of noisy squared gradients.",
    ),
)
number(
    "q_opt_newton",
    topic="optimisation",
    prompt="""
        One Newton step on f(x) = (x - 3)² starting from x = 10: where do you land? Answer
        with a number.
        """,
    hints=(
        "Newton's method fits a parabola to the function at the current point and jumps to "
        "its minimum.",
        "The step is the first derivative over the second; for a parabola that lands "
        "exactly on the minimum.",
    ),
)

# -- 6. trees and ensembles --------------------------------------------------------------

number(
    "q_tree_gini",
    topic="trees",
    prompt="""
        A tree node holds 30 positives and 10 negatives. What is its Gini impurity? Answer
        with a number.
        """,
    hints=(
        "Gini impurity is the chance that two labels drawn at random from the node, with "
        "replacement, differ.",
        "It is one minus the sum of the squared class shares.",
    ),
)
number(
    "q_tree_oob",
    topic="trees",
    prompt="""
        A bootstrap sample draws 1000 rows, with replacement, from a table of 1000 rows.
        What is the probability that a given row is not drawn at all? Answer with a number.
        """,
    hints=(
        "Each of the draws misses the given row independently.",
        "Raise the chance that one draw misses it to the number of draws; for large n "
        "this approaches one over e.",
    ),
)
number(
    "q_tree_corr",
    topic="trees",
    prompt="""
        Ten trees each have prediction variance 1, and any two of them have correlation
        0.5. What is the variance of their average? Answer with a number.
        """,
    hints=(
        "Correlated errors do not cancel when you average: only the independent part "
        "shrinks with the number of models.",
        "The variance of the average is the correlation times the variance, plus one "
        "minus the correlation times the variance over the number of trees.",
    ),
)
choice(
    "q_tree_boost_bag",
    topic="trees",
    prompt="Gradient boosting mainly reduces..., and bagging mainly reduces...",
    options=(
        "bias; variance.",
        "variance; bias.",
        "variance; variance.",
        "the noise; bias.",
    ),
    hints=(
        "Boosting chains weak learners, each fixing what the sum so far gets wrong; "
        "bagging averages strong learners trained independently.",
        "Which of the two starts from models that underfit, and which from models that overfit?",
    ),
)
choice(
    "q_tree_residuals",
    topic="trees",
    prompt="With squared loss, each new tree of gradient boosting is fitted to...",
    options=(
        "the residuals y - F(x) of the current ensemble, which are the negative gradient "
        "of the loss.",
        "the original targets.",
        "only the misclassified points, re-weighted.",
        "random labels, for diversity.",
    ),
    hints=(
        "Gradient boosting is gradient descent in the space of functions.",
        "Differentiate half the squared error with respect to the prediction.",
    ),
)
choice(
    "q_tree_scaling",
    topic="trees",
    prompt="Do decision trees need their features standardised?",
    options=(
        "No: a split depends only on the order of a feature's values, which rescaling keeps.",
        "Yes, or features with large values dominate the splits.",
        "Yes, because the Gini impurity uses distances.",
        "Only for regression trees.",
    ),
    hints=(
        "A split asks whether a value is below a threshold.",
        "Does multiplying a feature by a positive constant change which points fall on "
        "each side of some threshold?",
    ),
)
choice(
    "q_tree_importance",
    topic="trees",
    prompt="""
        The impurity-based feature importances of a random forest are biased towards...
        """,
    options=(
        "features with many distinct values, such as an ID column.",
        "binary features.",
        "features with missing values.",
        "the features listed first.",
    ),
    hints=(
        "These importances add up impurity decreases on the training data, so any "
        "feature that offers many chances to split can look useful.",
        "A column with a unique value per row offers a split point between every pair of rows.",
    ),
)
choice(
    "q_tree_shrinkage",
    topic="trees",
    prompt="""
        You halve the learning rate (the shrinkage) of a gradient-boosting model. For the
        same training loss you typically need...
        """,
    options=(
        "about twice as many trees.",
        "half as many trees.",
        "the same number of trees.",
        "deeper trees, and the same number.",
    ),
    hints=(
        "The learning rate scales each tree's contribution.",
        "If each step covers half the distance, how many steps cover the same distance?",
    ),
)
number(
    "q_tree_penguins",
    topic="trees",
    drill=False,
    prompt="""
        Use your `gini_split` on the Palmer penguins of section 6 (`penguins`: the rows
        with a flipper length), with the flipper length as the feature and the three
        species as the labels. What is the gain of the best split? Answer with a number.
        """,
    hints=(
        "The Gini impurity works for any number of classes, so the species names can be "
        "the labels as they are.",
        "Take the flipper length column and the species column as arrays, pass them to "
        "your function, and keep the second value it returns.",
    ),
)

# -- 7. deep learning -------------------------------------------------------------------

number(
    "q_dl_init_loss",
    topic="deep-learning",
    prompt="""
        A 10-class classifier at initialisation outputs nearly equal logits. What
        cross-entropy loss (natural log) should the first batch show? Answer with a number.
        """,
    hints=(
        "Equal logits give every class the same probability.",
        "The loss is minus the log of the probability of the true class, one tenth.",
    ),
)
number(
    "q_dl_grad_entry",
    topic="deep-learning",
    drill=False,
    prompt="""
        One example with logits z = [2, 1, 0.1] and true class 0. What is the derivative
        of its cross-entropy loss with respect to z[0]? Compute it (your
        `softmax_xent_grad` does). Answer with a number.
        """,
    hints=(
        "The gradient of softmax cross-entropy with respect to a logit is the predicted "
        "probability minus the truth.",
        "Compute the softmax of the three logits; the true class's entry minus one is the answer.",
    ),
)
number(
    "q_dl_mlp_params",
    topic="deep-learning",
    prompt="""
        A fully connected network maps 784 inputs to 256 hidden units to 10 outputs, with
        biases. How many parameters does it have? Answer with a number.
        """,
    hints=(
        "A linear layer from m to n units has a weight per pair of units and one bias per "
        "output unit.",
        "Add up the two layers: inputs times hidden plus hidden, then hidden times "
        "outputs plus outputs.",
    ),
)
number(
    "q_dl_conv_out",
    topic="deep-learning",
    prompt="""
        A 2-D convolution with a 5×5 kernel, stride 2 and padding 2 is applied to a 64×64
        image. What is the height of its output? Answer with a number.
        """,
    hints=(
        "Padding adds rows on both sides; the stride counts how far the kernel moves each step.",
        "Add twice the padding to the size, subtract the kernel, divide by the stride "
        "rounding down, and add one.",
    ),
)
number(
    "q_dl_conv_params",
    topic="deep-learning",
    prompt="""
        A 2-D convolution maps 3 input channels to 16 output channels with a 3×3 kernel
        and a bias. How many parameters does it have? Answer with a number.
        """,
    hints=(
        "Each output channel has one kernel per input channel, and one bias.",
        "Multiply the kernel size by the input and output channels, then add one bias "
        "per output channel.",
    ),
)
choice(
    "q_dl_dead_relu",
    topic="deep-learning",
    prompt="""
        After a too-large learning-rate step, many ReLU units output zero for every input,
        and they never recover. Why not?
        """,
    options=(
        "A ReLU's gradient is zero wherever its output is zero, so those units' weights "
        "stop receiving any update.",
        "ReLU units are frozen after the first epoch.",
        "The optimiser removes units with zero output.",
        "Their biases become infinite.",
    ),
    hints=(
        "Learning needs a gradient flowing through the unit.",
        "What is the slope of the ReLU on the negative side?",
    ),
)
number(
    "q_dl_sigmoid",
    topic="deep-learning",
    prompt="""
        The sigmoid's derivative is at most how much? (This bounds how much a gradient
        shrinks at each sigmoid layer it passes back through.) Answer with a number.
        """,
    hints=(
        "The derivative of the sigmoid can be written with the sigmoid itself, and it is "
        "largest where the sigmoid is one half.",
        "It is the sigmoid times one minus the sigmoid; evaluate at one half.",
    ),
)
choice(
    "q_dl_he_init",
    topic="deep-learning",
    prompt="""
        He initialisation draws the weights of a ReLU layer with variance 2 / fan_in,
        twice what keeps a linear layer's output scale. Why twice?
        """,
    options=(
        "A ReLU sets about half of its inputs to zero, which halves the signal's second "
        "moment at every layer; the factor 2 compensates, so activations keep their scale "
        "through depth.",
        "To make the weights positive.",
        "Because ReLU networks need larger learning rates.",
        "To break the symmetry between the units.",
    ),
    hints=(
        "Follow the size of the activations through a stack of layers at initialisation.",
        "What fraction of a symmetric input survives a ReLU?",
    ),
)
choice(
    "q_dl_batchnorm",
    topic="deep-learning",
    prompt="At inference time, a batch-normalisation layer normalises with...",
    options=(
        "running averages of the mean and variance, collected during training.",
        "the statistics of the test batch.",
        "nothing: it is switched off.",
        "the statistics of the first training batch.",
    ),
    hints=(
        "A prediction for one example must not depend on which other examples share its batch.",
        "What does the layer keep updating during training, besides its scale and shift?",
    ),
)
choice(
    "q_dl_residual",
    topic="deep-learning",
    prompt="Residual connections make very deep networks trainable mainly because...",
    options=(
        "the identity path carries the gradient back through each addition unchanged, so "
        "it does not vanish on its way through many layers.",
        "they reduce the number of parameters.",
        "they replace the activation functions.",
        "they normalise each layer's inputs.",
    ),
    hints=(
        "Think of the backward pass through a block whose output is its input plus something.",
        "The derivative of the input plus a function of it contains the identity.",
    ),
)

# -- 8. transformers --------------------------------------------------------------------

choice(
    "q_tf_scale",
    topic="transformers",
    prompt="Why does attention divide the scores QKᵀ by the square root of d_k?",
    options=(
        "A dot product of two random d_k-dimensional vectors has variance growing with "
        "d_k; unscaled, the softmax saturates on one key and its gradients vanish.",
        "To make the weights add up to one.",
        "To save computation.",
        "To stop the model from attending to the future.",
    ),
    hints=(
        "Consider the spread of the scores when the key size is large.",
        "A sum of d_k products of unit-variance terms has variance d_k; what does a "
        "softmax do with very spread-out inputs?",
    ),
)
number(
    "q_tf_attn_params",
    topic="transformers",
    prompt="""
        A multi-head self-attention layer with d_model = 512 has query, key, value and
        output projections, each 512 to 512 with a bias. How many parameters does it
        have? (The number of heads does not change it.) Answer with a number.
        """,
    hints=(
        "Splitting into heads reshapes the projections without adding weights.",
        "Four linear layers of 512 by 512 weights plus 512 biases each.",
    ),
)
number(
    "q_tf_context",
    topic="transformers",
    prompt="""
        You double the context length of a transformer. By what factor does the memory
        of each layer's attention score matrix grow? Answer with a number.
        """,
    hints=(
        "The score matrix has one entry per pair of positions.",
        "Doubling both sides of a square multiplies its area by how much?",
    ),
)
choice(
    "q_tf_causal",
    topic="transformers",
    prompt="In a decoder's causal self-attention, position i may attend to...",
    options=(
        "positions up to and including i.",
        "positions before i only.",
        "every position.",
        "positions from i onwards.",
    ),
    hints=(
        "The model predicts the next token from what it has already seen.",
        "When position i is computed, the tokens at and before it are known.",
    ),
)
choice(
    "q_tf_kv_cache",
    topic="transformers",
    prompt="During generation, the KV cache stores...",
    options=(
        "the keys and values of the earlier tokens, so that each new token computes only "
        "its own query, key and value.",
        "the most likely next tokens.",
        "the gradients of the keys and values.",
        "the vocabulary's embeddings.",
    ),
    hints=(
        "With a causal mask, the keys and values of past tokens never change as new tokens arrive.",
        "What would be recomputed again and again at every step without a cache?",
    ),
)
choice(
    "q_tf_positions",
    topic="transformers",
    prompt="Without any positional information, self-attention is...",
    options=(
        "permutation-equivariant: shuffling the input tokens shuffles the outputs in the "
        "same way, so word order is invisible.",
        "unable to train.",
        "a recurrent network.",
        "limited to 512 tokens.",
    ),
    hints=(
        "Attention compares tokens by their content only.",
        "If you swap two input tokens, what happens to the scores and the outputs?",
    ),
)
number(
    "q_tf_ffn_params",
    topic="transformers",
    prompt="""
        The feed-forward block of a transformer layer with d_model = 768 and d_ff = 3072 is
        two linear layers with biases (768 to 3072, then 3072 to 768). How many parameters
        does it have? Answer with a number.
        """,
    hints=(
        "Each linear layer has a weight per pair of input and output units and a bias per output.",
        "Add both layers' weights and their two bias vectors.",
    ),
)
number(
    "q_tf_weight",
    topic="transformers",
    drill=False,
    prompt="""
        One query q = [1, 0] and three keys k1 = [1, 0], k2 = [0, 1], k3 = [1, 1], with
        d_k = 2. What attention weight does scaled dot-product attention give to k3?
        Compute it. Answer with a number.
        """,
    hints=(
        "The weights are a softmax of the query's scaled dot products with the keys.",
        "Divide the three dot products by the square root of two, exponentiate, and take "
        "the third share of the total.",
    ),
)
choice(
    "q_tf_temperature",
    topic="transformers",
    prompt="Sampling the next token at a temperature T that tends to 0 approaches...",
    options=(
        "greedy decoding: always the most likely token.",
        "uniform sampling over the vocabulary.",
        "beam search.",
        "top-p sampling with p = 0.9.",
    ),
    hints=(
        "The temperature divides the logits before the softmax.",
        "Dividing by a tiny number stretches the gaps between logits enormously.",
    ),
)

# -- 9. evaluation pitfalls ---------------------------------------------------------------

choice(
    "q_eval_scaler",
    topic="evaluation",
    prompt="""
        You standardise the whole data set, and then split it into train and test. What is
        wrong?
        """,
    options=(
        "The test set's mean and spread leaked into training: fit the scaler on the "
        "training part only, for example inside a pipeline.",
        "Nothing: standardising is unsupervised.",
        "Standardising should come after training.",
        "The test set must be standardised with its own statistics.",
    ),
    hints=(
        "Anything learnt from data, even a mean, is part of the model.",
        "At prediction time the model meets data it has never seen; does your test set "
        "play that part?",
    ),
)
choice(
    "q_eval_time",
    topic="evaluation",
    prompt="You forecast next month's sales. Which validation is right?",
    options=(
        "A time-ordered split: train on the past and validate on the period after it.",
        "Shuffled k-fold cross-validation.",
        "Leave-one-out cross-validation.",
        "Stratified k-fold cross-validation.",
    ),
    hints=(
        "Validation should imitate how the model is used.",
        "In production, can the model ever train on data from after the day it predicts?",
    ),
)
choice(
    "q_eval_groups",
    topic="evaluation",
    prompt="""
        A medical data set holds several images per patient. You split the images at
        random into train and test. The test score...
        """,
    options=(
        "is too optimistic: the same patients appear on both sides, so split by patient "
        "(for example with GroupKFold).",
        "is fine, as long as the classes are balanced.",
        "is too pessimistic.",
        "is unaffected: images are independent.",
    ),
    hints=(
        "The model will be used on new patients, not on new images of known ones.",
        "Images of one patient share much more than their label.",
    ),
)
number(
    "q_eval_se",
    topic="evaluation",
    prompt="""
        A classifier is right on 85% of a test set of 400 examples. What is the standard
        error of that accuracy? Answer with a number.
        """,
    hints=(
        "The count of right answers is binomial.",
        "The standard error of a proportion p over n cases is the square root of p "
        "times one minus p, over n.",
    ),
)
number(
    "q_eval_many_tests",
    topic="evaluation",
    prompt="""
        You compare 20 models that are truly no better than the baseline, each with an
        independent test at the 5% level. What is the probability that at least one of
        them looks significantly better? Answer with a number.
        """,
    hints=(
        "Count the opposite event: none of them looks significant.",
        "Each test stays quiet with probability 0.95; raise that to the twentieth power "
        "and take the complement.",
    ),
)
choice(
    "q_eval_test_reuse",
    topic="evaluation",
    prompt="""
        You tune hyper-parameters by checking the test accuracy after every change, and
        report the best test accuracy you saw. That number is...
        """,
    options=(
        "optimistically biased: the test set took part in choosing the model; keep a "
        "fresh hold-out set, or use nested cross-validation.",
        "unbiased, because the model never trained on the test set.",
        "pessimistic, because of the many trials.",
        "fine if the test set is large enough.",
    ),
    hints=(
        "Choosing the best of many noisy scores picks the luckiest one too.",
        "Was the test set still unseen by the whole procedure that produced the model?",
    ),
)
choice(
    "q_eval_target_leak",
    topic="evaluation",
    prompt="""
        A churn model's strongest feature is the number of calls to the cancellation line
        in the last month, logged up to the day the customer left. What is the problem?
        """,
    options=(
        "Target leakage: the feature is not known at the moment the prediction must be "
        "made, and partly records the outcome itself.",
        "None: a strong feature is good news.",
        "The feature needs standardising.",
        "The feature is categorical.",
    ),
    hints=(
        "Ask when the model will be run, and what is known at that time.",
        "A customer who is already cancelling calls the cancellation line.",
    ),
)
number(
    "q_eval_baseline",
    topic="evaluation",
    drill=False,
    prompt="""
        What accuracy does the majority-class baseline (always predict the most common
        class) reach on scikit-learn's breast cancer data (`load_breast_cancer`)? Compute
        it. Answer with a number.
        """,
    hints=(
        "Any model must beat the score of predicting the most common label for everyone.",
        "Count the labels and divide the larger count by the number of rows.",
    ),
)
choice(
    "q_eval_duplicates",
    topic="evaluation",
    prompt="""
        After you remove near-duplicate rows from a scraped data set, the test accuracy
        falls from 97% to 88%. What is the most likely explanation?
        """,
    options=(
        "Near-duplicates sat in both train and test, so the first score partly measured memory.",
        "Removing rows made the model worse at generalising.",
        "The new test set is harder by chance.",
        "Deduplication introduced label noise.",
    ),
    hints=(
        "A copy of a training row in the test set is answered by memory, not by skill.",
        "Which of the two scores was measured on truly unseen examples?",
    ),
)

# -- the mock round: one question per topic ------------------------------------------------

choice(
    "q_mock_stump",
    topic="bias-variance",
    prompt="""
        A depth-1 tree (a stump) and a fully grown tree are trained on the same data.
        Which describes them?
        """,
    options=(
        "The stump has high bias and low variance; the full tree has low bias and high variance.",
        "The stump has low bias and high variance; the full tree the opposite.",
        "Both have high variance.",
        "Both have low bias.",
    ),
    hints=(
        "Depth controls how much of the data's detail a tree can follow.",
        "Ask which of the two would change most if you resampled the training data.",
    ),
)
choice(
    "q_mock_adamw",
    topic="regularisation",
    prompt="""
        In Adam, adding λ‖w‖² to the loss is not the same as AdamW's weight decay. Why
        not?
        """,
    options=(
        "Adam divides the penalty's gradient by each weight's adaptive scale, so weights "
        "with large gradients are barely decayed; AdamW shrinks every weight directly, "
        "outside the adaptive step.",
        "They are the same; AdamW is only faster.",
        "AdamW does not use momentum.",
        "The L2 penalty only applies to the biases.",
    ),
    hints=(
        "Follow the penalty's gradient through Adam's update.",
        "Adam divides every gradient component, the penalty's included, by the root of "
        "its running squared gradient.",
    ),
)
choice(
    "q_mock_operating_point",
    topic="metrics",
    prompt="""
        Model A has ROC AUC 0.91 and model B 0.89. Your product runs at recall 0.9, and
        there B has the higher precision. Which model do you ship?
        """,
    options=(
        "B: the AUC averages over thresholds the product never uses; at the operating "
        "point B is better.",
        "A, because its AUC is higher.",
        "Neither: a 0.02 difference means they are equal.",
        "A, because AUC is threshold-free and therefore more reliable.",
    ),
    hints=(
        "A single number summarising all thresholds can disagree with the number at the "
        "one threshold you use.",
        "Which metric matches the product's decision?",
    ),
)
number(
    "q_mock_fixed_points",
    topic="probability",
    prompt="""
        A deck of 52 cards is shuffled uniformly. What is the expected number of cards that
        end up in their original position? Answer with a number.
        """,
    hints=(
        "The expectation of a sum is the sum of the expectations, dependent or not.",
        "Each card stays in place with probability one in 52; add that up over the cards.",
    ),
)
choice(
    "q_mock_nan",
    topic="optimisation",
    prompt="""
        Your training loss becomes NaN after a few hundred steps. Which first step is most
        likely to help?
        """,
    options=(
        "Lower the learning rate, or clip the gradients' norm.",
        "Use a bigger model.",
        "Train for more epochs.",
        "Remove the normalisation layers.",
    ),
    hints=(
        "A loss that explodes after going well for a while usually follows a too-large update.",
        "Which option makes the size of each update smaller?",
    ),
)
choice(
    "q_mock_oob",
    topic="trees",
    prompt="""
        A random forest has 100% training accuracy and 85% out-of-bag accuracy. What do
        you conclude?
        """,
    options=(
        "Nothing alarming: fully grown trees fit their training rows, and the out-of-bag "
        "score is the honest estimate to compare models with.",
        "It overfits badly: prune the trees until training accuracy is 85%.",
        "The out-of-bag score is wrong: it must equal the training accuracy.",
        "Add more trees until the training accuracy drops.",
    ),
    hints=(
        "Training accuracy says little for a model that can memorise.",
        "Out-of-bag predictions use only the trees that did not see a row.",
    ),
)
choice(
    "q_mock_flat_loss",
    topic="deep-learning",
    prompt="""
        A 10-class network's training loss stays at exactly 2.3026 from the first step to
        the thousandth. What is the likely bug?
        """,
    options=(
        "The parameters never change: the optimiser's step is never called, or the "
        "optimiser was given other parameters.",
        "The learning rate is slightly too small.",
        "The model overfits.",
        "The data set is too large.",
    ),
    hints=(
        "That number is the loss of a model that gives every class the same probability.",
        "A slightly too small learning rate still moves the loss a little; what keeps it "
        "exactly constant?",
    ),
)
choice(
    "q_mock_preln",
    topic="transformers",
    prompt="""
        Why do most deep transformers now put the layer normalisation before each
        sub-layer (pre-LN) rather than after the residual addition (post-LN)?
        """,
    options=(
        "With pre-LN the residual path is a clean identity, so gradients at initialisation "
        "are well behaved and training is stable with less warm-up.",
        "Pre-LN uses fewer parameters.",
        "Post-LN cannot be computed on GPUs.",
        "Pre-LN removes the need for attention masks.",
    ),
    hints=(
        "Look at what sits on the residual path between the input and the output in each "
        "arrangement.",
        "In post-LN every layer's output passes through a normalisation on the main path.",
    ),
)
choice(
    "q_mock_nested",
    topic="evaluation",
    prompt="""
        You report a 5-fold cross-validated accuracy of 0.912 after choosing the best of
        200 hyper-parameter settings by that same cross-validation. An honest estimate of
        the chosen model's accuracy needs...
        """,
    options=(
        "nested cross-validation, or a hold-out set that played no part in the search.",
        "more folds in the same cross-validation.",
        "the standard deviation over the folds.",
        "rounding to 0.91.",
    ),
    hints=(
        "The best of 200 noisy scores is biased upwards.",
        "The estimate must come from data the selection never looked at.",
    ),
)
