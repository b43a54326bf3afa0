"""Stream a multipart upload straight to a staging file: never whole in memory, never in a
temp directory elsewhere, the size limit enforced as bytes arrive."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from speakr.errors import InvalidInputError, UploadTooLargeError

MAX_FIELD_BYTES = 16 * 1024


@dataclass
class ReceivedUpload:
    filename: str | None = None
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)


class _UploadReceiver:
    def __init__(self, destination: Path, max_bytes: int) -> None:
        self.destination = destination
        self.max_bytes = max_bytes
        self.result = ReceivedUpload()
        self.too_large = False
        self._file: BinaryIO | None = None
        self._headers: dict[bytes, bytes] = {}
        self._header_field = b""
        self._header_value = b""
        self._part_name = ""
        self._is_file = False
        self._field_value = bytearray()
        self.error: str | None = None

    def on_part_begin(self) -> None:
        self._headers, self._is_file, self._field_value = {}, False, bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.strip().lower()] = self._header_value.strip()
        self._header_field = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._part_name = options.get(b"name", b"").decode("utf-8", "replace")
        if self._part_name == "file" and b"filename" in options:
            if self._file is not None:
                self.error = "Send one file per request."
                return
            try:
                self.result.filename = options[b"filename"].decode("utf-8")
            except UnicodeDecodeError:
                self.error = "The file name is not valid UTF-8."
                return
            self._is_file = True
            self._file = self.destination.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error or self.too_large:
            return
        chunk = data[start:end]
        if self._is_file and self._file is not None:
            self.result.size += len(chunk)
            if self.result.size > self.max_bytes:
                self.too_large = True
                return
            self._file.write(chunk)
        else:
            self._field_value += chunk
            if len(self._field_value) > MAX_FIELD_BYTES:
                self.error = f"The form field '{self._part_name}' is too long."

    def on_part_end(self) -> None:
        if not self._is_file and self._part_name and not self.error:
            self.result.fields[self._part_name] = self._field_value.decode("utf-8", "replace")

    def finish(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.destination.unlink(missing_ok=True)


async def receive_upload(request: Request, destination: Path, max_bytes: int) -> ReceivedUpload:
    """Parse `multipart/form-data` with a `file` part into `destination` (fsynced).

    On any error the destination is removed and a 4xx error says what was wrong.
    """
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidInputError("Send the recording as multipart/form-data with a 'file' field.")
    receiver = _UploadReceiver(destination, max_bytes)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": receiver.on_part_begin,
            "on_part_data": receiver.on_part_data,
            "on_part_end": receiver.on_part_end,
            "on_header_field": receiver.on_header_field,
            "on_header_value": receiver.on_header_value,
            "on_header_end": receiver.on_header_end,
            "on_headers_finished": receiver.on_headers_finished,
        },
    )
    try:
        async for chunk in request.stream():
            # Past the limit we keep reading (and discarding) so the client gets our answer.
            if not receiver.too_large:
                parser.write(chunk)
        if not receiver.too_large:
            parser.finalize()
        receiver.finish()
    except BaseException as exc:
        receiver.abort()
        if isinstance(exc, ValueError):  # python-multipart's parse errors
            raise InvalidInputError(f"The upload is not valid multipart data: {exc}") from exc
        raise
    if receiver.too_large:
        receiver.abort()
        raise UploadTooLargeError(
            f"The file is larger than the {max_bytes // (1024 * 1024)} MB limit (MAX_UPLOAD_MB)."
        )
    if receiver.error or receiver.result.filename is None:
        receiver.abort()
        raise InvalidInputError(receiver.error or "The upload has no 'file' field with a file.")
    return receiver.result
