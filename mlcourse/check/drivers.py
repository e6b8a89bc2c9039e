"""Drivers: exercise a learner's live object on the learner's side, and report data.

Some answers are not values but things that *do* something: a web app, a
data loader, a training loop. A driver runs them where they live and returns
what happened as data; the checks judge that data. Call one like any
importable function: ``t.call("mlcourse.check.drivers:http", app_ref, requests)``.
"""

from __future__ import annotations

from typing import Any


def http(app: Any, requests: list[dict]) -> list[dict]:
    """Send ``requests`` to an ASGI app (FastAPI) in process; return what came back.

    Each request: ``{"method": "POST", "url": "/predict", "json": {...}}`` and
    optionally ``"content"`` (raw body), ``"headers"``. Each answer:
    ``{"status": 200, "headers": {...}, "json": ...}`` (or ``"text"`` when the
    body is not JSON).
    """
    from fastapi.testclient import TestClient

    answers = []
    with TestClient(app, raise_server_exceptions=False) as client:
        for req in requests:
            kwargs = {k: req[k] for k in ("json", "content", "headers", "params") if k in req}
            response = client.request(req.get("method", "GET"), req["url"], **kwargs)
            answer = {
                "status": response.status_code,
                "headers": {k.lower(): v for k, v in response.headers.items()},
            }
            try:
                answer["json"] = response.json()
            except ValueError:
                answer["text"] = response.text[:5000]
            answers.append(answer)
    return answers


def iterate(obj: Any, limit: int = 10_000) -> list:
    """The first ``limit`` items an iterable yields (a generator, a DataLoader)."""
    out = []
    for item in obj:
        out.append(item)
        if len(out) >= limit:
            break
    return out


def each(fn: Any, items: list, star: bool = False) -> list[dict]:
    """Call ``fn`` on every item (``fn(*item)`` with ``star``), in one request.

    One request per item costs one kernel round trip each in the grader; this
    costs one. Each result is ``{"value": ...}`` or ``{"raised": "TypeName: message"}``
    (message capped), so a check can judge every case from the data.
    """
    out = []
    for item in items:
        try:
            value = fn(*item) if star else fn(item)
        except NotImplementedError:
            out.append({"not_attempted": True})
            continue
        except Exception as exc:  # noqa: BLE001 - the learner's error, reported as data
            out.append({"raised": f"{type(exc).__name__}: {str(exc)[:300]}"})
            continue
        out.append({"value": value})
    return out
