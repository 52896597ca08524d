"""Streaming multipart parsing: the file goes to a temporary file chunk by chunk, and an upload
past the limit is refused as soon as the limit is passed (never held whole in memory).

Every byte of the body counts against MAX_UPLOAD_BYTES + FORM_OVERHEAD (boundaries, part
headers, text fields, anything after the closing boundary), with or without Content-Length.
Malformed multipart (a part without headers, a header line without a colon, an over-long header
or name, a body that stops before its closing boundary or goes on after it) is a 422
`validation_error`; nothing is stored.

The API's upload routes and the operator's pages share it (pages sit below the API; `api.uploads`
re-exports it).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlmodel import Session

from core.config import get_settings
from core.storage import SpooledUpload, get_storage
from domain.documents import (
    MAX_FILENAME_CHARS,
    PayloadTooLarge,
    clean_filename,
    size_text,
    sniff,
)
from domain.errors import ValidationFailed, field_error
from web.deps import run_between_transactions

if TYPE_CHECKING:  # the library declares its callback types for type checkers only
    from python_multipart.multipart import MultipartCallbacks

T = TypeVar("T")

FORM_OVERHEAD = 64 * 1024  # room for boundaries, part headers and the small text fields
MAX_FIELD_BYTES = 1024
MAX_PARTS = 8  # the forms have two fields (kind, file); a few more are tolerated and ignored
MAX_NAME_CHARS = 64
EPILOGUE_WHITESPACE = b" \t\r\n"


@dataclass
class ReceivedForm:
    fields: dict[str, str] = field(default_factory=dict)
    file: SpooledUpload | None = None
    filename: str = ""


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"文件超过大小上限（{size_text(limit)}）")


def _malformed(message: str = "multipart/form-data 请求体格式错误") -> ValidationFailed:
    return field_error("body", "validation_error", message)


class _PartReceiver:
    """The multipart parser's callbacks: the current part's headers and name, whether its bytes
    go to the upload file or to a small text field, and the first error met."""

    def __init__(
        self,
        file_field: str,
        limit: int,
        spool_dir: Path,
        before_file: Callable[[dict[str, str]], None] | None = None,
    ) -> None:
        self.form = ReceivedForm()
        self._before_file = before_file
        self.error: Exception | None = None
        self.ended = False
        self._file_field = file_field
        self._limit = limit
        self._spool_dir = spool_dir
        self._parts = 0
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
            "on_end": self.on_end,
        }

    def _fail(self, error: Exception) -> None:
        if self.error is None:
            self.error = error

    def on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            self._fail(_malformed("表单字段过多"))
        self._headers = {}
        self._name = ""
        self._into_file = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        if self.error is not None:
            return
        _, disposition = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if len(name) > MAX_NAME_CHARS:
            self._fail(_malformed("表单字段名过长"))
            return
        self._name = name
        self._value = bytearray()
        if name != self._file_field:
            return
        if self.form.file is not None:
            self._fail(field_error(name, "validation_error", "只能上传一个文件"))
            return
        if b"filename" not in disposition:
            self._fail(field_error(name, "validation_error", "文件字段应为文件（缺少文件名）"))
            return
        if self._before_file is not None:
            try:  # e.g. the page's CSRF token, sent before the file: refused before any byte
                self._before_file(dict(self.form.fields))
            except Exception as refused:
                self._fail(refused)
                return
        filename = disposition[b"filename"].decode("utf-8", "replace")
        if len(filename) > MAX_FILENAME_CHARS:
            self._fail(
                field_error(
                    name, "validation_error", f"文件名过长（最多 {MAX_FILENAME_CHARS} 个字符）"
                )
            )
            return
        self.form.filename = clean_filename(filename)
        self.form.file = SpooledUpload(self._limit, self._spool_dir)
        self._into_file = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        chunk = data[start:end]
        if self._into_file and self.form.file is not None:
            try:
                self.form.file.write(chunk)
            except SpooledUpload.TooLarge:
                self._fail(_too_large(self._limit))
            return
        self._value += chunk
        if len(self._value) > MAX_FIELD_BYTES:
            self._fail(field_error(self._name or "body", "validation_error", "字段过长"))

    def on_part_end(self) -> None:
        if self.error is None and not self._into_file and self._name:
            self.form.fields[self._name] = self._value.decode("utf-8", "replace")
        self._into_file = False

    def on_end(self) -> None:
        self.ended = True


def _boundary(request: Request) -> bytes:
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise field_error(
            "body", "validation_error", "请以 multipart/form-data 上传（字段 kind、file）"
        )
    return boundary


class _Epilogue:
    """What follows the closing boundary: only line breaks and spaces are allowed there."""

    def __init__(self, boundary: bytes) -> None:
        self._closing = b"\r\n--" + boundary + b"--"
        self._tail = b""

    def keep_tail(self, chunk: bytes) -> None:
        self._tail = (self._tail + chunk)[-len(self._closing) :]

    def check(self, chunk: bytes, *, ended_in_this_chunk: bool) -> None:
        if ended_in_this_chunk:
            window = self._tail + chunk
            at = window.find(self._closing)
            closing = self._closing
            if at < 0:  # a body that is only "--boundary--"
                closing = self._closing[2:]
                at = window.find(closing)
            after = window[at + len(closing) :] if at >= 0 else b""
        else:
            after = chunk
        if after.strip(EPILOGUE_WHITESPACE):
            raise _malformed("multipart 结束分隔符之后不应再有数据")


async def receive_multipart(
    request: Request,
    *,
    file_field: str = "file",
    before_file: Callable[[dict[str, str]], None] | None = None,
) -> ReceivedForm:
    """Reads the request's multipart body as it streams in: small fields into memory, the file
    into a spooled temporary file. The body is refused (413) as soon as it passes
    MAX_UPLOAD_BYTES + FORM_OVERHEAD, counting every byte, or the file alone passes
    MAX_UPLOAD_BYTES. `before_file` sees the fields received so far when the file part begins
    (the pages' CSRF check): what it raises refuses the request before a byte of the file is
    written."""
    settings = get_settings()
    limit = settings.max_upload_bytes
    budget = limit + FORM_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > budget:
        raise _too_large(limit)
    boundary = _boundary(request)
    receiver = _PartReceiver(file_field, limit, settings.data_dir / "tmp", before_file)
    epilogue = _Epilogue(boundary)
    received = 0
    try:
        try:
            parser = MultipartParser(boundary, receiver.callbacks())
            async for chunk in request.stream():
                received += len(chunk)
                if received > budget:
                    raise _too_large(limit)
                if receiver.ended:
                    epilogue.check(chunk, ended_in_this_chunk=False)
                    continue
                parser.write(chunk)
                if receiver.error is not None:
                    raise receiver.error
                if receiver.ended:
                    epilogue.check(chunk, ended_in_this_chunk=True)
                epilogue.keep_tail(chunk)
            parser.finalize()
        except FormParserError as error:  # python-multipart's own: malformed input
            raise _malformed() from error
        if not receiver.ended:
            raise _malformed("multipart 请求体不完整（缺少结束分隔符）")
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
    session: Session,
    attach: Callable[[CheckedUpload], T],
    *,
    check_fields: Callable[[dict[str, str]], None] | None = None,
    before_file: Callable[[dict[str, str]], None] | None = None,
) -> T:
    """Receives, checks (PDF/JPEG/PNG by content) and stores one upload, then runs `attach` (the
    database part) in a worker thread. The file is stored only once `attach` succeeds; a refused
    upload leaves nothing behind. Bytes after an image's end are cut off before it is hashed and
    stored.

    The route is `@reads_first`: while the body streams in and is checked (seconds, for a slow
    phone connection) no write lock is held; the write transaction begins just before `attach`.
    """
    form = await receive_multipart(request, before_file=before_file)
    upload = form.file
    try:
        if check_fields is not None:
            check_fields(form.fields)
        if upload is None:
            raise field_error("file", "missing", "请选择要上传的文件")
        sha256 = upload.finish()
        sniffed = await run_in_threadpool(sniff, upload.path)
        if sniffed.length < upload.size:
            sha256 = upload.truncate(sniffed.length)
        checked = CheckedUpload(
            form.fields, form.filename, sniffed.content_type, upload.size, sha256
        )

        def attach_and_store() -> T:
            run_between_transactions(session, lambda: None)  # now a writer
            result = attach(checked)
            get_storage().put_file(upload.path, sha256)
            return result

        return await run_in_threadpool(attach_and_store)
    finally:
        if upload is not None:
            upload.discard()
