"""Structured JSON logs, one object a line, from our code and the libraries alike.

Each line names the service; lines written while an event or request is handled carry its
correlation id. Log what happened and to which ids, never a person's details.
"""

import logging
import sys
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import structlog

NOISY = ("aiokafka", "faststream", "uvicorn.access", "httpx", "mail.log")


def _stamped(service: str) -> list[Any]:
    def add_service(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        event.setdefault("service", service)
        return event

    return [
        structlog.contextvars.merge_contextvars,
        add_service,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure_logging(service: str, level: int = logging.INFO) -> None:
    """Every log line of this process a JSON object on stderr: our own, the libraries' (run
    uvicorn with `log_config=None` so its loggers come here too), and an uncaught exception's
    traceback."""
    shared = _stamped(service)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)  # a library's warning is a log line too, not bare text
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    # faststream gives its own logger a coloured text handler of its own when it is imported,
    # and stops it reaching the root: its lines (a failed offset commit is one) come here too
    import faststream._internal.logger.logging  # noqa: F401  (made at import: import it first)

    own = logging.getLogger("faststream")
    own.handlers, own.propagate = [], True

    def log_uncaught(
        kind: type[BaseException], error: BaseException, traceback: TracebackType | None
    ) -> None:
        structlog.get_logger().critical("process failed", exc_info=(kind, error, traceback))

    sys.excepthook = log_uncaught


def file_logger(path: Path, service: str) -> structlog.typing.FilteringBoundLogger:
    """JSON lines appended to `path`, for a process that is not itself a service: the
    supervisor, and the lines it relays from the broker's own output."""
    file: TextIO = path.open("a", buffering=1)  # a line at a time, so `tail -f` follows
    logger: structlog.typing.FilteringBoundLogger = structlog.wrap_logger(
        structlog.WriteLogger(file),
        processors=[
            *_stamped(service)[1:],
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )
    return logger
