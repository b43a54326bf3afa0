"""What a process needs to serve requests and run jobs, built once from settings."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from speakr.db import build_engine, build_session_factory
from speakr.jobs import JobQueue, build_huey
from speakr.settings import Settings
from speakr.transcription import TranscriptionEngine, build_transcription_engine


@dataclass
class Runtime:
    settings: Settings
    db_engine: Engine
    sessions: sessionmaker[Session]
    queue: JobQueue = field(init=False)
    _transcriber: TranscriptionEngine | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        # Imported here: the pipeline needs Runtime for its types.
        from speakr.pipeline.runner import reap_stale_work, run_pipeline

        db_engine = build_engine(settings.database_url)
        runtime = cls(settings, db_engine, build_session_factory(db_engine))
        runtime.queue = JobQueue(
            build_huey(settings),
            process=lambda recording_id: run_pipeline(runtime, recording_id),
            reap=lambda: reap_stale_work(runtime),
            reap_delay=settings.JOB_LEASE_SECONDS + 1,
        )
        return runtime

    @property
    def upload_root(self) -> Path:
        return self.settings.UPLOAD_FOLDER.resolve()

    @property
    def transcriber(self) -> TranscriptionEngine:
        with self._lock:
            if self._transcriber is None:
                self._transcriber = build_transcription_engine(self.settings)
            return self._transcriber

    @property
    def process_id(self) -> str:
        return f"{socket.gethostname()}:{os.getpid()}"

    def new_worker_id(self) -> str:
        return f"{self.process_id}:{uuid.uuid4().hex[:8]}"

    def close(self) -> None:
        """Stop the consumer and hand this process's running steps back to the queue, so a
        clean restart resumes them at once instead of after the lease."""
        from speakr.pipeline.runner import release_steps_of_process

        if self.queue.stop_consumer():
            release_steps_of_process(self)
        self.db_engine.dispose()
