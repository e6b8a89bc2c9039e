"""The checks learners run: data only across the boundary, tiered hints, quiz keys, solutions."""

from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stdout

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import TEST_EXERCISES, use_checks
from mlcourse import check
from mlcourse.check import codec, events, learner, quiz
from mlcourse.check.judge import Tester as _Tester
from mlcourse.check.outcomes import AuthoringError, CodeRaised, Incorrect, NotAttempted
from mlcourse.check.transport import InProcess, KernelRPC, TransportError
from mlcourse.check.trusted import verdict

CHECKS = '''
import numpy as np
from mlcourse.check import choice, number, problem


class Box:
    """Built on the learner's side by course code."""

    def __init__(self, value):
        self.value = value


@problem(
    "cube",
    hints=(
        "A cube multiplies a number by itself twice.",
        "Raise each element to the third power.",
        "Apply the power elementwise to the array.",
    ),
)
def _cube(t):
    got = t.call("cube", np.array([1.0, -2.0]))
    t.shape(got, (2,))
    t.close(got, [1.0, -8.0], wrong={"That is the square.": [1.0, 4.0]})


@problem("unbox", hints=("Open the box.", "Read its value attribute."))
def _unbox(t):
    box = t.build("mlcourse.exercises.api_checks:Box", 41)
    t.equal(t.call("unbox", box), 41)


choice("q_pick", options="abc", hints=("Think about it.", "Reread the text."))
number("q_half", hints=("Half of one.", "Divide one by two."))
'''


@pytest.fixture(autouse=True)
def checks_module():
    use_checks(TEST_EXERCISES, ["api_checks"], CHECKS)
    check.runner.shown.clear()
    yield


def cube(x):
    return x**3


# -- the codec ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        -2.5,
        "text",
        (1, "a"),
        [1, [2, 3]],
        {"a": 1, 2: (3,)},
        {1, 2},
        frozenset({"x"}),
        b"\x00\xff",
        1 + 2j,
        10**40,
        np.arange(12, dtype=np.int16).reshape(3, 4),
        np.array([1.5, np.nan, np.inf]),
        np.array(["a", "bcd"]),
        np.array([True, False]),
        np.array(["2024-01-01"], dtype="datetime64[D]"),
        np.float32(1.25),
        np.int64(-7),
    ],
)
def test_codec_round_trips_data(value):
    back = codec.roundtrip(value)
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape
        assert np.array_equal(back, value, equal_nan=value.dtype.kind == "f")
    elif isinstance(value, float) and math.isnan(value):
        assert math.isnan(back)
    else:
        assert back == value


def test_codec_round_trips_frames_series_and_tensors():
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [0.5, None]}, index=[10, 11])
    back = codec.roundtrip(frame)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    series = pd.Series([1.0, 2.0], name="s", index=pd.Index(["p", "q"], name="k"))
    pd.testing.assert_series_equal(codec.roundtrip(series), series)
    tensor = torch.arange(6, dtype=torch.float32).reshape(2, 3).requires_grad_()
    back = codec.roundtrip(tensor)
    assert isinstance(back, np.ndarray) and back.shape == (2, 3)
    assert back.torch_dtype == "torch.float32" and back.requires_grad is True


def test_codec_sends_objects_as_opaque_and_never_calls_them_when_decoding():
    class Liar:
        def __repr__(self):
            return "a liar"

        def __array__(self, *a, **k):  # never reached by decode
            raise AssertionError("called")

    back = codec.roundtrip(Liar())
    assert isinstance(back, codec.Opaque) and "Liar" in back.type and back.repr == "a liar"


@pytest.mark.parametrize(
    "encoded",
    [
        {"$": "pickle", "data": "gASV"},
        {"$": "ndarray", "dtype": "<f8", "shape": [3], "b64": "AAAA"},
        {"$": "ndarray", "dtype": "V8", "shape": [1], "b64": "AAAAAAAAAAA="},
        {"$": "ndarray", "dtype": "object", "shape": [2], "items": [1]},
        {"$": "dict", "items": [[[1], 2]]},
        {"$": "bigint", "v": "1" * 5000},
        {"$": "ref", "id": "1", "type": "x"},
        object(),
    ],
)
def test_decode_refuses_malformed_or_foreign_data(encoded):
    with pytest.raises(codec.CodecError):
        codec.decode(encoded)


def test_loads_refuses_deep_nesting_and_bad_json():
    with pytest.raises(codec.CodecError):
        codec.loads("[" * 100_000 + "]" * 100_000)
    with pytest.raises(codec.CodecError):
        codec.loads("{nope")


# -- the learner's side ----------------------------------------------------------------


