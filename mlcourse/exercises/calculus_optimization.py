"""Checks for ``01_foundations/calculus_optimization.ipynb``: fixtures, then the problems.

Learners may read this file: it holds the visible checks and the hints, never
a solution or a hidden test.

Several exercises take a *function* as an argument (the function to
differentiate, a ``loss_grad``, a derivative). Functions are not data, so the
checks never send one: they pass a reference to one of the functions below
(``t.ref("mlcourse.exercises.calculus_optimization:cubes")``) or have course
code build one on the learner's side (``t.build(".../quadratic_bowl", A, c)``).
"""

from __future__ import annotations

import numpy as np

from mlcourse.check import choice, number, problem

HERE = "mlcourse.exercises.calculus_optimization"

# -- functions the checks hand to the learner's code ---------------------------------


def cubes(w) -> float:
    """The sum of the cubes of w's entries: its gradient is 3 w**2."""
    return float(np.sum(np.asarray(w) ** 3))


def smooth(v) -> float:
    """A smooth function of four variables, with cross terms."""
    return float(np.sum(np.exp(0.3 * v)) + (v[0] * v[1]) ** 2 + np.sin(v[2] * v[3]))


def smooth_gradient(v) -> np.ndarray:
    """The exact gradient of :func:`smooth`."""
    v = np.asarray(v, dtype=float)
    grad = 0.3 * np.exp(0.3 * v)
    grad[0] += 2 * v[0] * v[1] ** 2
    grad[1] += 2 * v[1] * v[0] ** 2
    grad[2] += np.cos(v[2] * v[3]) * v[3]
    grad[3] += np.cos(v[2] * v[3]) * v[2]
    return grad


def linear(c):
    """The function v -> c . v, whose gradient is c everywhere."""
    c = np.asarray(c, dtype=float)

    def f(v):
        return float(c @ v)

    return f


class Probe:
    """A function of w that remembers every point it was evaluated at (as given)."""

    def __init__(self, fn: str):
        module, _, name = fn.partition(":")
        import importlib

        self.fn = getattr(importlib.import_module(module), name)
        self.points: list = []

    def __call__(self, w):
        self.points.append(np.array(w, copy=True))
        return self.fn(w)


def quadratic_bowl(A, c):
    """A loss_grad function for L(theta) = 0.5 (theta - c)^T A (theta - c)."""
    A = np.asarray(A, dtype=float)
    c = np.asarray(c, dtype=float)

    def loss_grad(theta):
        d = np.asarray(theta, dtype=float) - c
        return float(0.5 * d @ A @ d), A @ d

    return loss_grad


def quartic_bowl(c):
    """A loss_grad function for L(theta) = sum((theta - c)**4) / 4 (not a quadratic)."""
    c = np.asarray(c, dtype=float)

    def loss_grad(theta):
        d = np.asarray(theta, dtype=float) - c
        return float(np.sum(d**4) / 4), d**3

    return loss_grad


def slope_of_parabola(a, m):
    """f'(x) for f(x) = a (x - m)**2 / 2: a (x - m)."""

    def df(x):
        return a * (x - m)

    return df


def constant(value):
    """The function that always returns ``value`` (a parabola's second derivative)."""

    def f(x):
        return value

    return f


def exp_slope(x):
    """f'(x) for f(x) = e**x - 2 x, whose minimum is at ln 2."""
    return np.exp(x) - 2.0


def exp_curve(x):
    """f''(x) for f(x) = e**x - 2 x."""
    return np.exp(x)


def cosh_slope(x):
    """f'(x) for f(x) = cosh(x - 1), whose minimum is at 1."""
    return np.sinh(x - 1.0)


def cosh_curve(x):
    """f''(x) for f(x) = cosh(x - 1)."""
    return np.cosh(x - 1.0)


def quartic_slope(x):
    """f'(x) for f(x) = x**4 - x**2: a maximum at 0, minima at +-1/sqrt(2)."""
    return 4 * x**3 - 2 * x


def quartic_curve(x):
    """f''(x) for f(x) = x**4 - x**2 (negative between -1/sqrt(6) and 1/sqrt(6))."""
    return 12 * x**2 - 2


def concave_slope(x):
    """f'(x) for f(x) = -x**2 + x: a parabola that opens downwards."""
    return -2.0 * x + 1.0


def concave_curve(x):
    """f''(x) for f(x) = -x**2 + x."""
    return -2.0


def ref(t, name: str):
    """A Ref to one of this module's functions, for passing to the learner's code."""
    return t.ref(f"{HERE}:{name}")


