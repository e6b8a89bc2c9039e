"""Checks for ``02_frameworks/backprop_from_scratch.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks and the hints, never
a solution or a hidden test.

The learner's ``Value`` objects never cross to the checks. The checks build
them on the learner's side (``t.call("Value", 2.0, keep=True)``), combine
them there, and read back plain numbers: a node's data, gradient and
operation name (:func:`node`), or the gradients of a whole graph. Expected
values come from PyTorch (float64), computed here.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from mlcourse.check import choice, number, problem
from mlcourse.check.judge import Ref
from mlcourse.check.outcomes import NotAttempted

HERE = "mlcourse.exercises.backprop_from_scratch"


# -- course code that runs on the learner's side ----------------------------------------
#
# Called by name (t.call(f"{HERE}:node", ...)), these run where the learner's
# objects live and return data only.


def node(value) -> dict:
    """One Value as data: its number, gradient, operation name and inputs."""
    prev = value._prev
    return {
        "data": value.data,
        "grad": value.grad,
        "op": value._op,
        "inputs": len(prev),
        "prev_type": type(prev).__name__,
        "type": type(value).__name__,
    }


def push(value, upstream: float) -> None:
    """Give one node the gradient ``upstream`` and run that node's own backward step only."""
    value.grad = upstream
    value._backward()


def op_step(value_class, fn, a: float, args, before: float, upstream: float) -> dict:
    """One operation on a fresh leaf that already holds a gradient, then its backward step."""
    leaf = value_class(a)
    leaf.grad = before
    out = fn(leaf, *args)
    data = out.data
    out.grad = upstream
    out._backward()
    return {
        "data": data,
        "grad": leaf.grad,
        "inputs": len(out._prev),
        "from_leaf": len(out._prev) == 1 and out._prev[0] is leaf,
        "new": out is not leaf,
    }


def stubs(value_class, parts, neuron_class=None) -> list[str]:
    """Which of the engine's ``parts`` still raise NotImplementedError (their exercise is open)."""
    a, b = value_class(0.5), value_class(-1.5)
    tries = {
        "+ (exercise 1)": lambda: a + b,
        "* (exercise 1)": lambda: a * b,
        "backward (exercise 2)": lambda: a.backward(),
        "exp (exercise 3)": lambda: a.exp(),
        "log (exercise 3)": lambda: a.log(),
        "tanh (exercise 3)": lambda: a.tanh(),
        "relu (exercise 3)": lambda: a.relu(),
        "Neuron (exercise 4)": lambda: neuron_class(2)([1.0, 2.0]),
    }
    missing = []
    for part in parts:
        try:
            tries[part]()
        except NotImplementedError:
            missing.append(part)
        except Exception:  # noqa: BLE001 - any other error is for the checks to report
            pass
    return missing


def gradients(values) -> list:
    """The gradients of a list of Values."""
    return [v.grad for v in values]


def set_grads(values, grads) -> None:
    """Give each Value a gradient it already holds (as if from another consumer)."""
    for v, g in zip(values, grads):
        v.grad = g


def run_program(program, leaves, tail: int = 0, keep: list | None = None):
    """Evaluate a list of operations on ``leaves`` (Values, or float64 tensors for a reference).

    Each operation is ``(name, i, j, c)``: it reads nodes ``i`` and ``j`` (leaves first,
    then the results so far) and a constant ``c``, and appends its result. The output
    is the last result plus the ``tail`` results before it. With ``keep``, every node
    an operation makes is appended to it as it is made (only the operations that use
    the primitives directly: + * ** exp log tanh relu).
    """

    def made(v):
        if keep is not None:
            keep.append(v)
        return v

    nodes = list(leaves)
    for name, i, j, c in program:
        p, q = nodes[i], nodes[j]
        if name == "add":
            out = made(p + q)
        elif name == "mul":
            out = made(p * q)
        elif name == "addc":
            out = made(p + c)
        elif name == "mulc":
            out = made(p * c)
        elif name == "sub":
            out = p - q
        elif name == "neg":
            out = -p
        elif name == "radd":
            out = c + p
        elif name == "rmul":
            out = c * p
        elif name == "rsub":
            out = c - p
        elif name == "div":
            out = p / (q * q + 1.0)
        elif name == "pow2":
            out = made(p**2)
        elif name == "pow3":
            out = made(p**3)
        elif name == "sqrt":
            out = made(made(made(p * p) + 0.25) ** 0.5)
        elif name == "recip":
            out = made(made(made(p * p) + 0.5) ** -1.0)
        elif name == "exp":
            out = made(made(p.tanh()).exp())
        elif name == "exp_raw":
            out = made(made(p * 0.1).exp())
        elif name == "log":
            out = made(made(made(p * p) + 1.0).log())
        elif name == "tanh":
            out = made(made(p * c).tanh())
        elif name == "relu":
            out = made(made(p + 0.3 * c).relu())
        else:
            raise ValueError(f"unknown operation {name!r}")
        nodes.append(out)
    total = nodes[-1]
    for extra in nodes[len(nodes) - 1 - tail : -1]:
        total = made(total + extra)
    return total


