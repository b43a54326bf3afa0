"""The job queue: Huey on SQLite by default, on Redis with REDIS_URL.

The queue only delivers "look at recording N"; the state of every step lives in the
database (see `speakr.pipeline.runner`), so a message lost with a killed worker is
recovered by the reaper, and a duplicate message is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from speakr.settings import Settings

logger = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 0.5


def build_huey(settings: Settings) -> Huey:
    if settings.REDIS_URL:
        return RedisHuey("speakr", url=settings.REDIS_URL, results=False)
    settings.instance_folder.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("speakr", filename=str(settings.instance_folder / "jobs.db"), results=False)


class _ThreadConsumer(Consumer):  # type: ignore[misc]
    """A consumer that runs beside the web server: uvicorn owns the signal handlers."""

    def _set_signal_handlers(self) -> None:
        pass


class JobQueue:
    """Enqueue recordings, run the consumer, and find what is waiting."""

    def __init__(
        self,
        huey: Huey,
        *,
        process: Callable[[int], object],
        reap: Callable[[], object],
        reap_delay: float,
    ) -> None:
        self.huey = huey
        self._reap_delay = reap_delay
        self._consumer: Consumer | None = None

        @huey.task(name="speakr.process_recording")  # type: ignore[untyped-decorator]
        def process_recording(recording_id: int) -> None:
            process(recording_id)

        @huey.task(name="speakr.reap")  # type: ignore[untyped-decorator]
        def reap_now() -> None:
            reap()

        @huey.periodic_task(crontab(minute="*"), name="speakr.reap_periodic")  # type: ignore[untyped-decorator]
        def reap_periodically() -> None:
            reap()

        self._process_task = process_recording
        self._reap_task = reap_now

    def enqueue_recording(self, recording_id: int, delay: float = 0) -> None:
        if delay:
            self._process_task.schedule(args=(recording_id,), delay=delay)
        else:
            self._process_task(recording_id)

    def pending_recording_ids(self) -> set[int]:
        """Recordings with a message waiting in the queue or the schedule."""
        waiting: set[int] = set()
        tasks: list[Any] = [*self.huey.pending(), *self.huey.scheduled()]
        for task in tasks:
            if task.name == "speakr.process_recording" and task.args:
                waiting.add(int(task.args[0]))
        return waiting

    def queue_size(self) -> int:
        return int(self.huey.pending_count())

    def start_consumer(self, workers: int, *, in_thread: bool) -> Consumer:
        """Start worker threads; reap once now and once a lease later, then every minute."""
        consumer_class = _ThreadConsumer if in_thread else Consumer
        # Huey backs off to a 10 s poll when idle; a new upload should start within a second.
        consumer = consumer_class(
            self.huey, workers=workers, worker_type="thread", max_delay=IDLE_POLL_SECONDS
        )
        self._consumer = consumer
        self._reap_task()
        self._reap_task.schedule(delay=self._reap_delay)
        if in_thread:
            consumer.start()
        return consumer

    def stop_consumer(self) -> bool:
        """Stop this process's consumer; False when there was none."""
        if self._consumer is None:
            return False
        self._consumer.stop(graceful=False)
        self._consumer = None
        return True
