"""The learner-facing checks: four outcomes, friendly messages, no leaks."""

import numpy as np
import pytest

from mlcourse import check
from mlcourse.check.legacy import CodeRaised, Incorrect, NotAttempted


def square(x):
    return x * x


def stub(x):
    raise NotImplementedError()


def test_correct_prints_honest_success(capsys):
    with check.exercise("square", hint="multiply x by itself") as ex:
        ex.close(ex.call(square, np.array([1.0, 2.0])), [1.0, 4.0])
    out = capsys.readouterr().out
    assert "square: visible checks passed" in out
    assert "hidden tests run at grading" in out


def test_stub_is_not_attempted():
    with pytest.raises(NotAttempted) as info:
        with check.exercise("square", hint="multiply x by itself") as ex:
            ex.call(stub, 3)
    text = str(info.value)
    assert "not attempted" in text
    assert "NotImplementedError" in text
    assert "hint: multiply x by itself" in text


def test_undefined_name_is_not_attempted():
    with pytest.raises(NotAttempted, match="`undefined_thing` is not defined yet"):
        with check.exercise("square", hint="h"):
            undefined_thing  # noqa: B018, F821


def test_learner_exception_is_code_raised_with_location():
    def broken(x):
        return x / 0

    with pytest.raises(CodeRaised) as info:
        with check.exercise("square", hint="h") as ex:
            ex.call(broken, 1)
    text = str(info.value)
    assert "ZeroDivisionError" in text
    assert "broken(1)" in text
    assert "line" in text


def test_shape_message_says_got_and_expected_and_nudges_transpose():
    with pytest.raises(Incorrect) as info:
        with check.exercise("m", hint="h") as ex:
            ex.shape(np.zeros((3, 1)), (1, 3))
    text = str(info.value)
    assert "shape (3, 1)" in text and "shape (1, 3)" in text
    assert "transpose" in text


def test_wrong_value_gets_targeted_nudge():
    with pytest.raises(Incorrect, match="you summed over rows"):
        with check.exercise("m", hint="h") as ex:
            ex.close([4.0, 6.0], [3.0, 7.0], wrong={"you summed over rows": [4.0, 6.0]})


def test_hidden_check_never_shows_expected_value():
    secret = 123456.789
    with pytest.raises(Incorrect) as info:
        with check.exercise("m", hint="h") as ex:
            ex.close(1.0, secret, hidden=True, case="a random input")
    text = str(info.value)
    assert "123456" not in text
    assert "hidden test" in text and "a random input" in text


def test_hidden_equal_never_shows_expected_value():
    with pytest.raises(Incorrect) as info:
        with check.exercise("m", hint="h") as ex:
            ex.equal(3, 98765, hidden=True)
    assert "98765" not in str(info.value)


def test_mutating_input_fails():
    def in_place(a):
        a[0] = 99
        return a

    with pytest.raises(Incorrect, match="changed its argument `a` in place"):
        with check.exercise("m", hint="h") as ex:
            ex.call(in_place, np.array([1.0, 2.0]))


def test_raises_check():
    def no_validation(a):
        return a

    with pytest.raises(Incorrect, match="a ValueError"):
        with check.exercise("m", hint="h") as ex:
            ex.raises(ValueError, no_validation, 1)


def test_nan_is_reported():
    with pytest.raises(Incorrect, match="NaN or infinity"):
        with check.exercise("m", hint="h") as ex:
            ex.close([np.nan], [1.0])


def test_error_in_check_on_learner_value_is_incorrect():
    with pytest.raises(Incorrect, match="checking your answer raised"):
        with check.exercise("m", hint="h"):
            None.shape  # noqa: B018


def test_every_exercise_needs_a_hint():
    with pytest.raises(ValueError, match="needs a hint"):
        check.exercise("m", hint="  ")


def test_monkeypatched_isclose_does_not_fool_checks(monkeypatch):
    monkeypatch.setattr(np, "isclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    with pytest.raises(Incorrect):
        with check.exercise("m", hint="h") as ex:
            ex.close([1.0], [2.0])


def test_kernel_shows_short_message_and_cell_fails():
    """In a real kernel the failure is a short error output, not a traceback."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(
        cells=[
            new_code_cell(
                "from mlcourse import check\n"
                "def f(x):\n    raise NotImplementedError()\n"
                "with check.exercise('f', hint='return x + 1') as ex:\n"
                "    ex.call(f, 1)"
            )
        ]
    )
    NotebookClient(nb, allow_errors=True, kernel_name="python3", timeout=60).execute()
    (error,) = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    assert error.ename == "NotAttempted"
    assert len(error.traceback) <= 5
    assert "Traceback" not in "\n".join(error.traceback)
    assert "hint: return x + 1" in "\n".join(error.traceback)


def test_outcomes_are_recorded_in_a_workspace(tmp_path, monkeypatch):
    import json

    (tmp_path / ".mlcourse").mkdir()
    (tmp_path / ".mlcourse" / "manifest.json").write_text("{}")
    (tmp_path / "01_foundations").mkdir()
    monkeypatch.chdir(tmp_path / "01_foundations")
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "01_foundations" / "la.ipynb"))
    with pytest.raises(NotAttempted):
        with check.exercise("square", hint="h") as ex:
            ex.call(stub, 1)
    with check.exercise("square", hint="h") as ex:
        ex.equal(ex.call(square, 3), 9)
    lines = (tmp_path / ".mlcourse" / "progress.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["outcome"] for e in entries] == ["not_attempted", "correct"]
    assert entries[0]["notebook"] == "01_foundations/la.ipynb"
    assert entries[0]["exercise"] == "square"


def test_nothing_recorded_outside_a_workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with check.exercise("square", hint="h") as ex:
        ex.equal(ex.call(square, 3), 9)
    assert not list(tmp_path.rglob("progress.jsonl"))


def test_time_limit_stops_an_infinite_loop_even_inside_except_exception():
    def spins(n):
        while True:
            try:
                n += 1
            except Exception:  # noqa: BLE001 - a learner swallowing errors
                pass

    with pytest.raises(Incorrect) as info:
        with check.exercise("spin", hint="h") as ex:
            ex.call(spins, 0, time_limit=0.2, slow_nudge="Does the loop ever end?")
    text = str(info.value)
    assert "still running after 0.2 s (stopped)" in text
    assert "Does the loop ever end?" in text


def test_time_limit_passes_fast_code_and_restores_the_alarm():
    import signal

    before = signal.getsignal(signal.SIGALRM)
    with check.exercise("square", hint="h") as ex:
        ex.equal(ex.call(square, 3, time_limit=5), 9)
    assert signal.getsignal(signal.SIGALRM) == before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_mutation_message_names_the_argument():
    def scale(values, factor):
        values *= factor
        return values

    with pytest.raises(Incorrect) as info:
        with check.exercise("scale", hint="h") as ex:
            ex.call(scale, np.ones(3), 2.0)
    assert "changed its argument `values` in place" in str(info.value)
    assert "values = values.copy()" in str(info.value)


def test_floats_in_messages_are_short():
    assert check.describe((-0.1608548720342545, 0.25, 3)) == "(-0.160855, 0.25, 3)"
    assert check.describe(1.0) == "1.0"
