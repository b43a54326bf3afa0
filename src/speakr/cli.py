"""The `speakr` command: serve, worker, transcribe, users, db."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from speakr.errors import SpeakrError
from speakr.logs import configure_logging
from speakr.settings import Settings, load_settings

app = typer.Typer(help="Speakr: self-hosted transcripts of your recordings.", no_args_is_help=True)
users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")
err = Console(stderr=True, soft_wrap=True)


def _settings(*, log_to_stdout: bool = False) -> Settings:
    """Settings, or exit 2 with one line; servers log to stdout, other commands to stderr."""
    try:
        settings = load_settings()
    except SpeakrError as exc:
        err.print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise typer.Exit(2) from exc
    configure_logging(settings.LOG_LEVEL, sys.stdout if log_to_stdout else sys.stderr)
    return settings


def _fail(exc: SpeakrError) -> typer.Exit:
    err.print(f"[red]error:[/red] {exc.message}", highlight=False)
    return typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8899,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Run jobs in this process.")
    ] = True,
) -> None:
    """Run the web app (and, unless --no-worker, a job consumer beside it)."""
    import uvicorn

    from speakr.app import create_app

    settings = _settings(log_to_stdout=True)
    try:
        application = create_app(settings, run_worker=worker)
    except SpeakrError as exc:
        raise _fail(exc) from exc
    err.print(f"Speakr is starting on http://{'localhost' if host == '0.0.0.0' else host}:{port}")
    # Open event streams would otherwise hold a shutdown forever.
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=5,
    )


@app.command()
def worker() -> None:
    """Run a job consumer alone (scale out: many workers can share one queue)."""
    from speakr.app import prepare_storage
    from speakr.runtime import Runtime

    settings = _settings(log_to_stdout=True)
    try:
        runtime = Runtime.build(settings)
        prepare_storage(runtime)
    except SpeakrError as exc:
        raise _fail(exc) from exc
    consumer = runtime.queue.start_consumer(settings.WORKER_THREADS, in_thread=False)
    consumer.run()


class OutputFormat(StrEnum):
    txt = "txt"
    srt = "srt"
    vtt = "vtt"
    json = "json"
    md = "md"


@app.command()
def transcribe(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.txt,
    language: Annotated[str | None, typer.Option(help="Language code; default: detect.")] = None,
    words: Annotated[
        bool, typer.Option("--words", help="Word timings (in --format json).")
    ] = False,
) -> None:
    """Transcribe FILE offline with the embedded engine; the transcript goes to stdout."""
    from speakr.audio import probe
    from speakr.transcription import TranscriptionRequest
    from speakr.transcription.engines.local import LocalWhisperEngine
    from speakr.transcription.formats import render_transcript
    from speakr.transcription.registry import local_engine_config

    settings = _settings()
    engine = LocalWhisperEngine(local_engine_config(settings))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    try:
        info = probe(file)
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task(f"Transcribing {file.name}", total=1.0)
            transcript = engine.transcribe(
                file,
                TranscriptionRequest(
                    language=language, duration=info.duration, word_timestamps=words
                ),
                lambda fraction, _stage: progress.update(task, completed=fraction),
            )
    except SpeakrError as exc:
        raise _fail(exc) from exc
    sys.stdout.write(
        render_transcript(
            output_format.value, transcript.segments, title=file.stem, language=transcript.language
        )
    )


def _migrated_sessions() -> sessionmaker[Session]:
    """A session factory on the migrated database, for the admin commands."""
    from speakr.db import build_engine, build_session_factory
    from speakr.db.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    return build_session_factory(build_engine(settings.database_url))


@users_app.command("create")
def users_create(
    username: str,
    email: Annotated[str, typer.Option(help="Email address.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    admin: Annotated[bool, typer.Option("--admin", help="Give admin rights.")] = False,
) -> None:
    """Create a user account."""
    from speakr.db import session_scope
    from speakr.services.users import create_user

    sessions = _migrated_sessions()
    try:
        with session_scope(sessions) as db:
            user = create_user(db, username, email, password, is_admin=admin)
            err.print(f"Created user {user.username} (ID {user.id}{', admin' if admin else ''}).")
    except SpeakrError as exc:
        raise _fail(exc) from exc


@users_app.command("list")
def users_list() -> None:
    """List user accounts."""
    from speakr.db import User, session_scope

    sessions = _migrated_sessions()
    table = Table("ID", "Username", "Email", "Admin", "Created")
    with session_scope(sessions) as db:
        for user in db.scalars(select(User).order_by(User.id)):
            table.add_row(
                str(user.id),
                user.username,
                user.email,
                "yes" if user.is_admin else "",
                f"{user.created_at:%Y-%m-%d %H:%M}",
            )
    Console().print(table)


@users_app.command("set-password")
def users_set_password(
    username: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Set a user's password."""
    from speakr.db import session_scope
    from speakr.services.users import find_user, set_password

    sessions = _migrated_sessions()
    try:
        with session_scope(sessions) as db:
            user = find_user(db, username)
            if user is None:
                raise SpeakrError(f"There is no user named {username!r}.")
            set_password(user, password)
    except SpeakrError as exc:
        raise _fail(exc) from exc
    err.print(f"Password changed for {username}.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (also done at every start-up)."""
    from speakr.db.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    err.print("Database is up to date.")


def main() -> None:
    app()