def random_program(seed: int, n_leaves: int, n_ops: int, ops, recent: int | None = None) -> list:
    """A reproducible random program for :func:`run_program`."""
    rng = np.random.default_rng(seed)
    program = []
    for k in range(n_ops):
        lo = 0 if recent is None else max(0, n_leaves + k - recent)
        i, j = (int(v) for v in rng.integers(lo, n_leaves + k, size=2))
        const = float(rng.uniform(0.5, 2.0) * rng.choice([-1.0, 1.0]))
        program.append((str(ops[int(rng.integers(len(ops)))]), i, j, const))
    return program


def graph(value_class, values, program, tail: int = 0) -> dict:
    """Fresh leaves made from ``values`` and the output of ``program`` on them, kept together."""
    leaves = [value_class(v) for v in values]
    return {"leaves": leaves, "out": run_program(program, leaves, tail)}


def graph_grads(g: dict) -> dict:
    """A graph's gradients as data: the output's own, and each leaf's."""
    return {"out": g["out"].grad, "data": g["out"].data, "leaves": [v.grad for v in g["leaves"]]}


def tape_gradients(value_class, values, program, tail: int = 0, upstream: float = 1.0) -> dict:
    """Run ``program`` on fresh Values, then every recorded node's backward step, newest first.

    Only each operation's own backward step is used: the nodes were recorded as
    they were made, so the newest comes first among its consumers and no graph
    search is needed. This tests the operations without the learner's backward().
    """
    leaves = [value_class(v) for v in values]
    tape: list = []
    out = run_program(program, leaves, tail, keep=tape)
    out.grad = upstream
    for made in reversed(tape):
        made._backward()
    return {"data": out.data, "grads": [leaf.grad for leaf in leaves]}


def make_neuron(neuron_class, weights, bias, activation):
    """A learner's Neuron with the given weights and bias."""
    neuron = neuron_class(len(weights), activation=activation)
    for w, value in zip(neuron.w, weights):
        w.data = float(value)
    neuron.b.data = float(bias)
    return neuron


def neuron_grads(neuron, inputs) -> dict:
    """Run a neuron on ``inputs`` (numbers or Values), back-propagate, report the gradients."""
    out = neuron(inputs)
    for p in [*neuron.w, neuron.b]:
        p.grad = 0.0
    out.backward()
    return {
        "data": out.data,
        "w": [w.grad for w in neuron.w],
        "b": neuron.b.grad,
        "inputs": [getattr(x, "grad", None) for x in inputs],
    }


def value_inputs(value_class, values) -> list:
    """A list of fresh Values (a neuron's inputs that can receive gradients)."""
    return [value_class(v) for v in values]


def make_mlp(mlp_class, sizes, flat, seed: int = 0):
    """A learner's MLP whose parameters are ``flat``: per layer, per neuron, weights then bias."""
    model = mlp_class(sizes, seed=seed)
    k = 0
    for layer in model.layers:
        for neuron in layer.neurons:
            for w in neuron.w:
                w.data = float(flat[k])
                k += 1
            neuron.b.data = float(flat[k])
            k += 1
    if k != len(flat):
        raise ValueError(f"{len(flat)} numbers for {k} parameters")
    return model


def mlp_state(model) -> dict:
    """An MLP's parameters and gradients as two flat lists, in :func:`make_mlp`'s order."""
    data, grads = [], []
    for layer in model.layers:
        for neuron in layer.neurons:
            for p in [*neuron.w, neuron.b]:
                data.append(p.data)
                grads.append(p.grad)
    return {"data": data, "grads": grads}


# -- references, computed on the checks' side ----------------------------------------


def tensors(values) -> list:
    return [torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for v in values]


def torch_program(values, program, tail: int = 0, upstream: float = 1.0) -> tuple[float, list]:
    """PyTorch's value and leaf gradients for :func:`run_program` (float64)."""
    leaves = tensors(values)
    out = run_program(program, leaves, tail)
    out.backward(torch.tensor(upstream, dtype=torch.float64))
    return out.item(), [0.0 if v.grad is None else v.grad.item() for v in leaves]


def torch_op(op, a: float, upstream: float) -> tuple[float, float]:
    """PyTorch's value and input gradient of one operation on one number."""
    (x,) = tensors([a])
    out = op(x)
    out.backward(torch.tensor(upstream, dtype=torch.float64))
    return out.item(), x.grad.item()


TORCH_OPS = {
    "value_exp": torch.exp,
    "value_log": torch.log,
    "value_tanh": torch.tanh,
    "value_relu": torch.relu,
}


