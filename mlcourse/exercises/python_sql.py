"""Checks for ``01_foundations/python_sql.ipynb``: fixtures, the SQL harness, then the problems.

Learners may read this file: it holds the visible checks and the hints, never
a solution or a hidden test.

The SQL exercises are functions ``f(con, ...)`` that run one query on ``con``
and return its rows. The checks call them on a database made on the learner's
side by course code (:func:`titanic_db`, :func:`tiny_db`), which remembers the
statements run on it. Then the checks run the learner's query again *here*,
on their own copy of the same tables (read-only, time-limited), once with the
rows stored as given and once with them stored in reverse order, and judge
those rows. A query whose result depends on the order of the stored rows
relies on something SQL leaves to chance: a bare column in a ``GROUP BY``
query, or an ``ORDER BY`` that does not break ties.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Mapping
from functools import lru_cache

import pandas as pd

from mlcourse.check import choice, number, problem

#: Seconds a single query may run, on either side.
QUERY_SECONDS = 10.0
MAX_ROWS = 100_000
#: What a query may do when the checks run it: read, and call functions.
_READ_ONLY = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)
_ORDER_NUDGE = (
    "A column that is neither grouped nor aggregated takes its value from whichever row "
    "SQLite meets in its group, and rows that tie on every ORDER BY column come out in "
    "storage order. Group by (or aggregate) every column you select, and order by enough "
    "columns to break every tie."
)

# -- data ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _titanic() -> pd.DataFrame:
    from mlcourse.data import load_titanic

    return load_titanic()[0]


def titanic() -> pd.DataFrame:
    """The Titanic training set (891 passengers), a fresh copy."""
    return _titanic().copy()


@lru_cache(maxsize=1)
def _titanic_lines() -> tuple[str, ...]:
    from mlcourse.data import fetch

    path = fetch("titanic") / "titanic" / "train.csv"
    return tuple(path.read_text(encoding="utf-8").splitlines())


def titanic_lines() -> list[str]:
    """The raw lines of the Titanic training CSV, header first, without newlines."""
    return list(_titanic_lines())


def titanic_records() -> list[dict]:
    """The passengers as a list of dicts, missing values as None (as the notebook builds them)."""
    frame = titanic()
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def cabin_rows(frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    """(PassengerId, cabin, deck) for every cabin listed in the Cabin column."""
    rows = []
    for pid, cabins in zip(frame["PassengerId"], frame["Cabin"]):
        if isinstance(cabins, str):
            for cabin in cabins.split():
                rows.append((int(pid), cabin, cabin[0]))
    return rows


@lru_cache(maxsize=1)
def _titanic_cabins() -> tuple[tuple[int, str, str], ...]:
    return tuple(cabin_rows(_titanic()))


def each(fn, items: list) -> list:
    """``fn`` applied to every item, on the learner's side: one request for many cases."""
    return [fn(item) for item in items]


def breaking_lines(lines: list[str]):
    """Yield ``lines``, then fail: a stream that must not be read further than needed."""
    yield from lines
    raise RuntimeError("read_records read further than the record it was asked for")


def _tables(passengers, cabins) -> tuple[pd.DataFrame, list[tuple]]:
    frame = passengers if isinstance(passengers, pd.DataFrame) else pd.DataFrame(passengers)
    return frame, [tuple(row) for row in cabins]


def _fill(con: sqlite3.Connection, frame: pd.DataFrame, cabins: list[tuple]) -> None:
    frame.to_sql("passengers", con, index=False)
    con.execute("CREATE TABLE cabins (PassengerId INTEGER, cabin TEXT, deck TEXT)")
    con.executemany("INSERT INTO cabins VALUES (?, ?, ?)", cabins)
    con.commit()


# -- the learner's side: a database that remembers its statements -------------------


class _RecordingCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=(), /):
        parameters = self.connection._note(sql, parameters)
        return super().execute(sql, parameters)


