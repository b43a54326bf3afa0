"""The JSON API, version 1."""

from fastapi import APIRouter

from speakr.web.api import auth, events, recordings

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(auth.router)
api_router.include_router(recordings.router)
api_router.include_router(events.router)
