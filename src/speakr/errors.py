"""Every domain error is a SpeakrError: a sentence for a person, an HTTP status, and whether
retrying could help (`permanent=False`)."""

from __future__ import annotations


class SpeakrError(Exception):
    status: int = 500
    permanent: bool = True

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class ConfigurationError(SpeakrError):
    """A setting is wrong; start-up stops with this one line."""


class NotFoundError(SpeakrError):
    status = 404


class PermissionDeniedError(SpeakrError):
    status = 403


class AuthenticationError(SpeakrError):
    status = 401


class TooManyAttemptsError(SpeakrError):
    status = 429


class InvalidInputError(SpeakrError):
    """Bad input from a person; the message says what to change."""

    status = 400


class UnsupportedMediaError(InvalidInputError):
    status = 415


class UploadTooLargeError(InvalidInputError):
    status = 413


class ConflictError(SpeakrError):
    status = 409


class TranscriptionError(SpeakrError):
    """An engine failed; `permanent=False` when a retry may succeed (network, 5xx)."""

    status = 502

    def __init__(self, message: str, *, permanent: bool = True) -> None:
        super().__init__(message)
        self.permanent = permanent


class RecordingGoneError(SpeakrError):
    """The recording was deleted while a step worked on it."""

    status = 410
