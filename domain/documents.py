"""What a document is, decided by its content: PDF, JPEG or PNG only.

- A PDF must parse, must end at its last `%%EOF` (whitespace aside), and must carry no
  JavaScript and no launch action (also inside compressed object streams).
- An image must decode; data after its end (a phone's motion-photo video after the JPEG's EOI
  marker, anything after the PNG's IEND chunk) is not refused but cut off: `Sniffed.length` says
  how many bytes are the image.
- Checking is the memory-hungry part (a 50-megapixel PNG decodes to ~150 MB), so it runs on a
  pool of `MAX_CONCURRENT_CHECKS` threads per process; the rest wait their turn.
- `clean_filename` is the name a file is stored under.
"""

import io
import logging
import re
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from domain.errors import DomainError

MAX_IMAGE_PIXELS = 50_000_000  # a 50-megapixel photo is plenty; larger is a decompression bomb
MAX_CONCURRENT_CHECKS = 2  # about one per core: decoding is CPU- and memory-bound
MAX_FILENAME_CHARS = 255

# pypdf reports every repair it makes as a warning; a refused upload is answered, not logged.
logging.getLogger("pypdf").setLevel(logging.ERROR)


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    message = "只接受 PDF、JPEG 或 PNG 文件（按文件内容判断）"


def size_text(limit: int) -> str:
    """A byte limit as people read it: `10 MB`, `64 KB`, `512 字节`."""
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    return f"{limit / 1024:g} KB" if limit >= 1024 else f"{limit} 字节"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    message = "文件超过大小上限"


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str
    length: int  # the file's own bytes; anything after them is to be cut off, not stored


# The checks run on these threads only. Bounding concurrency alone is not enough: the C
# allocator gives each thread that ever decoded a 150 MB image its own arena and keeps the freed
# memory there, so eight request threads taking turns still grew the process to 1.2 GB; two
# dedicated threads keep it near two decodes' worth.
_CHECKER = ThreadPoolExecutor(MAX_CONCURRENT_CHECKS, thread_name_prefix="content-check")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8\xff"


