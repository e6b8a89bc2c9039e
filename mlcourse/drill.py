"""``mlcourse drill``: the interview question bank in a terminal, with spaced repetition.

The questions are those of ``04_job_search/ml_theory_interview.ipynb``. Their
public text (topic, prompt, options) is the checks module's
:data:`~mlcourse.exercises.ml_theory_interview.BANK`; their answers and
explanations are the notebook's hidden keys, which ``mlcourse start`` (and
``mlcourse update``) copy into a self-study workspace's reveal store,
``<workspace>/.mlcourse/reveal/ml_theory_interview.json``. So the drill works
in a learner's own workspace, and says how to get one otherwise. Questions
answered by running code in the notebook are left out.

**Leitner boxes.** Every question sits in one of five boxes. A right answer
moves it up one box, a wrong answer sends it back to box 1, and each box has
a waiting time before the question is due again:

====  =======================
box   due again after
====  =======================
1     0 days (the next session)
2     1 day
3     3 days
4     7 days
5     14 days
====  =======================

A session asks up to ``--count`` due questions: those seen before first
(lowest box first), then new ones, in an order fixed by ``--seed``. The state
is ``<workspace>/.mlcourse/drill.json``, written atomically after every
answer; a damaged file is set aside and the drill starts afresh.

Grading is :mod:`mlcourse.check.quiz`'s, the notebook's own: a choice is a
letter (``"b"``, ``"B"``, ``"(b)"``), a number must be within the key's
tolerance. Options are shuffled for each question, so a letter cannot be
learnt by heart; the explanations never name a letter.

:func:`drill_summary` gives the boxes and what is due, for ``mlcourse
progress``.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import click

from mlcourse import layout

BANK_NOTEBOOK = "ml_theory_interview"
STATE_FILE = layout.DRILL_FILE
STATE_VERSION = 1
BOXES = 5
INTERVAL_DAYS = (0, 1, 3, 7, 14)  # box 1..5
DAY = 86400.0
DEFAULT_COUNT = 10

#: The clock; tests replace it.
clock = time.time


class DrillError(Exception):
    """The drill cannot run here; the message says what to do."""


# -- the state --------------------------------------------------------------------------


@dataclass
class Card:
    """One question's place in the boxes."""

    box: int = 1
    due: float = 0.0  # epoch seconds
    seen: int = 0
    right: int = 0
    last: float | None = None


@dataclass
class State:
    cards: dict[str, Card] = field(default_factory=dict)
    recovered: str | None = None  # where a damaged state file was moved, if it was


def state_path(workspace: Path) -> Path:
    return layout.drill_path(Path(workspace))


def _card(data: Any) -> Card | None:
    if not isinstance(data, dict):
        return None
    try:
        box = data["box"]
        due = float(data["due"])
        seen = int(data.get("seen", 0))
        right = int(data.get("right", 0))
        last = data.get("last")
        last = None if last is None else float(last)
    except (KeyError, TypeError, ValueError):
        return None
    if type(box) is not int or not 1 <= box <= BOXES or not math.isfinite(due):
        return None
    return Card(box, due, max(seen, 0), max(right, 0), last)


def load_state(workspace: Path) -> State:
    """The drill's state in ``workspace``; a fresh one if there is none.

    A file that cannot be read as a drill state is moved aside (to
    ``drill.json.damaged-<time>``) rather than lost or trusted, and
    ``State.recovered`` says where it went. A single bad card is dropped.
    """
    path = state_path(workspace)
    if not path.exists():
        return State()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("cards"), dict):
            raise ValueError("not a drill state")
    except (OSError, UnicodeDecodeError, ValueError):
        aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(path, aside)
        except OSError:
            aside = path
        return State(recovered=str(aside))
    cards = {}
    for name, entry in data["cards"].items():
        card = _card(entry)
        if isinstance(name, str) and card is not None:
            cards[name] = card
    return State(cards)


