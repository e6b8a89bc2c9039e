"""`mlcourse drill`: the interview bank in a terminal, with Leitner boxes."""

from __future__ import annotations

import json
import re
import time

import pytest
from click.testing import CliRunner

from conftest import REPO
from mlcourse import drill as drill_mod
from mlcourse import layout
from mlcourse.drill import (
    DAY,
    Card,
    State,
    draw,
    drill,
    drill_summary,
    judge_answer,
    load_state,
    parse_number,
    record,
    save_state,
    summary_line,
)
from mlcourse.exercises import ml_theory_interview as bank_module

NOTEBOOK = REPO / "course" / "04_job_search" / "ml_theory_interview.ipynb"
T0 = 1_800_000_000.0  # a fixed "now"


@pytest.fixture(scope="module")
def reveal_data() -> dict:
    """The reveal store `mlcourse start` writes for the notebook (built the same way)."""
    from mlcourse.check import reveal
    from mlcourse.notebook import parse

    return reveal.build(parse(NOTEBOOK))


@pytest.fixture
def ws(tmp_path, reveal_data):
    """A self-study workspace with the notebook's reveal store."""
    workspace = tmp_path / "ws"
    layout.marker(workspace).mkdir(parents=True)
    layout.manifest_path(workspace).write_text(json.dumps({"files": {}}))
    path = layout.reveal_path(workspace, "ml_theory_interview")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(reveal_data))
    return workspace


@pytest.fixture
def clock(monkeypatch):
    """A fake clock: set ``clock.now`` to move time."""

    class Clock:
        now = T0

        def __call__(self):
            return self.now

    fake = Clock()
    monkeypatch.setattr(drill_mod, "clock", fake)
    return fake


def entry(name: str) -> dict:
    return next(e for e in bank_module.BANK if e["name"] == name)


def run(ws, *args, input=None):
    return CliRunner().invoke(drill, ["--workspace", str(ws), *args], input=input)


def cards(ws) -> dict:
    return json.loads(drill_mod.state_path(ws).read_text())["cards"]