def torch_neuron(weights, bias, inputs, activation) -> dict:
    w = torch.tensor(weights, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(float(bias), dtype=torch.float64, requires_grad=True)
    x = torch.tensor(inputs, dtype=torch.float64, requires_grad=True)
    out = w @ x + b
    if activation == "tanh":
        out = torch.tanh(out)
    elif activation == "relu":
        out = torch.relu(out)
    out.backward()
    return {"data": out.item(), "w": w.grad.numpy(), "b": b.grad.item(), "inputs": x.grad.numpy()}


def torch_mlp_loss(flat, sizes, X, y, activation: str = "tanh"):
    """Mean logistic loss of an MLP (tanh hidden layers, linear output) from flat parameters."""
    layers, k = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        block = flat[k : k + n_out * (n_in + 1)].reshape(n_out, n_in + 1)
        layers.append((block[:, :n_in], block[:, n_in]))
        k += n_out * (n_in + 1)
    total = torch.zeros((), dtype=torch.float64)
    for index in range(len(X)):
        h = torch.tensor(X[index], dtype=torch.float64)
        for depth, (weights, bias) in enumerate(layers):
            h = weights @ h + bias
            if depth < len(layers) - 1 and activation == "tanh":
                h = torch.tanh(h)
        total = total + torch.nn.functional.softplus(h[0]) - y[index] * h[0]
    return total / len(X)


def torch_descent(flat, sizes, X, y, lr: float, steps: int) -> list[dict]:
    """Plain gradient descent with PyTorch: the loss and gradient before each step, and after."""
    theta = torch.tensor(flat, dtype=torch.float64)
    out = []
    for _ in range(steps):
        t_ = theta.clone().requires_grad_(True)
        loss = torch_mlp_loss(t_, sizes, X, y)
        (g,) = torch.autograd.grad(loss, t_)
        theta = theta - lr * g
        out.append({"loss": loss.item(), "grads": g.numpy(), "after": theta.numpy().copy()})
    return out


def affine(x, W, b):
    """The affine layer's forward pass, for PyTorch to differentiate."""
    return x @ W + b


def torch_grads(fn, dout, *arrays) -> list[np.ndarray]:
    """Gradients of sum(fn(*tensors) * dout) with respect to each array (float64)."""
    ts = [torch.tensor(np.asarray(a, dtype=float), requires_grad=True) for a in arrays]
    fn(*ts).backward(torch.tensor(np.asarray(dout, dtype=float)))
    return [t.grad.numpy() for t in ts]


def torch_cross_entropy(logits, y) -> tuple[float, np.ndarray]:
    """Loss and gradient of the mean softmax cross-entropy (float64)."""
    z = torch.tensor(np.asarray(logits, dtype=float), requires_grad=True)
    loss = torch.nn.functional.cross_entropy(z, torch.as_tensor(np.asarray(y), dtype=torch.long))
    loss.backward()
    return loss.item(), z.grad.numpy()


def _named(ref, label: str):
    """The same Ref, shown as ``label`` in what the checks say they called."""
    return Ref({**ref._target, "label": label})


def _needs(t, *parts, neuron: bool = False) -> None:
    """Stop with a clear message when an earlier exercise this check relies on is a stub."""
    extra = [t.ref("Neuron")] if neuron else []
    missing = t.call(f"{HERE}:stubs", t.ref("Value"), list(parts), *extra)
    t.called = None
    if missing:
        one = len(missing) == 1
        todo = (
            f"this check uses your {', '.join(missing)}, "
            + (
                "still a stub: finish it and run its cell"
                if one
                else "still stubs: finish them and run their cells"
            )
            + ", then run this check again"
        )
        raise NotAttempted(t.exercise, [("todo", todo)])


def _leaves(t, *values):
    return [t.call("Value", v, keep=True) for v in values]


def _output(t, g):
    """The output node of a kept graph, as a Ref of its own (shown as L)."""
    return _named(t.call("operator:getitem", g, "out", keep=True), "L")


def _node(t, ref) -> dict:
    return _quietly(t, lambda: t.value(ref, convert=f"{HERE}:node"))


def _quietly(t, request):
    """Run a helper request without replacing what the check says it called."""
    saved = t.called
    try:
        return request()
    finally:
        t.called = saved


def _set_grads(t, refs, grads) -> None:
    _quietly(t, lambda: t.call(f"{HERE}:set_grads", refs, grads, may_modify=True))


def _grads(t, refs) -> list:
    return _quietly(t, lambda: t.call(f"{HERE}:gradients", list(refs), may_modify=True))


def _push(t, ref, upstream: float) -> None:
    _quietly(t, lambda: t.call(f"{HERE}:push", ref, upstream))


# -- exercise 1 ---------------------------------------------------------------------------


@problem(
    "value_add_mul",
    hints=(
        "Each operation makes a new node that remembers its two inputs, and leaves behind "
        "a small recipe that, run later, passes its gradient back to both inputs in "
        "proportion to how much each one moved the result.",
        "Wrap a plain number in a Value first. Build the output node from the result, the "
        "pair of inputs and the operation's symbol. Then define an inner function that adds "
        "the local derivative times the output's gradient to each input's gradient, store it "
        "on the output, and return the output.",
        "The local derivatives: for a sum, 1 for both inputs; for a product, the OTHER "
        "input's data. The inner function must add (plus-equals) into the inputs' gradients, "
        "never assign them, so that a node used twice gets both contributions.",
    ),
)
def _value_add_mul(t):
    a, c = _leaves(t, 2.0, -3.0)
    s = t.call("value_add", a, c, keep=True)
    t.instance(s, "Value", "Return a new Value, not a float.")
    info = _node(t, s)
    t.close(info["data"], -1.0, what="(2 + -3).data")
    t.equal(info["op"], "+", what="(a + c)._op", nudge="Record the operation's symbol, '+'.")
    t.true(
        info["inputs"] == 2 and t.same(s._prev[0], a) and t.same(s._prev[1], c),
        "the output's _prev is not (self, other)",
        "Build the output as a Value of (data, (self, other), '+') so the graph remembers "
        "its inputs.",
    )
    _push(t, s, 1.5)
    t.close(
        _grads(t, [a, c]),
        [1.5, 1.5],
        what="[a.grad, c.grad] after (a + c)._backward() with out.grad = 1.5",
        nudge="Addition passes the upstream gradient out.grad unchanged to both inputs.",
    )

    a, c = _leaves(t, 2.0, -3.0)
    p = t.call("value_mul", a, c, keep=True)
    info = _node(t, p)
    t.close(info["data"], -6.0, what="(2 * -3).data")
    t.equal(info["op"], "*", what="(a * c)._op", nudge="Record the operation's symbol, '*'.")
    _push(t, p, 2.0)
    t.close(
        _grads(t, [a, c]),
        [-6.0, 4.0],
        what="[a.grad, c.grad] after (a * c)._backward() with out.grad = 2",
        wrong={
            "The derivative of a * c with respect to a is c (the OTHER input): swapped?": [
                4.0,
                -6.0,
            ],
            "Multiply the local derivative by the upstream gradient out.grad.": [-3.0, 2.0],
        },
    )

    (a,) = _leaves(t, 3.0)
    sq = t.call("value_mul", a, a, keep=True)
    _push(t, sq, 1.0)
    t.close(
        _grads(t, [a]),
        [6.0],
        what="a.grad after (a * a)._backward() with a = 3",
        wrong={"a is both inputs of a * a: accumulate with +=, do not overwrite with =.": [3.0]},
    )
    (a,) = _leaves(t, 1.0)
    _set_grads(t, [a], [10.0])
    s = t.call("value_add", a, 2.0, keep=True)
    _push(t, s, 1.0)
    t.close(
        _grads(t, [a]),
        [11.0],
        what="a.grad: 10 already there, then (a + 2)._backward()",
        wrong={"Gradients from several consumers add up: use +=, not =.": [1.0]},
    )

    (a,) = _leaves(t, 4.0)
    got = [
        _node(t, t.call("operator:add", a, 1, keep=True))["data"],
        _node(t, t.call("operator:add", 1, a, keep=True))["data"],
        _node(t, t.call("operator:mul", a, 3, keep=True))["data"],
        _node(t, t.call("operator:mul", 3, a, keep=True))["data"],
    ]
    t.close(
        got,
        [5.0, 5.0, 12.0, 12.0],
        what="[a + 1, 1 + a, a * 3, 3 * a] with a = 4",
        nudge="Wrap a plain number in a Value before using it (check with isinstance).",
    )
    want_data, want = torch_program([0.7, -1.3], [("mul", 0, 1, 0.0), ("add", 2, 0, 0.0)])
    got = t.call(
        f"{HERE}:tape_gradients",
        t.ref("Value"),
        [0.7, -1.3],
        [("mul", 0, 1, 0.0), ("add", 2, 0, 0.0)],
    )
    t.close(got["data"], want_data, what="(a * c + a).data")
    t.close(got["grads"], want, what="the gradients of a * c + a (vs PyTorch)")


# -- exercise 2 ---------------------------------------------------------------------------

SQUARE = [("mul", 0, 1, 0.0), ("add", 3, 2, 0.0), ("mul", 4, 4, 0.0)]  # L = (w x + b)**2
DIAMOND = [("mul", 0, 1, 0.0), ("add", 3, 2, 0.0), ("mul", 3, 4, 0.0)]  # d = a c, L = d (d + k)


@problem(
    "value_backward",
    hints=(
        "A node may pass its gradient on only once every node that uses it has added its "
        "share, so the nodes must be visited in an order that respects the graph, starting "
        "from the output, and each node exactly once.",
        "Collect the nodes with a depth-first search that adds a node to the list only after "
        "all of its inputs are in it, and skips nodes it has already seen. Then set the "
        "output's gradient to one and run every node's backward step, walking the list from "
        "its end to its start.",
        "A set of the nodes already visited and an inner recursive function are all you "
        "need; the list ends with the output itself.",
    ),
)
def _value_backward(t):
    _needs(t, "+ (exercise 1)", "* (exercise 1)")
    g = t.call(f"{HERE}:graph", t.ref("Value"), [-2.0, 1.5, 0.5], SQUARE, keep=True)
    got = t.call("value_backward", _output(t, g))
    t.true(
        got is None,
        f"value_backward returned {got!r}",
        "backward() fills in .grad; it returns nothing.",
    )
    grads = t.value(g, convert=f"{HERE}:graph_grads")
    t.close(grads["out"], 1.0, what="L.grad", nudge="Seed the output: its gradient dL/dL is 1.")
    t.close(
        grads["leaves"],
        [-7.5, 10.0, -5.0],
        what="[w.grad, x.grad, b.grad] for L = (w x + b)**2 with w = -2, x = 1.5, b = 0.5",
        wrong={
            "All zeros: seed the output's gradient with 1, and call _backward in REVERSE "
            "topological order (the output first).": [0.0, 0.0, 0.0],
            "z is reached by two paths and was processed twice: remember the nodes already "
            "visited, so each node appears once in the order.": [-22.5, 30.0, -10.0],
        },
    )
    g = t.call(f"{HERE}:graph", t.ref("Value"), [2.0, 3.0, -1.0], DIAMOND, keep=True)
    t.call("value_backward", _output(t, g))
    t.close(
        t.value(g, convert=f"{HERE}:graph_grads")["leaves"],
        [33.0, 22.0, 6.0],
        what="[a.grad, c.grad, k.grad] for d = a c, L = d (d + k) with a = 2, c = 3, k = -1",
        wrong={
            "d was processed before all its consumers had added their share: walk a "
            "topological order, not the order in which a search meets the nodes.": [
                15.0,
                10.0,
                6.0,
            ],
            "A node reached by two paths was processed twice: remember the nodes already "
            "visited.": [66.0, 44.0, 6.0],
            "Reverse the order: the output's _backward must run first.": [0.0, 0.0, 0.0],
        },
    )
    ops = ["add", "mul", "sub", "neg", "radd", "rmul", "rsub", "mulc"]
    program = random_program(5, 3, 10, ops)
    values = [0.3, -1.2, 0.8]
    want_data, want = torch_program(values, program, tail=2)
    g = t.call(f"{HERE}:graph", t.ref("Value"), values, program, 2, keep=True)
    t.call("value_backward", _output(t, g))
    got = t.value(g, convert=f"{HERE}:graph_grads")
    t.close(got["data"], want_data, what="the output of a 10-operation graph")
    t.close(got["leaves"], want, what="the leaf gradients of a 10-operation graph (vs PyTorch)")


# -- exercise 3 ---------------------------------------------------------------------------


@problem(
    "value_ops",
    hints=(
        "Every new operation needs only two things, its result and its local derivative; "
        "the backward recipe has the same shape as for a product, with one input instead "
        "of two.",
        "For each one: compute the result with the math module, make the output node with "
        "the single input and a short name, and give it an inner function that adds the "
        "local derivative times the output's gradient to the input's gradient. Use the "
        "table's derivatives; for exp and tanh, reuse the output's value.",
        "The power rule lowers the exponent by one and multiplies by it. The tanh "
        "derivative squares the tanh. ReLU passes the gradient only where the input is "
        "strictly positive, so at exactly zero the derivative is zero.",
    ),
)
def _value_ops(t):
    cases = [
        ("value_pow", 1.7, (3,), lambda x: x**3),
        ("value_pow", 2.5, (-0.5,), lambda x: x**-0.5),
        ("value_pow", -1.5, (2,), lambda x: x**2),
        ("value_exp", 0.4, (), torch.exp),
        ("value_log", 2.0, (), torch.log),
        ("value_tanh", -0.8, (), torch.tanh),
        ("value_relu", 1.3, (), torch.relu),
        ("value_relu", -0.6, (), torch.relu),
    ]
    for fn, a, args, op in cases:
        (leaf,) = _leaves(t, a)
        out = t.call(fn, leaf, *args, keep=True)
        t.instance(out, "Value", "Return a new Value.")
        label = f"{fn}({', '.join(str(v) for v in (a, *args))})"
        info = _node(t, out)
        t.true(
            info["inputs"] == 1 and t.same(out._prev[0], leaf),
            f"{label}: the output's _prev is not (self,)",
            "The output has exactly one input: build it with (self,) as its children.",
        )
        t.true(
            isinstance(info["op"], str) and info["op"] != "",
            f"{label}: the output's _op is {info['op']!r}",
            "Give the operation a short, non-empty name (draw_graph prints it).",
        )
        want_data, want_grad = torch_op(op, a, 1.5)
        t.close(info["data"], want_data, what=f"{label}.data")
        _push(t, out, 1.5)
        wrong = {}
        if fn == "value_pow":
            k = args[0]
            wrong["The derivative of a**k is k a**(k - 1), not k a**k."] = [1.5 * k * a**k]
        if fn == "value_tanh":
            wrong["d tanh(a)/da = 1 - tanh(a)**2: square the tanh."] = [1.5 * (1 - math.tanh(a))]
        if fn == "value_relu":
            wrong["ReLU blocks the gradient where its input is negative: multiply by 0 there."] = [
                1.5
            ]
        if fn == "value_log":
            wrong["d ln(a)/da = 1/a, not a."] = [1.5 * a]
        t.close(
            _grads(t, [leaf]),
            [want_grad],
            what=f"a.grad after {label}._backward() with out.grad = 1.5 (vs PyTorch)",
            wrong=wrong,
        )
    (leaf,) = _leaves(t, 0.5)
    _set_grads(t, [leaf], [2.0])
    out = t.call("value_tanh", leaf, keep=True)
    _push(t, out, 1.0)
    t.close(
        _grads(t, [leaf]),
        [2.0 + 1 - math.tanh(0.5) ** 2],
        what="a.grad: 2 already there, then tanh's backward step",
        nudge="Accumulate with +=.",
    )
    (leaf,) = _leaves(t, 0.0)
    out = t.call("value_relu", leaf, keep=True)
    _push(t, out, 1.0)
    t.close(
        _grads(t, [leaf]),
        [0.0],
        what="ReLU's gradient at exactly 0",
        nudge="Use the convention gradient 0 at a == 0 (a > 0, not a >= 0).",
    )


# -- exercise 4 ---------------------------------------------------------------------------


NEURON_NEEDS = ("+ (exercise 1)", "* (exercise 1)", "backward (exercise 2)")
NEURON_NEEDS += ("tanh (exercise 3)", "relu (exercise 3)")


TRAIN_NEEDS = (*NEURON_NEEDS[:4], "exp (exercise 3)", "log (exercise 3)", "Neuron (exercise 4)")


@problem(
    "neuron",
    hints=(
        "A neuron is a weighted sum of its inputs plus a bias, passed through its "
        "activation; built from Values, the whole sum becomes a graph that backward can "
        "walk, so every weight gets its gradient.",
        "Start the running sum from the bias node, add each weight times its input with "
        "your Value operators (never through their plain numbers), then apply the activation "
        "the neuron was given, or none. The parameters are the weight nodes themselves, "
        "followed by the bias node, in one list.",
    ),
)
def _neuron(t):
    _needs(t, *NEURON_NEEDS)
    neuron_ref = t.ref("Neuron")
    x = [1.0, 2.0, -0.5]
    n = _named(
        t.build(f"{HERE}:make_neuron", neuron_ref, [0.5, -1.0, 2.0], 0.1, "tanh"), "tanh_neuron"
    )
    out = t.call(n, x, keep=True)
    t.instance(out, "Value", "Return a Value (built with your operators), not a float.")
    t.close(
        _node(t, out)["data"],
        math.tanh(-2.4),
        what="tanh neuron output, weights (0.5, -1, 2), bias 0.1, inputs (1, 2, -0.5)",
        wrong={
            "Add the bias b to the weighted sum.": math.tanh(-2.5),
            "Apply the activation: this neuron's activation is 'tanh'.": -2.4,
        },
    )
    lin = _named(
        t.build(f"{HERE}:make_neuron", neuron_ref, [0.5, -1.0, 2.0], 0.1, None), "linear_neuron"
    )
    t.close(
        _node(t, t.call(lin, x, keep=True))["data"],
        -2.4,
        what="linear neuron (activation None) output",
        wrong={"activation None means no activation at all: return the sum.": math.tanh(-2.4)},
    )
    rel = _named(
        t.build(f"{HERE}:make_neuron", neuron_ref, [0.5, -1.0, 2.0], 0.1, "relu"), "relu_neuron"
    )
    t.close(_node(t, t.call(rel, x, keep=True))["data"], 0.0, what="ReLU neuron, negative sum")
    t.close(
        _node(t, t.call(rel, [-1.0, -2.0, 0.5], keep=True))["data"],
        2.6,
        what="ReLU neuron, positive sum",
    )
    params = t.call(n.parameters, keep=True)
    t.equal(
        t.value(params, convert="mlcourse.check.convert:type_of")["type"],
        "list",
        what="the type of parameters()",
        nudge="Return a list: the weights, then the bias.",
    )
    t.equal(
        t.call("builtins:len", params),
        4,
        what="len(parameters()) for 3 inputs",
        wrong={"Include the bias: 3 weights + 1 bias.": 3},
    )
    t.true(
        t.same(params[3], n.b) and all(t.same(params[i], n.w[i]) for i in range(3)),
        "parameters() must return the neuron's own Value objects: the weights, then the bias",
        "Return the weight list followed by the bias node itself, not copies or floats.",
    )
    got = t.call(f"{HERE}:neuron_grads", n, x)
    want = torch_neuron([0.5, -1.0, 2.0], 0.1, x, "tanh")
    t.close(
        [*got["w"], got["b"]],
        [*want["w"], want["b"]],
        what="the gradients of the weights and the bias after backward() (vs PyTorch)",
        nudge="Build the sum with your Value operators so that the graph reaches every weight.",
    )


# -- exercise 5 ---------------------------------------------------------------------------

TRAIN_SIZES = [2, 3, 1]
TRAIN_X = [[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8], [0.1, 0.1]]
TRAIN_Y = [1, 0, 1, 0]


def train_start(sizes, seed: int) -> list[float]:
    """Reproducible starting parameters for an MLP of ``sizes``."""
    count = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    return np.random.default_rng(seed).normal(scale=0.8, size=count).tolist()


@problem(
    "train_step",
    hints=(
        "A step has four parts in a fixed order: forget the old gradients, build the loss, "
        "back-propagate it, then move every parameter a little against its gradient.",
        "Reset the model's gradients; add up the per-point losses as Values, each the log "
        "of one plus the exponential of the score, minus the label times the score; divide "
        "by the number of points; call backward on that node; then lower each parameter's "
        "data by the learning rate times its gradient. Return the loss's plain number.",
    ),
)
def _train_step(t):
    _needs(t, *TRAIN_NEEDS, neuron=True)
    start = train_start(TRAIN_SIZES, 3)
    model = _named(t.build(f"{HERE}:make_mlp", t.ref("MLP"), TRAIN_SIZES, start), "model")
    want = torch_descent(start, TRAIN_SIZES, TRAIN_X, TRAIN_Y, 0.5, 2)
    got = t.call("train_step", model, TRAIN_X, TRAIN_Y, 0.5)
    t.true(
        type(got) is float,
        f"train_step returned a {type(got).__name__}",
        "Return the loss's data, a Python float, not the Value.",
    )
    t.close(
        got,
        want[0]["loss"],
        what="the loss returned by the first step",
        wrong={"Average the loss over the batch: divide the sum by len(X).": 4 * want[0]["loss"]},
    )
    state = t.value(model, convert=f"{HERE}:mlp_state")
    t.close(
        state["grads"],
        want[0]["grads"],
        what="the parameter gradients after the first step (vs PyTorch)",
    )
    t.close(
        state["data"],
        want[0]["after"],
        what="the parameters after the first step",
        wrong={
            "Step AGAINST the gradient: subtract lr times the gradient.": np.array(start)
            + 0.5 * want[0]["grads"]
        },
    )
    got = t.call("train_step", model, TRAIN_X, TRAIN_Y, 0.5)
    t.close(got, want[1]["loss"], what="the loss returned by the second step")
    t.close(
        t.value(model, convert=f"{HERE}:mlp_state")["grads"],
        want[1]["grads"],
        what="the parameter gradients after the second step (vs PyTorch)",
        wrong={
            "backward() adds into .grad: zero the model's gradients at the start of every "
            "step.": want[0]["grads"] + want[1]["grads"]
        },
    )


# -- exercises 6 to 8 ----------------------------------------------------------------------


@problem(
    "affine_backward",
    hints=(
        "The gradient with respect to an array always has that array's shape, and a value "
        "that was copied along an axis in the forward pass has its gradient summed along "
        "that axis.",
        "Write each gradient as a matrix product whose shapes line up: the input's gradient "
        "combines the upstream gradient with the weights, the weights' gradient combines "
        "the input with the upstream gradient, and the bias's gradient adds up the upstream "
        "gradient over the examples.",
        "Transposes are what make the shapes agree; check them with a square weight matrix, "
        "where a missing transpose still has the right shape.",
    ),
)
def _affine_backward(t):
    r = np.random.default_rng(12)
    x, W, b, d = (
        r.normal(size=(4, 3)),
        r.normal(size=(3, 2)),
        r.normal(size=2),
        r.normal(size=(4, 2)),
    )
    got = t.call("affine_backward", d, x, W)
    t.true(
        isinstance(got, tuple) and len(got) == 3,
        f"affine_backward returned {type(got).__name__}",
        "Return the tuple (dx, dW, db).",
    )
    dx, dW, db = got
    t.shape(dx, (4, 3), nudge="dx has the shape of x: (N, M) times (M, D).")
    t.shape(dW, (3, 2), nudge="dW has the shape of W: (D, N) times (N, M).")
    t.shape(db, (2,), nudge="db has the shape of b, (M,): sum over the batch axis.")
    tx, tW, tb = torch_grads(affine, d, x, W, b)
    t.close(dx, tx, what="dx (vs PyTorch)")
    t.close(dW, tW, what="dW (vs PyTorch)")
    t.close(
        db,
        tb,
        what="db (vs PyTorch)",
        wrong={
            "The bias was copied to every row: SUM its gradient over the batch, do not "
            "average.": d.mean(axis=0)
        },
    )
    Wsq, dsq = r.normal(size=(3, 3)), r.normal(size=(4, 3))
    bsq = np.zeros(3)
    tx, tW, _ = torch_grads(affine, dsq, x, Wsq, bsq)
    dx, dW, _ = t.call("affine_backward", dsq, x, Wsq)
    t.close(
        dx,
        tx,
        what="dx for a square W",
        wrong={"dx needs the TRANSPOSE of W, even when the shapes fit without it.": dsq @ Wsq},
    )
    t.close(dW, tW, what="dW for a square W")


@problem(
    "relu_backward",
    hints=(
        "ReLU lets its input through unchanged where the input was positive and blocks it "
        "elsewhere; its backward pass does the same to the upstream gradient.",
        "Build a mask from where the INPUT is strictly positive and multiply the upstream "
        "gradient by it, element by element; the result keeps the upstream gradient's shape "
        "and dtype.",
    ),
)
def _relu_backward(t):
    x = np.array([[1.5, -2.0, 0.0], [-0.5, 3.0, 2.0]])
    d = np.array([[0.3, 0.7, 1.1], [-0.4, -0.9, 0.5]])
    got = t.call("relu_backward", d, x)
    t.shape(got, (2, 3))
    t.close(
        got,
        [[0.3, 0.0, 0.0], [0.0, -0.9, 0.5]],
        wrong={
            "Mask with the input x, not with dout.": d * (d > 0),
            "At x == 0 the gradient is 0 (use x > 0, not x >= 0).": d * (x >= 0),
            "Multiply the mask by the upstream gradient dout.": (x > 0).astype(float),
        },
    )
    (want,) = torch_grads(torch.relu, d, x)
    t.close(got, want, what="dx vs PyTorch")
    d32 = d.astype(np.float32)
    got = t.call("relu_backward", d32, x)
    t.dtype(got, "f", nudge="The gradient is a float array like dout.")
    t.true(
        got.dtype == np.float32,
        f"a float32 dout gave a {got.dtype} gradient",
        "Keep dout's dtype: multiplying by a boolean mask does, converting to float does not.",
    )


@problem(
    "softmax_cross_entropy",
    hints=(
        "Softmax does not change when the same number is subtracted from every logit of a "
        "row, and logarithms of probabilities are safer than probabilities; the gradient is "
        "the predicted distribution minus the true one, per example.",
        "Shift each row by its maximum, form the log-probabilities as the shifted logits "
        "minus the log of the row sum of their exponentials, average minus the log-"
        "probability of the true class over the batch, and for the gradient take the "
        "probabilities, subtract one at each true class, and divide by the batch size.",
        "Pick one entry per row with a pair of index arrays: the row numbers and the labels. "
        "Return the loss as a Python float.",
    ),
)
def _softmax_cross_entropy(t):
    z = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
    y = np.array([0, 2])
    got = t.call("softmax_cross_entropy", z, y)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"softmax_cross_entropy returned {type(got).__name__}",
        "Return the tuple (loss, dlogits).",
    )
    loss, dz = got
    want_loss, want_dz = torch_cross_entropy(z, y)
    t.true(
        type(loss) is float,
        f"the loss is a {type(loss).__name__}",
        "Return the loss as a Python float (float(...)).",
    )
    t.close(
        loss,
        want_loss,
        what="loss (vs PyTorch)",
        wrong={"The loss is the MEAN over the batch, not the sum.": 2 * want_loss},
    )
    t.shape(dz, (2, 3))
    p = np.exp(z)
    p = p / p.sum(1)[:, None]
    t.close(
        dz,
        want_dz,
        what="dlogits (vs PyTorch)",
        wrong={
            "The loss is a mean over N examples: divide the gradient by N too.": 2 * want_dz,
            "Subtract 1 at the true class: the gradient is softmax - onehot(y).": p / 2,
        },
    )
    big = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 990.0]])
    y_big = np.array([0, 0])  # the second row's true class has probability e**-1000
    loss, dz = t.call("softmax_cross_entropy", big, y_big)
    want_loss, want_dz = torch_cross_entropy(big, y_big)
    t.close(
        loss,
        want_loss,
        what="the loss for logits of size 1000",
        nudge="Subtract each row's maximum before exp, and use log-probabilities (log-sum-exp), "
        "not the log of a probability that underflowed to 0.",
    )
    t.close(
        dz,
        want_dz,
        what="dlogits for logits of size 1000",
        nudge="Subtract each row's maximum before exp: exp(1000) overflows.",
    )


