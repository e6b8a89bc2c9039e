"""The leak check: nothing a learner sees may contain a solution's or a hidden test's logic.

A *leak* is a run of :data:`RUN` or more consecutive code tokens of a secret
(a solution body or a hidden test, comments left out) inside anything a
learner sees: the student version's cells (markdown, code, string literals
and metadata alike), the notebook's checks module (visible checks and every
hint level), and what the visible checks print. Tokens are identifiers,
numbers and operators, the same on both sides, so a solution line quoted in
backticks in markdown or inside a hint string is found just as in code::

    (U[:, :k] * s[:k]) @ Vt[:k, :]     # 24 tokens: a leak
    np.random.default_rng(             # 6 tokens: fine

A hint must not quote a solution line either, however short: every hint
level is also checked against each whole solution line of
:data:`LINE_TOKENS` tokens or more.

Some runs are text the task itself must state (an API's response format,
the columns to use). The author's file allows such a run for one exercise,
with the reason::

    [[allow]]
    exercise = "create_app"
    run = '{"label": "positive", "probability": 0.9}'
    why = "The response format is the task's contract."

Allowed runs are counted apart from leaks.
"""

from __future__ import annotations

import io
import re
import textwrap
import tokenize
from dataclasses import dataclass, field

RUN = 10
LINE_TOKENS = 4
MIN_WORDS = 3  # a run of mostly brackets, commas and numbers is not logic
#: The checks' own vocabulary: shared by visible and hidden checks by design, so
#: it does not count towards a run's content (nor do the exercises' names).
CHECK_WORDS = frozenset(
    "t ex check call value close equal raises true type shape dtype instance ref build "
    "same has case what nudge wrong hidden key rtol atol keep convert may_modify "
    "time_limit slow_nudge problem fail passed".split()
)

_TOKEN = re.compile(
    r"[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+|\*\*|//|==|!=|<=|>=|->|:=|[^\s\w]"
)
_WORD = re.compile(r"[A-Za-z_]")  # identifiers count as content; numbers alone do not


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def strip_comments(code: str) -> str:
    """``code`` without its comments (best effort for fragments that do not tokenize)."""
    code = textwrap.dedent(code)
    try:
        out = []
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.COMMENT:
                continue
            out.append(tok)
        return tokenize.untokenize(out)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in code.splitlines())


@dataclass
class Secret:
    exercise: str
    kind: str  # "solution" or "hidden test"
    code: str


@dataclass
class Hit:
    exercise: str
    kind: str
    where: str
    run: str
    allowed: bool = False

    def __str__(self) -> str:
        shown = self.run if len(self.run) <= 90 else self.run[:87] + "..."
        count = len(tokens(self.run))
        return f"{self.where} contains {count} tokens of {self.exercise}'s {self.kind}: {shown!r}"


@dataclass
class LeakReport:
    hits: list[Hit] = field(default_factory=list)

    @property
    def leaks(self) -> list[Hit]:
        return [h for h in self.hits if not h.allowed]

    @property
    def allowed(self) -> list[Hit]:
        return [h for h in self.hits if h.allowed]


def _windows(toks: list[str], n: int, boring: frozenset[str]):
    for i in range(len(toks) - n + 1):
        window = tuple(toks[i : i + n])
        if sum(1 for t in window if _WORD.match(t) and t not in boring) >= MIN_WORDS:
            yield i, window


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def scan(
    secrets: list[Secret],
    visible: list[tuple[str, str]],
    allows: list[tuple[str, str]] = (),
    hints: list[tuple[str, str, str]] = (),
    names: frozenset[str] = frozenset(),
    solutions_only: frozenset[str] = frozenset(),
    min_run: int = RUN,
) -> LeakReport:
    """Find leaks of ``secrets`` in ``visible`` texts (``(where, text)`` pairs).

    ``allows`` are ``(exercise, run)`` pairs; ``hints`` are
    ``(exercise, where, text)`` for the whole-line check; ``names`` (the
    exercises' and the learner's function names) do not count as content.
    Texts whose ``where`` is in ``solutions_only`` are checked against
    solutions only (the checks module: its visible checks share the hidden
    tests' API and libraries by design, and a hidden test's secret is its
    cases, not those idioms).
    """
    boring = CHECK_WORDS | frozenset(names) | {s.exercise for s in secrets}
    report = LeakReport()
    index: dict[tuple[str, ...], list[tuple[Secret, list[str], int]]] = {}
    secret_tokens = []
    for secret in secrets:
        toks = tokens(strip_comments(secret.code))
        secret_tokens.append((secret, toks))
        for i, window in _windows(toks, min_run, boring):
            index.setdefault(window, []).append((secret, toks, i))
    allowed = [(ex, tokens(run)) for ex, run in allows]
    seen: set[tuple[str, str, str]] = set()
    for where, text in visible:
        vt = tokens(text)
        i = 0
        while i <= len(vt) - min_run:
            window = tuple(vt[i : i + min_run])
            matches = index.get(window)
            if not matches:
                i += 1
                continue
            if where in solutions_only:
                matches = [m for m in matches if m[0].kind == "solution"]
                if not matches:
                    i += 1
                    continue
            secret, st, j = matches[0]
            # Extend the run as far as both sides agree.
            length = min_run
            while (
                i + length < len(vt) and j + length < len(st) and vt[i + length] == st[j + length]
            ):
                length += 1
            run = vt[i : i + length]
            key = (secret.exercise, where, " ".join(run))
            if key not in seen:
                seen.add(key)
                ok = any(ex == secret.exercise and _contains(allow, run) for ex, allow in allowed)
                report.hits.append(Hit(secret.exercise, secret.kind, where, " ".join(run), ok))
            i += length
    # A hint quoting a whole solution line, however short.
    for _exercise, where, text in hints:
        ht = tokens(text)
        for secret, _ in secret_tokens:
            if secret.kind != "solution":
                continue
            for line in strip_comments(secret.code).splitlines():
                lt = tokens(line)
                if len(lt) >= LINE_TOKENS and _contains(ht, lt):
                    run = " ".join(lt)
                    key = (secret.exercise, where, run)
                    if key not in seen:
                        seen.add(key)
                        ok = any(
                            ex == secret.exercise and _contains(allow, lt) for ex, allow in allowed
                        )
                        report.hits.append(Hit(secret.exercise, "solution line", where, run, ok))
    return report
