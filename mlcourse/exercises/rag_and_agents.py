"""Checks for ``03_specialize/rag_and_agents.ipynb``: fixtures, then the problems.

Learners may read this file: it holds the visible checks, the hints and the
test doubles the checks drive the agent loop with, never a solution or a
hidden test.
"""

from __future__ import annotations

import copy

import numpy as np

from mlcourse.check import choice, number, problem

S = "mlcourse.exercises.rag_and_agents:"
ERROR = "mlcourse.rag.agent.ToolCallError"


# --- fixtures (the checks' side) ------------------------------------------------------


def random_token_corpus(seed: int, n_docs: int) -> list[list[str]]:
    """Documents of random lengths over a Zipf-like vocabulary of 30 words."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, 31)
    weights /= weights.sum()
    return [
        [f"w{i}" for i in rng.choice(30, size=int(rng.integers(0, 25)), p=weights)]
        for _ in range(n_docs)
    ]


def bm25s_reference(query, corpus, k1: float, b: float) -> np.ndarray:
    """The scores ``bm25s`` (method "lucene") gives, the library the exercise is compared with."""
    import bm25s

    index = bm25s.BM25(method="lucene", k1=k1, b=b)
    index.index([list(doc) for doc in corpus], show_progress=False)
    vocab = {w for doc in corpus for w in doc}
    known = [w for w in query if w in vocab]
    if not known:
        return np.zeros(len(corpus))
    return np.asarray(index.get_scores(known), dtype=float)


def unit_vectors(seed: int, m: int, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """``m`` query and ``n`` document vectors of length 1, float32, as MiniLM's are."""
    rng = np.random.default_rng(seed)
    Q = rng.normal(size=(m, d)).astype(np.float32)
    D = rng.normal(size=(n, d)).astype(np.float32)
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    return Q, D


def faiss_flat_reference(Q: np.ndarray, D: np.ndarray, k: int):
    """Exact inner-product search with ``faiss.IndexFlatIP``: (indices, scores)."""
    import faiss

    index = faiss.IndexFlatIP(D.shape[1])
    index.add(np.ascontiguousarray(D, dtype=np.float32))
    scores, ids = index.search(np.ascontiguousarray(Q, dtype=np.float32), k)
    return ids, scores


def tie_order(Q: np.ndarray, D: np.ndarray, k: int) -> np.ndarray:
    """Expected indices when documents repeat: by rounded score (down), then index (up)."""
    sims = np.round(Q.astype(np.float64) @ D.T.astype(np.float64), 6)
    rows = []
    for row in sims:
        keyed = sorted(range(len(row)), key=lambda j: (-row[j], j))
        rows.append(keyed[:k])
    return np.array(rows)


class ScriptedPolicy:
    """A test double for the agent loop: replies from a script, and records what it was shown.

    It exists to drive every branch of the loop (invalid replies, tool errors,
    refusals, budgets) deterministically; the notebook's harness runs the
    loop with a real model.
    """

    def __init__(self, replies):
        self.replies = list(replies)
        self.seen = []

    def __call__(self, messages):
        self.seen.append(copy.deepcopy(list(messages)))
        if not self.replies:
            return "(the script is over)"
        return self.replies.pop(0)


class TickingClock:
    """A clock that moves ``step`` seconds every time it is read."""

    def __init__(self, step: float):
        self.step, self.now = step, 0.0

    def __call__(self) -> float:
        reading = self.now
        self.now += self.step
        return reading


class RecordingDelete:
    """The checks' ``delete_document``: records what it was asked to delete."""

    def __init__(self):
        self.calls = []

    def __call__(self, doc_id):
        self.calls.append(doc_id)
        return f"deleted {doc_id}"


def check_tools() -> dict:
    """The notebook's four tools over a three-document search, with a recording deletion."""
    from mlcourse.rag.agent import (
        CalculatorArgs,
        DeleteArgs,
        FinalAnswerArgs,
        SearchArgs,
        Tool,
        calculate,
    )

    return {
        "search": Tool("search", "Search.", SearchArgs, lambda query, k=3: ["d1", "d2", "d3"][:k]),
        "calculator": Tool("calculator", "Arithmetic.", CalculatorArgs, calculate),
        "delete_document": Tool("delete_document", "Delete.", DeleteArgs, RecordingDelete(), True),
        "final_answer": Tool("final_answer", "Answer.", FinalAnswerArgs, lambda answer: answer),
    }