def save_state(workspace: Path, state: State) -> None:
    """Write the state atomically (no half-written file is ever seen)."""
    from mlcourse.workspace import atomic_write

    payload = {
        "version": STATE_VERSION,
        "notebook": BANK_NOTEBOOK,
        "cards": {name: asdict(card) for name, card in sorted(state.cards.items())},
    }
    atomic_write(state_path(workspace), (json.dumps(payload, indent=1) + "\n").encode("utf-8"))


# -- the boxes --------------------------------------------------------------------------


def interval(box: int) -> float:
    """Seconds a question waits in ``box`` before it is due again."""
    return INTERVAL_DAYS[box - 1] * DAY


def record(card: Card | None, correct: bool, now: float) -> Card:
    """The card after an answer: one box up if right (at most the last), box 1 if wrong."""
    card = Card() if card is None else card
    box = min(card.box + 1, BOXES) if correct else 1
    return Card(
        box=box,
        due=now + interval(box),
        seen=card.seen + 1,
        right=card.right + bool(correct),
        last=now,
    )


def is_due(card: Card | None, now: float) -> bool:
    """A new question is due; a seen one once its waiting time is over."""
    return card is None or card.due <= now


def draw(
    names: list[str],
    cards: dict[str, Card],
    now: float,
    count: int,
    seed: int | None = None,
    ahead: bool = False,
) -> list[str]:
    """The questions of a session: due reviews (lowest box first), then new questions.

    Within each group the order is shuffled by ``seed``. With ``ahead``, the
    questions not due yet follow, soonest due first.
    """
    rng = random.Random(seed)
    reviews = [n for n in names if n in cards and cards[n].due <= now]
    new = [n for n in names if n not in cards]
    rng.shuffle(reviews)
    rng.shuffle(new)
    reviews.sort(key=lambda n: cards[n].box)  # stable: the shuffle decides within a box
    order = reviews + new
    if ahead:
        order += sorted(
            (n for n in names if n in cards and cards[n].due > now), key=lambda n: cards[n].due
        )
    return order[: max(count, 0)]


# -- the bank and its keys --------------------------------------------------------------


def bank(notebook: str = BANK_NOTEBOOK) -> list[dict]:
    """Every question of the notebook's bank, in order (public text only)."""
    module = importlib.import_module(f"mlcourse.exercises.{notebook}")
    return list(module.BANK)


def topics(notebook: str = BANK_NOTEBOOK) -> dict[str, str]:
    module = importlib.import_module(f"mlcourse.exercises.{notebook}")
    return dict(module.TOPICS)


def drillable(entries: list[dict]) -> list[dict]:
    """The questions the drill asks: those answered without running code."""
    return [e for e in entries if e.get("drill", True)]


def find_workspace(workspace: Path | None) -> Path:
    """The workspace to use; a :class:`DrillError` that says how to get one."""
    how = (
        "The drill keeps its boxes in a self-study workspace, and reads the answers from "
        "it. Run `mlcourse start` to make one (it copies the notebooks into ./mlcourse-work), "
        "then run `mlcourse drill` inside it or pass --workspace."
    )
    if workspace is not None:
        if not layout.is_workspace(Path(workspace)):
            raise DrillError(f"{workspace} is not an mlcourse workspace. {how}")
        return Path(workspace)
    found = layout.find_workspace()
    if found is None and layout.is_workspace(layout.DEFAULT_WORKSPACE):
        found = layout.DEFAULT_WORKSPACE
    if found is None:
        raise DrillError(f"No mlcourse workspace here. {how}")
    return found


def load_keys(workspace: Path, notebook: str = BANK_NOTEBOOK) -> dict[str, dict]:
    """The answer keys in the workspace's reveal store; a :class:`DrillError` if absent."""
    path = layout.reveal_path(Path(workspace), notebook)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = data["keys"]
        if not isinstance(keys, dict):
            raise TypeError
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise DrillError(
            f"This workspace has no answer keys for the drill ({path} is missing or "
            "unreadable). Run `mlcourse update` (or `mlcourse start`) to write them: they "
            "come with a self-study workspace, not with a graded course's release."
        ) from None
    return keys


