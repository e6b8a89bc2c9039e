"""Checks for ``03_specialize/sentiment_analysis.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks, the hints and the
fixtures the checks share (stand-in analyzers, a fake clock, reference
weights computed with scikit-learn), never a solution or a hidden test.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from mlcourse.check import choice, number, problem

# -- fixtures: built on the learner's side with t.build, or used by the checks --------


@lru_cache(maxsize=1)
def vader():
    """VADER's analyzer (loading its lexicon takes a moment, so it is made once)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def compounds(texts) -> np.ndarray:
    """VADER's compound score of each text, computed by the checks."""
    analyzer = vader()
    return np.array([analyzer.polarity_scores(s)["compound"] for s in texts], dtype=float)


class ScriptedAnalyzer:
    """An analyzer with made-up scores: proves a function uses the analyzer it is given.

    ``polarity_scores`` returns the compound score listed for the text, and a
    ``pos`` share that never tells the same story.
    """

    def __init__(self, scores: dict):
        self.scores = dict(scores)

    def polarity_scores(self, text):
        value = self.scores[text]
        return {"neg": 0.25, "neu": 0.25, "pos": 0.5, "compound": value}


class FakeBench:
    """A model and a clock for timing code without waiting.

    Call ``k`` of ``predict(texts)`` advances the fake clock by
    ``per_text[k] * len(texts)`` seconds (the list is cycled), and records the
    batch size; ``clock()`` reads the fake time.
    """

    def __init__(self, per_text, start=0.0):
        self.per_text = [float(c) for c in per_text]
        self.now = float(start)
        self.batch_sizes = []

    def clock(self):
        return self.now

    def predict(self, texts):
        cost = self.per_text[len(self.batch_sizes) % len(self.per_text)]
        self.batch_sizes.append(len(texts))
        self.now += cost * len(texts)
        return [0] * len(texts)