def deletions(tools) -> list:
    """What the checks' ``delete_document`` was made to delete (it must stay empty)."""
    return list(tools["delete_document"].fn.calls)


# --- problems ----------------------------------------------------------------------------


@problem(
    "chunk_words",
    hints=(
        "Consecutive windows start a fixed stride apart, the window size minus the overlap, "
        "and the last window is the first one that reaches the end of the text.",
        "Split the text into words, check the two arguments, then step a start position "
        "through the words by the stride; take the words from the start up to the window "
        "size, join them, and stop as soon as a window reaches the last word.",
        "A range over the word positions with the stride as its step gives the starts; "
        "break out of the loop when the start plus the size is at least the number of words.",
    ),
)
def _chunk_words(t):
    got = t.call("chunk_words", "a b c d e f g", 3, 1)
    t.equal(
        got,
        ["a b c", "c d e", "e f g"],
        wrong={
            "The windows do not overlap: each should start size - overlap words after the last.": [
                "a b c",
                "d e f",
                "g",
            ],
            "The last window lies inside the one before it: stop once a window reaches the end.": [
                "a b c",
                "c d e",
                "e f g",
                "g",
            ],
        },
    )
    t.equal(
        t.call("chunk_words", "a  b\n c", 2), ["a b", "c"], what="uneven whitespace, no overlap"
    )
    t.equal(t.call("chunk_words", "", 3), [], what="an empty text")
    t.raises(
        ValueError,
        "chunk_words",
        "a b c",
        3,
        3,
        nudge="An overlap as large as the size never moves on.",
    )


@problem(
    "bm25_scores",
    hints=(
        "A document earns, for each query word it contains, the word's rarity in the collection "
        "times a term-frequency fraction that saturates and is damped for long documents.",
        "Precompute the number of documents, their average length, and for every word the "
        "number of documents containing it. Then for each document count its words and add, "
        "for every query word present, the idf times f over f plus k1 times the length factor.",
        "The idf uses the natural logarithm of one plus (N minus n plus a half) over (n plus a "
        "half). The length factor is one minus b plus b times the document's length over the "
        "average length.",
    ),
)
def _bm25_scores(t):
    corpus = [["red", "fox"], ["red", "red", "dog", "cat"], ["blue", "sky", "sky"]]
    got = t.call("bm25_scores", ["red"], corpus)
    t.shape(got, (3,))
    t.dtype(got, "f")
    t.close(
        got,
        bm25s_reference(["red"], corpus, 1.5, 0.75),
        rtol=1e-4,
        nudge="Compare term by term with the formula: the idf, the saturation, the length factor.",
    )
    t.close(
        t.call("bm25_scores", ["sky", "sky", "moon"], corpus, 1.2, 0.5),
        bm25s_reference(["sky", "sky", "moon"], corpus, 1.2, 0.5),
        rtol=1e-4,
        what="a repeated query word and a word not in the collection, k1=1.2, b=0.5",
        nudge="A query word counts as often as it appears in the query; an unknown word adds 0.",
    )


@problem(
    "retrieval_metrics",
    hints=(
        "Recall asks what share of a question's answers made the first k places; the reciprocal "
        "rank is one over the place of the first answer anywhere in the ranking.",
        "For each question turn the relevant list into a set, intersect it with the first k ids, "
        "divide by the number relevant; find the first position holding a relevant id, or give "
        "zero. Average both lists over the questions and return Python floats.",
    ),
)
def _retrieval_metrics(t):
    got = t.call("retrieval_metrics", [["a", "b", "c"], ["d", "e", "f"]], [["b", "z"], ["f"]], 2)
    t.type(got, dict)
    t.close(
        got["recall"],
        0.25,
        nudge="Question 1 finds one of its two answers in the top 2; question 2 none.",
    )
    t.close(
        got["mrr"],
        (1 / 2 + 1 / 3) / 2,
        wrong={"The MRR looks at the whole ranking, not only the top k.": 0.25},
        nudge="Reciprocal ranks start at place 1: the first result has rank 1.",
    )
    t.raises(
        ValueError,
        "retrieval_metrics",
        [["a"]],
        [["a"], ["b"]],
        1,
        nudge="Two lists of different lengths.",
    )