def bowl(t, A, c):
    """A quadratic bowl built on the learner's side."""
    return t.build(f"{HERE}:quadratic_bowl", A, c)


def diagonal_path(lams, c, theta0, lr, n_steps):
    """(final theta, losses) of gradient descent on a DIAGONAL quadratic bowl, in closed form.

    Along eigenvector i the error is multiplied by 1 - lr * lams[i] at every step
    (section 4 of the notebook), so the k-th error is that factor to the power k.
    """
    lams, c = np.asarray(lams, dtype=float), np.asarray(c, dtype=float)
    error0 = np.asarray(theta0, dtype=float) - c
    factors = 1.0 - lr * lams
    k = np.arange(n_steps + 1)[:, None]
    errors = factors**k * error0
    losses = 0.5 * np.sum(lams * errors**2, axis=1)
    return c + errors[-1], losses[:-1]


# -- 1. derivatives ---------------------------------------------------------------------


@problem(
    "numerical_gradient",
    hints=(
        "A partial derivative nudges one coordinate and holds the others still; the central "
        "difference looks the same small distance on both sides of the point.",
        "Work on a float copy of w. For each coordinate in turn: evaluate f with that "
        "coordinate raised by h and again with it lowered by h, put the original value back, "
        "and divide the difference of the two values by the distance between the points.",
        "The two points are 2h apart. A copy made with the float dtype stops an integer array "
        "from rounding the nudged coordinate back to a whole number.",
    ),
)
def _numerical_gradient(t):
    got = t.call("numerical_gradient", ref(t, "cubes"), np.array([1.0, 2.0]))
    t.shape(got, (2,))
    t.dtype(got, "f", "Return a float array.")
    t.close(
        got,
        [3.0, 12.0],
        wrong={"Off by a factor of 2: the two points w + h and w - h are 2h apart.": [6.0, 24.0]},
        nudge="The derivative of w**3 is 3 w**2.",
    )
    got = t.call("numerical_gradient", ref(t, "cubes"), np.array([1.0, -2.0]), h=1e-3)
    t.close(
        got,
        [3.0 + 1e-6, 12.0 + 1e-6],
        rtol=1e-7,
        case="h = 1e-3 at a point with a negative coordinate",
        wrong={
            "That is the forward difference, with an error of order h; use the central one.": [
                3.003001,
                11.994001,
            ],
            "The h you were given was not used.": [3.0, 12.0],
        },
        nudge="With the central difference the error for w**3 is exactly h**2.",
    )
    got = t.call("numerical_gradient", ref(t, "cubes"), np.array([1, 2, -3]))
    t.dtype(
        got,
        "f",
        "w held integers: compute in a float copy, so the result is a float array.",
    )
    t.close(
        got,
        [3.0, 12.0, 27.0],
        rtol=1e-5,
        case="an integer w",
        wrong={
            "All zeros: on an integer array, w + h is rounded back to w. Work on a float copy.": [
                0.0,
                0.0,
                0.0,
            ]
        },
    )


# -- 2. the gradients of two losses ----------------------------------------------------

X_SMALL = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
Y_SMALL = np.array([1.0, 2.0, 4.0])


@problem(
    "mse_grad",
    hints=(
        "The loss is an average of squared residuals, so by the chain rule each residual "
        "contributes twice itself times its row of features, averaged over the examples.",
        "Compute the residuals, prediction minus target, once; the loss is their mean square "
        "and the gradient is the transposed design matrix times the residuals, scaled by two "
        "over the number of examples.",
        "The gradient has one entry per parameter, the shape of theta; return the loss as a "
        "plain Python float.",
    ),
)
def _mse_grad(t):
    # Predictions 1, 2, 3 against targets 1, 2, 4: residuals 0, 0, -1.
    got = t.call("mse_grad", np.array([1.0, 1.0]), X_SMALL, Y_SMALL)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"mse_grad returned a {type(got).__name__}",
        "Return a pair (loss, grad).",
    )
    loss, grad = got
    t.true(
        type(loss) is float,
        f"the loss is a {type(loss).__name__}",
        "Return the loss as a Python float (float(...)), not a NumPy value or an array.",
    )
    t.close(loss, 1 / 3, what="the loss", nudge="The loss is the MEAN of the squared residuals.")
    t.shape(grad, (2,), nudge="The gradient has one entry per parameter.")
    t.close(
        grad,
        [-2 / 3, -4 / 3],
        what="the gradient",
        wrong={
            "Off by a factor of 2: the derivative of r**2 is 2 r.": [-1 / 3, -2 / 3],
            "The sign is flipped: the residual is prediction minus target.": [2 / 3, 4 / 3],
            "Divide by n: the loss is a mean, so its gradient is too.": [-2.0, -4.0],
        },
        nudge="Compare with the formula (2 / n) X^T (X theta - y).",
    )


