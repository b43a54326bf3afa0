"""Database: typed models, engine/session factory and migrations."""

from speakr.db.models import (
    ApiToken,
    Base,
    JobStep,
    LoginAttempt,
    Recording,
    RecordingStatus,
    StepState,
    Tag,
    TranscriptSegment,
    User,
    WebSession,
    utcnow,
)
from speakr.db.session import build_engine, build_session_factory, session_scope

__all__ = [
    "ApiToken",
    "Base",
    "JobStep",
    "LoginAttempt",
    "Recording",
    "RecordingStatus",
    "StepState",
    "Tag",
    "TranscriptSegment",
    "User",
    "WebSession",
    "build_engine",
    "build_session_factory",
    "session_scope",
    "utcnow",
]