def sniff(path: Path) -> Sniffed:
    """The file's real type from its bytes; raises UnsupportedMediaType for anything else.

    The parsing and decoding run on a process-wide pool of MAX_CONCURRENT_CHECKS threads: at
    most that many files are checked at once, whatever the number of concurrent uploads; the
    calling thread waits for its turn."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if not head.startswith((b"%PDF-", PNG_SIGNATURE, JPEG_SOI)):
        raise UnsupportedMediaType()
    return _CHECKER.submit(_check, path, head).result()


def _check(path: Path, head: bytes) -> Sniffed:
    if head.startswith(b"%PDF-"):
        return Sniffed("application/pdf", "pdf", _check_pdf(path.read_bytes()))
    if head.startswith(PNG_SIGNATURE):
        _decode_image(path, "PNG")  # the decoder stops at IEND: what follows is not read
        return Sniffed("image/png", "png", _png_length(path))
    data = path.read_bytes()
    length = _jpeg_length(data)
    _decode_image(io.BytesIO(data[:length]), "JPEG")
    return Sniffed("image/jpeg", "jpg", length)


# --- images -----------------------------------------------------------------------------------


def _decode_image(source: Any, expected_format: str) -> None:
    """Decodes every pixel (a truncated or corrupt image fails here). A JPEG is decoded at 1/8
    scale: the decoder still reads every coefficient, in 1/64 of the memory."""
    try:
        with Image.open(source) as image:
            if image.format != expected_format:
                raise UnsupportedMediaType()
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise UnsupportedMediaType("图片像素过多")
            if expected_format == "JPEG":
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()
    except UnsupportedMediaType:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UnsupportedMediaType("图片无法解码") from error


def _png_length(path: Path) -> int:
    """Where the PNG ends: just after its IEND chunk (the whole file if no IEND is found)."""
    size = path.stat().st_size
    position = len(PNG_SIGNATURE)
    with path.open("rb") as handle:
        while position + 12 <= size:
            handle.seek(position)
            header = handle.read(8)
            end = position + 12 + int.from_bytes(header[:4], "big")
            if header[4:] == b"IEND":
                return min(end, size)
            position = end
    return size


_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RST0–7 carry no length
_SOS, _EOI = 0xDA, 0xD9


def _jpeg_length(data: bytes) -> int:
    """Where the JPEG ends: just after its EOI marker, found by walking the marker segments (an
    EXIF thumbnail's own EOI lies inside a segment and is skipped). The whole file if the walk
    fails: the decoder then judges it."""
    size = len(data)
    position = 2  # after SOI
    while position < size:
        if data[position] != 0xFF:
            return size
        while position < size and data[position] == 0xFF:  # fill bytes
            position += 1
        if position >= size:
            return size
        marker = data[position]
        position += 1
        if marker == _EOI:
            return position
        if marker in _STANDALONE_MARKERS:
            continue
        if position + 2 > size:
            return size
        segment = int.from_bytes(data[position : position + 2], "big")
        if segment < 2:
            return size
        position += segment
        if marker == _SOS:
            position = _end_of_scan(data, position)
    return size


def _end_of_scan(data: bytes, position: int) -> int:
    """The entropy-coded data after SOS runs to the next marker that is not a stuffed 0xFF00 or
    a restart marker."""
    size = len(data)
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= size:
            return size
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            position += 2
        elif following == 0xFF:
            position += 1
        else:
            return position


# --- PDF --------------------------------------------------------------------------------------

PDF_WHITESPACE = b"\x00\t\n\x0c\r "
_PDF_DELIMITER = rb"(?=[\x00\t\n\x0c\r ()<>\[\]{}/%]|\Z)"
ACTIVE_NAMES = frozenset({"/JS", "/JavaScript", "/Launch"})


def _name_pattern(name: str) -> bytes:
    """A PDF name as it may be written: each character plain or as a #xx escape."""
    parts = [b"/"]
    for char in name:
        hex_code = f"{ord(char):02x}"
        escaped = b"#" + b"".join(f"[{d}{d.upper()}]".encode() for d in hex_code)
        parts.append(b"(?:" + re.escape(char.encode()) + b"|" + escaped + b")")
    return b"".join(parts) + _PDF_DELIMITER


# Long names only: a three-byte `/JS` occurs by chance in compressed image data; it is found by
# walking the parsed objects instead.
_ACTIVE_RAW = re.compile(b"|".join(_name_pattern(name) for name in ("JavaScript", "Launch")))


class _PdfRefused(Exception):
    pass


def _check_pdf(data: bytes) -> int:
    end = len(data.rstrip(PDF_WHITESPACE))
    if b"%%EOF" not in data:
        raise UnsupportedMediaType("PDF 文件不完整或已损坏")
    if not data[:end].endswith(b"%%EOF"):
        raise UnsupportedMediaType("PDF 文件结束标记（%%EOF）之后还有其他数据")
    active = "PDF 文件含有 JavaScript 脚本或启动外部程序的动作，不予接受"
    if _ACTIVE_RAW.search(data):
        raise UnsupportedMediaType(active)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if not isinstance(reader.trailer.get("/Root"), IndirectObject | DictionaryObject):
            raise _PdfRefused()
        if len(reader.pages) < 1:
            raise _PdfRefused()
        for value in _pdf_objects(reader):
            if _carries_active_content(value):
                raise UnsupportedMediaType(active)
    except UnsupportedMediaType:
        raise
    except Exception as error:  # pypdf raises many kinds on malformed input
        raise UnsupportedMediaType("PDF 文件无法解析") from error
    return len(data)


def _pdf_objects(reader: PdfReader) -> Iterator[Any]:
    """The trailer and every object the cross-reference lists, those in object streams too."""
    yield reader.trailer
    for generation, numbers in reader.xref.items():
        for number in numbers:
            yield reader.get_object(IndirectObject(number, generation, reader))
    for number in reader.xref_objStm:
        yield reader.get_object(IndirectObject(number, 0, reader))


def _carries_active_content(root: Any) -> bool:
    """A /JS, /JavaScript or /Launch name as a key or a value anywhere in the object (indirect
    references are not followed: every object is visited on its own)."""
    stack = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, DictionaryObject):
            if ACTIVE_NAMES.intersection(value.keys()):
                return True
            stack.extend(value.values())
        elif isinstance(value, ArrayObject):
            stack.extend(value)
        elif isinstance(value, NameObject) and value in ACTIVE_NAMES:
            return True
    return False


# --- names ------------------------------------------------------------------------------------

# Bidirectional controls reorder what is shown ("invoice\u202efdp.exe" shows as "invoiceexe.pdf").
BIDI_CONTROLS = frozenset(
    {*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)), "\u200e", "\u200f"}
    | {"\u061c"}
)


def clean_filename(raw: str) -> str:
    """The name a file is stored and offered under: no control characters (NUL, CR, LF, …), no
    bidi controls, no directories (the part after the last / or \\), at most 255 characters;
    Chinese and other letters are kept. An empty result becomes "upload"."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        char
        for char in name
        if char not in BIDI_CONTROLS and unicodedata.category(char) not in {"Cc", "Zl", "Zp"}
    ).strip()
    if name in {"", ".", ".."}:
        return "upload"
    return name[:MAX_FILENAME_CHARS]