def flat(text: str) -> str:
    """Rich output as one line: panel borders removed, whitespace collapsed."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def first_drawn(ws, topic: str, count: int, seed: int, now: float = T0) -> list[str]:
    """The questions a session with these options asks (the drill's own draw)."""
    names = [e["name"] for e in drill_mod.drillable(drill_mod.bank()) if e["topic"] == topic]
    return draw(names, load_state(ws).cards, now, count, seed=seed)


def right_answer(key: dict) -> str:
    return key["answer"] if key["kind"] == "choice" else drill_mod.format_number(key["answer"])


def wrong_answer(key: dict) -> str:
    if key["kind"] == "choice":
        return next(letter for letter in key["why"] if letter != key["answer"])
    return drill_mod.format_number(key["answer"] * 3 + 7)


# -- the bank and the notebook -----------------------------------------------------------


def test_the_bank_is_the_notebooks_questions(reveal_data):
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    asked = []
    for i, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if (
            cell.cell_type == "code"
            and grade_id.startswith("q_")
            and not grade_id.startswith("test_")
        ):
            asked.append(grade_id)
            assert nb.cells[i - 1].cell_type == "markdown"
            assert nb.cells[i - 1].source == bank_module.question_markdown(grade_id), grade_id
    assert asked == [e["name"] for e in bank_module.BANK]
    assert len(asked) >= 80
    counts = bank_module.topic_counts()
    assert set(counts) == set(bank_module.TOPICS) and min(counts.values()) >= 8
    # every question has a key, and a choice key explains every option, naming no letter
    for e in bank_module.BANK:
        key = reveal_data["keys"][e["name"]]
        assert key["kind"] == e["kind"]
        if e["kind"] == "choice":
            assert set(key["why"]) == set("abcdefgh"[: len(e["options"])])
            for text in key["why"].values():
                assert not re.search(r"(?<![\w(])[a-h]\)|\boption [a-h]\b", text), text


def test_questions_answered_with_code_are_left_out_of_the_drill():
    asked = drill_mod.drillable(drill_mod.bank())
    assert "q_bv_bias_linear" not in {e["name"] for e in asked}
    assert "q_bv_noise" in {e["name"] for e in asked}
    assert len(asked) >= 70


# -- boxes and scheduling --------------------------------------------------------------


def test_a_right_answer_moves_up_a_box_and_a_wrong_one_back_to_box_1():
    card = record(None, True, T0)
    assert (card.box, card.due, card.seen, card.right) == (2, T0 + 1 * DAY, 1, 1)
    card = record(card, True, T0)
    assert (card.box, card.due) == (3, T0 + 3 * DAY)
    card = record(record(card, True, T0), True, T0)
    assert (card.box, card.due) == (5, T0 + 14 * DAY)
    top = record(card, True, T0)
    assert (top.box, top.due) == (5, T0 + 14 * DAY)  # the last box keeps it
    wrong = record(top, False, T0 + 5)
    assert (wrong.box, wrong.due, wrong.seen, wrong.right) == (1, T0 + 5, 6, 5)
    assert record(None, False, T0).box == 1


def test_draw_takes_due_reviews_first_lowest_box_first_then_new_ones():
    names = [f"q{i}" for i in range(8)]
    cards_ = {
        "q0": Card(box=3, due=T0 - 1),
        "q1": Card(box=1, due=T0),
        "q2": Card(box=2, due=T0 + DAY),  # not due
        "q3": Card(box=5, due=T0 - DAY),
    }
    order = draw(names, cards_, T0, count=10, seed=1)
    assert order[:3] == ["q1", "q0", "q3"]  # boxes 1, 3, 5
    assert sorted(order[3:]) == ["q4", "q5", "q6", "q7"]
    assert "q2" not in order
    assert draw(names, cards_, T0, count=2, seed=1) == ["q1", "q0"]
    assert draw(names, cards_, T0, count=10, seed=1, ahead=True)[-1] == "q2"


def test_the_seed_fixes_the_order():
    names = [f"q{i}" for i in range(30)]
    first = draw(names, {}, T0, count=30, seed=7)
    assert first == draw(names, {}, T0, count=30, seed=7)
    assert first != draw(names, {}, T0, count=30, seed=8)
    assert sorted(first) == sorted(names)


def test_a_question_comes_due_after_its_interval(ws, clock, reveal_data):
    args = ["--topic", "bias-variance", "--count", "1", "--seed", "0", "--no-shuffle"]
    (name,) = first_drawn(ws, "bias-variance", 1, 0)
    result = run(ws, *args, "--answers", right_answer(reveal_data["keys"][name]))
    assert result.exit_code == 0, result.output
    assert cards(ws)[name]["box"] == 2
    assert cards(ws)[name]["due"] == T0 + DAY
    clock.now = T0 + DAY - 60  # not due yet: a new question is asked instead
    (other,) = first_drawn(ws, "bias-variance", 1, 0, clock.now)
    assert other != name
    run(ws, *args, "--answers", wrong_answer(reveal_data["keys"][other]))
    assert cards(ws)[name]["box"] == 2 and cards(ws)[other]["box"] == 1
    assert drill_summary(ws)["reviews_due"] == 1  # the wrong one, due at once
    clock.now = T0 + DAY  # both due now: the one in box 1 comes first
    assert drill_summary(ws)["reviews_due"] == 2
    assert first_drawn(ws, "bias-variance", 2, 5, clock.now) == [other, name]
    result = run(ws, "--topic", "bias-variance", "--count", "2", "--seed", "5", "--answers", "s q")
    assert "box 1" in result.output and "box 2" in result.output
    prompt = " ".join(bank_module.question(other)["prompt"].split()[:5])
    assert prompt in flat(result.output)


# -- the state file ------------------------------------------------------------------


def test_state_round_trip(ws):
    state = State({"q_bv_gap": Card(3, T0 + 5, 4, 3, T0)})
    save_state(ws, state)
    assert load_state(ws).cards == state.cards
    assert json.loads(drill_mod.state_path(ws).read_text())["version"] == drill_mod.STATE_VERSION
    assert not list(drill_mod.state_path(ws).parent.glob(".drill.json.*"))  # no temporary left


def test_sessions_continue_from_the_saved_state(ws, clock, reveal_data):
    keys = reveal_data["keys"]
    drawn = first_drawn(ws, "metrics", 3, 2)
    answers = [
        right_answer(keys[drawn[0]]),
        wrong_answer(keys[drawn[1]]),
        right_answer(keys[drawn[2]]),
    ]
    args = ["--topic", "metrics", "--count", "3", "--seed", "2", "--no-shuffle"]
    assert run(ws, *args, "--answers", " ".join(answers)).exit_code == 0
    first = cards(ws)
    assert [first[n]["box"] for n in drawn] == [2, 1, 2]
    clock.now = T0 + 10
    again = first_drawn(ws, "metrics", 3, 2, clock.now)
    assert again[0] == drawn[1]  # the wrong one is due again, before new questions
    assert not set(again) & {drawn[0], drawn[2]}
    run(ws, *args, "--answers", " ".join(right_answer(keys[n]) for n in again))
    second = cards(ws)
    assert set(first) < set(second)
    assert second[drawn[0]] == first[drawn[0]] and second[drawn[1]]["box"] == 2
    assert second[drawn[1]]["seen"] == 2


@pytest.mark.parametrize(
    "damage",
    ["{not json", "[1, 2, 3]", '{"cards": 3}', "\udcff".encode("utf-8", "surrogatepass")],
)
def test_a_damaged_state_file_is_set_aside_not_a_crash(ws, clock, damage):
    path = drill_mod.state_path(ws)
    if isinstance(damage, bytes):
        path.write_bytes(damage)
    else:
        path.write_text(damage)
    result = run(ws, "--count", "1", "--seed", "0", "--answers", "s")
    assert result.exit_code == 0, result.output
    assert "could not be read" in result.output
    aside = list(path.parent.glob("drill.json.damaged-*"))
    assert len(aside) == 1
    assert json.loads(path.read_text())["cards"] == {}  # a fresh, valid state


def test_bad_cards_are_dropped_and_the_rest_kept(ws):
    path = drill_mod.state_path(ws)
    path.write_text(
        json.dumps(
            {
                "cards": {
                    "q_bv_gap": {"box": 2, "due": T0},
                    "q_bv_knn": {"box": 9, "due": T0},
                    "q_bv_noise": {"box": "2", "due": T0},
                    "q_bv_bagging": {"box": 1, "due": "soon"},
                    "q_reg_prior": "box 3",
                }
            }
        )
    )
    state = load_state(ws)
    assert set(state.cards) == {"q_bv_gap"} and state.recovered is None


# -- no workspace, no keys -------------------------------------------------------------


def test_no_workspace_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(drill, [])
    assert result.exit_code == 2
    assert "mlcourse start" in result.output
    result = CliRunner().invoke(drill, ["--workspace", str(tmp_path)])
    assert result.exit_code == 2
    assert "not an mlcourse workspace" in flat(result.output)
    assert "mlcourse start" in flat(result.output)


def test_the_workspace_around_the_current_folder_is_found(ws, monkeypatch, clock):
    (ws / "01_foundations").mkdir()
    monkeypatch.chdir(ws / "01_foundations")
    result = CliRunner().invoke(drill, ["--status"])
    assert result.exit_code == 0, result.output
    assert "Your interview drill" in result.output


def test_no_reveal_store_says_how_to_get_the_keys(ws):
    layout.reveal_path(ws, "ml_theory_interview").unlink()
    result = run(ws)
    assert result.exit_code == 2
    assert "mlcourse update" in flat(result.output)


def test_an_unknown_topic_lists_the_topics(ws):
    result = run(ws, "--topic", "astrology")
    assert result.exit_code == 2
    assert "evaluation" in result.output and "transformers" in result.output


# -- answering -------------------------------------------------------------------------


def test_answering_by_stdin_shows_the_explanation(ws, clock, reveal_data):
    keys = reveal_data["keys"]
    drawn = first_drawn(ws, "probability", 2, 3)
    typed = [right_answer(keys[drawn[0]]), wrong_answer(keys[drawn[1]])]
    result = run(
        ws,
        "--topic",
        "probability",
        "--count",
        "2",
        "--seed",
        "3",
        "--no-shuffle",
        input="\n".join(typed) + "\n",
    )
    assert result.exit_code == 0, result.output
    assert [cards(ws)[n]["box"] for n in drawn] == [2, 1]
    output = flat(result.output)
    for name, given in zip(drawn, typed):
        key = keys[name]
        why = key["why"][key["answer"]] if key["kind"] == "choice" else key["why"]
        why = drill_mod._without_verdict(why)  # the drill says "Right." itself
        assert " ".join(why.split())[:70] in output  # the right answer's explanation
        if key["kind"] == "choice" and given != key["answer"]:
            assert " ".join(key["why"][given].split())[:70] in output
    assert "Right." in output and "Not quite." in output and "The answer:" in output
    assert "Session: 1 of 2 right" in output


def test_a_wrong_answer_shows_why_and_the_right_answer(reveal_data):
    from rich.console import Console

    key = reveal_data["keys"]["q_bv_gap"]  # right: c
    verdict = judge_answer(entry("q_bv_gap"), key, "a")
    assert not verdict.correct
    assert verdict.explanation == key["why"]["a"]
    assert verdict.answer.startswith("c) ") and verdict.answer_why == key["why"]["c"]
    console = Console(record=True, width=100)
    drill_mod._show_verdict(console, verdict, Card(3, T0), record(Card(3, T0), False, T0))
    text = flat(console.export_text())
    assert "Not quite" in text and "The answer: c)" in text
    assert key["why"]["c"].startswith("Right: ")
    assert " ".join(key["why"]["c"][7:].split())[1:60] in text
    assert " ".join(key["why"]["a"].split())[:60] in text
    assert "box 3 → box 1: due again next session" in text


def test_invalid_answers_are_asked_again_and_hints_help(ws, clock):
    result = run(
        ws,
        "--topic",
        "regularisation",
        "--count",
        "1",
        "--seed",
        "0",
        "--no-shuffle",
        input="x\nh\nh\nq\n",
    )
    assert result.exit_code == 0, result.output
    assert "not an answer" in result.output
    assert "Hint 1 of 2" in result.output and "Hint 2 of 2" in result.output
    (name,) = first_drawn(ws, "regularisation", 1, 0)
    from mlcourse.check.problems import problems_of

    hints = problems_of("ml_theory_interview")[name].hints
    assert " ".join(hints[1].split())[:50] in flat(result.output)
    assert not drill_mod.state_path(ws).exists()  # nothing answered, nothing written


def test_skip_leaves_a_question_where_it_was_and_eof_stops(ws, clock):
    save_state(ws, State({"q_bv_gap": Card(3, T0 - 1, 2, 2, T0 - DAY)}))
    result = run(ws, "--count", "1", "--seed", "0", input="s\n")
    assert result.exit_code == 0
    assert cards(ws)["q_bv_gap"]["box"] == 3
    result = run(ws, "--count", "5", "--seed", "0", input="")  # end of input at once
    assert result.exit_code == 0
    assert cards(ws)["q_bv_gap"]["box"] == 3


def test_shuffled_options_are_graded_by_what_was_shown(reveal_data):
    e, key = entry("q_bv_gap"), reveal_data["keys"]["q_bv_gap"]  # right: c
    order = [2, 0, 3, 1]  # shown a) is the original c)
    assert judge_answer(e, key, "a", order).correct
    assert judge_answer(e, key, "(A)", order).correct
    verdict = judge_answer(e, key, "b", order)  # the original a)
    assert not verdict.correct and verdict.explanation == key["why"]["a"]
    assert verdict.answer.startswith("a) ")
    assert judge_answer(e, key, "e", order) is None
    assert judge_answer(e, key, "0.5", order) is None


def test_numbers_are_graded_with_the_keys_tolerance(reveal_data):
    e, key = entry("q_met_f1"), reveal_data["keys"]["q_met_f1"]  # 0.6154, rtol 1e-3
    assert judge_answer(e, key, "0.6154").correct
    assert judge_answer(e, key, "8/13").correct
    assert not judge_answer(e, key, "0.62").correct
    wrong = judge_answer(e, key, "0.65")
    assert "harmonic" in wrong.explanation  # the known mistake's nudge
    assert judge_answer(e, key, "0.9").explanation.startswith("Not quite")
    assert judge_answer(e, key, "about 0.6") is None


def test_parse_number():
    assert parse_number("0.25") == parse_number("1/4") == 0.25
    assert parse_number(" -3 ") == -3.0 and parse_number("2e-3") == 0.002
    assert parse_number("1_000") == 1000.0
    for text in ("", "abc", "1/0", "nan", "inf", "b"):
        assert parse_number(text) is None


# -- the summary for mlcourse progress ------------------------------------------------


def test_drill_summary_counts_boxes_and_due_questions(ws):
    empty = drill_summary(ws, now=T0)
    total = len(drill_mod.drillable(drill_mod.bank()))
    assert empty["questions"] == total and empty["seen"] == 0 and empty["due"] == total
    assert empty["boxes"] == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0} and empty["next_due"] is None
    save_state(
        ws,
        State(
            {
                "q_bv_gap": Card(1, T0 - 5, 3, 1),
                "q_bv_knn": Card(2, T0 + DAY, 1, 1),
                "q_bv_noise": Card(4, T0 + 7 * DAY, 5, 4),
                "q_bv_bias_linear": Card(5, T0 + 9 * DAY),  # not drilled: left out
                "q_gone": Card(5, T0),  # no longer in the bank: left out
            }
        ),
    )
    s = drill_summary(ws, now=T0)
    assert s["seen"] == 3 and s["new"] == total - 3
    assert s["boxes"] == {1: 1, 2: 1, 3: 0, 4: 1, 5: 0}
    assert s["reviews_due"] == 1 and s["due"] == total - 3 + 1
    assert s["next_due"] == T0 + DAY
    assert (s["answers"], s["right"]) == (9, 6)
    line = summary_line(s)
    assert "3 of" in line and "1 · 1 · 0 · 1 · 0" in line and "mlcourse drill" in line


