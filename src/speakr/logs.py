"""Logging: one line per event on stdout, level from LOG_LEVEL."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that are chatty at INFO.
    for name in ("huey", "faster_whisper", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(max(logging.getLevelName(level), logging.WARNING))
