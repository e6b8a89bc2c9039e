"""How a check's requests reach the learner's side, and their answers come back.

* :class:`InProcess`: the learner's notebook, the gate and stock nbgrader.
  The learner's namespace is in this process; requests and answers still go
  through JSON text, so the checks see exactly what a grader would see.
* :class:`KernelRPC`: the trusted grader. Each request is one short code
  execution in the learner's (sandboxed) kernel, and the answer is read from
  that execution's output, behind a random tag. The request carries data
  only: never test code, expected values or hidden-test source.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable

from mlcourse.check import codec, learner


class TransportError(Exception):
    """The learner's side did not answer (it crashed, hung or printed over the answer)."""


class InProcess:
    """Requests served in this process, against ``namespace`` (the learner's globals)."""

    trusted = False

    def __init__(self, namespace: dict):
        self.namespace = namespace

    def request(self, req: dict, timeout: float | None = None) -> dict:
        text = codec.dumps(req)
        answer = learner.perform(codec.loads(text), self.namespace)
        return codec.loads(codec.dumps(answer))


class KernelRPC:
    """Requests served by ``mlcourse.check.learner.serve`` in another process.

    ``execute(code, timeout)`` runs code in the learner's kernel and returns
    what it printed (the grader and the gate provide it).
    """

    trusted = True

    def __init__(self, execute: Callable[[str, float | None], str], default_timeout: float = 60.0):
        self.execute = execute
        self.default_timeout = default_timeout
        self.calls = 0

    def request(self, req: dict, timeout: float | None = None) -> dict:
        self.calls += 1
        nonce = "@mlc-" + secrets.token_hex(8) + ":"
        payload = base64.b64encode(codec.dumps(req).encode("utf-8")).decode("ascii")
        code = (
            "__import__('mlcourse.check.learner', fromlist=['serve'])"
            f".serve({payload!r}, {nonce!r})"
        )
        wait = timeout if timeout is not None else self.default_timeout
        try:
            text = self.execute(code, wait)
        except TransportError:
            raise
        except Exception as exc:  # noqa: BLE001 - the kernel died or timed out
            raise TransportError(f"the kernel did not answer ({type(exc).__name__})") from None
        for line in reversed(text.splitlines()):
            if line.startswith(nonce):
                try:
                    data = base64.b64decode(line[len(nonce) :], validate=True).decode("utf-8")
                    answer = codec.loads(data)
                except Exception:  # noqa: BLE001
                    raise TransportError("the kernel's answer was malformed") from None
                if not isinstance(answer, dict):
                    raise TransportError("the kernel's answer was malformed")
                return answer
        raise TransportError("the kernel did not answer the check (its output was changed?)")
