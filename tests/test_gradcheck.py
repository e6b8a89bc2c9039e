import numpy as np
import pytest

from mlcourse.gradcheck import numerical_grad, rel_error


def test_numerical_grad_matches_an_analytic_gradient_on_a_matrix():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 4))
    X = rng.normal(size=(3, 4))
    # f(X) = sum(A * X**3): df/dX = 3 A X**2
    got = numerical_grad(lambda M: np.sum(A * M**3), X)
    assert got.shape == X.shape
    assert rel_error(got, 3 * A * X**2) < 1e-7


def test_numerical_grad_takes_lists_and_leaves_the_input_alone():
    x = [1.0, -2.0, 0.5]
    got = numerical_grad(lambda v: v[0] * v[1] + v[2] ** 2, x)
    np.testing.assert_allclose(got, [-2.0, 1.0, 1.0], atol=1e-8)
    assert x == [1.0, -2.0, 0.5]
    ints = np.array([1, 2])
    np.testing.assert_allclose(numerical_grad(lambda v: np.sum(v**2), ints), [2.0, 4.0], atol=1e-6)
    assert ints.dtype.kind == "i"


def test_numerical_grad_refuses_a_non_positive_step():
    with pytest.raises(ValueError, match="positive"):
        numerical_grad(np.sum, [1.0], h=0)


def test_rel_error_is_symmetric_scale_free_and_zero_for_two_zeros():
    assert rel_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert rel_error([1.0, 0.0], [1.0, 0.0]) == 0.0
    assert rel_error([1.0], [-1.0]) == 1.0
    assert rel_error([2e6], [2e6 + 2]) == pytest.approx(rel_error([2.0], [2.000002]))
    assert rel_error([1.0, 3.0], [1.1, 3.0]) == rel_error([1.1, 3.0], [1.0, 3.0])
    assert rel_error([], []) == 0.0
    with pytest.raises(ValueError, match="shapes"):
        rel_error([1.0, 2.0], [1.0])
