"""The strict codec for what crosses between a learner's kernel and the checks.

The checks never look at a learner's live objects: every value they judge was
*encoded* where the learner's code runs and *decoded* where the checks run.
In the learner's own notebook both ends are one process; when an instructor
grades, the checks run in a trusted process that never ran student code, and
the value crosses as JSON text. Either way the checks see the same data.

The encoded form is JSON with tagged objects (``{"$": tag, ...}``) for what
JSON lacks:

* ``None``, ``bool``, ``int``, ``float`` (NaN and infinity included), ``str``
  and ``list`` are themselves;
* ``tuple``, ``dict`` (any keys, order kept), ``set``, ``frozenset``,
  ``bytes`` and ``complex`` are tagged;
* NumPy arrays of builtin dtypes (bool, integers, floats, complex, datetime,
  timedelta: raw bytes; strings and objects: their items), and NumPy scalars;
* pandas DataFrames, Series and Indexes as data (columns, index, values);
* PyTorch tensors as arrays, with their dtype and ``requires_grad``;
* ``opaque``: anything else, by type name and a capped ``repr``, so that a
  check can say "you returned a Foo" without ever holding the Foo;
* ``ref``: a handle to an object that stays in the kernel (see
  :mod:`mlcourse.check.learner`).

:func:`decode` accepts exactly these tags, with limits on size and depth, and
never calls a method of anything the kernel defined: a hostile kernel can send
wrong data, never code.
"""

from __future__ import annotations

import base64
import json
import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_TEXT = 256 * 1024 * 1024  # characters of encoded JSON accepted by decode_text
MAX_DEPTH = 60
MAX_REPR = 300
#: NumPy dtype kinds sent as raw bytes; "U" and "O" travel as items.
RAW_KINDS = frozenset("biufcMm")


class CodecError(ValueError):
    """A value cannot be encoded, or encoded data is malformed."""


@dataclass(frozen=True)
class Opaque:
    """An object that is not data: only its type name and a short ``repr`` crossed."""

    type: str
    repr: str

    def __str__(self) -> str:
        return f"a {self.type.rsplit('.', 1)[-1]} object"


@dataclass(frozen=True)
class RefHandle:
    """A decoded handle to an object kept in the learner's kernel."""

    id: int
    type: str


class TensorData(np.ndarray):
    """A tensor that crossed as an array; ``torch_dtype`` and ``requires_grad`` kept."""

    torch_dtype: str = ""
    requires_grad: bool = False

    def __array_finalize__(self, obj):
        self.torch_dtype = getattr(obj, "torch_dtype", "")
        self.requires_grad = getattr(obj, "requires_grad", False)


def type_name(value: Any) -> str:
    cls = type(value)
    module = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__qualname__", None) or getattr(cls, "__name__", "?")
    return name if module == "builtins" else f"{module}.{name}"


# -- encoding (runs where the learner's code runs) ----------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _safe_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a learner's __repr__ may raise
        text = f"<{type_name(value)} object>"
    if not isinstance(text, str):
        text = f"<{type_name(value)} object>"
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 3] + "..."


def _encode_array(arr: np.ndarray, depth: int, refs) -> dict:
    arr = np.asarray(arr)
    if type(arr) is not np.ndarray:  # a subclass (matrix, masked array): plain data
        arr = np.array(arr)
    dtype = arr.dtype
    shape = list(arr.shape)
    if dtype.kind in RAW_KINDS and not dtype.fields:
        data = np.ascontiguousarray(arr)
        return {"$": "ndarray", "dtype": dtype.str, "shape": shape, "b64": _b64(data.tobytes())}
    if dtype.kind == "U":
        return {"$": "ndarray", "dtype": dtype.str, "shape": shape, "items": arr.ravel().tolist()}
    if dtype.kind == "S":
        items = [_b64(x) for x in arr.ravel().tolist()]
        return {"$": "ndarray", "dtype": dtype.str, "shape": shape, "bytes": items}
    if dtype.kind == "O":
        items = [encode(x, depth + 1, refs) for x in arr.ravel().tolist()]
        return {"$": "ndarray", "dtype": "object", "shape": shape, "items": items}
    raise CodecError(f"cannot send an array of dtype {dtype} as data")


def _encode_index(index, depth: int, refs) -> dict:
    import pandas as pd

    if isinstance(index, pd.RangeIndex):
        return {
            "$": "index",
            "range": [int(index.start), int(index.stop), int(index.step)],
            "name": encode(index.name, depth + 1, refs),
        }
    if isinstance(index, pd.MultiIndex):
        return {
            "$": "index",
            "tuples": [encode(tuple(t), depth + 1, refs) for t in index.tolist()],
            "names": [encode(n, depth + 1, refs) for n in index.names],
        }
    return {
        "$": "index",
        "values": _encode_values(index, depth, refs),
        "name": encode(index.name, depth + 1, refs),
    }