def test_status_shows_the_topics_and_boxes(ws, clock):
    result = run(ws, "--status")
    assert result.exit_code == 0
    for title in bank_module.TOPICS.values():
        assert title.split(",")[0] in result.output
    assert "box 5 (14 d)" in result.output
    assert not drill_mod.state_path(ws).exists()  # looking changes nothing


def test_nothing_due_says_when_and_ahead_practises(ws, clock):
    names = [e["name"] for e in drill_mod.drillable(drill_mod.bank()) if e["topic"] == "trees"]
    save_state(ws, State({n: Card(3, T0 + 2 * DAY, 1, 1) for n in names}))
    result = run(ws, "--topic", "trees")
    assert result.exit_code == 0
    assert "Nothing is due" in result.output and "2.0 days" in result.output
    result = run(ws, "--topic", "trees", "--ahead", "--count", "1", "--answers", "q")
    assert "Question 1 of 1" in result.output


def test_mlcourse_progress_shows_the_drill_once_it_was_used(ws, reveal_data):
    from mlcourse.progress import progress

    before = CliRunner().invoke(progress, ["--workspace", str(ws), "--plot", str(ws / "p.png")])
    assert before.exit_code == 0, before.output
    assert "Interview drill" not in before.output
    (name,) = first_drawn(ws, "bias-variance", 1, 0, time.time())
    args = ["--topic", "bias-variance", "--count", "1", "--seed", "0", "--no-shuffle"]
    answered = run(ws, *args, "--answers", right_answer(reveal_data["keys"][name]))
    assert answered.exit_code == 0, answered.output
    after = CliRunner().invoke(progress, ["--workspace", str(ws), "--plot", str(ws / "p.png")])
    assert after.exit_code == 0, after.output
    assert "Interview drill: 1 of" in flat(after.output)
