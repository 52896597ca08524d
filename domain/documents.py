"""What a document is, decided by its content: PDF, JPEG or PNG only; images must decode."""

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from domain.errors import DomainError

MAX_IMAGE_PIXELS = 50_000_000  # a 50-megapixel photo is plenty; larger is a decompression bomb


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    message = "只接受 PDF、JPEG 或 PNG 文件（按文件内容判断）"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    message = "文件超过大小上限"


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str


def sniff(path: Path) -> Sniffed:
    """The file's real type from its bytes; raises UnsupportedMediaType for anything else."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(b"%PDF-"):
        _check_pdf(path)
        return Sniffed("application/pdf", "pdf")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        _check_image(path, "PNG")
        return Sniffed("image/png", "png")
    if head.startswith(b"\xff\xd8\xff"):
        _check_image(path, "JPEG")
        return Sniffed("image/jpeg", "jpg")
    raise UnsupportedMediaType()


def _check_pdf(path: Path) -> None:
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(0, size - 1024))
        tail = handle.read()
    if b"%%EOF" not in tail:
        raise UnsupportedMediaType("PDF 文件不完整或已损坏")


def _check_image(path: Path, expected_format: str) -> None:
    try:
        with Image.open(path) as image:
            if image.format != expected_format:
                raise UnsupportedMediaType()
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise UnsupportedMediaType("图片像素过多")
            image.load()  # decodes every pixel: a truncated or corrupt image fails here
    except UnsupportedMediaType:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UnsupportedMediaType("图片无法解码") from error