@problem(
    "exact_top_k",
    hints=(
        "With vectors of length one the cosine is the dot product, so all the similarities "
        "are one matrix product, and each query keeps its largest entries.",
        "Multiply the queries by the transposed documents, order each row from the largest "
        "similarity down with a stable sort so that ties keep the smaller index first, keep the "
        "first k columns, and gather the scores at those positions.",
        "Sorting the negated similarities along the rows, with a stable kind, gives the order; "
        "a take-along-axis gathers the matching scores.",
    ),
)
def _exact_top_k(t):
    Q = np.array([[1.0, 0.0], [0.0, 1.0]])
    D = np.array([[0.6, 0.8], [1.0, 0.0], [0.0, -1.0], [0.8, 0.6]])
    idx, scores = t.call("exact_top_k", Q, D, 2)
    t.shape(idx, (2, 2))
    t.equal(
        np.asarray(idx).tolist(),
        [[1, 3], [0, 3]],
        wrong={"Best first: you returned the least similar documents.": [[2, 0], [2, 1]]},
    )
    t.close(scores, [[1.0, 0.8], [0.8, 0.6]])
    t.raises(ValueError, "exact_top_k", Q, D, 5, nudge="k cannot exceed the number of documents.")


@problem(
    "rrf_fuse",
    hints=(
        "Every ranking gives each id it contains a vote of one over the constant plus its place, "
        "places counted from one; an id's fused score is the sum of its votes.",
        "Accumulate the votes in a dict, skipping an id already seen in the same ranking, then "
        "sort the ids by score from high to low, with the id itself as the tie-breaker.",
    ),
)
def _rrf_fuse(t):
    got = t.call("rrf_fuse", [["a", "b"], ["b", "c"]], 60)
    t.equal(
        got,
        ["b", "a", "c"],
        nudge="b is in both rankings, so it beats a, which is first in only one.",
    )
    t.equal(
        t.call("rrf_fuse", [["y", "x"], ["x", "y"]]),
        ["x", "y"],
        what="two mirrored rankings (a tie)",
        nudge="Ties are ordered by id, alphabetically.",
    )


@problem(
    "cited_sources",
    hints=(
        "A citation is a bracket that holds nothing but whole numbers separated by commas; "
        "each number is either among the sources or it is not.",
        "Find every bracket group of that shape with a regular expression, split each group on "
        "commas into integers, collect them in a set, then split the set by the range one to the "
        "number of sources and sort both parts.",
    ),
)
def _cited_sources(t):
    t.equal(
        t.call("cited_sources", "Ridge [1] or Lasso [2, 5].", 3),
        {"valid": [1, 2], "invalid": [5]},
        nudge="[2, 5] cites both 2 and 5; 5 is beyond the 3 sources.",
    )
    t.equal(
        t.call("cited_sources", "No citation here [x].", 2),
        {"valid": [], "invalid": []},
        what="an answer without citations",
    )


@problem(
    "parse_tool_call",
    hints=(
        "Take the first JSON object that decodes, check its shape and the tool's name, and let "
        "the tool's pydantic model judge the arguments; every failure becomes one error type.",
        "Try decoding at each opening brace until one works; compare the keys with the two "
        "expected; look the name up among the tools; validate the arguments with the tool's "
        "model, turning its validation error into the tool-call error; return the name and the "
        "dumped model.",
        "The JSON decoder's raw-decode method takes the text and a start index. The tool's args "
        "attribute is a pydantic class: its model_validate takes a dict.",
    ),
)
def _parse_tool_call(t):
    tools = t.build(S + "check_tools")
    t.equal(
        t.call(
            "parse_tool_call",
            'Sure: {"tool": "calculator", "arguments": {"expression": "2+2"}}',
            tools,
        ),
        ("calculator", {"expression": "2+2"}),
        nudge="Skip the prose before the first brace; return a (name, dict) tuple.",
    )
    t.equal(
        t.call("parse_tool_call", '{"tool": "search", "arguments": {"query": "ridge"}}', tools),
        ("search", {"query": "ridge", "k": 3}),
        what="a call that leaves k to its default",
        nudge="Return the validated model's dump, so the default k=3 is filled in.",
    )
    t.raises(
        ERROR,
        "parse_tool_call",
        "no json here",
        tools,
        nudge="No JSON object: raise ToolCallError.",
    )
    t.raises(
        ERROR,
        "parse_tool_call",
        '{"tool": "rm_rf", "arguments": {}}',
        tools,
        nudge="An unknown tool must raise ToolCallError.",
    )
    t.raises(
        ERROR,
        "parse_tool_call",
        '{"tool": "search", "arguments": {"query": "x", "k": 0}}',
        tools,
        nudge="k must be between 1 and 10: let pydantic decide, and raise its error as a "
        "ToolCallError.",
    )