def perform(req, ns):
    return learner.perform(codec.loads(codec.dumps(req)), ns)


def test_learner_side_classifies_calls():
    def stub(x):
        raise NotImplementedError()

    def boom(x):
        raise ValueError("bad " * 500)

    def mutate(a):
        a[0] = 99
        return a

    def slow(x):
        while True:
            pass

    ns = {"stub": stub, "boom": boom, "mutate": mutate, "slow": slow}
    call = {"op": "call", "args": [codec.encode(np.zeros(2))], "kwargs": []}
    assert perform({**call, "target": {"name": "stub"}}, ns) == {"not_attempted": True}
    raised = perform({**call, "target": {"name": "boom"}}, ns)["raised"]
    assert raised["type"] == "ValueError" and len(raised["message"]) <= learner.MAX_MESSAGE
    assert "ValueError" in raised["mro"] and "line" in raised["where"]
    assert perform({**call, "target": {"name": "mutate"}}, ns) == {"modified": {"index": 0}}
    assert "value" in perform({**call, "target": {"name": "mutate"}, "may_modify": True}, ns)
    assert perform({**call, "target": {"name": "nothing"}}, ns) == {"missing": "nothing"}
    slow_req = {**call, "target": {"name": "slow"}, "time_limit": 0.2}
    assert perform(slow_req, ns) == {"too_slow": 0.2}


def test_learner_side_keeps_objects_and_resolves_paths():
    class Model:
        def __init__(self):
            self.coef_ = np.array([1.0, 2.0])

        def predict(self, X):
            return X @ self.coef_

    ns = {"Model": Model}
    kept = perform(
        {"op": "call", "target": {"name": "Model"}, "args": [], "kwargs": [], "keep": True}, ns
    )
    ref = kept["ref"]["id"]
    got = perform(
        {
            "op": "call",
            "target": {"ref": ref, "path": [["attr", "predict"]]},
            "args": [codec.encode(np.eye(2))],
            "kwargs": [],
        },
        ns,
    )
    assert np.array_equal(codec.decode(got["value"]), [1.0, 2.0])
    absent = perform({"op": "get", "target": {"ref": ref, "path": [["attr", "nope_"]]}}, ns)
    assert "absent" in absent
    perform({"op": "release"}, ns)
    assert "raised" in perform({"op": "get", "target": {"ref": ref, "path": []}}, ns)


# -- the tester --------------------------------------------------------------------------


def make_tester(ns, hidden=False):
    return _Tester("cube", InProcess(ns), hidden=hidden)


def test_equal_compares_kinds_not_just_values():
    t = make_tester({})
    with pytest.raises(Incorrect):
        t.equal(1.0, 1)
    with pytest.raises(Incorrect):
        t.equal(True, 1)
    with pytest.raises(Incorrect):
        t.equal([1, 2], (1, 2))
    t.equal(np.int64(3), 3)
    t.equal({"b": 1, "a": [1, 2]}, {"a": [1, 2], "b": 1})
    assert t.passed == 2


def test_hidden_checks_never_show_expected_values_and_need_a_case():
    t = make_tester({"cube": cube}, hidden=True)
    with pytest.raises(Incorrect) as info:
        t.close(t.call("cube", np.array([2.0])), [123456.5], case="a secret input")
    text = str(info.value)
    assert "123456" not in text and "a secret input" in text and "hidden test" in text
    with pytest.raises(AuthoringError):
        t.close(1.0, 1.0)


def test_a_result_that_changed_its_input_fails_clearly():
    def sort_in_place(a):
        a.sort()
        return a

    t = make_tester({"sort_in_place": sort_in_place})
    with pytest.raises(Incorrect, match="changed its argument number 1 in place"):
        t.call("sort_in_place", np.array([3, 1, 2]))


def test_raises_matches_exception_names_from_the_learner_side():
    def validate(x):
        if x < 0:
            raise ValueError("negative")
        return x

    t = make_tester({"validate": validate})
    t.raises(ValueError, "validate", -1)
    with pytest.raises(Incorrect, match="no error; it returned 2"):
        t.raises(ValueError, "validate", 2)
    with pytest.raises(Incorrect, match="a TypeError"):
        t.raises(TypeError, "validate", -1)


# -- check("name"): outcomes, hints -------------------------------------------------------


def run(code: str, ns: dict) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        exec(code, ns)
    return out.getvalue()


def test_passing_check_says_so_honestly():
    text = run('check("cube")', {"check": check, "cube": cube, "np": np})
    assert "cube: visible checks passed; hidden tests run at grading." in text


