"""API tokens: get one with a password, list and revoke them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request

from speakr.services.tokens import create_api_token, list_api_tokens, revoke_api_token
from speakr.services.users import authenticate
from speakr.web.deps import CurrentUser, DbDep, RuntimeDep

router = APIRouter(prefix="/auth", tags=["auth"])


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/token")
def issue_token(
    request: Request,
    runtime: RuntimeDep,
    db: DbDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    name: Annotated[str, Form()] = "API token",
) -> dict[str, Any]:
    """Exchange a username and password for a revocable bearer token (shown once)."""
    user = authenticate(db, runtime.settings, username, password, client_address(request))
    token, secret = create_api_token(db, user, name)
    db.commit()
    return {"access_token": secret, "token_type": "bearer", "id": token.id, "name": token.name}


@router.get("/tokens")
def list_tokens(db: DbDep, user: CurrentUser) -> list[dict[str, Any]]:
    return [
        {
            "id": token.id,
            "name": token.name,
            "created_at": token.created_at.isoformat(),
            "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        }
        for token in list_api_tokens(db, user)
    ]


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, db: DbDep, user: CurrentUser) -> None:
    revoke_api_token(db, user, token_id)
    db.commit()