class RecordingConnection(sqlite3.Connection):
    """An in-memory SQLite database that remembers every statement run on it.

    ``statements`` lists ``(sql, parameters)`` pairs, in order. A statement
    that runs longer than :data:`QUERY_SECONDS` is interrupted.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.statements: list[tuple[str, object]] = []
        self._deadline = math.inf
        self.set_progress_handler(self._too_long, 10_000)

    def _too_long(self) -> int:
        return int(time.monotonic() > self._deadline)

    def _note(self, sql, parameters):
        if isinstance(parameters, Mapping):
            parameters = dict(parameters)
        elif not isinstance(parameters, tuple):
            parameters = tuple(parameters)
        self.statements.append((str(sql), parameters))
        self._deadline = time.monotonic() + QUERY_SECONDS
        return parameters

    def execute(self, sql, parameters=(), /):
        parameters = self._note(sql, parameters)
        return super().execute(sql, parameters)

    def cursor(self, factory=None):
        return super().cursor(factory or _RecordingCursor)


def _recording(frame: pd.DataFrame, cabins: list[tuple]) -> RecordingConnection:
    con = sqlite3.connect(":memory:", factory=RecordingConnection)
    _fill(con, frame, cabins)
    con.statements.clear()
    con._deadline = math.inf
    return con


def titanic_db() -> RecordingConnection:
    """The notebook's database (tables passengers and cabins), made on the learner's side."""
    return _recording(_titanic(), list(_titanic_cabins()))


def tiny_db(passengers: dict, cabins: list = ()) -> RecordingConnection:
    """A crafted database: ``passengers`` as columns of values, ``cabins`` as rows."""
    return _recording(*_tables(passengers, cabins))


# -- the checks' side: run the learner's query on the checks' own tables --------------


def _read_only(action, *_):
    return sqlite3.SQLITE_OK if action in _READ_ONLY else sqlite3.SQLITE_DENY


def _prepared(frame: pd.DataFrame, cabins: list[tuple]) -> sqlite3.Connection:
    con = sqlite3.connect(":memory:")
    _fill(con, frame, cabins)
    con.set_authorizer(_read_only)
    return con


@lru_cache(maxsize=2)
def _titanic_copy(reverse: bool) -> sqlite3.Connection:
    frame, cabins = _titanic(), list(_titanic_cabins())
    if reverse:
        frame, cabins = frame.iloc[::-1], cabins[::-1]
    return _prepared(frame, cabins)


def rerun(sql: str, params, tables=None, *, reverse: bool = False) -> list | str:
    """The rows of ``sql`` run here on ``tables`` (the Titanic when None), or the error.

    ``reverse`` stores every table's rows in reverse order. The query may only
    read (the database refuses anything else) and is stopped after
    :data:`QUERY_SECONDS`.
    """
    if not isinstance(sql, str) or not isinstance(params, tuple | list | dict):
        return "the statement could not be read"
    if tables is None:
        con = _titanic_copy(reverse)
    else:
        frame, cabins = _tables(*tables)
        if reverse:
            frame, cabins = frame.iloc[::-1], cabins[::-1]
        con = _prepared(frame, cabins)
    deadline = time.monotonic() + QUERY_SECONDS
    con.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        return con.execute(sql, params).fetchmany(MAX_ROWS)
    except (sqlite3.Error, ValueError, TypeError, OverflowError) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        if tables is not None:
            con.close()


def query_rows(t, fn: str, *args, tables=None, width: int | None = None, case=None) -> list:
    """Call the learner's ``fn(con, *args)``, run its query here, and return those rows.

    ``tables`` is ``(passengers, cabins)`` for a crafted database (passengers as
    columns of values, cabins as rows); the Titanic with its cabins otherwise.
    Fails unless the function returns exactly the rows of its last statement,
    the statement reads the tables only, its rows do not depend on the order the
    rows are stored in, and (with ``width``) every row has ``width`` values.
    """
    if tables is None:
        db = t.build("mlcourse.exercises.python_sql:titanic_db")
    else:
        passengers, cabins = tables
        db = t.build("mlcourse.exercises.python_sql:tiny_db", passengers, list(cabins))
    returned = t.call(fn, db, *args)
    called = t.called
    statements = t.value(db.statements)
    t.called = called
    t.true(
        isinstance(statements, list) and len(statements) > 0,
        "your function ran no query on the connection it was given",
        "Run the query on the con argument and return its rows.",
        case=case,
    )
    last = statements[-1]
    sql, params = last if isinstance(last, tuple) and len(last) == 2 else (None, None)
    rows = rerun(sql, params, tables)
    t.true(
        isinstance(rows, list),
        f"your query failed when the checks ran it on a copy of the tables: {rows}",
        "Write one query (SELECT, or WITH ... SELECT) that only reads the tables, with a ? "
        "for each value, and pass the values in the order of their placeholders.",
        case=case,
    )
    t.true(
        type(returned) is list and returned == rows,
        "your function does not return the rows its query gives"
        + (f" (it returned a {type(returned).__name__})" if type(returned) is not list else ""),
        "Return the rows as the query gives them: the list of tuples that fetchall returns.",
        case=case,
    )
    t.true(
        rerun(sql, params, tables, reverse=True) == rows,
        "your query returns other rows when the tables store their rows in reverse order",
        _ORDER_NUDGE,
        case=case,
    )
    if width is not None:
        t.true(
            all(len(row) == width for row in rows),
            f"a row of your result does not have {width} values",
            "Select exactly the columns the task lists, in that order.",
            case=case,
        )
    return rows


# -- 1. Python: parsing and grouping --------------------------------------------------

BRAUND = [
    "1",
    "0",
    "3",
    "Braund, Mr. Owen Harris",
    "male",
    "22.0",
    "1",
    "0",
    "A/5 21171",
    "7.25",
    "",
    "S",
]


@problem(
    "split_csv_line",
    hints=(
        "A comma separates two fields only when it stands outside quotes, so read the line "
        "one character at a time and remember whether you are inside a quoted part.",
        "Keep the characters of the field being built and a flag for being inside quotes. "
        "Outside quotes a comma completes the field and a quote opens quotes; inside, two "
        "quotes in a row stand for one quote character and a single quote closes. When the "
        "line ends, the last field is complete too, and still being inside quotes is an error.",
        "Walk with an index rather than a plain for loop over the characters, so that you can "
        "look at the next character and step over it when two quotes stand together.",
    ),
)
def _split_csv_line(t):
    line = titanic_lines()[1]
    got = t.call("split_csv_line", line)
    t.type(got, list, "Return a list of strings, one per field.")
    t.equal(
        got,
        BRAUND,
        wrong={
            "That is what splitting at every comma gives: a comma inside quotes is part of "
            "the name.": line.split(","),
        },
        nudge="Expected 12 fields, quotes removed, the empty Cabin kept as ''.",
    )
    t.equal(
        t.call("split_csv_line", 'a,"say ""hi""",b'),
        ["a", 'say "hi"', "b"],
        wrong={
            'Inside quotes, "" is one literal quote character, not "close, then open again".': [
                "a",
                "say hi",
                "b",
            ]
        },
    )
    t.equal(
        t.call("split_csv_line", "x,,"),
        ["x", "", ""],
        nudge="Two commas at the end mean two empty fields: the last field counts even when empty.",
    )
    t.raises(
        ValueError,
        "split_csv_line",
        'a,"never closed',
        nudge="A line that ends inside quotes is broken: raise a ValueError.",
    )