def select_topics(wanted: tuple[str, ...], notebook: str = BANK_NOTEBOOK) -> set[str] | None:
    """Topic ids matching ``wanted`` (an id, a prefix of one, or a word of a title)."""
    if not wanted:
        return None
    known = topics(notebook)
    chosen = set()
    for word in wanted:
        w = word.strip().lower()
        hits = {
            tid
            for tid, title in known.items()
            if tid == w or tid.startswith(w) or w in title.lower().split()
        }
        if not hits:
            raise DrillError(
                f"no topic {word!r}; the topics are: "
                + ", ".join(f"{tid} ({title})" for tid, title in known.items())
            )
        chosen |= hits
    return chosen


# -- answering --------------------------------------------------------------------------


@dataclass
class Verdict:
    correct: bool
    explanation: str  # why the given answer is right, or what is wrong with it
    answer: str  # the right answer, as shown to the learner
    answer_why: str  # why the right answer is right


def parse_number(text: str) -> float | None:
    """``"0.25"``, ``"1/4"``, ``"-3"`` or ``"2e-3"`` as a float; None if it is none of these."""
    text = text.strip().replace("_", "")
    if not text:
        return None
    try:
        value = float(Fraction(text)) if "/" in text else float(text)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def format_number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def grade(key: dict, value: Any) -> tuple[bool, str]:
    """Judge ``value`` against ``key`` exactly as the notebook's check does.

    Returns (right, explanation): the key's explanation when right, else the
    nudge the check would show (a known wrong answer's, or a general one).
    """
    from mlcourse.check.judge import Tester
    from mlcourse.check.outcomes import CheckFailed
    from mlcourse.check.quiz import judge
    from mlcourse.check.transport import InProcess

    name = key["name"]
    tester = Tester(name, InProcess({name: value}))
    try:
        return True, judge(tester, key)
    except CheckFailed as failure:
        nudges = [text for label, text in failure.lines if label == "nudge"]
        return False, nudges[-1] if nudges else ""


def judge_answer(entry: dict, key: dict, text: str, order: list[int] | None = None):
    """A :class:`Verdict` for the typed ``text``, or None if it is not an answer.

    ``order`` lists the original option indices in the order they were shown.
    """
    if entry["kind"] == "choice":
        from mlcourse.check.problems import normalise_choice

        n = len(entry["options"])
        order = list(range(n)) if order is None else order
        shown = normalise_choice(text)
        letters = "abcdefgh"[:n]
        if shown is None or len(shown) != 1 or shown not in letters:
            return None
        original = "abcdefgh"[order[letters.index(shown)]]
        right, explanation = grade(key, original)
        right_index = "abcdefgh".index(key["answer"])
        answer = f"{letters[order.index(right_index)]}) {entry['options'][right_index]}"
        why = key["why"].get(original, "")
        return Verdict(right, why or explanation, answer, key["why"].get(key["answer"], ""))
    value = parse_number(text)
    if value is None:
        return None
    right, explanation = grade(key, value)
    return Verdict(right, explanation, format_number(key["answer"]), key["why"])


# -- the session ------------------------------------------------------------------------


def _console():
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 100, highlight=False)


def _show_question(console, entry, number, total, card, topic_title, order) -> None:
    from rich.markdown import Markdown
    from rich.panel import Panel

    prompt = entry["prompt"]
    if entry["kind"] == "choice":
        prompt += "\n\n" + "\n".join(
            f"* **{'abcdefgh'[i]})** {entry['options'][j]}" for i, j in enumerate(order)
        )
    box = "new" if card is None else f"box {card.box}"
    console.print(
        Panel(
            Markdown(prompt),
            title=f"[bold]Question {number} of {total}[/] · {topic_title} · {box}",
            title_align="left",
            border_style="cyan",
        )
    )


