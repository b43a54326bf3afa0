"""Server-Sent Events: live status of the user's recordings, for pages without polling."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from speakr.db import Recording, User, utcnow
from speakr.runtime import Runtime
from speakr.services.recordings import recording_summary
from speakr.web.deps import CurrentUser, RuntimeDep

router = APIRouter(tags=["events"])

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
OVERLAP = timedelta(seconds=2)


def _changed_since(runtime: Runtime, user: User, since: datetime) -> list[dict[str, object]]:
    with runtime.sessions() as db:
        rows = db.scalars(
            select(Recording)
            .where(Recording.user_id == user.id, Recording.updated_at > since)
            .order_by(Recording.updated_at)
        ).all()
        return [recording_summary(r) for r in rows]


@router.get("/events")
async def recording_events(
    request: Request, runtime: RuntimeDep, user: CurrentUser
) -> StreamingResponse:
    """`event: recording` with the recording's id, title, status, stage, progress and error."""

    async def stream() -> AsyncIterator[str]:
        since = utcnow()
        sent: dict[object, dict[str, object]] = {}
        quiet = 0.0
        yield "retry: 3000\n\n"
        while not await request.is_disconnected():
            checked_at = utcnow()
            changes = await run_in_threadpool(_changed_since, runtime, user, since)
            # Look back a little each time: a commit may land just after a query started.
            since = checked_at - OVERLAP
            fresh = [change for change in changes if sent.get(change["id"]) != change]
            for change in fresh:
                sent[change["id"]] = change
                yield f"event: recording\ndata: {json.dumps(change)}\n\n"
            quiet = 0.0 if fresh else quiet + POLL_SECONDS
            if quiet >= KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                quiet = 0.0
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