def _encode_values(obj, depth: int, refs) -> dict:
    """A pandas column's values: NumPy-backed as an array, anything else as objects."""
    values = obj.to_numpy() if hasattr(obj, "to_numpy") else np.asarray(obj)
    values = np.asarray(values)
    if values.dtype.kind not in RAW_KINDS | {"U", "O"}:
        values = values.astype(object)
    return _encode_array(values, depth + 1, refs)


def encode(value: Any, depth: int = 0, refs=None) -> Any:
    """The JSON-able form of ``value``; anything that is not data becomes ``opaque``.

    ``refs``, when given, is a callable that turns an object into a ``ref``
    (used for values the caller chose to keep in the kernel).
    """
    if depth > MAX_DEPTH:
        raise CodecError("the value is nested too deeply to send")
    cls = type(value)
    if value is None or cls is bool or cls is str:
        return value
    if cls is int:
        return value if abs(value) < 2**63 else {"$": "bigint", "v": str(value)}
    if cls is float:
        return value
    if isinstance(value, np.generic):
        if isinstance(value, np.bool_):
            return {"$": "npscalar", "dtype": "|b1", "b64": _b64(np.asarray(value).tobytes())}
        arr = np.asarray(value)
        if arr.dtype.kind in RAW_KINDS:
            return {"$": "npscalar", "dtype": arr.dtype.str, "b64": _b64(arr.tobytes())}
        if arr.dtype.kind == "U":
            return str(value)
        return encode(value.item(), depth + 1, refs)
    if cls is list:
        return [encode(v, depth + 1, refs) for v in value]
    if cls is tuple:
        return {"$": "tuple", "v": [encode(v, depth + 1, refs) for v in value]}
    if cls is dict:
        items = [[encode(k, depth + 1, refs), encode(v, depth + 1, refs)] for k, v in value.items()]
        return {"$": "dict", "items": items}
    if cls is set or cls is frozenset:
        tag = "set" if cls is set else "frozenset"
        # In a canonical order: a set's iteration order depends on the process's
        # hash seed, and the same set must encode the same on both sides.
        members = [encode(v, depth + 1, refs) for v in value]
        return {"$": tag, "v": sorted(members, key=dumps)}
    if cls is bytes or cls is bytearray:
        return {"$": "bytes", "b64": _b64(bytes(value))}
    if cls is complex:
        return {"$": "complex", "re": value.real, "im": value.imag}
    if isinstance(value, np.ndarray):
        return _encode_array(value, depth, refs)
    module = getattr(cls, "__module__", "") or ""
    if module.startswith("pandas") and "pandas" in sys.modules:
        import pandas as pd

        if isinstance(value, pd.DataFrame):
            return {
                "$": "dataframe",
                "columns": _encode_index(value.columns, depth, refs),
                "index": _encode_index(value.index, depth, refs),
                "data": [
                    _encode_values(value.iloc[:, i], depth, refs) for i in range(value.shape[1])
                ],
                "dtypes": [str(d) for d in value.dtypes],
            }
        if isinstance(value, pd.Series):
            return {
                "$": "series",
                "name": encode(value.name, depth + 1, refs),
                "index": _encode_index(value.index, depth, refs),
                "values": _encode_values(value, depth, refs),
                "dtype": str(value.dtype),
            }
        if isinstance(value, pd.Index):
            return _encode_index(value, depth, refs)
    if module.startswith("torch") and "torch" in sys.modules:
        import torch

        if isinstance(value, torch.Tensor):
            arr = value.detach().cpu()
            if arr.dtype == torch.bfloat16:
                arr = arr.float()
            return {
                "$": "tensor",
                "dtype": str(value.dtype),
                "requires_grad": bool(value.requires_grad),
                "array": _encode_array(arr.numpy(), depth, refs),
            }
    # Builtin subclasses (an IntEnum, a str subclass...) travel as their base value.
    for base in (bool, int, float, str):
        if isinstance(value, base):
            try:
                return encode(base(value), depth + 1, refs)
            except Exception:  # noqa: BLE001 - a hostile conversion
                break
    if refs is not None:
        return refs(value)
    return {"$": "opaque", "type": type_name(value), "repr": _safe_repr(value)}