X_LOG = np.array([[1.0, -1.0], [1.0, 0.0], [1.0, 2.0]])
Y_LOG = np.array([0.0, 1.0, 1.0])


def cross_entropy(theta, X, y) -> float:
    """The mean log-loss written straight from its definition (fine for small scores)."""
    p = 1 / (1 + np.exp(-(X @ theta)))
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def central_gradient(f, theta, h=1e-6) -> np.ndarray:
    """Central differences of ``f`` at ``theta`` (the checks' own, not the learner's)."""
    theta = np.asarray(theta, dtype=float)
    return np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(len(theta))])


@problem(
    "logloss_grad",
    hints=(
        "Written in terms of the score, the log-loss is the log of one plus e to the score, "
        "minus the target times the score; its derivative in the score is the predicted "
        "probability minus the target.",
        "Compute the scores once; average the stable form of the loss over the examples (a "
        "NumPy function computes the log of a sum of exponentials without overflow); the "
        "gradient is the transposed design matrix times prediction minus target, divided by "
        "the number of examples.",
        "The probabilities come from SciPy's safe sigmoid; return the loss as a Python float "
        "and the gradient with one entry per parameter.",
    ),
)
def _logloss_grad(t):
    theta = np.array([0.0, 1.0])
    p = 1 / (1 + np.exp(-(X_LOG @ theta)))
    expected_loss = cross_entropy(theta, X_LOG, Y_LOG)
    expected_grad = central_gradient(lambda th: cross_entropy(th, X_LOG, Y_LOG), theta)
    got = t.call("logloss_grad", theta, X_LOG, Y_LOG)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"logloss_grad returned a {type(got).__name__}",
        "Return a pair (loss, grad).",
    )
    loss, grad = got
    t.true(
        type(loss) is float,
        f"the loss is a {type(loss).__name__}",
        "Return the loss as a Python float (float(...)).",
    )
    t.close(
        loss,
        expected_loss,
        rtol=1e-9,
        what="the loss",
        nudge="Average log(1 + e^z) - y z over the examples.",
    )
    t.shape(grad, (2,), nudge="One gradient entry per parameter.")
    t.close(
        grad,
        expected_grad,
        rtol=1e-6,
        what="the gradient",
        wrong={
            "The sign is flipped: the derivative in the score is prediction minus target.": (
                -expected_grad
            ),
            "An extra factor p (1 - p): the log cancels the sigmoid's derivative.": X_LOG.T
            @ ((p - Y_LOG) * p * (1 - p))
            / 3,
            "Divide by n: the loss is a mean, so its gradient is too.": 3 * expected_grad,
        },
        nudge="Check the formula (1 / n) X^T (sigmoid(X theta) - y).",
    )
    loss_big, _ = t.call(
        "logloss_grad", np.array([0.0, 1.0]), np.array([[1.0, 50.0]]), np.array([0.0])
    )
    t.close(
        loss_big,
        50.0,
        case="a score of 50 with y = 0",
        what="the loss",
        nudge="For y = 0 the loss is log(1 + e^z), about z for large z: use the stable form.",
    )


# -- 3-5. optimisers ------------------------------------------------------------------


