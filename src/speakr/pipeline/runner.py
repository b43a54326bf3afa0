"""Runs a recording's steps in order; the database is the truth, the queue only delivers.

A worker claims a step with a conditional UPDATE (queued, or running with a heartbeat older
than the lease) and proceeds only if it changed one row; a heartbeat thread keeps the claim
fresh and publishes progress; the reaper re-enqueues steps whose worker went silent.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from speakr.db import JobStep, Recording, RecordingStatus, StepState, session_scope, utcnow
from speakr.errors import RecordingGoneError, SpeakrError
from speakr.pipeline.steps import STEPS, STEPS_BY_NAME, StepContext, StepSpec

if TYPE_CHECKING:
    from speakr.runtime import Runtime

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
WORKER_DIED_MESSAGE = (
    f"The worker stopped {MAX_ATTEMPTS} times while running this step (it may have run out "
    "of memory). The original file is kept; retry once the cause is fixed."
)
ACTIVE_STATUSES = (RecordingStatus.QUEUED, RecordingStatus.PROCESSING, RecordingStatus.SUMMARIZING)


def run_pipeline(runtime: Runtime, recording_id: int) -> None:
    """Run every step not yet done; stop when one fails or another worker holds it."""
    while True:
        with session_scope(runtime.sessions) as db:
            step = db.scalars(
                select(JobStep)
                .where(JobStep.recording_id == recording_id, JobStep.state != StepState.DONE)
                .order_by(JobStep.position)
                .limit(1)
            ).first()
        if step is None:
            _finish(runtime, recording_id)
            return
        if step.state == StepState.FAILED:
            return
        worker_id = runtime.new_worker_id()
        if not _claim(runtime, step.id, worker_id):
            return
        if not _execute(runtime, recording_id, step, worker_id):
            return


def _claim(runtime: Runtime, step_id: int, worker_id: str) -> bool:
    now = utcnow()
    stale = now - timedelta(seconds=runtime.settings.JOB_LEASE_SECONDS)
    with session_scope(runtime.sessions) as db:
        result = db.execute(
            update(JobStep)
            .where(
                JobStep.id == step_id,
                or_(
                    JobStep.state == StepState.QUEUED,
                    and_(
                        JobStep.state == StepState.RUNNING,
                        JobStep.heartbeat_at < stale,
                        JobStep.attempts < MAX_ATTEMPTS,
                    ),
                ),
            )
            .values(
                state=StepState.RUNNING,
                worker_id=worker_id,
                heartbeat_at=now,
                started_at=now,
                attempts=JobStep.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


class _Heartbeat(threading.Thread):
    """Keeps the claim fresh and writes progress; notices when the work should stop."""

    def __init__(self, runtime: Runtime, step: JobStep, worker_id: str, spec: StepSpec) -> None:
        super().__init__(name=f"heartbeat-{step.id}", daemon=True)
        self.runtime, self.step_id, self.worker_id = runtime, step.id, worker_id
        self.recording_id = step.recording_id
        self.base = _progress_base(spec)
        self.weight = spec.weight
        self.fraction, self.stage = 0.0, spec.label
        self.lost = False
        self._stopped = threading.Event()
        self._written: tuple[float, str] | None = None

    def report(self, fraction: float, stage: str) -> None:
        self.fraction, self.stage = fraction, stage
        if self.lost:
            raise RecordingGoneError("The recording was deleted or its step was taken over.")

    def run(self) -> None:
        interval = min(1.0, self.runtime.settings.JOB_LEASE_SECONDS / 4)
        while not self._stopped.wait(interval):
            try:
                self.beat()
            except Exception:
                logger.exception("Heartbeat failed for recording ID: %d", self.recording_id)

    def beat(self) -> None:
        with session_scope(self.runtime.sessions) as db:
            kept = db.execute(
                update(JobStep)
                .where(
                    JobStep.id == self.step_id,
                    JobStep.worker_id == self.worker_id,
                    JobStep.state == StepState.RUNNING,
                )
                .values(heartbeat_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if kept.rowcount == 0:  # type: ignore[attr-defined]
                self.lost = True
                return
            progress = (round(self.base + self.weight * self.fraction, 3), self.stage)
            if progress != self._written:
                db.execute(
                    update(Recording)
                    .where(Recording.id == self.recording_id)
                    .values(progress=progress[0], stage=progress[1])
                )
                self._written = progress

    def stop(self) -> None:
        self._stopped.set()


def _progress_base(spec: StepSpec) -> float:
    """The share of the progress bar that the steps before this one fill."""
    return sum(s.weight for s in STEPS[: STEPS.index(spec)])


def _execute(runtime: Runtime, recording_id: int, step: JobStep, worker_id: str) -> bool:
    spec = STEPS_BY_NAME[step.name]
    with session_scope(runtime.sessions) as db:
        db.execute(
            update(Recording)
            .where(Recording.id == recording_id)
            .values(
                status=spec.status,
                stage=spec.label,
                progress=_progress_base(spec),
                error_step=None,
                error_message=None,
            )
        )
    heartbeat = _Heartbeat(runtime, step, worker_id, spec)
    heartbeat.start()
    context = StepContext(runtime, recording_id, heartbeat.report)
    logger.info("Running step %s for recording ID: %d", step.name, recording_id)
    try:
        spec.run(context)
    except RecordingGoneError:
        logger.info("Stopped step %s: recording ID: %d was deleted", step.name, recording_id)
        return False
    except SpeakrError as exc:
        _fail_or_retry(runtime, step, worker_id, exc.message, permanent=exc.permanent)
        return False
    except Exception as exc:
        logger.exception("Step %s crashed for recording ID: %d", step.name, recording_id)
        _fail_or_retry(runtime, step, worker_id, f"Unexpected error: {exc}", permanent=True)
        return False
    finally:
        heartbeat.stop()
    with session_scope(runtime.sessions) as db:
        db.execute(
            update(JobStep)
            .where(JobStep.id == step.id, JobStep.worker_id == worker_id)
            .values(state=StepState.DONE, finished_at=utcnow(), error=None)
        )
    return True


def _fail_or_retry(
    runtime: Runtime, step: JobStep, worker_id: str, message: str, *, permanent: bool
) -> None:
    attempts = step.attempts + 1
    retry = not permanent and attempts < MAX_ATTEMPTS
    with session_scope(runtime.sessions) as db:
        db.execute(
            update(JobStep)
            .where(JobStep.id == step.id, JobStep.worker_id == worker_id)
            .values(
                state=StepState.QUEUED if retry else StepState.FAILED,
                error=message,
                finished_at=utcnow(),
            )
        )
        if retry:
            db.execute(
                update(Recording)
                .where(Recording.id == step.recording_id)
                .values(
                    error_step=step.name,
                    error_message=message,
                    stage=f"Retrying {step.name} (attempt {attempts + 1} of {MAX_ATTEMPTS})",
                )
            )
        else:
            _mark_failed(db, step.recording_id, step.name, message)
    if retry:
        logger.warning(
            "Step %s failed for recording ID: %d, retrying: %s",
            step.name,
            step.recording_id,
            message,
        )
        runtime.queue.enqueue_recording(step.recording_id, delay=10 * attempts)
    else:
        logger.error(
            "Processing failed for recording ID: %d at step %s: %s",
            step.recording_id,
            step.name,
            message,
        )


def _mark_failed(db: Session, recording_id: int, step_name: str, message: str) -> None:
    db.execute(
        update(Recording)
        .where(Recording.id == recording_id)
        .values(
            status=RecordingStatus.FAILED,
            stage=None,
            error_step=step_name,
            error_message=message,
        )
    )


def _finish(runtime: Runtime, recording_id: int) -> None:
    with session_scope(runtime.sessions) as db:
        result = db.execute(
            update(Recording)
            .where(Recording.id == recording_id, Recording.status != RecordingStatus.COMPLETED)
            .values(
                status=RecordingStatus.COMPLETED,
                stage=None,
                progress=1.0,
                error_step=None,
                error_message=None,
                completed_at=utcnow(),
            )
        )
    if result.rowcount:  # type: ignore[attr-defined]
        logger.info("Processing completed for recording ID: %d", recording_id)


def release_steps_of_process(runtime: Runtime) -> None:
    """Give back the steps this process is running (on shutdown); their threads notice the
    lost claim at their next heartbeat and stop."""
    with session_scope(runtime.sessions) as db:
        released = (
            db.execute(
                update(JobStep)
                .where(
                    JobStep.state == StepState.RUNNING,
                    JobStep.worker_id.startswith(f"{runtime.process_id}:", autoescape=True),
                )
                # A deliberate stop is not a failed attempt.
                .values(state=StepState.QUEUED, worker_id=None, attempts=JobStep.attempts - 1)
                .returning(JobStep.recording_id)
            )
            .scalars()
            .all()
        )
    for recording_id in released:
        logger.info("Handed back recording ID: %d for the next start", recording_id)
        runtime.queue.enqueue_recording(recording_id)


def reap_stale_work(runtime: Runtime) -> list[int]:
    """Re-enqueue recordings whose worker died: stale running steps, and active recordings
    that no queue message will ever deliver. Returns the recording ids re-enqueued."""
    cutoff = utcnow() - timedelta(seconds=runtime.settings.JOB_LEASE_SECONDS)
    revived: set[int] = set()
    with session_scope(runtime.sessions) as db:
        stale_steps = db.scalars(
            select(JobStep).where(JobStep.state == StepState.RUNNING, JobStep.heartbeat_at < cutoff)
        ).all()
        for step in stale_steps:
            # A step whose worker died every time (out of memory, say) must not take the
            # next worker down with it: after MAX_ATTEMPTS it fails and says why.
            crashed_out = step.attempts >= MAX_ATTEMPTS
            released = db.execute(
                update(JobStep)
                .where(
                    JobStep.id == step.id,
                    JobStep.state == StepState.RUNNING,
                    JobStep.heartbeat_at < cutoff,
                )
                .values(
                    state=StepState.FAILED if crashed_out else StepState.QUEUED,
                    worker_id=None,
                    error=WORKER_DIED_MESSAGE if crashed_out else None,
                )
                .execution_options(synchronize_session=False)
            )
            if not released.rowcount:  # type: ignore[attr-defined]
                continue
            if crashed_out:
                _mark_failed(db, step.recording_id, step.name, WORKER_DIED_MESSAGE)
                logger.error(
                    "Processing failed for recording ID: %d at step %s: %s",
                    step.recording_id,
                    step.name,
                    WORKER_DIED_MESSAGE,
                )
            else:
                revived.add(step.recording_id)
        running = select(JobStep.recording_id).where(JobStep.state == StepState.RUNNING)
        idle_active = db.scalars(
            select(Recording.id).where(
                Recording.status.in_(ACTIVE_STATUSES),
                Recording.updated_at < cutoff,
                Recording.id.not_in(running),
            )
        ).all()
    if idle_active:
        revived.update(set(idle_active) - runtime.queue.pending_recording_ids())
    for recording_id in sorted(revived):
        logger.warning("Re-queued recording ID: %d (its worker stopped)", recording_id)
        runtime.queue.enqueue_recording(recording_id)
    return sorted(revived)
