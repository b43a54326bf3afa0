"""Audio: probing what a file is, and converting what engines or browsers cannot take."""

from speakr.audio.convert import convert_to_mp3, needs_conversion
from speakr.audio.probe import DamagedMediaError, MediaInfo, probe

__all__ = ["DamagedMediaError", "MediaInfo", "convert_to_mp3", "needs_conversion", "probe"]
