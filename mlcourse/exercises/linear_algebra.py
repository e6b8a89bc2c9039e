"""Checks for ``01_foundations/linear_algebra.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks and the hints, never
a solution or a hidden test.
"""

from __future__ import annotations

import numpy as np

from mlcourse.check import choice, number, problem


def hilbert(n: int) -> np.ndarray:
    """The n x n Hilbert matrix, 1 / (i + j + 1): the classic ill-conditioned matrix."""
    i = np.arange(n)
    return 1.0 / (i[:, None] + i[None, :] + 1)


def digits() -> np.ndarray:
    """scikit-learn's 1,797 hand-written digits, as 64 features each."""
    from sklearn.datasets import load_digits

    return load_digits().data


@problem(
    "matmul",
    hints=(
        "Each entry of the product pairs one row of the left matrix with one column of "
        "the right matrix, and adds up the products of their matching entries.",
        "Three nested loops: over the output's rows, over its columns, and over the shared "
        "inner index that the sum runs along. Check the inner sizes agree before looping.",
        "Start from a float array of zeros with as many rows as A and as many columns as B; "
        "accumulate into entry (i, j) one product A[i, k] times B[k, j] per k.",
    ),
)
def _matmul(t):
    A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    B = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]])
    got = t.call("matmul", A, B)
    t.shape(got, (2, 2))
    t.close(
        got,
        [[7.0, -1.0], [16.0, -1.0]],
        wrong={
            "You returned the transpose: entry (i, j) comes from row i of A.": [[7, 16], [-1, -1]]
        },
        nudge="Check that the sum over the inner index runs over all of its terms.",
    )
    t.raises(
        ValueError,
        "matmul",
        A,
        A,
        nudge="A (2, 3) times a (2, 3) is undefined: compare A's columns with B's rows first.",
    )
    ints = t.call("matmul", np.array([[1, 2], [3, 4]]), np.array([[5], [7]]))
    t.dtype(
        ints,
        "f",
        nudge="The task asks for a float array even when the inputs are integers.",
    )
    t.close(ints, [[19.0], [43.0]], what="an integer product")


@problem(
    "solve",
    hints=(
        "Elimination turns the system into a triangle you can solve from the bottom up; "
        "dividing by a tiny or zero pivot is what breaks it, so choose the pivot row first.",
        "For each column: pick, among the rows from the diagonal down, the one with the "
        "largest absolute entry in that column, swap it into place in both A and b, then "
        "subtract multiples of it from every row below. Then solve from the last row up.",
        "Work on float copies. Back substitution: x at row i is (b at i minus the row's "
        "already-solved part) divided by the diagonal entry.",
    ),
)
def _solve(t):
    got = t.call("solve", np.array([[2.0, 1.0], [1.0, -3.0]]), np.array([5.0, -1.0]))
    t.shape(got, (2,))
    t.close(got, [2.0, 1.0], nudge="Plug your x back in: does A @ x give b?")
    P = np.array([[0.0, 1.0, 1.0], [2.0, 1.0, -1.0], [1.0, 3.0, 1.0]])
    t.close(
        t.call("solve", P, np.array([3.0, 3.0, 8.0])),
        [1.0, 2.0, 1.0],
        case="a matrix whose first pivot is 0",
        nudge="The first pivot of this matrix is 0: swap rows (partial pivoting).",
    )
    ints = t.call("solve", np.array([[3, 1], [1, 2]]), np.array([9, 8]))
    t.close(
        ints,
        [2.0, 3.0],
        case="an integer system",
        nudge="Integer arrays cannot hold fractions: work on float copies of A and b.",
    )


