"""The leak check finds runs of secret tokens anywhere, and not ordinary coincidences."""

from mlcourse.leaks import Secret, scan, strip_comments, tokens

SOLUTION = "U, s, Vt = np.linalg.svd(M, full_matrices=False)\nreturn (U[:, :k] * s[:k]) @ Vt[:k, :]"


def leaks(visible, **kw):
    return scan([Secret("low_rank", "solution", SOLUTION)], visible, **kw)


def test_tokens_count_like_the_issue_says():
    assert len(tokens("(U[:, :k] * s[:k]) @ Vt[:k, :]")) == 23  # the issue counts about 24
    assert len(tokens("np.random.default_rng(")) == 6


def test_a_solution_line_in_markdown_backticks_is_a_leak():
    report = leaks([("cell 3", "Try `(U[:, :k] * s[:k]) @ Vt[:k, :]` here.")])
    assert len(report.leaks) == 1 and "low_rank" in str(report.leaks[0])


def test_inside_a_string_literal_or_a_hint_too():
    report = leaks([("hint 2", 'hint="multiply (U[:, :k] * s[:k]) @ Vt"')])
    assert report.leaks


def test_short_common_runs_are_not_leaks():
    assert not leaks([("cell 1", "Use np.linalg.svd to factor M.")]).leaks
    assert not leaks([("cell 1", "x = np.array([1.0, 2.0, 3.0, 4.0])")]).leaks


def test_allowed_runs_are_counted_apart():
    report = leaks(
        [("cell 2", "np.linalg.svd(M, full_matrices=False) returns U, s and Vt")],
        allows=[("low_rank", "np.linalg.svd(M, full_matrices=False)")],
    )
    assert not report.leaks and len(report.allowed) == 1


def test_a_hint_quoting_a_short_solution_line_is_a_leak():
    secret = [Secret("double", "solution", "return 2 * x")]
    hit = scan(secret, [], hints=[("double", "hint 2", "Just return 2 * x.")])
    assert hit.leaks and hit.leaks[0].kind == "solution line"


def test_comments_are_not_secrets():
    code = "total = 0  # the running sum of the squared values so far, in order\n"
    assert "running" not in strip_comments(code)
    report = scan(
        [Secret("s", "solution", code)],
        [("cell", "the running sum of the squared values so far, in order")],
    )
    assert not report.leaks


def test_hidden_runs_are_ignored_in_the_checks_module_only():
    hidden = Secret("pca", "hidden test", "ref = PCA(n_components=5).fit(digits_data_matrix)")
    visible = [
        ("exercises/nb.py", "ref = PCA(n_components=5).fit(digits_data_matrix)"),
        ("cell 4", "ref = PCA(n_components=5).fit(digits_data_matrix)"),
    ]
    report = scan([hidden], visible, solutions_only=frozenset({"exercises/nb.py"}))
    assert [h.where for h in report.leaks] == ["cell 4"]
