"""The pipeline: an explicit list of steps, and the runner the job queue calls."""

from speakr.pipeline.runner import reap_stale_work, run_pipeline
from speakr.pipeline.steps import STEPS, STEPS_BY_NAME

__all__ = ["STEPS", "STEPS_BY_NAME", "reap_stale_work", "run_pipeline"]
