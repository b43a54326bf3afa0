"""Default titles, until a text model writes them."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath


def default_title(original_filename: str, recorded_at: datetime) -> str:
    """`meeting (2026-11-24 14:05)`: the file name without extension and the date (UTC)."""
    stem = PurePath(original_filename).stem or original_filename or "Recording"
    return f"{stem} ({recorded_at:%Y-%m-%d %H:%M})"
