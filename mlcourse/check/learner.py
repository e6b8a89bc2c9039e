"""The learner's side of a check: find the learner's objects, call them, send back data.

Everything here runs where the learner's code runs (their kernel). It is the
only part of the checks that ever touches a learner's live objects. A check
sends it a *request* (plain JSON data) and gets a *response* (plain JSON
data); :mod:`mlcourse.check.transport` carries both, in one process or to a
grading kernel.

A request names a **target**:

* ``{"name": "matmul", "path": [...]}``: a name in the learner's namespace,
  then attributes (``["attr", "fit"]``) and items (``["item", key]``);
* ``{"ref": 3, "path": [...]}``: an object kept from an earlier call;
* ``{"lib": "sklearn.base:clone", "path": [...]}``: something importable.

Operations:

* ``get``: the target's value, as data;
* ``call``: call the target with decoded arguments (fresh copies every time,
  so the learner's code cannot change the check's data) and return the
  result as data, or keep it in the kernel and return a ``ref``;
* ``same``: whether two targets are the same object;
* ``release``: forget every kept object.

Arguments may themselves be targets (``{"$": "target", ...}``), so a check can
pass a kept model or a learner's function into another call.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import signal
import sys
import threading
import time
from typing import Any

from mlcourse.check import codec

MAX_MESSAGE = 500

_KEPT: dict[int, Any] = {}
_NEXT = [1]


class _Missing(Exception):
    """A learner's name is not defined."""


class _Absent(Exception):
    """An object has no such attribute or item."""


class _TimeLimit(BaseException):
    """Raised into a call that ran past its time limit (not catchable as Exception)."""


