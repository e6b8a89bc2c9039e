"""Converters: turn a learner's object into data, on the learner's side.

A check asks for one by name, ``t.value("model", convert="mlcourse.check.convert:module_summary")``
or ``t.call("build_pipeline", keep=False, convert=...)``; it runs where the
object lives and only its data result crosses to the checks. Each converter
takes the object and returns data (:mod:`mlcourse.check.codec`).
"""

from __future__ import annotations

from typing import Any

from mlcourse.check import codec


def type_of(obj: Any) -> dict:
    """The object's type and the names of its classes, most specific first."""
    mro = []
    for cls in type(obj).__mro__:
        module = getattr(cls, "__module__", "")
        mro.append(cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}")
    return {"type": mro[0], "mro": mro}


def _data_or_type(value: Any) -> Any:
    """``value`` if it is plain data, else its type name (for parameters and attributes)."""
    encoded = codec.encode(value)
    if isinstance(encoded, dict) and encoded.get("$") == "opaque":
        return f"<{encoded['type']}>"
    return value


def estimator(est: Any) -> dict:
    """A scikit-learn estimator: its class, its parameters, and which fitted attributes it has."""
    params = {}
    if hasattr(est, "get_params"):
        params = {k: _data_or_type(v) for k, v in est.get_params(deep=False).items()}
    fitted = (
        sorted(name for name in vars(est) if name.endswith("_") and not name.startswith("_"))
        if hasattr(est, "__dict__")
        else []
    )
    return {**type_of(est), "params": params, "fitted": fitted}


def steps(obj: Any) -> list:
    """The parts of a Pipeline, ColumnTransformer or nn.Sequential: (name, type, columns)."""
    out = []
    if hasattr(obj, "steps"):  # Pipeline
        for name, step in obj.steps:
            out.append([name, type_of(step)["type"], None])
    elif hasattr(obj, "transformers"):  # ColumnTransformer
        for name, part, columns in obj.transformers:
            cols = list(columns) if not isinstance(columns, str | slice) else columns
            kind = part if isinstance(part, str) else type_of(part)["type"]
            out.append([name, kind, _data_or_type(cols)])
    elif hasattr(obj, "named_children"):  # torch modules
        for name, child in obj.named_children():
            out.append([name, type_of(child)["type"], None])
    return out


def module_summary(module: Any) -> dict:
    """A torch module: its layers in order, their parameter shapes, and the totals."""
    layers = []
    for name, child in module.named_modules():
        if name == "":
            continue
        own = {pname: list(p.shape) for pname, p in child.named_parameters(recurse=False)}
        extra = {}
        for attr in (
            "in_features",
            "out_features",
            "in_channels",
            "out_channels",
            "kernel_size",
            "stride",
            "padding",
            "p",
            "num_features",
            "normalized_shape",
            "embed_dim",
            "num_heads",
            "input_size",
            "hidden_size",
            "num_layers",
            "batch_first",
            "bidirectional",
            "num_embeddings",
            "embedding_dim",
            "dropout",
        ):
            if hasattr(child, attr):
                extra[attr] = _data_or_type(getattr(child, attr))
        layers.append({"name": name, "type": type_of(child)["type"], "params": own, **extra})
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return {
        **type_of(module),
        "layers": layers,
        "parameters": int(total),
        "trainable": int(trainable),
        "training": bool(getattr(module, "training", False)),
    }


def state_dict(module: Any) -> dict:
    """A torch module's parameters and buffers, as arrays."""
    return {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def dense(matrix: Any) -> Any:
    """A dense NumPy array from a dense or sparse matrix."""
    import numpy as np

    return np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix)


def json_schema(model: Any) -> dict:
    """A pydantic model class's JSON schema."""
    return model.model_json_schema()


def pydantic_dump(obj: Any) -> dict:
    """A pydantic model instance as a plain dict."""
    return obj.model_dump()


def attrs(obj: Any, names: list[str]) -> dict:
    """Selected attributes of an object, as data (missing ones left out)."""
    return {n: _data_or_type(getattr(obj, n)) for n in names if hasattr(obj, n)}


def length(obj: Any) -> int:
    return len(obj)


def as_list(obj: Any) -> list:
    """Any iterable (a generator, a dataset) as a list."""
    return list(obj)
