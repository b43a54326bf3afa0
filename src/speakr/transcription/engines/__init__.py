"""Transcription engines; `speakr.transcription.registry` picks one from settings."""