# -- decoding (runs where the checks run) -------------------------------------------


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise CodecError("malformed bytes")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except Exception as exc:  # noqa: BLE001
        raise CodecError(f"malformed base64: {exc}") from None


def _dtype(text: Any) -> np.dtype:
    if not isinstance(text, str) or len(text) > 12:
        raise CodecError("malformed dtype")
    try:
        dtype = np.dtype(text)
    except TypeError:
        raise CodecError(f"unknown dtype {text!r}") from None
    if dtype.fields or dtype.subdtype:
        raise CodecError(f"structured dtype {text!r} is not accepted")
    return dtype


def _shape(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or len(value) > 32:
        raise CodecError("malformed shape")
    if not all(type(n) is int and 0 <= n < 2**40 for n in value):
        raise CodecError("malformed shape")
    return tuple(value)


def _decode_array(obj: dict, depth: int, ref) -> np.ndarray:
    shape = _shape(obj.get("shape"))
    size = math.prod(shape)
    if obj.get("dtype") == "object":
        items = obj.get("items")
        if not isinstance(items, list) or len(items) != size:
            raise CodecError("an object array's items do not match its shape")
        out = np.empty(size, dtype=object)
        for i, item in enumerate(items):
            out[i] = decode(item, depth + 1, ref)
        return out.reshape(shape)
    dtype = _dtype(obj.get("dtype"))
    if dtype.kind in RAW_KINDS:
        data = _unb64(obj.get("b64"))
        if len(data) != size * dtype.itemsize:
            raise CodecError("an array's bytes do not match its shape and dtype")
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if dtype.kind == "U":
        items = obj.get("items")
        if not isinstance(items, list) or len(items) != size:
            raise CodecError("a string array's items do not match its shape")
        if not all(type(x) is str for x in items):
            raise CodecError("a string array holds something that is not a string")
        return np.array(items, dtype=dtype).reshape(shape)
    if dtype.kind == "S":
        items = obj.get("bytes")
        if not isinstance(items, list) or len(items) != size:
            raise CodecError("a bytes array's items do not match its shape")
        return np.array([_unb64(x) for x in items], dtype=dtype).reshape(shape)
    raise CodecError(f"dtype {dtype} is not accepted")


def _decode_index(obj: Any, depth: int, ref):
    import pandas as pd

    if not isinstance(obj, dict) or obj.get("$") != "index":
        raise CodecError("malformed index")
    if "range" in obj:
        r = obj["range"]
        if not (isinstance(r, list) and len(r) == 3 and all(type(n) is int for n in r)):
            raise CodecError("malformed range index")
        return pd.RangeIndex(r[0], r[1], r[2], name=_hashable(decode(obj.get("name"), depth, ref)))
    if "tuples" in obj:
        tuples = [decode(t, depth + 1, ref) for t in obj["tuples"]]
        if not all(isinstance(t, tuple) for t in tuples):
            raise CodecError("malformed multi-index")
        names = [_hashable(decode(n, depth + 1, ref)) for n in obj.get("names", [])]
        return pd.MultiIndex.from_tuples(tuples, names=names or None)
    values = _decode_array(obj.get("values") or {}, depth + 1, ref)
    return pd.Index(values, name=_hashable(decode(obj.get("name"), depth, ref)))


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        raise CodecError("a name or key is not hashable") from None
    return value


def _pandas_dtype(text: Any):
    if not isinstance(text, str) or len(text) > 40:
        raise CodecError("malformed pandas dtype")
    return text


def _column(values: np.ndarray, dtype: str, index):
    import pandas as pd

    # An object column stays object (pandas 3 would infer its own string dtype).
    series = pd.Series(values, index=index, copy=False, dtype=object if dtype == "object" else None)
    if dtype in ("category", "string", "str", "boolean", "Int64", "Float64") or dtype.startswith(
        ("datetime64", "timedelta64")
    ):
        try:
            series = series.astype(dtype)
        except (TypeError, ValueError):
            pass
    return series


def decode(obj: Any, depth: int = 0, ref=None, target=None) -> Any:
    """Data from its encoded form; raises :class:`CodecError` for anything else.

    ``ref`` turns a ``ref`` tag into something useful at this end (a handle
    where the checks run). ``target``, given only in the kernel, resolves a
    ``target`` tag: an argument that names an object living in the kernel.
    """
    if depth > MAX_DEPTH:
        raise CodecError("the data is nested too deeply")
    cls = type(obj)
    if obj is None or cls is bool or cls is str or cls is float:
        return obj
    if cls is int:
        return obj
    if cls is list:
        return [decode(v, depth + 1, ref, target) for v in obj]
    if cls is not dict:
        raise CodecError(f"unexpected {cls.__name__} in encoded data")
    tag = obj.get("$")
    if tag == "tuple":
        return tuple(decode(v, depth + 1, ref, target) for v in _list(obj.get("v")))
    if tag == "dict":
        out = {}
        for pair in _list(obj.get("items")):
            if type(pair) is not list or len(pair) != 2:
                raise CodecError("malformed dict item")
            out[_hashable(decode(pair[0], depth + 1, ref, target))] = decode(
                pair[1], depth + 1, ref, target
            )
        return out
    if tag in ("set", "frozenset"):
        items = [_hashable(decode(v, depth + 1, ref, target)) for v in _list(obj.get("v"))]
        return set(items) if tag == "set" else frozenset(items)
    if tag == "bytes":
        return _unb64(obj.get("b64"))
    if tag == "bigint":
        text = obj.get("v")
        if not isinstance(text, str) or len(text) > 4000:
            raise CodecError("malformed big integer")
        try:
            return int(text)
        except ValueError:
            raise CodecError("malformed big integer") from None
    if tag == "complex":
        re_, im = obj.get("re"), obj.get("im")
        if type(re_) not in (int, float) or type(im) not in (int, float):
            raise CodecError("malformed complex number")
        return complex(re_, im)
    if tag == "ndarray":
        return _decode_array(obj, depth, ref)
    if tag == "npscalar":
        dtype = _dtype(obj.get("dtype"))
        if dtype.kind not in RAW_KINDS:
            raise CodecError("malformed NumPy scalar")
        data = _unb64(obj.get("b64"))
        if len(data) != dtype.itemsize:
            raise CodecError("malformed NumPy scalar")
        return np.frombuffer(data, dtype=dtype)[0]
    if tag == "tensor":
        arr = _decode_array(obj.get("array") or {}, depth + 1, ref).view(TensorData)
        dtype = obj.get("dtype")
        if not isinstance(dtype, str) or len(dtype) > 40:
            raise CodecError("malformed tensor dtype")
        arr.torch_dtype = dtype
        arr.requires_grad = bool(obj.get("requires_grad") is True)
        return arr
    if tag == "index":
        return _decode_index(obj, depth, ref)
    if tag == "series":
        import pandas as pd

        index = _decode_index(obj.get("index"), depth + 1, ref)
        values = _decode_array(obj.get("values") or {}, depth + 1, ref)
        if len(values) != len(index):
            raise CodecError("a Series' values do not match its index")
        series = _column(values, _pandas_dtype(obj.get("dtype", "")), index)
        return pd.Series(series, name=_hashable(decode(obj.get("name"), depth + 1, ref)))
    if tag == "dataframe":
        import pandas as pd

        columns = _decode_index(obj.get("columns"), depth + 1, ref)
        index = _decode_index(obj.get("index"), depth + 1, ref)
        data = _list(obj.get("data"))
        dtypes = _list(obj.get("dtypes"))
        if len(data) != len(columns) or len(dtypes) != len(columns):
            raise CodecError("a DataFrame's columns do not match its data")
        cols = []
        for encoded, dtype in zip(data, dtypes):
            values = _decode_array(encoded, depth + 1, ref)
            if len(values) != len(index):
                raise CodecError("a DataFrame column does not match its index")
            cols.append(_column(values, _pandas_dtype(dtype), index))
        frame = pd.concat(cols, axis=1) if cols else pd.DataFrame(index=index)
        frame.columns = columns
        return frame
    if tag == "target" and target is not None:
        return target(obj)
    if tag == "opaque":
        type_, text = obj.get("type"), obj.get("repr")
        if not isinstance(type_, str) or not isinstance(text, str):
            raise CodecError("malformed opaque value")
        return Opaque(type_[:200], text[:MAX_REPR])
    if tag == "ref":
        ident, type_ = obj.get("id"), obj.get("type")
        if type(ident) is not int or not isinstance(type_, str):
            raise CodecError("malformed reference")
        return ref(ident, type_[:200]) if ref else RefHandle(ident, type_[:200])
    raise CodecError(f"unknown tag {str(tag)[:40]!r} in encoded data")


def _list(value: Any) -> list:
    if type(value) is not list:
        raise CodecError("malformed encoded data: a list was expected")
    return value


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def loads(text: str) -> Any:
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise CodecError("the encoded data is too large")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"malformed JSON: {str(exc)[:200]}") from None


def roundtrip(value: Any) -> Any:
    """``value`` as the checks would see it: encoded, serialised, parsed and decoded."""
    return decode(loads(dumps(encode(value))))
