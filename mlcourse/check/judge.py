"""Judging: the :class:`Tester` a problem's checks are written against.

A check never holds the learner's objects. It asks for them through the
tester, by name (``t.call("matmul", A, B)``, ``t.value("test_rmse")``), gets
*data* back (decoded by :mod:`mlcourse.check.codec`), and compares that data
with what it expects. Objects that are not data (a fitted model, a FastAPI
app) stay on the learner's side; the check keeps a :class:`Ref` to them and
calls their methods, getting data back again.

The same check therefore runs unchanged in the learner's notebook (requests
served in process) and in the trusted grader (requests served by the
sandboxed kernel over :class:`~mlcourse.check.transport.KernelRPC`).

Every assertion either passes (``t.passed`` grows) or raises one of the
failures in :mod:`mlcourse.check.outcomes`. With ``hidden=True`` (hidden
tests) no assertion ever shows an expected value, and each must say which
``case`` failed.
"""

from __future__ import annotations

import builtins
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from mlcourse.check import codec
from mlcourse.check.codec import Opaque, RefHandle
from mlcourse.check.outcomes import AuthoringError, CheckFailed, CodeRaised, Incorrect, NotAttempted
from mlcourse.check.render import describe
from mlcourse.check.transport import TransportError

# Private references, taken once: a learner's later monkeypatch of NumPy in
# the same process cannot change what a check decides.
_asarray = np.asarray
_isclose = np.isclose
_isfinite = np.isfinite
_abs = np.abs
_ndarray = np.ndarray
_BUILTIN_ERRORS = frozenset(
    name
    for name in dir(builtins)
    if isinstance(getattr(builtins, name), type)
    and issubclass(getattr(builtins, name), BaseException)
)


class Ref:
    """A learner-side object, reached by name, kept result or import path.

    ``ref.fit`` and ``ref["key"]`` are Refs too; nothing is fetched until the
    Ref is passed to :meth:`Tester.value` or :meth:`Tester.call`.
    """

    __slots__ = ("_target",)

    def __init__(self, target: dict):
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Ref:
        if name.startswith("__"):
            raise AttributeError(name)
        target = dict(self._target)
        target["path"] = [*target.get("path", []), ["attr", name]]
        return Ref(target)

    def __getitem__(self, key: Any) -> Ref:
        target = dict(self._target)
        target["path"] = [*target.get("path", []), ["item", codec.encode(key)]]
        return Ref(target)

    def __setattr__(self, name, value):
        raise AttributeError("a Ref is read-only")

    def __repr__(self) -> str:
        return f"<{self.label}>"

    @property
    def label(self) -> str:
        t = self._target
        text = t.get("name") or (t.get("lib", "").rpartition(":")[2] or t.get("lib")) or "object"
        if "ref" in t:
            text = t.get("label") or "the object"
        for kind, value in t.get("path", []):
            text += f".{value}" if kind == "attr" else f"[{codec.decode(value)!r}]"
        return text


def target_of(spec: Any) -> dict:
    """A request target from a name (``"est.fit"``), an import path (``"mod:obj"``) or a Ref."""
    if isinstance(spec, Ref):
        return spec._target
    if isinstance(spec, str):
        if ":" in spec:
            return {"lib": spec, "path": []}
        name, *attrs = spec.split(".")
        return {"name": name, "path": [["attr", a] for a in attrs]}
    raise AuthoringError(f"not a target: {spec!r} (use a name, 'module:object' or a Ref)")


def _label(spec: Any) -> str:
    return spec.label if isinstance(spec, Ref) else str(spec).rpartition(":")[2]


def _error_names(error: Any) -> list[str]:
    errors = error if isinstance(error, tuple) else (error,)
    names = []
    for err in errors:
        if isinstance(err, str):
            names.append(err)
        else:
            module = getattr(err, "__module__", "builtins")
            qual = getattr(err, "__qualname__", getattr(err, "__name__", str(err)))
            names.append(qual if module == "builtins" else f"{module}.{qual}")
    return names