def _without_verdict(text: str) -> str:
    """An explanation without its leading "Right:" or "Not quite:" (the drill says so itself)."""
    for prefix in ("Right: ", "Right. ", "Right, ", "Not quite: ", "Not quite. "):
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            return rest[:1].upper() + rest[1:]
    return text


def _show_verdict(console, verdict: Verdict, before: Card | None, after: Card) -> None:
    from rich.panel import Panel
    from rich.text import Text

    body = Text()
    if verdict.correct:
        body.append("✅ Right. ", style="bold green")
        body.append(_without_verdict(verdict.answer_why or verdict.explanation))
    else:
        body.append("❌ Not quite. ", style="bold red")
        if verdict.explanation:
            body.append(_without_verdict(verdict.explanation) + "\n\n")
        body.append("The answer: ", style="bold")
        body.append(verdict.answer + "\n", style="bold")
        body.append(_without_verdict(verdict.answer_why))
    old = "new" if before is None else f"box {before.box}"
    wait = INTERVAL_DAYS[after.box - 1]
    when = "next session" if wait == 0 else f"in {wait} day{'s' if wait > 1 else ''}"
    body.append(f"\n\n{old} → box {after.box}: due again {when}.", style="dim")
    console.print(Panel(body, border_style="green" if verdict.correct else "red"))


def box_counts(cards: dict[str, Card], names: list[str]) -> dict[int, int]:
    counts = dict.fromkeys(range(1, BOXES + 1), 0)
    for name in names:
        if name in cards:
            counts[cards[name].box] += 1
    return counts


def drill_summary(workspace: Path | str, now: float | None = None) -> dict:
    """The drill's boxes in ``workspace``, for ``mlcourse progress``.

    Plain data: ``questions`` (how many the drill asks), ``seen``, ``new``,
    ``boxes`` (box number -> questions in it), ``due`` (due now, new ones
    included), ``reviews_due`` (seen questions due now), ``next_due`` (epoch
    seconds of the next question to come due, or None), ``answers`` and
    ``right`` (totals over all sessions), ``state`` (the file's path) and
    ``recovered`` (where a damaged file was moved, or None). Reading never
    changes the state, except for moving a damaged file aside.
    """
    now = clock() if now is None else now
    state = load_state(Path(workspace))
    names = [e["name"] for e in drillable(bank())]
    cards = {n: c for n, c in state.cards.items() if n in names}
    waiting = [c.due for c in cards.values() if c.due > now]
    return {
        "questions": len(names),
        "seen": len(cards),
        "new": len(names) - len(cards),
        "boxes": box_counts(cards, names),
        "due": sum(1 for n in names if is_due(cards.get(n), now)),
        "reviews_due": sum(1 for c in cards.values() if c.due <= now),
        "next_due": min(waiting) if waiting else None,
        "answers": sum(c.seen for c in cards.values()),
        "right": sum(c.right for c in cards.values()),
        "state": str(state_path(Path(workspace))),
        "recovered": state.recovered,
    }


def summary_line(summary: dict) -> str:
    """One sentence for ``mlcourse progress``."""
    boxes = " · ".join(str(summary["boxes"][b]) for b in range(1, BOXES + 1))
    line = (
        f"Interview drill: {summary['seen']} of {summary['questions']} questions seen; "
        f"boxes 1-5: {boxes}; {summary['due']} due now"
    )
    return line + (" (run `mlcourse drill`)." if summary["due"] else ".")


def _status_table(summary: dict, topic_rows: list[tuple[str, int, int, int]]):
    from rich.table import Table

    table = Table(title="Your interview drill", title_justify="left")
    table.add_column("topic")
    table.add_column("questions", justify="right")
    table.add_column("seen", justify="right")
    table.add_column("due now", justify="right")
    for title, total, seen, due in topic_rows:
        table.add_row(title, str(total), str(seen), str(due))
    table.add_row(
        "[bold]all[/]",
        f"[bold]{summary['questions']}[/]",
        f"[bold]{summary['seen']}[/]",
        f"[bold]{summary['due']}[/]",
    )
    return table