FIRST_RECORD = {
    "PassengerId": 1,
    "Survived": 0,
    "Pclass": 3,
    "Name": "Braund, Mr. Owen Harris",
    "Sex": "male",
    "Age": 22.0,
    "SibSp": 1,
    "Parch": 0,
    "Ticket": "A/5 21171",
    "Fare": 7.25,
    "Cabin": None,
    "Embarked": "S",
}


@problem(
    "read_records",
    hints=(
        "A generator hands out one record each time it is asked and then pauses, so it never "
        "needs more than the current line; the first line is different, it names the columns.",
        "Loop over the lines; skip the blank ones; split each with your line splitter; keep "
        "the first as the header; for every later line hand out a dict from column name to "
        "value, each value converted: missing, whole number, decimal number, or text, tried in "
        "that order.",
        "A small helper that converts one field helps: an empty text means None; otherwise try "
        "int, then float, catching the ValueError each raises on text it cannot read.",
    ),
)
def _read_records(t):
    lines = titanic_lines()
    gen = t.call("read_records", lines, keep=True)
    t.true(
        t.isinstance(gen, "types:GeneratorType"),
        "read_records did not return a generator",
        "Hand out each record with yield instead of building and returning a list.",
    )
    first = t.call("builtins:next", gen)
    t.true(
        isinstance(first, dict),
        f"the first record is a {type(first).__name__}, not a dict",
        "Yield one dict per data line, from column name to value.",
    )
    t.true(
        first.get("Cabin", "") is None,
        f"passenger 1's empty Cabin field came back as {first.get('Cabin', '(missing)')!r}",
        "An empty field is missing data: convert it to None.",
    )
    t.equal(
        first,
        FIRST_RECORD,
        what="the first record",
        nudge="An empty field becomes None; numbers become int or float.",
    )
    t.true(
        type(first["PassengerId"]) is int and type(first["Age"]) is float,
        f"PassengerId is a {type(first['PassengerId']).__name__} and Age a "
        f"{type(first['Age']).__name__}; expected int and float",
        "Try int first, and fall back to float only when int fails.",
    )
    records = t.call("read_records", lines, convert="mlcourse.check.convert:as_list")
    t.equal(len(records), 891, what="the number of records", nudge="891 passengers.")