@problem(
    "gradient_descent",
    hints=(
        "Each step moves the parameters a small multiple of the gradient downhill, against "
        "the direction in which the loss grows fastest.",
        "Start from a float copy of theta0 and repeat n_steps times: ask loss_grad for the "
        "loss and the gradient at the current point, record the loss, then step by minus the "
        "learning rate times the gradient. Return the last point and the recorded losses as "
        "an array.",
        "Build the new point as a new array rather than changing the old one in place, so "
        "the caller's theta0 stays as it was.",
    ),
)
def _gradient_descent(t):
    # On L = 0.5 * 4 * (theta - 3)^2 a step of lr = 0.125 halves the distance to 3.
    halve = bowl(t, [[4.0]], [3.0])
    got = t.call("gradient_descent", halve, np.array([1.0]), 0.125, 3)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"gradient_descent returned a {type(got).__name__}",
        "Return a pair (theta, losses).",
    )
    theta, losses = got
    t.shape(losses, (3,), nudge="Record one loss per step, taken before the step: n_steps values.")
    t.close(
        losses,
        [8.0, 2.0, 0.5],
        what="the losses",
        wrong={
            "The loss grows: that is gradient ASCENT, subtract the gradient.": [8.0, 18.0, 40.5],
            "Each loss must be taken BEFORE its step: losses[0] is the loss at theta0.": [
                2.0,
                0.5,
                0.125,
            ],
        },
        nudge="Distances to 3 are 2, 1, 0.5, so the losses are 2 * distance**2.",
    )
    t.close(
        theta,
        [2.75],
        what="the final theta",
        wrong={"That is gradient ASCENT: subtract the gradient.": [-3.75]},
        nudge="Three steps, each halving the distance to 3, from 1.",
    )
    # diag(1, 10) with lr = 0.15: the errors shrink by 0.85 and by -0.5 per step.
    diagonal = bowl(t, np.diag([1.0, 10.0]), [1.0, -2.0])
    theta, losses = t.call("gradient_descent", diagonal, np.array([0.0, 0.0]), 0.15, 300)
    t.shape(losses, (300,), nudge="One loss per step: n_steps values.")
    want_theta, want_losses = diagonal_path([1.0, 10.0], [1.0, -2.0], [0.0, 0.0], 0.15, 300)
    t.close(losses, want_losses, case="300 steps on a 2-D bowl", what="the losses")
    t.close(theta, want_theta, case="300 steps on a 2-D bowl", what="the final theta")


@problem(
    "max_stable_lr",
    hints=(
        "Along each eigenvector of the Hessian, one step multiplies the error by one minus "
        "the learning rate times that eigenvalue; descent diverges as soon as one of these "
        "factors leaves the interval from minus one to one.",
        "Build the Hessian of the mean squared error from the design matrix (two over the "
        "number of rows, times the transpose times the matrix), find its largest eigenvalue, "
        "and return two divided by it.",
        "The Hessian is symmetric, so the eigenvalue routine for symmetric matrices applies; "
        "it returns them sorted in increasing order. Return a Python float.",
    ),
)
def _max_stable_lr(t):
    # Here X^T X = diag(8, 2) and n = 4, so H = diag(4, 1).
    X_diag = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    got = t.call("max_stable_lr", X_diag)
    t.true(
        type(got) is float,
        f"max_stable_lr returned a {type(got).__name__}",
        "Return a Python float (float(...)), not a NumPy value or an array.",
    )
    t.close(
        got,
        0.5,
        wrong={
            "Use the LARGEST eigenvalue: the steepest direction is the first to blow up.": 2.0,
            "The Hessian of the MEAN squared error is (2 / n) X^T X: the factor 2 is missing.": 1.0,
            "That is 1 / lambda_max, a safe choice but not the limit: the error factor "
            "1 - lr * lambda only leaves (-1, 1) at lr = 2 / lambda.": 0.25,
            "Divide X^T X by n: the loss is a mean.": 0.125,
        },
        nudge="For this X, H = diag(4, 1).",
    )


@problem(
    "momentum_descent",
    hints=(
        "The velocity is a decaying sum of past gradients: directions where the gradient "
        "keeps its sign build up speed, directions where it flips cancel out.",
        "Start the velocity at zero, with theta's shape. Each step: record the loss at the "
        "current point, make the new velocity beta times the old one plus the current "
        "gradient, then move against the NEW velocity, scaled by the learning rate.",
        "Same return value and same care with theta0 as in exercise 4.",
    ),
)
def _momentum_descent(t):
    # On L = 0.5 theta^2 (gradient = theta), from 1 with lr = 0.5, beta = 0.5:
    # v = 1, theta = 0.5; v = 1, theta = 0; v = 0.5, theta = -0.25.
    unit = bowl(t, [[1.0]], [0.0])
    got = t.call("momentum_descent", unit, np.array([1.0]), 0.5, 0.5, 3)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"momentum_descent returned a {type(got).__name__}",
        "Return a pair (theta, losses).",
    )
    theta, losses = got
    t.shape(losses, (3,), nudge="One loss per step, taken before the step.")
    t.close(
        theta,
        [-0.25],
        what="theta after 3 steps",
        wrong={
            "That is plain gradient descent: the velocity must carry over from step to step.": [
                0.125
            ],
            "That is the averaged form v = beta v + (1 - beta) grad; use v = beta v + grad.": [
                0.171875
            ],
        },
        nudge="Work the three steps by hand: v = 1, theta = 0.5; v = 1, theta = 0; ...",
    )
    t.close(
        losses,
        [0.5, 0.125, 0.0],
        what="the losses",
        wrong={"Update the velocity first, then step along the NEW velocity.": [0.5, 0.5, 0.125]},
        nudge="Record each loss before the step that follows it.",
    )
    theta, losses = t.call(
        "momentum_descent", bowl(t, np.diag([1.0, 10.0]), [1.0, -2.0]), np.zeros(2), 0.05, 0.8, 300
    )
    t.shape(losses, (300,), nudge="One loss per step: n_steps values.")
    t.close(losses[0], 20.5, case="300 steps on a 2-D bowl", what="the first loss (at theta0)")
    t.close(
        theta,
        [1.0, -2.0],
        rtol=1e-5,
        atol=1e-6,
        case="300 steps on a 2-D bowl",
        what="the final theta",
        nudge="With beta = 0.8 and lr = 0.05 the heavy ball settles at the minimum (1, -2).",
    )