def _topic_rows(entries, cards, now) -> list[tuple[str, int, int, int]]:
    rows = []
    for tid, title in topics().items():
        names = [e["name"] for e in entries if e["topic"] == tid]
        if names:
            rows.append(
                (
                    title,
                    len(names),
                    sum(n in cards for n in names),
                    sum(is_due(cards.get(n), now) for n in names),
                )
            )
    return rows


def _print_boxes(console, summary: dict, now: float) -> None:
    boxes = "  ".join(
        f"box {b} ({INTERVAL_DAYS[b - 1]} d): {summary['boxes'][b]}" for b in range(1, BOXES + 1)
    )
    console.print(boxes, markup=False)
    if summary["next_due"] is not None and summary["due"] == 0:
        days = (summary["next_due"] - now) / DAY
        console.print(
            f"Nothing is due. The next question comes due in {days:.1f} days "
            "(mlcourse drill --ahead practises anyway).",
            markup=False,
        )


class _Answers:
    """Where answers come from: a given list (``--answers``), else standard input."""

    def __init__(self, given: list[str] | None):
        self.given = given

    def next(self, console, prompt: str) -> str | None:
        if self.given is not None:
            if not self.given:
                return None
            answer = self.given.pop(0)
            console.print(f"{prompt}{answer}", markup=False)
            return answer
        console.print(prompt, end="", markup=False)
        line = sys.stdin.readline()
        if not line:
            console.print()
            return None
        if not sys.stdin.isatty():  # piped answers: show them, as typed ones are
            console.print(line.strip(), markup=False)
        return line.strip()


def run_session(
    workspace: Path,
    *,
    count: int = DEFAULT_COUNT,
    topic: tuple[str, ...] = (),
    seed: int | None = None,
    answers: list[str] | None = None,
    ahead: bool = False,
    shuffle: bool = True,
    console=None,
) -> dict:
    """One drill session; returns what happened (asked, right, skipped, stopped)."""
    console = console or _console()
    keys = load_keys(workspace)
    chosen = select_topics(topic)
    entries = [e for e in drillable(bank()) if chosen is None or e["topic"] in chosen]
    missing = [e["name"] for e in entries if e["name"] not in keys]
    entries = [e for e in entries if e["name"] in keys]
    if missing:
        console.print(
            f"({len(missing)} questions have no key in this workspace yet: `mlcourse update` "
            "brings them in.)",
            markup=False,
        )
    state = load_state(workspace)
    if state.recovered:
        console.print(
            f"[yellow]Your drill state could not be read; it was moved to {state.recovered} "
            "and the drill starts afresh.[/]",
            highlight=False,
        )
        save_state(workspace, state)
    now = clock()
    names = [e["name"] for e in entries]
    by_name = {e["name"]: e for e in entries}
    session = draw(names, state.cards, now, count, seed, ahead)
    titles = topics()
    result = {"asked": 0, "right": 0, "skipped": 0, "stopped": False, "names": []}
    if not session:
        waiting = [state.cards[n].due for n in names if n in state.cards]
        days = (min(waiting) - now) / DAY if waiting else 0.0
        console.print(
            f"Nothing is due in your selection. The next question comes due in {days:.1f} days "
            "(mlcourse drill --ahead practises anyway).",
            markup=False,
        )
        return result
    rng = random.Random(None if seed is None else seed + 1)
    source = _Answers(answers)
    hints_shown: dict[str, int] = {}
    for number, name in enumerate(session, start=1):
        entry, key = by_name[name], keys[name]
        n_options = len(entry["options"] or ())
        order = list(range(n_options))
        if shuffle and n_options:
            rng.shuffle(order)
        card = state.cards.get(name)
        _show_question(console, entry, number, len(session), card, titles[entry["topic"]], order)
        prompt = (
            f"Your answer (a-{'abcdefgh'[n_options - 1]}"
            if n_options
            else "Your answer (a number such as 0.25 or 1/4"
        ) + ", h for a hint, s to skip, q to quit): "
        while True:
            text = source.next(console, prompt)
            if text is None or text.lower() in ("q", "quit"):
                result["stopped"] = True
                break
            if text.lower() in ("s", "skip"):
                result["skipped"] += 1
                console.print("Skipped: it stays where it was.\n", markup=False)
                break
            if text.lower() in ("h", "hint", "?"):
                _show_hint(console, name, hints_shown)
                continue
            verdict = judge_answer(entry, key, text, order)
            if verdict is None:
                what = "one of the letters shown" if n_options else "a number such as 0.25 or 1/4"
                console.print(f"That is not an answer: type {what}.", markup=False)
                continue
            after = record(card, verdict.correct, clock())
            state.cards[name] = after
            save_state(workspace, state)
            _show_verdict(console, verdict, card, after)
            result["asked"] += 1
            result["right"] += verdict.correct
            result["names"].append(name)
            break
        if result["stopped"]:
            break
        console.print()
    now = clock()
    summary = drill_summary(workspace, now)
    console.print(
        f"\n[bold]Session:[/] {result['right']} of {result['asked']} right"
        + (f", {result['skipped']} skipped" if result["skipped"] else "")
        + f". Due now: {summary['due']}.",
        highlight=False,
    )
    _print_boxes(console, summary, now)
    return result