@problem(
    "run_agent",
    hints=(
        "The loop alternates model replies and tool results in one growing conversation, and "
        "every exit (answer, budget, too many invalid replies) returns the same record.",
        "Keep a record dict and a count of invalid replies in a row. Each turn: check the time, "
        "count a step, get the reply, parse it; on a parse error count and maybe stop; refuse "
        "destructive tools; stop on the final answer; otherwise run the tool and report its "
        "result or its error as a tool message.",
        "The time check compares the clock minus the start with max_seconds using a strict "
        "greater-than. Wrap only the tool's call in try/except Exception.",
    ),
)
def _run_agent(t):
    tools = t.build(S + "check_tools")
    policy = t.build(
        S + "ScriptedPolicy",
        [
            '{"tool": "search", "arguments": {"query": "ridge", "k": 2}}',
            '{"tool": "final_answer", "arguments": {"answer": "d1"}}',
        ],
    )
    got = t.call("run_agent", policy, tools, "find ridge")
    t.type(got, dict)
    t.equal(
        {k: got.get(k) for k in ("status", "answer", "steps", "calls", "refused", "errors")},
        {
            "status": "answered",
            "answer": "d1",
            "steps": 2,
            "calls": ["search", "final_answer"],
            "refused": 0,
            "errors": 0,
        },
        nudge="A search, then the final answer: two steps, two calls, status answered.",
    )
    seen = t.value(policy.seen)
    t.equal(
        [m["role"] for m in seen[1]],
        ["system", "user", "assistant", "tool"],
        what="the roles the model saw on its second call",
        nudge="After the reply, append the tool's result as a 'tool' message.",
    )
    policy = t.build(
        S + "ScriptedPolicy", ['{"tool": "delete_document", "arguments": {"doc_id": "d1"}}'] * 2
    )
    got = t.call("run_agent", policy, tools, "delete d1", 2)
    t.equal(
        [got["status"], got["refused"], t.call(S + "deletions", tools)],
        ["max_steps", 2, []],
        what="a model that asks to delete twice, max_steps=2",
        nudge="A destructive tool is never run: count the refusal and carry on.",
    )


choice(
    "q_rrf_scales",
    options="abcd",
    hints=(
        "Think about what a BM25 score and a cosine similarity measure, and in which units.",
        "Ask whether a sum of the two would be dominated by one of them, and whether that "
        "changes from one query to the next.",
    ),
)
number(
    "q_recall_value",
    hints=(
        "Recall counts the relevant documents found, relative to all the relevant ones.",
        "Count the relevant documents inside the top five and divide by how many are relevant.",
    ),
)
number(
    "q_mrr_value",
    hints=(
        "Each question contributes one over the place of its first relevant result.",
        "Compute both reciprocals, then average them over the two questions.",
    ),
)
choice(
    "q_injection_defence",
    options="abcd",
    hints=(
        "A defence that relies on the model behaving is only as strong as the model's judgement.",
        "Look for the measure that holds even if the model was fully convinced by the document.",
    ),
)
choice(
    "q_hnsw_tradeoff",
    options="abcd",
    hints=(
        "efSearch sets how much of the graph a query explores before it answers.",
        "Ask what exploring less does to speed, and to the chance of missing a true neighbour.",
    ),
)