@problem(
    "survival_by",
    hints=(
        "One pass over the records is enough if a dictionary keeps, for every value of the "
        "column, how many records have it and how many of those survived.",
        "Count and add up survivors per value, leaving out records whose value is missing; "
        "turn each entry into a (value, count, rate) tuple; sort on a key that puts higher "
        "rates first and breaks ties by the value itself.",
        "A sort key can be a tuple, and minus a number sorts it from high to low.",
    ),
)
def _survival_by(t):
    got = t.call("survival_by", titanic_records(), "Sex")
    t.type(got, list, "Return a list of (value, count, rate) tuples.")
    t.equal(
        [row[:2] for row in got],
        [("female", 314), ("male", 577)],
        what="the (value, count) pairs",
        wrong={"Highest rate first.": [("male", 577), ("female", 314)]},
    )
    t.close(
        [row[2] for row in got],
        [233 / 314, 109 / 577],
        what="the rates",
        nudge="rate = survivors in the group / number of records in the group.",
    )
    toy = [
        {"deck": "B", "Survived": 1},
        {"deck": "A", "Survived": 1},
        {"deck": "C", "Survived": 0},
        {"deck": None, "Survived": 1},
        {"deck": "C", "Survived": 1},
    ]
    t.equal(
        t.call("survival_by", toy, "deck"),
        [("A", 1, 1.0), ("B", 1, 1.0), ("C", 2, 0.5)],
        case="a toy list with a tie and a None",
        wrong={
            "A and B tie on rate 1.0: break the tie by value, ascending.": [
                ("B", 1, 1.0),
                ("A", 1, 1.0),
                ("C", 2, 0.5),
            ],
            "Records whose column is None belong to no group: skip them.": [
                ("A", 1, 1.0),
                ("B", 1, 1.0),
                (None, 1, 1.0),
                ("C", 2, 0.5),
            ],
        },
    )


# -- 2. SQL ---------------------------------------------------------------------------


@problem(
    "passengers_from",
    hints=(
        "Choosing rows and sorting them are two clauses of one query, and a value that comes "
        "from outside the query is never written into its text.",
        "Keep the rows whose port matches and whose age is at least the minimum (an unknown "
        "age passes no comparison), sort from the oldest down and then by id, and give the "
        "two values to execute as parameters, in the order their placeholders appear.",
        "Two question marks in the query text; the values travel separately, as a tuple; "
        "return what fetchall gives.",
    ),
)
def _passengers_from(t):
    rows = query_rows(t, "passengers_from", "Q", 65, width=3)
    t.equal(
        rows,
        [(117, "Connors, Mr. Patrick", 70.5), (281, "Duane, Mr. Frank", 65.0)],
        wrong={
            '"At least" includes the boundary: a passenger aged exactly min_age is kept.': [
                (117, "Connors, Mr. Patrick", 70.5)
            ]
        },
    )
    rows = query_rows(t, "passengers_from", "S", 62, width=3)
    t.equal(
        [row[0] for row in rows],
        [631, 852, 673, 746, 34, 457, 439, 546, 276, 484, 253, 556, 571],
        what="the PassengerIds in order",
        nudge="Oldest first, then passengers of the same age by increasing PassengerId.",
    )
    rows = query_rows(t, "passengers_from", "Q", 0, width=3)
    t.equal(
        len(rows),
        28,
        what="the number of rows for port Q, min_age 0",
        case="min_age 0",
        wrong={
            "77 is every Q passenger: an unknown (NULL) age is not at least 0, leave it out.": 77
        },
        nudge="Only 28 of the 77 passengers from Q have a known age.",
    )
    t.equal(
        query_rows(t, "passengers_from", "S' OR '1'='1", 0),
        [],
        case="a port that tries SQL injection",
        nudge="The port was pasted into the SQL text: bind it with a ? placeholder instead.",
    )