def _show_hint(console, name: str, shown: dict[str, int]) -> None:
    from mlcourse.check.problems import problems_of

    hints = problems_of(BANK_NOTEBOOK)[name].hints
    level = min(shown.get(name, 0) + 1, len(hints))
    shown[name] = level
    console.print(f"💡 Hint {level} of {len(hints)}: {hints[level - 1]}", markup=False)


def _split_answers(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part for part in text.replace(",", " ").replace(";", " ").split() if part]


@click.command("drill")
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Your workspace (default: the one around the current folder, else ./mlcourse-work).",
)
@click.option(
    "--count",
    "-n",
    type=click.IntRange(min=1),
    default=DEFAULT_COUNT,
    show_default=True,
    help="Questions in this session, at most.",
)
@click.option(
    "--topic",
    "-t",
    multiple=True,
    help="Only this topic (an id such as metrics, or a word of its title); repeatable.",
)
@click.option("--seed", type=int, default=None, help="Fix the order of questions and options.")
@click.option(
    "--answers",
    default=None,
    metavar="LIST",
    help='Answer from this list instead of the keyboard, e.g. "b 0.25 c" (commas or spaces).',
)
@click.option("--ahead", is_flag=True, help="When nothing is due, practise questions not due yet.")
@click.option("--no-shuffle", is_flag=True, help="Show the options in the notebook's order.")
@click.option("--status", is_flag=True, help="Show your boxes and what is due, then exit.")
def drill(workspace, count, topic, seed, answers, ahead, no_shuffle, status) -> None:
    """Drill the ML theory interview questions, with spaced repetition.

    \b
    The questions of 04_job_search/ml_theory_interview.ipynb, a few at a time.
    A right answer moves a question up a box (due again after 1, 3, 7, then 14
    days); a wrong one sends it back to box 1, due in the next session. Each
    answer is explained. Your boxes are kept in WORKSPACE/.mlcourse/drill.json.

    \b
    Examples:
      mlcourse drill                      ten due questions
      mlcourse drill -n 5 --topic metrics
      mlcourse drill --status
    """
    console = _console()
    try:
        ws = find_workspace(workspace)
        if status:
            now = clock()
            summary = drill_summary(ws, now)
            state = load_state(ws)
            console.print(_status_table(summary, _topic_rows(drillable(bank()), state.cards, now)))
            _print_boxes(console, summary, now)
            return
        run_session(
            ws,
            count=count,
            topic=topic,
            seed=seed,
            answers=_split_answers(answers),
            ahead=ahead,
            shuffle=not no_shuffle,
            console=console,
        )
    except DrillError as exc:
        from rich.console import Console

        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    drill()
