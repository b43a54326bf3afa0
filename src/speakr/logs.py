"""Logging: one line per event (servers: stdout), level from LOG_LEVEL."""

from __future__ import annotations

import logging
from typing import TextIO


def configure_logging(level: str, stream: TextIO) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that are chatty at INFO.
    for name in ("huey", "faster_whisper", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(max(logging.getLevelName(level), logging.WARNING))