def _as_float_array(value: Any) -> np.ndarray | None:
    if isinstance(value, Opaque | RefHandle | str | bytes) or value is None:
        return None
    if isinstance(value, dict | set | frozenset):
        return None
    try:
        arr = _asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return arr


class Tester:
    """The checks of one exercise, run against one learner's side."""

    def __init__(
        self,
        exercise: str,
        transport,
        *,
        hidden: bool = False,
        default_time_limit: float | None = None,
    ):
        self.exercise = exercise
        self.transport = transport
        self.hidden = hidden
        self.default_time_limit = default_time_limit
        self.called: str | None = None
        self.passed = 0

    # -- failures ----------------------------------------------------------------------
    def _lines(self) -> list[tuple[str, str]]:
        return [("called", self.called)] if self.called else []

    def fail(self, got: str, expected: str, nudge: str | None = None) -> Incorrect:
        """Build (not raise) an :class:`Incorrect` with the standard lines."""
        lines = self._lines() + [("got", got), ("expected", expected)]
        if nudge:
            lines.append(("nudge", nudge))
        return Incorrect(self.exercise, lines)

    def problem(self, problem: str, nudge: str | None = None) -> Incorrect:
        lines = self._lines() + [("problem", problem)]
        if nudge:
            lines.append(("nudge", nudge))
        return Incorrect(self.exercise, lines)

    def _need_case(self, case: str | None) -> str:
        if self.hidden and not case:
            raise AuthoringError(f"{self.exercise}: a hidden check needs case='...'")
        return f" for {case}" if case else ""

    # -- talking to the learner's side -------------------------------------------------
    def _send(self, req: dict, timeout: float | None = None) -> dict:
        try:
            return self.transport.request(req, timeout)
        except TransportError as exc:
            raise CodeRaised(self.exercise, self._lines() + [("error", str(exc))]) from None

    def _interpret(self, answer: dict, what: str, nudge: str | None = None) -> Any:
        """The data in ``answer``, or the failure it reports."""
        if "value" in answer:
            return self._decode(answer["value"])
        if "ref" in answer:
            ref = answer["ref"]
            if not isinstance(ref, dict) or type(ref.get("id")) is not int:
                raise self.problem("the answer could not be read")
            return Ref({"ref": ref["id"], "path": [], "label": what})
        if "missing" in answer:
            name = str(answer["missing"])[:80]
            raise NotAttempted(
                self.exercise,
                self._lines()
                + [
                    (
                        "todo",
                        f"`{name}` is not defined yet: run your solution cell "
                        "(and the cells above it)",
                    )
                ],
            )
        if "not_attempted" in answer:
            raise NotAttempted(
                self.exercise,
                self._lines()
                + [
                    (
                        "todo",
                        "replace `raise NotImplementedError()` with your code, "
                        "run that cell, then run this check again",
                    )
                ],
            )
        if "raised" in answer:
            raised = answer["raised"] if isinstance(answer["raised"], dict) else {}
            where = f" ({str(raised.get('where'))[:80]})" if raised.get("where") else ""
            if self.hidden:
                # A hidden test never echoes the learner's own text (a message, a
                # class or function name): it could carry the hidden case's inputs
                # out into the feedback. A builtin exception's name is safe.
                kind = str(raised.get("type", ""))
                mro = raised.get("mro") or []
                builtin = mro and mro[0] == kind and kind in _BUILTIN_ERRORS
                text = f"your code raised {kind if builtin else 'an exception'}"
                line = re.match(r"line (\d+)", str(raised.get("where") or ""))
                if line:
                    text += f" (line {line.group(1)})"
            else:
                kind = str(raised.get("type", "Error"))[:60]
                text = f"{kind}: {str(raised.get('message', ''))[:500]}{where}"
            raise CodeRaised(self.exercise, self._lines() + [("error", text)])
        if "too_slow" in answer:
            seconds = answer["too_slow"]
            lines = self._lines() + [("problem", f"still running after {seconds:g} s (stopped)")]
            lines.append(
                (
                    "nudge",
                    nudge or "Too slow: look for a loop inside a loop, or an infinite loop.",
                )
            )
            raise Incorrect(self.exercise, lines)
        if "modified" in answer:
            info = answer["modified"] if isinstance(answer["modified"], dict) else {}
            which = (
                f"`{info['keyword']}`"
                if "keyword" in info
                else f"number {int(info.get('index', 0)) + 1}"
            )
            raise self.fail(
                f"your function changed its argument {which} in place",
                "the inputs left as they were",
                "Work on a copy (`.copy()`, or `.clone()` for a tensor) before changing it.",
            )
        if "absent" in answer:
            raise self.problem(f"`{str(answer['absent'])[:80]}` does not exist", nudge)
        raise self.problem(
            f"your answer could not be read ({str(answer.get('error', 'no answer'))[:200]})",
            nudge,
        )

    def _decode(self, encoded: Any) -> Any:
        try:
            return codec.decode(encoded)
        except codec.CodecError as exc:
            raise self.problem(f"your answer could not be read as data ({exc})") from None

    def _encode_arg(self, value: Any) -> Any:
        def refs(obj: Any) -> dict:
            if isinstance(obj, Ref):
                return {"$": "target", **obj._target}
            raise AuthoringError(
                f"{self.exercise}: cannot send a {type(obj).__name__} to the learner's side; "
                "build it there with t.build('module:factory', ...)"
            )

        return codec.encode(value, refs=refs)

    def _show_call(self, target: Any, args: tuple, kwargs: dict) -> str:
        values = not self.hidden
        shown = [a.label if isinstance(a, Ref) else describe(a, 30, values) for a in args]
        shown += [
            f"{k}={v.label if isinstance(v, Ref) else describe(v, 30, values)}"
            for k, v in kwargs.items()
        ]
        return f"{_label(target)}({', '.join(shown)})"

    def ref(self, name: str) -> Ref:
        """A Ref to a learner's name (``"model"``) or an import path (``"mod:obj"``)."""
        return Ref(target_of(name))

    def value(self, target: Any, *, convert: str | None = None, nudge: str | None = None) -> Any:
        """The data of a learner's name or a Ref (``convert``: a 'module:function' to apply)."""
        req = {"op": "get", "target": target_of(target), "convert": convert}
        self.called = f"the value of {_label(target)}"
        return self._interpret(self._send(req), _label(target), nudge)

    def call(
        self,
        target: Any,
        *args: Any,
        keep: bool = False,
        convert: str | None = None,
        may_modify: bool = False,
        time_limit: float | None = None,
        slow_nudge: str | None = None,
        error_nudge: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call the learner's function (or a Ref's method) and return the result as data.

        Arguments are sent as data, so every call gets fresh copies; a function
        that changes an argument in place fails ("changed its argument")
        unless ``may_modify``. ``keep=True`` returns a :class:`Ref` to the
        result instead (for objects that are not data). ``time_limit`` stops a
        call still running after that many seconds. ``error_nudge`` is shown
        when the call raises (for example, a schema that refuses a valid input).
        """
        self.called = self._show_call(target, args, kwargs)
        limit = time_limit if time_limit is not None else self.default_time_limit
        req = {
            "op": "call",
            "target": target_of(target),
            "args": [self._encode_arg(a) for a in args],
            "kwargs": [[k, self._encode_arg(v)] for k, v in kwargs.items()],
            "keep": keep,
            "convert": convert,
            "may_modify": may_modify,
            "time_limit": time_limit,
        }
        timeout = None if limit is None else limit + 30.0
        try:
            return self._interpret(self._send(req, timeout), _label(target), slow_nudge)
        except CodeRaised as failure:
            if error_nudge:
                raise CodeRaised(self.exercise, failure.lines + [("nudge", error_nudge)]) from None
            raise

    def helper(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        """Like :meth:`call`, for course code on the learner's side: a failure still names
        the learner's last call, not the helper."""
        saved = self.called
        try:
            return self.call(target, *args, **kwargs)
        finally:
            self.called = saved

    def build(self, factory: str, *args: Any, label: str | None = None, **kwargs: Any) -> Ref:
        """An object made on the learner's side by course code (``"module:factory"``).

        ``label`` names it in messages (``net(x)`` rather than ``DigitsCNN(x)``).
        """
        if ":" not in factory:
            raise AuthoringError(f"t.build needs 'module:factory', not {factory!r}")
        saved = self.called
        ref = self.call(factory, *args, keep=True, **kwargs)
        self.called = saved
        return self.named(ref, label) if label else ref

    @staticmethod
    def named(ref: Ref, label: str) -> Ref:
        """The same Ref, shown as ``label`` in messages."""
        return Ref({**ref._target, "label": label})

    def not_yet(self, todo: str) -> None:
        """Stop as "not attempted": ``todo`` says what to do first (an earlier exercise)."""
        raise NotAttempted(self.exercise, self._lines() + [("todo", todo)])

    def same(self, a: Any, b: Any) -> bool:
        """Whether two targets are one object on the learner's side."""
        answer = self._send({"op": "same", "a": target_of(a), "b": target_of(b)})
        return bool(self._interpret(answer, "same") is True)

    def has(self, target: Any, attribute: str) -> bool:
        """``hasattr`` on the learner's side."""
        saved = self.called
        result = self.call("builtins:hasattr", Ref(target_of(target)), attribute)
        self.called = saved
        return result is True

    def isinstance(self, target: Any, cls: str) -> bool:
        """``isinstance(target, cls)`` on the learner's side (``cls`` as 'module:Class')."""
        saved = self.called
        result = self.call("builtins:isinstance", Ref(target_of(target)), self.ref(cls))
        self.called = saved
        return result is True

    def release(self) -> None:
        """Forget every object kept on the learner's side."""
        try:
            self.transport.request({"op": "release"}, 10.0)
        except TransportError:
            pass

    # -- assertions --------------------------------------------------------------------
    def true(
        self,
        condition: Any,
        problem: str,
        nudge: str | None = None,
        *,
        case: str | None = None,
    ) -> None:
        """A plain condition; ``problem`` says what is wrong when it is false.

        In hidden tests, ``problem`` is shown too, so it must say what was
        wrong without giving the expected answer away.
        """
        label = self._need_case(case)
        if not problem:
            raise AuthoringError(f"{self.exercise}: t.true needs a problem description")
        if condition is not True and not (isinstance(condition, np.bool_) and bool(condition)):
            prefix = "hidden test: " if self.hidden else ""
            raise self.problem(f"{prefix}{problem}{label}", nudge)
        self.passed += 1

    def type(
        self, got: Any, expected: type | tuple[type, ...], nudge: str | None = None, *, case=None
    ) -> None:
        """``got`` (data) is an instance of ``expected``."""
        label = self._need_case(case)
        if not isinstance(got, expected):
            names = (
                " or ".join(t.__name__ for t in expected)
                if isinstance(expected, tuple)
                else expected.__name__
            )
            shown = describe(got, values=not self.hidden)
            raise self.fail(f"a {type(got).__name__}: {shown}{label}", f"a {names}", nudge)
        self.passed += 1

    def instance(self, target: Any, cls: str, nudge: str | None = None, *, case=None) -> None:
        """The learner-side object is an instance of ``cls`` ('module:Class')."""
        label = self._need_case(case)
        if not self.isinstance(target, cls):
            raise self.fail(
                f"{_label(target)} is not a {cls.rpartition(':')[2]}{label}",
                f"a {cls.rpartition(':')[2]}",
                nudge,
            )
        self.passed += 1

    def shape(self, got: Any, expected: tuple[int, ...], nudge: str | None = None, *, case=None):
        """``got`` is an array (or tensor, or DataFrame) of shape ``expected``."""
        label = self._need_case(case)
        shape = getattr(got, "shape", None)
        if shape is None or isinstance(got, Opaque):
            raise self.fail(
                f"{describe(got, values=not self.hidden)} (no shape){label}",
                f"an array of shape {tuple(expected)}",
                nudge or "Return a NumPy array, not a list or a number.",
            )
        shape = tuple(int(n) for n in shape)
        if shape != tuple(expected):
            if nudge is None and sorted(shape) == sorted(expected):
                nudge = "The right numbers of rows and columns, swapped: a missing transpose?"
            raise self.fail(f"shape {shape}{label}", f"shape {tuple(expected)}", nudge)
        self.passed += 1

    def dtype(self, got: Any, kinds: str, nudge: str | None = None, *, case=None) -> None:
        """``got``'s NumPy dtype kind is one of ``kinds`` ('f' float, 'i' int, 'b' bool...)."""
        label = self._need_case(case)
        dtype = getattr(got, "dtype", None)
        kind = getattr(dtype, "kind", None)
        if kind is None or kind not in kinds:
            names = {"f": "float", "i": "integer", "u": "unsigned", "b": "bool", "U": "string"}
            want = " or ".join(names.get(k, k) for k in kinds)
            raise self.fail(f"dtype {dtype}{label}", f"a {want} dtype", nudge)
        self.passed += 1

    def close(
        self,
        got: Any,
        expected: Any,
        *,
        rtol: float = 1e-6,
        atol: float = 1e-8,
        nudge: str | None = None,
        wrong: Mapping[str, Any] | None = None,
        case: str | None = None,
        what: str = "your result",
    ) -> None:
        """``got`` equals ``expected`` to within tolerance, element by element.

        ``wrong`` maps a nudge to the value a known mistake would produce:
        when ``got`` matches one, that nudge is shown.
        """
        label = self._need_case(case)
        exp = _as_float_array(expected)
        if exp is None:
            raise AuthoringError(f"{self.exercise}: t.close needs numbers to compare with")
        arr = _as_float_array(got)
        if arr is None:
            raise self.fail(f"{describe(got, values=not self.hidden)}{label}", "numbers", nudge)
        if arr.shape != exp.shape:
            if self.hidden:
                raise self.fail(f"shape {arr.shape}{label}", "a different shape", nudge)
            self.shape(arr, exp.shape, nudge)
            self.passed -= 1
        if not bool(_isfinite(arr).all()) and bool(_isfinite(exp).all()):
            raise self.fail(
                f"{what} contains NaN or infinity{label}",
                "finite numbers",
                nudge or "Look for a division by zero or a value that grows without bound.",
            )
        if bool(_isclose(arr, exp, rtol=rtol, atol=atol, equal_nan=True).all()):
            self.passed += 1
            return
        for message, value in (wrong or {}).items():
            bad = _as_float_array(value)
            if bad is not None and bad.shape == arr.shape:
                if bool(_isclose(arr, bad, rtol=rtol, atol=atol).all()):
                    nudge = message
                    break
        with np.errstate(invalid="ignore"):
            diff = _abs(arr - exp)
        err = float(np.nanmax(diff)) if arr.size and not np.isnan(diff).all() else math.nan
        if self.hidden:
            raise self.fail(
                f"{what} is off by up to {err:.3g}{label}",
                "a different value (hidden test: its answer is not shown)",
                nudge,
            )
        raise self.fail(
            f"{what} = {describe(arr if arr.ndim else float(arr))}{label}",
            f"{describe(exp if exp.ndim else float(exp))} (largest difference {err:.3g})",
            nudge,
        )

    def equal(
        self,
        got: Any,
        expected: Any,
        *,
        nudge: str | None = None,
        wrong: Mapping[str, Any] | None = None,
        case: str | None = None,
        what: str = "your result",
    ) -> None:
        """``got == expected`` exactly, and of the same kind (int vs float, list vs tuple)."""
        label = self._need_case(case)
        if _equal(got, expected):
            self.passed += 1
            return
        for message, value in (wrong or {}).items():
            if _equal(got, value):
                nudge = message
                break
        shown = describe(got, values=not self.hidden)
        if self.hidden:
            raise self.fail(f"{what} = {shown}{label}", "a different value (hidden test)", nudge)
        raise self.fail(f"{what} = {shown}{label}", describe(expected), nudge)

    def raises(
        self,
        error: Any,
        target: Any,
        *args: Any,
        nudge: str | None = None,
        case: str | None = None,
        match: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Calling ``target(*args)`` raises ``error`` (an exception class, name or tuple).

        ``match``, a regular expression, must also be found in the error's message.
        """
        label = self._need_case(case)
        self.called = (
            f"{_label(target)}({case})" if self.hidden else self._show_call(target, args, kwargs)
        )
        # The request does not say that an error is expected: the learner's side
        # cannot tell a validation test from any other call.
        req = {
            "op": "call",
            "target": target_of(target),
            "args": [self._encode_arg(a) for a in args],
            "kwargs": [[k, self._encode_arg(v)] for k, v in kwargs.items()],
            "may_modify": True,
        }
        answer = self._send(req)
        wanted = _error_names(error)
        short = " or ".join(w.rpartition(".")[2] for w in wanted)
        if "raised" in answer and isinstance(answer["raised"], dict):
            mro = answer["raised"].get("mro") or []
            message = str(answer["raised"].get("message", ""))
            if any(w in mro for w in wanted) and (match is None or re.search(match, message)):
                self.passed += 1
                return
            if any(w in mro for w in wanted):
                shown = (
                    "a message that does not say"
                    if self.hidden
                    else f"the message {message[:200]!r}"
                )
                raise self.fail(
                    f"{shown}{label}",
                    f"a {wanted[0].rpartition('.')[2]} whose message matches {match!r}",
                    nudge,
                )
            raised = answer["raised"]
            if self.hidden:  # never echo the learner's text in a hidden test's message
                got = "a different exception"
            else:
                got = f"{str(raised.get('type'))[:60]}: {str(raised.get('message', ''))[:300]}"
            raise self.fail(got + label, f"a {short}", nudge)
        if "value" in answer or "ref" in answer:
            returned = self._decode(answer["value"]) if "value" in answer else None
            shown = describe(returned, values=not self.hidden)
            raise self.fail(f"no error; it returned {shown}{label}", f"a {short}", nudge)
        self._interpret(answer, _label(target), nudge)
        raise self.fail(f"no error{label}", f"a {short}", nudge)


def _equal(got: Any, expected: Any) -> bool:
    """Exact equality that also compares kinds (1 != 1.0 != True; lists vs tuples)."""
    if isinstance(expected, bool | np.bool_):
        return type(got) in (bool, np.bool_) and bool(got) == bool(expected)
    if isinstance(got, bool | np.bool_):
        return False
    if isinstance(expected, int):
        return isinstance(got, int | np.integer) and not isinstance(got, bool) and got == expected
    if isinstance(expected, float):
        return isinstance(got, float | np.floating) and got == expected
    if isinstance(expected, str):
        return isinstance(got, str) and got == expected
    if isinstance(expected, list | tuple):
        return (
            isinstance(got, type(expected))
            and len(got) == len(expected)
            and all(_equal(g, e) for g, e in zip(got, expected))
        )
    if isinstance(expected, dict):
        return (
            isinstance(got, dict)
            and set(got) == set(expected)
            and all(_equal(got[k], expected[k]) for k in expected)
        )
    if isinstance(expected, np.ndarray):
        return (
            isinstance(got, np.ndarray)
            and got.shape == expected.shape
            and bool(np.array_equal(got, expected))
        )
    try:
        return bool(got == expected)
    except Exception:  # noqa: BLE001
        return False


__all__ = ["CheckFailed", "Ref", "Tester", "target_of"]