@problem(
    "class_sex_survival",
    hints=(
        "Grouping puts the rows with equal keys together and aggregates reduce each group to "
        "one number; a condition on a group's size can only be checked after grouping.",
        "Group by both class and sex; count the rows, add up the survival flags and average "
        "them; keep the groups whose size is at least the parameter; sort by rate from high "
        "to low, then by class and sex.",
        "The condition on groups goes in HAVING, with a ? for min_size; a filter in WHERE runs "
        "before any group exists.",
    ),
)
def _class_sex_survival(t):
    rows = query_rows(t, "class_sex_survival", 100, width=5)
    t.equal(
        [row[:4] for row in rows],
        [(3, "female", 144, 72), (1, "male", 122, 45), (2, "male", 108, 17), (3, "male", 347, 47)],
        what="the (Pclass, Sex, n, survivors) rows",
        wrong={
            "survivors equals n: that counts the rows with a known Survived value, not the "
            "rows where it is 1.": [
                (3, "female", 144, 144),
                (1, "male", 122, 122),
                (2, "male", 108, 108),
                (3, "male", 347, 347),
            ],
            "Highest rate first.": [
                (3, "male", 347, 47),
                (2, "male", 108, 17),
                (1, "male", 122, 45),
                (3, "female", 144, 72),
            ],
        },
    )
    t.close([row[4] for row in rows], [0.5, 45 / 122, 17 / 108, 47 / 347], what="the rates")
    rows = query_rows(t, "class_sex_survival", 94, width=5)
    t.equal(
        [row[:3] for row in rows][:2],
        [(1, "female", 94), (3, "female", 144)],
        what="the first two groups",
        case="min_size = 94, the exact size of the first-class women's group",
        nudge='"At least" min_size: a group of exactly 94 passengers stays.',
    )


@problem(
    "deck_survival",
    hints=(
        "Joining a table with several matching rows repeats the other table's row once per "
        "match, which inflates counts; an outer join keeps the rows that match nothing.",
        "First reduce the cabins to one row per passenger and deck, in a derived table; join "
        "every passenger to it, keeping those without a cabin; name their missing deck "
        "unknown; then group by that name, count, average the survival flag and sort.",
        "The deck you group and sort by is the one after the missing value was replaced, so "
        "give that expression an alias and use it in GROUP BY and ORDER BY.",
    ),
)
def _deck_survival(t):
    rows = query_rows(t, "deck_survival", width=3)
    t.equal(
        ", ".join(str(row[0]) for row in rows),
        "A, B, C, D, E, F, G, T, unknown",
        what="the decks",
        wrong={
            "No 'unknown' row: an inner JOIN drops the passengers without a cabin.": (
                "A, B, C, D, E, F, G, T"
            ),
            "Passengers without a cabin have deck NULL: replace it by 'unknown'.": (
                "None, A, B, C, D, E, F, G, T"
            ),
            "'unknown' comes first: that is the order of the deck before the missing value "
            "was replaced. Sort by the name the row shows.": "unknown, A, B, C, D, E, F, G, T",
        },
    )
    t.equal(
        [row[1] for row in rows[:4]],
        [15, 47, 59, 33],
        what="the passenger counts of decks A to D",
        wrong={
            "B, C and D are too big: a passenger with several cabins on one deck was counted "
            "once per cabin (fan-out). Join to one row per (PassengerId, deck) pair.": [
                15,
                64,
                71,
                34,
            ]
        },
    )
    t.equal(
        [row[1] for row in rows],
        [15, 47, 59, 33, 33, 13, 7, 1, 687],
        what="all the passenger counts",
        nudge="n counts passengers: once per deck they had a cabin on.",
    )
    t.close(rows[2][2], 35 / 59, what="deck C's rate", nudge="rate = the mean of Survived.")


