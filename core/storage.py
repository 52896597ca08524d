"""Where document bytes live: content-addressed by SHA-256 behind a small interface.

`LocalStorage` keeps files under `DATA_DIR/files`; an S3-compatible backend can implement the
same three methods.
"""

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from core.config import get_settings


class Storage(Protocol):
    def put_file(self, path: Path, sha256: str) -> None:
        """Adopt a finished temporary file as the content for `sha256`."""

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put_file(self, path: Path, sha256: str) -> None:
        target = self._path(sha256)
        if target.exists():
            path.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)

    def open(self, sha256: str) -> BinaryIO:
        return self._path(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()


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

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)