# -- the quiz -------------------------------------------------------------------------------

number(
    "q_paths",
    hints=(
        "A value used by several operations collects one contribution along each path to "
        "the output.",
        "Differentiate each product with respect to a, then add the two results.",
    ),
)
choice(
    "q_central",
    options="abcd",
    hints=(
        "The central difference's truncation error is proportional to a power of the step.",
        "Halving the step divides that error by two raised to the same power.",
    ),
)
number(
    "q_mlp_params",
    hints=(
        "Every neuron has one weight per input and one bias.",
        "Add, for each layer, the number of its inputs plus one, times the number of its neurons.",
    ),
)
number(
    "q_initial_loss",
    hints=(
        "An untrained, well-initialised classifier spreads its probability about evenly "
        "over the classes.",
        "The loss is minus the log of the probability given to the true class.",
    ),
)
choice(
    "q_topo",
    options="abcd",
    hints=(
        "Think about what a node's gradient must contain before the node may pass it on.",
        "A node reached along two paths of different lengths is met by a search before "
        "every consumer has added its share.",
    ),
)
number(
    "q_softmax_grad",
    hints=(
        "The gradient of the mean cross-entropy is the predicted distribution minus the "
        "one-hot target, divided by the batch size.",
        "Compute the probability of the first class with the softmax, then subtract one.",
    ),
)