@contextlib.contextmanager
def _alarm(seconds: float | None):
    usable = (
        seconds is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise _TimeLimit()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _keep(value: Any) -> dict:
    ident = _NEXT[0]
    _NEXT[0] += 1
    _KEPT[ident] = value
    return {"$": "ref", "id": ident, "type": codec.type_name(value)}


def _describe_path(target: dict) -> str:
    base = target.get("name") or target.get("lib") or f"<object {target.get('ref')}>"
    text = str(base)
    for kind, value in target.get("path", []):
        text += f".{value}" if kind == "attr" else f"[{value!r}]"
    return text


def _resolve(target: dict, namespace: dict) -> Any:
    if not isinstance(target, dict):
        raise ValueError("malformed target")
    if "name" in target:
        name = str(target["name"])
        if name not in namespace:
            raise _Missing(name)
        obj = namespace[name]
    elif "ref" in target:
        ident = target["ref"]
        if ident not in _KEPT:
            raise ValueError(f"no kept object {ident}")
        obj = _KEPT[ident]
    elif "lib" in target:
        module, _, qual = str(target["lib"]).partition(":")
        obj = importlib.import_module(module)
        for part in qual.split(".") if qual else []:
            obj = getattr(obj, part)
    else:
        raise ValueError("malformed target")
    for step in target.get("path", []):
        kind, value = step
        if kind == "attr":
            try:
                obj = getattr(obj, value)
            except AttributeError:
                raise _Absent(_describe_path(target)) from None
        elif kind == "item":
            key = codec.decode(value)
            try:
                obj = obj[key]
            except (KeyError, IndexError, TypeError):
                raise _Absent(_describe_path(target)) from None
        else:
            raise ValueError("malformed target path")
    return obj


def _tensors(value: Any) -> Any:
    """Tensors arrive as arrays; on the learner's side they become torch tensors again."""
    if isinstance(value, codec.TensorData):
        import torch

        dtype = getattr(torch, value.torch_dtype.removeprefix("torch."), None)
        tensor = torch.tensor(value.view(type=__import__("numpy").ndarray), dtype=dtype)
        if value.requires_grad and tensor.is_floating_point():
            tensor.requires_grad_()
        return tensor
    if type(value) is list:
        return [_tensors(v) for v in value]
    if type(value) is tuple:
        return tuple(_tensors(v) for v in value)
    if type(value) is dict:
        return {k: _tensors(v) for k, v in value.items()}
    return value


def _convert(value: Any, convert: str | None) -> Any:
    if not convert:
        return value
    module, _, name = convert.partition(":")
    fn = getattr(importlib.import_module(module), name)
    return fn(value)


def _raised(exc: BaseException) -> dict:
    where = ""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None:
        where = f"line {tb.tb_lineno} of `{tb.tb_frame.f_code.co_name}`"
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - a hostile __str__
        message = "<the error's message could not be shown>"
    mro = []
    for cls in type(exc).__mro__:
        module = getattr(cls, "__module__", "")
        mro.append(cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}")
    return {
        "type": type(exc).__name__,
        "mro": mro[:20],
        "message": message[:MAX_MESSAGE],
        "where": where,
    }


def _encode_result(value: Any, keep: bool, convert: str | None) -> dict:
    if keep:
        return {"ref": _keep(value)}
    return {"value": codec.encode(_convert(value, convert))}


def _call(request: dict, namespace: dict) -> dict:
    fn = _resolve(request["target"], namespace)
    raw_args = request.get("args", [])
    raw_kwargs = request.get("kwargs", [])

    def target(obj: dict) -> Any:
        return _resolve(obj, namespace)

    args = [_tensors(codec.decode(a, target=target)) for a in raw_args]
    kwargs = {str(k): _tensors(codec.decode(v, target=target)) for k, v in raw_kwargs}
    limit = request.get("time_limit")
    started = time.perf_counter()
    try:
        with _alarm(limit):
            result = fn(*args, **kwargs)
    except _TimeLimit:
        return {"too_slow": limit}
    except NotImplementedError:
        return {"not_attempted": True}
    except Exception as exc:  # noqa: BLE001 - any learner error is reported
        return {"raised": _raised(exc)}
    if limit is not None and time.perf_counter() - started > limit:
        return {"too_slow": limit}
    if not request.get("may_modify"):
        for index, (raw, now) in enumerate(zip(raw_args, args)):
            if _changed(raw, now):
                return {"modified": {"index": index}}
        for key, raw in raw_kwargs:
            if _changed(raw, kwargs[str(key)]):
                return {"modified": {"keyword": str(key)}}
    return _encode_result(result, bool(request.get("keep")), request.get("convert"))


def _holds_target(raw: Any) -> bool:
    if isinstance(raw, dict):
        return raw.get("$") in ("target", "ref") or any(_holds_target(v) for v in raw.values())
    if isinstance(raw, list):
        return any(_holds_target(v) for v in raw)
    return False


def _changed(raw: Any, now: Any) -> bool:
    """Whether a decoded argument no longer matches what was sent (changed in place)."""
    if _holds_target(raw):
        return False  # it holds live objects of the learner's side: not data to compare
    if not isinstance(raw, dict) and not isinstance(raw, list):
        return False
    try:
        return codec.dumps(codec.encode(now)) != codec.dumps(raw)
    except Exception:  # noqa: BLE001 - it could not even be encoded again
        return True


def perform(request: dict, namespace: dict) -> dict:
    """Serve one request against ``namespace`` (the learner's globals)."""
    op = request.get("op")
    try:
        if op == "get":
            value = _resolve(request["target"], namespace)
            return _encode_result(value, bool(request.get("keep")), request.get("convert"))
        if op == "call":
            return _call(request, namespace)
        if op == "same":
            a = _resolve(request["a"], namespace)
            b = _resolve(request["b"], namespace)
            return {"value": a is b}
        if op == "release":
            _KEPT.clear()
            return {"value": None}
        return {"error": f"unknown operation {op!r}"}
    except _Missing as missing:
        return {"missing": str(missing)}
    except _Absent as absent:
        return {"absent": str(absent)}
    except codec.CodecError as exc:
        return {"error": f"encoding: {exc}"}
    except Exception as exc:  # noqa: BLE001 - e.g. a converter failed on the learner's object
        return {"raised": _raised(exc)}


def _namespace() -> dict:
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover
        shell = None
    if shell is not None:
        return shell.user_ns
    return vars(sys.modules["__main__"])


def serve(payload: str, nonce: str) -> None:
    """Entry point for a grading kernel: answer one base64 request on stdout."""
    try:
        request = codec.loads(base64.b64decode(payload).decode("utf-8"))
        response = perform(request, _namespace())
        text = codec.dumps(response)
    except Exception as exc:  # noqa: BLE001
        text = codec.dumps({"error": f"the kernel could not serve the check: {exc}"[:500]})
    sys.stdout.write(nonce + base64.b64encode(text.encode("utf-8")).decode("ascii") + "\n")
    sys.stdout.flush()