@problem(
    "error_amplification",
    hints=(
        "A relative change is a change measured against the size of what changed; the "
        "amplification compares the solution's relative change with the data's.",
        "Solve the system twice, once with b and once with b plus the perturbation; measure "
        "each change with the Euclidean norm and divide it by the norm of the original.",
    ),
)
def _error_amplification(t):
    D = np.diag([1.0, 100.0])
    got = t.call("error_amplification", D, np.array([0.0, 1.0]), np.array([1e-3, 0.0]))
    t.close(
        got,
        100.0,
        wrong={
            "That is the ratio of ABSOLUTE changes; divide each change by the size of its "
            "vector.": 1000.0,
            "Upside down: the solution's relative change goes on top.": 0.01,
        },
        nudge="Relative change = size of the change / size of the original, for x and for b.",
    )
    H5 = hilbert(5)
    delta = 1e-8 * np.random.default_rng(4).normal(size=5)
    amp = t.call("error_amplification", H5, H5 @ np.ones(5), delta)
    t.true(
        isinstance(amp, float) and 0.0 < amp <= np.linalg.cond(H5) * (1 + 1e-6),
        f"the amplification for the 5x5 Hilbert matrix is {amp!r}, outside (0, cond(H5)]",
        "Both ratios must be relative, and the result a single number.",
    )


@problem(
    "power_iteration",
    hints=(
        "Multiplying by the matrix again and again stretches the dominant direction most, "
        "so any start vector turns towards it; rescaling keeps the numbers in range.",
        "Draw the start vector from the seeded generator the task names, then repeat: "
        "multiply, rescale to length 1, and stop when the vector (or its negative) no "
        "longer moves by more than tol. The eigenvalue is the Rayleigh quotient.",
        "The Rayleigh quotient of a unit vector v is v transposed times A times v; it keeps "
        "the sign that a norm would lose. Return it as a Python float.",
    ),
)
def _power_iteration(t):
    S = np.array([[3.0, 1.0], [1.0, 2.0]])
    evals, evecs = np.linalg.eigh(S)
    top = evecs[:, np.argmax(np.abs(evals))]
    got = t.call("power_iteration", S)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"power_iteration returned {type(got).__name__}",
        "Return a pair (lam, v).",
    )
    lam, v = got
    t.shape(v, (2,))
    t.close(np.linalg.norm(v), 1.0, what="the length of v", nudge="Normalise v to length 1.")
    t.close(
        abs(v @ top),
        1.0,
        what="|v . true eigenvector|",
        nudge="v should point along the dominant eigenvector (either sign).",
    )
    t.true(
        type(lam) is float,
        f"the eigenvalue is a {type(lam).__name__}",
        "Return the eigenvalue as a Python float (float(...)), not a NumPy scalar.",
    )
    t.close(lam, evals.max(), nudge="Use the Rayleigh quotient of the unit vector v.")
    N = np.array([[-4.0, 1.0], [1.0, 1.0]])
    lam_n, _ = t.call("power_iteration", N)
    t.close(
        lam_n,
        np.linalg.eigvalsh(N)[0],
        case="a matrix whose dominant eigenvalue is negative",
        wrong={
            "The eigenvalue is negative here: a norm loses the sign, the Rayleigh quotient "
            "keeps it.": abs(np.linalg.eigvalsh(N)[0])
        },
    )


@problem(
    "low_rank",
    hints=(
        "The SVD writes a matrix as a sum of rank-one layers ordered by importance; the "
        "best rank-k approximation keeps the k most important layers.",
        "Take the thin SVD; keep the first k left singular vectors (columns), the first k "
        "singular values and the first k right singular vectors. Mind which of U and Vt "
        "holds its vectors as rows.",
        "Scaling each kept column of U by its singular value, then multiplying by the kept "
        "rows of Vt, builds all k layers at once without a loop.",
    ),
)
def _low_rank(t):
    M = np.outer([1.0, 2.0, 3.0], [1.0, 0.0, 1.0, 2.0]) + np.outer(
        [0.0, 1.0, -1.0], [0.0, 1.0, 0.0, 0.0]
    )
    got = t.call("low_rank", M, 2)
    t.shape(got, (3, 4))
    t.close(got, M, nudge="This matrix has rank 2, so its rank-2 approximation is itself.")
    left, values, right = np.linalg.svd(M)
    t.close(
        t.call("low_rank", M, 1),
        values[0] * np.outer(left[:, 0], right[0]),
        case="k = 1",
        wrong={"You kept k + 1 layers.": M},
        nudge="The right singular vectors are the ROWS of Vt.",
    )