@problem(
    "top_fares",
    hints=(
        "A window function computes a value for every row from the rows around it, without "
        "collapsing them into groups; the ranking functions differ only in how they number ties.",
        "Rank the passengers within each class by fare, highest first, with the ranking whose "
        "tied rows share a number and whose numbers never skip; a window's result cannot be "
        "filtered in the same query's WHERE, so compute it in a derived table and keep the "
        "ranks up to k outside.",
        "The window is split by class and ordered by fare, descending; the outer query compares "
        "the rank with a ? placeholder and sorts by class, rank and name.",
    ),
)
def _top_fares(t):
    rows = query_rows(t, "top_fares", 1, width=4)
    t.equal(
        [sum(1 for row in rows if row[0] == c) for c in (1, 2, 3)],
        [3, 5, 7],
        what="rows per class for k = 1",
        nudge="Rank 1 is the HIGHEST fare of each class.",
        wrong={
            "One row per class: that ranking gives tied fares different numbers; here tied "
            "fares share a rank.": [1, 1, 1],
            "Only first class: rank within each class, not over the whole table.": [3, 0, 0],
        },
    )
    t.equal(
        rows[:3],
        [
            (1, "Cardeza, Mr. Thomas Drake Martinez", 512.3292, 1),
            (1, "Lesurer, Mr. Gustave J", 512.3292, 1),
            (1, "Ward, Miss. Anna", 512.3292, 1),
        ],
        what="the first three rows",
        nudge="The highest first-class fare, 512.3292, was paid by three passengers, all rank 1.",
    )
    rows = query_rows(t, "top_fares", 3, width=4)
    t.equal(
        [sum(1 for row in rows if row[0] == c) for c in (1, 2, 3)],
        [9, 10, 20],
        what="rows per class for k = 3",
        wrong={
            "That ranking skips numbers after a tie (1, 1, 1, 4), so fewer distinct fares make "
            "the cut: here the next distinct fare gets the next number.": [3, 5, 7],
        },
    )
    t.equal(
        rows[6],
        (1, "Fortune, Mr. Mark", 263.0, 2),
        what="row 7",
        nudge="Order by Pclass, fare_rank, then Name.",
    )


@problem(
    "top_fares_pandas",
    hints=(
        "pandas ranks the values inside each group much as a window function does, and its "
        "rank method has one option for each way of numbering ties.",
        "Rank the fares within each class, highest first, with the tie rule of exercise 7; keep "
        "the rows whose rank is at most k; keep the four columns, sort them like exercise 7 "
        "and number the rows afresh.",
        "rank gives floats, so convert the new column to integers; building it with assign "
        "leaves the caller's frame as it was; sorting keeps the old row labels until you "
        "reset them.",
    ),
)
def _top_fares_pandas(t):
    got = t.call("top_fares_pandas", titanic(), 3)
    t.type(got, pd.DataFrame, "Return a DataFrame.")
    t.equal(list(got.columns), ["Pclass", "Name", "Fare", "fare_rank"], what="the columns")
    t.equal(
        got.groupby("Pclass").size().tolist(),
        [9, 10, 20],
        what="rows per class",
        wrong={
            "That tie rule skips numbers after a tie (1, 1, 1, 4): exercise 7 gives the next "
            "distinct fare the next number.": [3, 5, 7],
            "Rank 1 went to the lowest fare: rank from the highest down.": [7, 34, 6],
        },
    )
    t.true(
        list(got.index) == list(range(len(got))),
        "the index is not 0, 1, 2, ...",
        "Number the rows afresh after sorting (and drop the old labels).",
    )
    t.true(
        pd.api.types.is_integer_dtype(got["fare_rank"]),
        f"fare_rank has dtype {got['fare_rank'].dtype}",
        "rank() returns floats: convert the column to integers.",
    )
    t.equal(
        tuple(got.iloc[6]),
        (1, "Fortune, Mr. Mark", 263.0, 2),
        what="row 7",
        nudge="Sort by Pclass, fare_rank, then Name.",
    )


# -- the quiz ---------------------------------------------------------------------------

number(
    "q_null_where",
    hints=(
        "A comparison with a missing value is neither true nor false, and a filter keeps only "
        "the rows where its condition is true.",
        "Go through the five ages one by one and ask whether the condition is certainly true.",
    ),
)
number(
    "q_left_join_rows",
    hints=(
        "An outer join keeps every row of the left table at least once, and a row with several "
        "partners appears once per partner.",
        "For each left row, count its matches on the right (at least one row even with no "
        "match), and add the counts up.",
    ),
)
choice(
    "q_bare_column",
    options="abcd",
    hints=(
        "Each group becomes one output row, but the group may hold many different names.",
        "Ask whether the query says which of the group's names to show; SQLite does not refuse "
        "such a query, unlike most databases.",
    ),
)
number(
    "q_csv_fields",
    hints=(
        "Commas inside quotes are text, a doubled quote inside quotes is one quote character, "
        "and a comma at the end still leaves a field after it.",
        "Walk the line as your splitter would and write down each field as it completes.",
    ),
)
choice(
    "q_sort_key",
    options="abcd",
    hints=(
        "Tuples compare element by element, and minus a number reverses its order.",
        "Sort by the first part of the key; only rows that tie on it are ordered by the second.",
    ),
)