def test_not_attempted_tells_what_to_do_and_how_to_get_a_hint_without_giving_one():
    def cube(x):
        raise NotImplementedError()

    with pytest.raises(NotAttempted) as info:
        run('check("cube")', {"check": check, "cube": cube})
    text = str(info.value)
    assert "replace `raise NotImplementedError()`" in text
    assert 'check.hint("cube")' in text
    assert "multiplies a number by itself" not in text  # no hint text


def test_undefined_answer_is_not_attempted():
    with pytest.raises(NotAttempted, match="`cube` is not defined yet"):
        run('check("cube")', {"check": check})


def test_failure_shows_targeted_nudge_and_only_the_first_hint():
    with pytest.raises(Incorrect) as info:
        run('check("cube")', {"check": check, "cube": lambda x: x**2})
    text = str(info.value)
    assert "That is the square." in text
    assert "(1 of 3) A cube multiplies a number by itself twice." in text
    assert "Raise each element" not in text
    assert 'check.hint("cube") for hint 2 of 3' in text


def test_learner_error_is_code_raised_with_location():
    def cube(x):
        return x / 0 if False else [][1]

    with pytest.raises(CodeRaised, match=r"IndexError.*line \d+ of `cube`"):
        run('check("cube")', {"check": check, "cube": cube})


def test_hint_levels_step_up_and_stop():
    shown = [run(f"check.hint('cube'{arg})", {"check": check}) for arg in ("", "", "", ", 2")]
    assert "hint 1 of 3" in shown[0] and "hint 2 of 3" in shown[1] and "hint 3 of 3" in shown[2]
    assert "That is the last hint." in shown[2]
    assert "hint 2 of 3: Raise each element" in shown[3]
    assert "levels 1 to 3" in run("check.hint('cube', 9)", {"check": check})


def test_build_makes_inputs_on_the_learner_side():
    text = run('check("unbox")', {"check": check, "unbox": lambda box: box.value})
    assert "unbox: visible checks passed" in text


# -- quiz questions ----------------------------------------------------------------------


