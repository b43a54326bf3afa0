"""Speakr: self-hosted transcripts, titles, summaries and chat for audio recordings."""

__version__ = "0.1.0"