def sklearn_tfidf(docs, **options):
    """(vocabulary, dense matrix) of scikit-learn's TfidfVectorizer on lists of terms."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=list, **options)
    matrix = vectorizer.fit_transform(docs).toarray()
    return [str(term) for term in vectorizer.get_feature_names_out()], matrix


def ranked(weights, names, k):
    """The k names of largest weight (largest first) and of smallest (smallest first)."""
    pairs = sorted(zip(weights, range(len(names))))
    low = [names[j] for _, j in pairs[:k]]
    high = [names[j] for _, j in reversed(pairs[-k:])]
    return high, low


def accuracy_table(sources, labels, predictions) -> dict:
    """Accuracy per source, computed with plain Python."""
    hits: dict = {}
    for source, label, pred in zip(sources, labels, predictions):
        hits.setdefault(source, []).append(label == pred)
    return {source: sum(v) / len(v) for source, v in sorted(hits.items())}


# -- exercise 1 -----------------------------------------------------------------------


@problem(
    "vader_predict",
    hints=(
        "A lexicon classifier turns one summary score per text into a yes or no by comparing "
        "it with a cut-off; a text with no opinion words scores exactly zero and must land on "
        "the positive side of the default cut-off.",
        "Ask the analyzer you were given for the scores of each text, keep only the compound "
        "score, compare every compound with the threshold (at least, not strictly more), and "
        "turn the comparisons into a NumPy array of integers.",
        "A boolean NumPy array becomes zeros and ones with the astype method and the int type.",
    ),
)
def _vader_predict(t):
    analyzer = t.build("mlcourse.exercises.sentiment_analysis:vader")
    probe = ["The food was good.", "It broke after two days.", "The case arrived on Tuesday."]
    got = t.call("vader_predict", probe, analyzer)
    t.shape(got, (3,), nudge="Return one prediction per text, as a NumPy array.")
    t.dtype(got, "iu", nudge="Return integers (0 and 1), not booleans or floats.")
    t.equal(
        got.tolist(),
        [1, 0, 1],
        wrong={
            "A compound of exactly 0 (no sentiment words) counts as positive: the threshold "
            "itself is on the positive side.": [1, 0, 0],
            "Threshold the 'compound' score, not the 'pos' share (which is never negative).": [
                1,
                1,
                1,
            ],
        },
    )
    t.equal(
        t.call("vader_predict", probe, analyzer, threshold=0.5).tolist(),
        [0, 0, 0],
        case="threshold=0.5",
        nudge="Use the threshold argument instead of a fixed 0.",
    )
    scripted = t.build(
        "mlcourse.exercises.sentiment_analysis:ScriptedAnalyzer",
        {"alpha": -0.3, "beta": 0.2, "gamma": -0.05},
    )
    t.equal(
        t.call("vader_predict", ["alpha", "beta", "gamma"], scripted, threshold=-0.1).tolist(),
        [0, 1, 1],
        case="an analyzer with made-up compounds -0.3, 0.2, -0.05 and threshold -0.1",
        nudge="Score the texts with the analyzer passed in, not with a global one.",
    )


# -- exercise 2 -----------------------------------------------------------------------


@problem(
    "tokenize",
    hints=(
        "A token is a run of letters and digits; an apostrophe belongs to a token only when "
        "it sits between two such characters, and case must not matter.",
        "Lowercase first, then find every match of a regular expression: one or more "
        "letters or digits, followed by any number of groups made of an apostrophe and one "
        "or more letters or digits.",
        "The findall function of the re module returns every non-overlapping match as a list "
        "of strings; a non-capturing group is written with a question mark and a colon.",
    ),
)
def _tokenize(t):
    got = t.call("tokenize", "Don't buy it!! 10/10, NOT worth it.")
    t.type(got, list, nudge="Return a Python list of strings.")
    t.equal(
        got,
        ["don't", "buy", "it", "10", "10", "not", "worth", "it"],
        wrong={
            "Splitting on spaces keeps punctuation glued to the words: match tokens with a "
            "regular expression instead.": [
                "don't",
                "buy",
                "it!!",
                "10/10,",
                "not",
                "worth",
                "it.",
            ],
            "The apostrophe splits 'don't' into 'don' and 't': allow an apostrophe inside a "
            "word.": ["don", "t", "buy", "it", "10", "10", "not", "worth", "it"],
            "Lowercase the text first: 'Don't' and 'don't' must be the same token.": [
                "on't",
                "buy",
                "it",
                "10",
                "10",
                "worth",
                "it",
            ],
        },
    )
    t.equal(
        t.call("tokenize", "'Great' phone -- the case isn't."),
        ["great", "phone", "the", "case", "isn't"],
        case="quotes around a word",
        nudge="Apostrophes that are not between two letters (quotes) are not part of a token.",
    )


# -- exercise 3 -----------------------------------------------------------------------


@problem(
    "ngrams",
    hints=(
        "An n-gram is a window of n neighbouring tokens sliding one step at a time; count "
        "carefully how many start positions such a window has.",
        "Refuse a window size below one first. Then, for every start position from the "
        "first to the last one that still leaves room for n tokens, join the window's tokens "
        "with a single space.",
        "With L tokens there are L minus n plus one start positions, and none at all when n "
        "is larger than L.",
    ),
)
def _ngrams(t):
    toks = ["not", "worth", "the", "money"]
    got = t.call("ngrams", toks, 2)
    t.type(got, list, nudge="Return a list of strings.")
    t.equal(
        got,
        ["not worth", "worth the", "the money"],
        wrong={
            "The last bigram is missing: count the start positions again.": [
                "not worth",
                "worth the",
            ],
            "Join each n-gram into one string with a single space, not a tuple or a list.": [
                ("not", "worth"),
                ("worth", "the"),
                ("the", "money"),
            ],
        },
    )
    t.equal(
        t.call("ngrams", toks, 1), toks, case="n=1", nudge="Unigrams are the tokens themselves."
    )
    t.raises(ValueError, "ngrams", toks, 0, nudge="n=0 makes no sense: raise a ValueError.")


# -- exercise 4 -----------------------------------------------------------------------

TOY_DOCS = [
    ["good", "food", "good", "service"],
    ["bad", "food"],
    ["good", "value"],
    ["not", "good", "not", "bad"],
]


@problem(
    "tf_idf",
    hints=(
        "Each weight multiplies how often a term occurs in one document by how rare the term "
        "is across documents; rarity counts documents, not occurrences, and every row is "
        "then scaled to length one.",
        "Build the sorted vocabulary, count terms per document into a documents by terms "
        "array, count for each column the documents where it is non-zero, apply the smoothed "
        "logarithm, multiply, then divide each row by its Euclidean length, leaving rows of "
        "length zero alone.",
        "The Counter class counts a list's items. For the last step, a row whose norm is "
        "zero can be divided by one instead, so that it stays a row of zeros.",
    ),
)
def _tf_idf(t):
    got = t.call("tf_idf", TOY_DOCS)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"tf_idf returned {type(got).__name__}",
        "Return a pair (vocabulary, X).",
    )
    vocab, X = got
    want_vocab, want_X = sklearn_tfidf(TOY_DOCS)
    t.type(vocab, list, nudge="The vocabulary is a Python list of the distinct terms.")
    t.equal(vocab, want_vocab, what="the vocabulary", nudge="Sort the distinct terms.")
    t.shape(X, (4, 6))
    t.dtype(X, "f")
    t.close(
        X,
        want_X,
        wrong={
            "That idf has no smoothing: add one to the number of documents and to each "
            "document frequency.": sklearn_tfidf(TOY_DOCS, smooth_idf=False)[1],
            "The rows are not unit length: divide each row by its L2 norm.": sklearn_tfidf(
                TOY_DOCS, norm=None
            )[1],
        },
        nudge="Check df (documents containing the term, not total occurrences) and the idf "
        "formula.",
    )
    _, X_sub = t.call("tf_idf", TOY_DOCS, sublinear=True)
    t.close(
        X_sub,
        sklearn_tfidf(TOY_DOCS, sublinear_tf=True)[1],
        case="sublinear=True",
        nudge="With sublinear=True a count c > 0 becomes 1 + ln(c); a count of 0 stays 0.",
    )


# -- exercise 5 -----------------------------------------------------------------------


@problem(
    "top_features",
    hints=(
        "Sorting the weights puts the most negative terms at one end and the most positive "
        "at the other; the sign matters, not the size.",
        "Check that k is between one and the number of terms. Sort the positions of the "
        "weights in ascending order; the first k positions give the negative terms in order, "
        "and the last k, read backwards, the positive ones. Map positions to names.",
        "NumPy's argsort gives the positions; a slice with a negative step reverses a sequence.",
    ),
)
def _top_features(t):
    weights = np.array([0.5, -2.0, 3.0, -0.1, 1.5, -3.5])
    terms = ["ok", "bad", "great", "meh", "good", "awful"]
    got = t.call("top_features", weights, terms, 2)
    t.true(
        isinstance(got, tuple | list) and len(got) == 2,
        f"top_features returned {type(got).__name__}",
        "Return a pair (positive, negative).",
    )
    positive, negative = got
    t.type(positive, list, nudge="Each part is a list of names.")
    t.equal(
        positive,
        ["great", "good"],
        what="positive",
        wrong={
            "Those are the largest weights in absolute value: the sign matters.": [
                "awful",
                "great",
            ],
            "Largest first: reverse the ascending order.": ["good", "great"],
            "Those are the smallest weights: positive terms have the largest.": ["awful", "bad"],
        },
    )
    t.equal(
        negative,
        ["awful", "bad"],
        what="negative",
        wrong={"Most negative first.": ["bad", "awful"]},
    )
    t.raises(ValueError, "top_features", weights, terms, 7, nudge="k=7 > 6 terms: raise.")


# -- exercise 6 -----------------------------------------------------------------------


@problem(
    "accuracy_by_source",
    hints=(
        "Accuracy within a group is the share of that group's predictions that are right, "
        "so each group is divided by its own size; and values must be paired by position.",
        "Turn the three inputs into plain arrays, mark each prediction right or wrong, group "
        "the marks by source and average each group; return the result indexed by the "
        "sorted source names.",
        "A pandas DataFrame built from plain arrays, grouped by its source column, gives a "
        "Series whose mean per group is the accuracy.",
    ),
)
def _accuracy_by_source(t):
    import pandas as pd

    src = ["yelp", "amazon", "yelp", "imdb", "amazon", "yelp"]
    lab = np.array([1, 0, 0, 1, 1, 1])
    pred = np.array([1, 0, 1, 0, 1, 1])
    got = t.call("accuracy_by_source", src, lab, pred)
    t.type(got, pd.Series, nudge="Return a pandas Series.")
    t.equal(
        [str(s) for s in got.index],
        ["amazon", "imdb", "yelp"],
        what="the index",
        nudge="Group by the source (not the label), and sort the index.",
    )
    t.close(
        got.to_numpy(dtype=float),
        [1.0, 0.0, 2 / 3],
        wrong={
            "You divided by the total number of sentences: divide by the number in each source.": [
                2 / 6,
                0.0,
                2 / 6,
            ],
            "That counts correct predictions; divide by each source's size.": [2, 0, 2],
        },
    )


# -- exercise 7 -----------------------------------------------------------------------


@problem(
    "mean_pool",
    hints=(
        "Padding positions carry vectors too, but they are not part of the sentence: the "
        "average runs over real tokens only, and each sentence has its own count of them.",
        "Multiply every token vector by its mask value so padding becomes zero, add up over "
        "the token axis, and divide each sentence's sum by that sentence's number of real "
        "tokens. Work in floats.",
        "Give the mask a trailing axis of length one so that it broadcasts over the vector "
        "dimension; the token axis is axis 1.",
    ),
)
def _mean_pool(t):
    H = np.array(
        [
            [[1.0, 2.0], [3.0, 4.0], [100.0, 100.0], [-9.0, 9.0]],
            [[2.0, -2.0], [50.0, 50.0], [70.0, -70.0], [8.0, 8.0]],
        ]
    )
    mask = np.array([[1, 1, 0, 0], [1, 0, 0, 0]])
    got = t.call("mean_pool", H, mask)
    t.shape(got, (2, 2), nudge="Average over the token axis (axis 1).")
    t.close(
        got,
        [[2.0, 3.0], [2.0, -2.0]],
        wrong={
            "The padding vectors were averaged in: use the attention mask.": H.mean(axis=1),
            "You zeroed the padding but divided by all the positions: divide by the number "
            "of real tokens of each sentence.": np.array([[1.0, 1.5], [0.5, -0.5]]),
            "That is the sum of the real tokens; divide by how many there are.": np.array(
                [[4.0, 6.0], [2.0, -2.0]]
            ),
        },
    )
    ints = t.call("mean_pool", np.array([[[1, 2], [2, 5], [9, 9]]]), np.array([[1, 1, 0]]))
    t.dtype(ints, "f", case="integer token vectors", nudge="The average of integers is a float.")
    t.close(ints, [[1.5, 3.5]], case="integer token vectors")


# -- exercise 8 -----------------------------------------------------------------------


@problem(
    "latency_per_sentence",
    hints=(
        "Noise only ever adds time, so the fastest of several runs is the best estimate of "
        "the real cost; and a cost per sentence divides by how many sentences one run "
        "handled.",
        "Check the inputs first. Then repeat the call the requested number of times, read "
        "the given clock just before and just after each call, keep the smallest difference, "
        "and divide it by the number of texts.",
        "Start the best time at infinity and lower it with the built-in min after each run; "
        "call the clock argument, never a clock of the time module.",
    ),
)
def _latency_per_sentence(t):
    bench = t.build("mlcourse.exercises.sentiment_analysis:FakeBench", [0.052, 0.002, 0.002, 0.002])
    got = t.call("latency_per_sentence", bench.predict, ["a"] * 10, repeats=4, clock=bench.clock)
    shown = t.called
    sizes = t.value(bench.batch_sizes)
    t.called = shown
    t.equal(
        sizes,
        [10, 10, 10, 10],
        what="the batch sizes predict was called with",
        nudge="Call predict(texts) once per repeat, with all the texts.",
    )
    t.close(
        got,
        0.002,
        wrong={
            "That is the mean over the repeats, warm-up included: keep the fastest run.": (
                0.52 + 3 * 0.02
            )
            / 4
            / 10,
            "That is the time of the whole batch: divide by the number of texts.": 0.02,
            "That is the first (warm-up) call only: keep the fastest of all the runs.": 0.052,
        },
        nudge="Time every call with the clock argument, keep the fastest, divide by the "
        "number of texts.",
    )
    t.raises(
        ValueError,
        "latency_per_sentence",
        bench.predict,
        [],
        clock=bench.clock,
        nudge="No texts: there is nothing to divide by, raise a ValueError.",
    )


# -- the quiz ---------------------------------------------------------------------------

number(
    "q_not_good",
    hints=(
        "A negator before a sentiment word flips the word's score and weakens it; the sum "
        "is then squashed into the open interval from minus one to one.",
        "Multiply the score of the word by the negation factor, then divide the sum by the "
        "square root of its square plus the constant alpha.",
    ),
)
number(
    "q_idf",
    hints=(
        "The smoothed formula pretends one extra document contains every term once, and adds "
        "one at the end.",
        "Add one to the number of documents and to the document frequency, take the natural "
        "logarithm of their ratio, then add one.",
    ),
)
number(
    "q_terms",
    hints=(
        "Every n from one to three contributes its own windows, and a window of n tokens has "
        "one start position fewer than a window of n minus one.",
        "Count the unigrams, bigrams and trigrams of six tokens separately, then add.",
    ),
)
choice(
    "q_noise",
    options="abcd",
    hints=(
        "An accuracy measured on a finite test set is itself a noisy estimate; its spread "
        "shrinks with the square root of the number of test sentences.",
        "Compute the standard error of an accuracy near 0.84 on 600 sentences and compare it "
        "with the gap between the two models.",
    ),
)
choice(
    "q_sa_threshold",
    options="abcd",
    hints=(
        "Anything chosen by looking at a data set has, in effect, been trained on it.",
        "Ask which part of the data may still give an honest score after the choice.",
    ),
)