@problem(
    "rank_for_energy",
    hints=(
        "Energy is additive over singular values once each is squared; you want the "
        "shortest prefix whose share of the total reaches the fraction.",
        "Accumulate the squared values, compare the running total with the fraction of the "
        "grand total, and turn the first position that reaches it into a count.",
        "A position is a count minus one. Return a plain Python int.",
    ),
)
def _rank_for_energy(t):
    s = np.array([4.0, 2.0, 1.0, 1.0, 0.5])  # energies 16, 4, 1, 1, 0.25: total 22.25
    got = t.call("rank_for_energy", s, 0.5)
    t.true(
        type(got) is int,
        f"the count is a {type(got).__name__}",
        "Return a Python int (int(...)), not a NumPy integer.",
    )
    t.equal(
        got,
        1,
        case="fraction 0.5 (16 of 22.25 is enough)",
        wrong={"You returned a position; the count of values is position + 1.": 0},
    )
    t.equal(
        t.call("rank_for_energy", s, 0.85),
        2,
        case="fraction 0.85",
        wrong={
            "Energy is the sum of SQUARED singular values.": 3,
            "You returned a position; the count of values is position + 1.": 1,
        },
    )
    t.equal(t.call("rank_for_energy", s, 1.0), 5, case="fraction 1.0 (everything)")


@problem(
    "pca",
    hints=(
        "PCA looks for the directions of greatest spread around the centre of the data, "
        "so the centre must be taken out first.",
        "Subtract the column means, take the thin SVD of the centred data: the components "
        "are the leading right singular vectors, and each variance is a squared singular "
        "value divided by the number of samples minus one.",
    ),
)
def _pca(t):
    line = np.linspace(-1, 1, 7)
    X = np.column_stack([3 * line + 10, line - 5])  # points on a line through (10, -5)
    got = t.call("pca", X, 1)
    t.true(
        isinstance(got, tuple) and len(got) == 3,
        f"pca returned {type(got).__name__}",
        "Return a tuple (mean, components, variances).",
    )
    mean, comps, variances = got
    t.shape(mean, (2,), nudge="The mean of each column, one per feature.")
    t.close(mean, [10.0, -5.0], what="mean")
    t.shape(comps, (1, 2), nudge="Components are ROWS: shape (n_components, d).")
    direction = np.array([3.0, 1.0]) / np.sqrt(10.0)
    t.close(
        abs(comps[0] @ direction),
        1.0,
        what="|first component . true direction|",
        nudge="Centre X before the SVD: otherwise the first component points at the mean.",
    )
    t.close(
        variances,
        [np.var(X @ direction, ddof=1)],
        what="variance",
        nudge="The variance along a component divides by N - 1.",
    )


# -- the quiz ---------------------------------------------------------------------------

number(
    "q_digits",
    hints=(
        "Rounding error in the data is amplified by the condition number.",
        "Each factor of ten in the condition number costs about one significant digit.",
    ),
)
choice(
    "q_collinear",
    options="abcd",
    hints=(
        "Ask of each remedy whether it changes how nearly dependent the two columns are.",
        "Rescaling a column changes its length, not its direction.",
    ),
)
number(
    "q_power_steps",
    hints=(
        "Each step multiplies the error by the ratio of the two largest eigenvalues "
        "(in absolute value).",
        "Find the smallest whole k for which that ratio to the power k is below the target.",
    ),
)
number(
    "q_rank_bound",
    hints=(
        "The number of non-zero singular values is the rank.",
        "A rank can never exceed the number of rows, nor the number of columns.",
    ),
)
number(
    "q_energy",
    hints=(
        "Energy is the sum of the squared singular values.",
        "Divide the first squared value by the sum of all the squared values.",
    ),
)
