"""Streaming multipart parsing: the file goes to a temporary file chunk by chunk, and an upload
past the limit is refused as soon as the limit is passed (never held whole in memory)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from python_multipart.multipart import MultipartParser, parse_options_header

from core.config import get_settings
from core.storage import SpooledUpload, get_storage
from domain.documents import PayloadTooLarge, sniff
from domain.errors import field_error

T = TypeVar("T")

FORM_OVERHEAD = 64 * 1024  # room for boundaries and the small text fields
MAX_FIELD_BYTES = 1024


@dataclass
class ReceivedForm:
    fields: dict[str, str] = field(default_factory=dict)
    file: SpooledUpload | None = None
    filename: str = ""
    file_field: str = ""


async def receive_multipart(request: Request, *, file_field: str = "file") -> ReceivedForm:
    settings = get_settings()
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise PayloadTooLarge(f"文件超过大小上限（{limit // (1024 * 1024)} MB）")
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise field_error(
            "body", "validation_error", "请以 multipart/form-data 上传（字段 kind、file）"
        )

    form = ReceivedForm()
    state: dict = {
        "headers": {},
        "name": "",
        "value": bytearray(),
        "header_field": b"",
        "header_value": b"",
    }
    errors: list[Exception] = []

    def on_part_begin() -> None:
        state["headers"] = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header_field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["header_value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["header_field"].lower()] = state["header_value"]
        state["header_field"], state["header_value"] = b"", b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(state["headers"].get(b"content-disposition", b""))
        state["name"] = disposition.get(b"name", b"").decode("utf-8", "replace")
        state["value"] = bytearray()
        if state["name"] == file_field and b"filename" in disposition and form.file is None:
            form.filename = disposition[b"filename"].decode("utf-8", "replace")[:255] or "upload"
            form.file = SpooledUpload(limit, settings.data_dir / "tmp")
            state["target"] = "file"
        else:
            state["target"] = "field"

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if errors:
            return
        chunk = data[start:end]
        if state["target"] == "file" and form.file is not None:
            try:
                form.file.write(chunk)
            except SpooledUpload.TooLarge:
                errors.append(PayloadTooLarge(f"文件超过大小上限（{limit // (1024 * 1024)} MB）"))
        else:
            state["value"] += chunk
            if len(state["value"]) > MAX_FIELD_BYTES:
                errors.append(field_error(state["name"], "validation_error", "字段过长"))

    def on_part_end() -> None:
        if state.get("target") == "field" and state["name"]:
            form.fields[state["name"]] = state["value"].decode("utf-8", "replace")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if errors:
                raise errors[0]
        parser.finalize()
    except BaseException:
        if form.file is not None:
            form.file.discard()
        raise
    return form


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