# -- 6. Newton's method --------------------------------------------------------------


@problem(
    "newton_1d",
    hints=(
        "Near the current point the function looks like a parabola with the same slope and "
        "curvature; Newton's method jumps to that parabola's lowest point, which exists only "
        "when the curvature is positive.",
        "Keep a list of iterates, starting with x0 as a float. At most max_iter times: take "
        "the last iterate, refuse (with a ValueError) if the curvature there is not positive, "
        "compute the step as slope over curvature, append the point one step away, and stop "
        "once the step is smaller than tol.",
        "Append before testing the step, so that the list ends with the point the last step "
        "reached; convert every appended value to a Python float.",
    ),
)
def _newton_1d(t):
    first = t.call("newton_1d", ref(t, "exp_slope"), ref(t, "exp_curve"), 0.0, max_iter=2)
    t.true(
        isinstance(first, list) and len(first) == 3,
        f"with max_iter=2 expected the list [x0, x1, x2], got a {type(first).__name__}"
        + (f" of length {len(first)}" if isinstance(first, list) else ""),
        "Return the whole list of iterates, x0 included, not only the last point.",
    )
    t.close(
        first,
        [0.0, 1.0, 2.0 / np.e],
        what="the first three iterates",
        wrong={
            "The step goes the wrong way: subtract slope / curvature.": [
                0.0,
                -1.0,
                -1.0 + (np.exp(-1) - 2) / np.exp(-1),
            ],
        },
        nudge="From x0 = 0: f'(0) = -1 and f''(0) = 1, so x1 = 1.",
    )
    t.true(
        all(type(x) is float for x in first),
        "the iterates are not all Python floats",
        "Convert each iterate with float(...), x0 included.",
    )
    xs = t.call("newton_1d", ref(t, "exp_slope"), ref(t, "exp_curve"), 0.0)
    t.close(
        xs[-1],
        np.log(2.0),
        rtol=1e-12,
        what="the last iterate",
        nudge="Keep stepping until the step is below tol.",
    )
    t.true(len(xs) <= 10, f"{len(xs)} iterates: too many", "Stop as soon as a step is below tol.")
    t.raises(
        ValueError,
        "newton_1d",
        ref(t, "concave_slope"),
        ref(t, "concave_curve"),
        0.0,
        nudge="f(x) = -x**2 + x has f'' = -2 < 0: there is no minimum, raise a ValueError.",
    )


# -- the quiz ---------------------------------------------------------------------------

number(
    "q_central_error",
    hints=(
        "The central difference's truncation error is proportional to the square of the step.",
        "Dividing the step by ten divides that error by ten squared.",
    ),
)
number(
    "q_steep_factor",
    hints=(
        "Along an eigenvector of the Hessian one step multiplies the error by one minus the "
        "learning rate times the eigenvalue.",
        "Use the steep direction's eigenvalue, and keep the sign of the result.",
    ),
)
number(
    "q_momentum_factor",
    hints=(
        "With a constant gradient the velocity is a geometric series of that gradient.",
        "Sum the series one plus beta plus beta squared and so on.",
    ),
)
number(
    "q_newton_error",
    hints=(
        "Quadratic convergence means each step roughly squares the error.",
        "Square the error once for each of the two steps.",
    ),
)
choice(
    "q_forward_step",
    options="abcd",
    hints=(
        "Truncation error shrinks with the step while rounding error grows as the step shrinks; "
        "the best step balances them.",
        "For the forward difference the balance sits near the square root of machine epsilon.",
    ),
)
