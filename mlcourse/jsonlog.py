"""JSON-lines logs for the course's services: one object per line, on stderr.

Each service logs under its own logger (``mlcourse.service``,
``mlcourse.vision``...); :func:`configure` gives that logger one stderr
handler that writes time, level, logger, message and any ``extra={"fields":
{...}}`` as a JSON object per line, the shape log collectors ingest.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson

__all__ = ["JsonLines", "configure"]


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (so captured output works)."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: D102
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure(logger: logging.Logger, level: int = logging.INFO) -> None:
    """Send ``logger``'s records to stderr as JSON lines (idempotent)."""
    if not any(isinstance(h, _Stderr) for h in logger.handlers):
        handler = _Stderr()
        handler.setFormatter(JsonLines())
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
