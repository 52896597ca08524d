"""Streaming multipart parsing: the file goes to a temporary file chunk by chunk, and an upload
past the limit is refused as soon as the limit is passed (never held whole in memory)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from python_multipart.multipart import MultipartParser, parse_options_header

from core.config import get_settings
from core.storage import SpooledUpload, get_storage
from domain.documents import PayloadTooLarge, sniff
from domain.errors import field_error

if TYPE_CHECKING:  # the library declares its callback types for type checkers only
    from python_multipart.multipart import MultipartCallbacks

T = TypeVar("T")

FORM_OVERHEAD = 64 * 1024  # room for boundaries and the small text fields
MAX_FIELD_BYTES = 1024


@dataclass
class ReceivedForm:
    fields: dict[str, str] = field(default_factory=dict)
    file: SpooledUpload | None = None
    filename: str = ""


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"文件超过大小上限（{limit // (1024 * 1024)} MB）")


class _PartReceiver:
    """The multipart parser's callbacks: the current part's headers and name, whether its bytes
    go to the upload file or to a small text field, and the first error met."""

    def __init__(self, file_field: str, limit: int, spool_dir: Path) -> None:
        self.form = ReceivedForm()
        self.error: Exception | None = None
        self._file_field = file_field
        self._limit = limit
        self._spool_dir = spool_dir
        self._headers: dict[bytes, bytes] = {}
        self._header_field = b""
        self._header_value = b""
        self._name = ""
        self._value = bytearray()
        self._into_file = False

    def callbacks(self) -> "MultipartCallbacks":
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
        }

    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, disposition = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = disposition.get(b"name", b"").decode("utf-8", "replace")
        self._value = bytearray()
        self._into_file = (
            self._name == self._file_field and b"filename" in disposition and self.form.file is None
        )
        if self._into_file:
            filename = disposition[b"filename"].decode("utf-8", "replace")[:255]
            self.form.filename = filename or "upload"
            self.form.file = SpooledUpload(self._limit, self._spool_dir)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        chunk = data[start:end]
        if self._into_file and self.form.file is not None:
            try:
                self.form.file.write(chunk)
            except SpooledUpload.TooLarge:
                self.error = _too_large(self._limit)
            return
        self._value += chunk
        if len(self._value) > MAX_FIELD_BYTES:
            self.error = field_error(self._name, "validation_error", "字段过长")

    def on_part_end(self) -> None:
        if not self._into_file and self._name:
            self.form.fields[self._name] = self._value.decode("utf-8", "replace")


def _boundary(request: Request) -> bytes:
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise field_error(
            "body", "validation_error", "请以 multipart/form-data 上传（字段 kind、file）"
        )
    return boundary


async def receive_multipart(request: Request, *, file_field: str = "file") -> ReceivedForm:
    """Reads the request's multipart body as it streams in: small fields into memory, the file
    into a spooled temporary file, refused as soon as it passes MAX_UPLOAD_BYTES."""
    settings = get_settings()
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise _too_large(limit)
    receiver = _PartReceiver(file_field, limit, settings.data_dir / "tmp")
    parser = MultipartParser(_boundary(request), receiver.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if receiver.error is not None:
                raise receiver.error
        parser.finalize()
    except BaseException:
        if receiver.form.file is not None:
            receiver.form.file.discard()
        raise
    return receiver.form


@dataclass(frozen=True)
class CheckedUpload:
    """A received file whose content type was established from its bytes."""

    fields: dict[str, str]
    filename: str
    content_type: str
    size: int
    sha256: str


async def store_checked_upload(
    request: Request,
    attach: Callable[[CheckedUpload], T],
    *,
    check_fields: Callable[[dict[str, str]], None] | None = None,
) -> T:
    """Receives, checks (PDF/JPEG/PNG by content) and stores one upload, then runs `attach` (the
    database part) in a worker thread. The file is stored only once `attach` succeeds; a refused
    upload leaves nothing behind."""
    form = await receive_multipart(request)
    upload = form.file
    try:
        if check_fields is not None:
            check_fields(form.fields)
        if upload is None:
            raise field_error("file", "missing", "请选择要上传的文件")
        sha256 = upload.finish()
        sniffed = await run_in_threadpool(sniff, upload.path)
        checked = CheckedUpload(
            form.fields, form.filename, sniffed.content_type, upload.size, sha256
        )

        def attach_and_store() -> T:
            result = attach(checked)
            get_storage().put_file(upload.path, sha256)
            return result

        return await run_in_threadpool(attach_and_store)
    finally:
        if upload is not None:
            upload.discard()
