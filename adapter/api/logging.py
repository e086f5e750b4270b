"""Structured JSON logs that never carry a NIR, a CEAM/S1 personal number or a bearer token.

Every line is one JSON object. A masking processor runs last before rendering, over every
string (keys, values, nested containers and formatted tracebacks), so a NIR that slipped into
an exception message or a search parameter is replaced before it reaches the stream. Logs are
shipped to systems with weaker access control than the database: masking is by shape, not by
field name, and errs towards masking too much.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO, cast

import structlog
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

__all__ = ["configure_logging", "make_logger", "mask_sensitive", "scrub"]

#: 13 characters (digits, or 2A/2B for Corsica in the département) + a 2-digit key, optionally
#: written in groups separated by single spaces; not part of a longer alphanumeric run.
_NIR_LIKE = re.compile(
    r"(?<![0-9A-Za-z])[0-9](?: ?[0-9]{2}){2} ?(?:[0-9]{2}|2[ABab])"
    r" ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}(?![0-9A-Za-z])"
)
#: A foreign number written ``CC:number`` (a CEAM/S1 holder's personal number), the colon maybe
#: URL-encoded, with at least one digit: masked whatever follows up to a separator.
_FOREIGN_LIKE = re.compile(
    r"(?<![0-9A-Za-z])[A-Z]{2}(?::|%3[Aa])(?=[0-9A-Za-z./ -]*[0-9])[0-9A-Za-z][0-9A-Za-z./ -]*"
)
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
NIR_MASK = "[NIR]"
FOREIGN_MASK = "[FOREIGN-ID]"
_MAX_DEPTH = 20


def scrub(text: str) -> str:
    """``text`` with NIR-like numbers, bearer credentials and JWTs replaced by placeholders."""
    text = _NIR_LIKE.sub(NIR_MASK, text)
    text = _FOREIGN_LIKE.sub(FOREIGN_MASK, text)
    text = _BEARER.sub("Bearer [redacted]", text)
    return _JWT.sub("[jwt]", text)


def _scrub_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return NIR_MASK if _NIR_LIKE.fullmatch(str(value)) else value
    if depth >= _MAX_DEPTH:
        return "[nested]"
    if isinstance(value, dict):
        return {_scrub_value(k, depth + 1): _scrub_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub_value(item, depth + 1) for item in value]
    if isinstance(value, BaseException):
        return scrub(repr(value))
    return value


def mask_sensitive(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask NIR-like numbers and credentials anywhere in the event."""
    masked = _scrub_value(dict(event_dict))
    return cast(EventDict, masked)


def _timestamper(clock: Callable[[], datetime]) -> Processor:
    def add_timestamp(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        event_dict["timestamp"] = clock().isoformat(timespec="milliseconds")
        return event_dict

    return add_timestamp


def _level_number(level: str) -> int:
    number = logging.getLevelNamesMapping().get(level.upper())
    if number is None:
        raise ValueError(f"unknown log level {level!r}")
    return number


def _processors(clock: Callable[[], datetime]) -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        _timestamper(clock),
        structlog.processors.format_exc_info,
        mask_sensitive,
    ]


def make_logger(
    *, clock: Callable[[], datetime], stream: TextIO | None = None, level: str = "INFO"
) -> FilteringBoundLogger:
    """A logger of its own (no global state): JSON lines to ``stream``, masked, at ``level`` and above."""
    logger = structlog.wrap_logger(
        structlog.WriteLogger(stream or sys.stdout),
        processors=[*_processors(clock), structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(_level_number(level)),
        context_class=dict,
        cache_logger_on_first_use=False,
    )
    return cast(FilteringBoundLogger, logger)


def configure_logging(
    *, clock: Callable[[], datetime], stream: TextIO | None = None, level: str = "INFO"
) -> None:
    """Route structlog and the standard library (uvicorn, SQLAlchemy…) to masked JSON lines.

    For the composition root only: it replaces the global structlog configuration and the root
    logger's handlers.
    """
    out = stream or sys.stdout
    number = _level_number(level)
    structlog.configure(
        processors=[*_processors(clock), structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(number),
        logger_factory=structlog.WriteLoggerFactory(out),
        context_class=dict,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *_processors(clock)],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            mask_sensitive,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(number)