def test_quiz_visible_check_only_validates_the_form(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no workspace: no key
    text = run('check("q_pick")', {"check": check, "q_pick": "B"})
    assert "recorded" in text and "marked when your notebook is graded" in text
    with pytest.raises(Incorrect, match="Answer with one of"):
        run('check("q_pick")', {"check": check, "q_pick": "z"})
    with pytest.raises(Incorrect, match="Answer with a number"):
        run('check("q_half")', {"check": check, "q_half": "0.5"})


def test_quiz_key_explains_right_and_wrong_answers_without_revealing():
    why = {"a": "A is wrong because...", "b": "Right: b because...", "c": "C is wrong too."}
    text = run('check.key("q_pick", "b", why=why)', {"check": check, "q_pick": "(b)", "why": why})
    assert "right. Right: b because" in text
    with pytest.raises(Incorrect) as info:
        run('check.key("q_pick", "b", why=why)', {"check": check, "q_pick": "c", "why": why})
    assert "C is wrong too." in str(info.value) and "Right: b" not in str(info.value)
    with pytest.raises(Incorrect, match="That is a quarter"):
        run(
            'check.key("q_half", 0.5, why="Right.", wrong={0.25: "That is a quarter."})',
            {"check": check, "q_half": 0.25},
        )
    with pytest.raises(AuthoringError):
        quiz.make_key("q_pick", "b", why={"a": "only one option explained"})


# -- worked solutions and the event log ----------------------------------------------------


def make_workspace(root, keys=None):
    (root / ".mlcourse" / "reveal").mkdir(parents=True)
    (root / ".mlcourse" / "manifest.json").write_text("{}")
    data = {
        "notebook": "api_checks",
        "solutions": {"cube": {"code": "def cube(x):\n    return x ** 3", "explain": "Cubing."}},
        "keys": keys or {},
    }
    (root / ".mlcourse" / "reveal" / "api_checks.json").write_text(json.dumps(data))
    return root


def test_solution_is_offered_after_a_pass_or_a_confirmed_attempt(tmp_path, monkeypatch):
    monkeypatch.chdir(make_workspace(tmp_path))
    text = run('check.solution("cube")', {"check": check})
    assert "You have not passed `cube` yet" in text and "tried=True" in text
    assert "return x ** 3" not in text
    text = run('check.solution("cube", tried=True)', {"check": check})
    assert "return x ** 3" in text and "Cubing." in text
    run('check("cube")', {"check": check, "cube": cube, "np": np})
    assert "return x ** 3" in run('check.solution("cube")', {"check": check})
    kinds = [(e.kind.value, e.outcome and e.outcome.value) for e in events.read(tmp_path)]
    assert kinds == [("solution", None), ("check", "correct"), ("solution", None)]


def test_no_solution_outside_a_workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = run('check.solution("cube", tried=True)', {"check": check})
    assert "self-study workspace" in text and "x ** 3" not in text


def test_quiz_is_judged_at_once_in_a_workspace(tmp_path, monkeypatch):
    key = quiz.make_key("q_pick", "a", why={"a": "Right: a.", "b": "Not b.", "c": "Not c."})
    monkeypatch.chdir(make_workspace(tmp_path, {"q_pick": key}))
    assert "right. Right: a." in run('check("q_pick")', {"check": check, "q_pick": "a"})
    with pytest.raises(Incorrect, match="Not b."):
        run('check("q_pick")', {"check": check, "q_pick": "b"})


def test_event_log_skips_torn_lines_and_reads_old_lines(tmp_path):
    make_workspace(tmp_path)
    log = tmp_path / ".mlcourse" / "progress.jsonl"
    log.write_text(
        '{"time": 1, "exercise": "cube", "outcome": "incorrect"}\n'
        '{"time": 2, "exercise": "cube", "event": "hint", "level": 2}\n'
        '{"time": 3, "exercise": "cu\n'
        '{"time": "nan", "exercise": "cube", "outcome": "correct"}\n'
    )
    got = events.read(tmp_path)
    assert [(e.kind.value, e.level) for e in got] == [("check", None), ("hint", 2)]


# -- trusted verdicts ----------------------------------------------------------------------


def rpc_to(ns):
    """A KernelRPC whose 'kernel' is this process with ``ns`` as its namespace."""

    def execute(code, timeout):
        out = io.StringIO()
        with redirect_stdout(out):
            exec(code, {"__builtins__": __builtins__, "get_ipython": None})
        return out.getvalue()

    learner_ns = ns

    def serve_here(code, timeout):
        # The kernel-side serve() looks up IPython's namespace; here, ns.
        import base64

        payload, nonce = code.split("serve(")[1].rsplit(")", 1)[0].split(", ")
        request = codec.loads(base64.b64decode(eval(payload)).decode())
        answer = codec.dumps(learner.perform(request, learner_ns))
        return eval(nonce) + base64.b64encode(answer.encode()).decode() + "\n"

    return KernelRPC(serve_here)


def test_trusted_verdict_passes_and_fails_like_the_kernel():
    assert verdict("api_checks", "cube", "", rpc_to({"cube": cube})).passed
    wrong = verdict("api_checks", "cube", "", rpc_to({"cube": lambda x: x**2}))
    assert not wrong.passed and "That is the square." in wrong.message


def test_trusted_hidden_source_runs_in_the_checks_module_namespace():
    hidden = (
        '@check.hidden("cube")\n'
        "def _(t):\n"
        '    t.close(t.call("cube", np.array([3.0])), [27.0], case="three")\n'
    )
    assert verdict("api_checks", "cube", hidden, rpc_to({"cube": cube})).passed
    bad = verdict("api_checks", "cube", hidden, rpc_to({"cube": lambda x: x**3 + (x > 2)}))
    assert not bad.passed and "three" in bad.message


def test_an_answer_object_cannot_read_the_expected_value():
    class Spy(np.ndarray):
        """Tries to find the checker's expected value on the stack."""

    import sys

    def cube(x):
        frame = sys._getframe()
        while frame is not None:  # nothing on this side holds the expectation
            assert "expected" not in frame.f_locals or frame.f_locals["expected"] is None
            frame = frame.f_back
        return x**2

    assert not verdict("api_checks", "cube", "", rpc_to({"cube": cube})).passed


def test_a_silent_kernel_is_a_failure_not_a_pass():
    rpc = KernelRPC(lambda code, timeout: "nothing to see\n")
    result = verdict("api_checks", "cube", "", rpc)
    assert not result.passed and "did not answer" in result.message
    with pytest.raises(TransportError):
        rpc.request({"op": "release"})


def test_codec_encodes_a_set_the_same_under_any_hash_seed():
    """A set's iteration order depends on PYTHONHASHSEED; the trusted side and the
    kernel must still agree that an argument did not change (a false "changed
    its argument in place" on a correct solution otherwise)."""
    import os
    import subprocess
    import sys

    script = (
        "import sys; from mlcourse.check import codec; "
        "print(codec.dumps(codec.encode({'alpha', 'beta', 'gamma', 'delta', 'eps', ('t', 1)})))"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(6)
    }
    assert len(outs) == 1
    assert codec.roundtrip({"b", "a"}) == {"a", "b"}
