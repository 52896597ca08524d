"""Where document bytes live: content-addressed by SHA-256 behind a small interface.

`LocalStorage` keeps files under `DATA_DIR/files`; an S3-compatible backend can implement the
same methods.
"""

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from core.config import get_settings

SHA256_NAME = re.compile(r"[0-9a-f]{64}")


class Storage(Protocol):
    def put_file(self, path: Path, sha256: str) -> None:
        """Adopt a finished temporary file as the content for `sha256`."""

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None:
        """Remove the content for `sha256` (nothing happens if it is not there)."""

    def blobs(self) -> Iterator[tuple[str, float]]:
        """Every stored content's sha256 and when it was last stored (seconds since the epoch)."""
        ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put_file(self, path: Path, sha256: str) -> None:
        target = self._path(sha256)
        if target.exists():
            path.unlink(missing_ok=True)
            os.utime(target)  # stored again just now: not a stale orphan for the sweep
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)

    def open(self, sha256: str) -> BinaryIO:
        return self._path(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def delete(self, sha256: str) -> None:
        target = self._path(sha256)
        target.unlink(missing_ok=True)
        for directory in (target.parent, target.parent.parent):
            try:
                directory.rmdir()  # only when empty
            except OSError:
                break

    def blobs(self) -> Iterator[tuple[str, float]]:
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/??/*"):
            if SHA256_NAME.fullmatch(path.name) and path == self._path(path.name):
                try:
                    yield path.name, path.stat().st_mtime
                except FileNotFoundError:  # deleted meanwhile
                    continue


def get_storage() -> Storage:
    return LocalStorage(get_settings().upload_dir)


class SpooledUpload:
    """Receives an upload chunk by chunk into a temporary file, hashing and counting as it goes.

    Raises `TooLarge` as soon as the limit is passed, so an oversized upload is never held whole.
    """

    class TooLarge(Exception):
        pass

    def __init__(self, limit: int, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=directory, prefix="upload-")
        self.path = Path(name)
        self._file = os.fdopen(handle, "wb")
        self._hash = hashlib.sha256()
        self.size = 0
        self.limit = limit

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise SpooledUpload.TooLarge()
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> str:
        self._file.close()
        return self._hash.hexdigest()

    def truncate(self, length: int) -> str:
        """Cut the finished file to its first `length` bytes; the SHA-256 of what remains."""
        os.truncate(self.path, length)
        self.size = length
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


def sweep_spool(directory: Path, *, older_than_seconds: float, now: float | None = None) -> int:
    """Delete temporary upload files older than the given age (left by a crashed process: a
    live upload's file is younger than any upload can take); the number deleted."""
    if not directory.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - older_than_seconds
    deleted = 0
    for path in directory.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
        except FileNotFoundError:
            continue
    return deleted
