"""Where document bytes live: content-addressed by SHA-256 behind a small interface.

`LocalStorage` keeps files under `DATA_DIR/files` (one machine); `S3Storage` keeps them in an
S3-compatible object store (`STORAGE_BACKEND=s3`), which every app instance shares. Either way
a file is stored only after every check passed, under the SHA-256 of its content, and read back
in chunks.
"""

import base64
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, cast

from core.config import get_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

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


# One PUT up to this size, with the SHA-256 we computed for the object store to check; larger
# files go up in parts (each part checksummed), read from disk as they go.
SINGLE_PUT_LIMIT = 64 * 1024 * 1024
READ_CHUNK = 64 * 1024


class StoredFileError(Exception):
    """The object store refused or lost a file (not a missing one: that is FileNotFoundError)."""


class S3Storage:
    """Files as objects named by their SHA-256 in one bucket of an S3-compatible store.

    A PUT is atomic (an object is whole or absent), so a failed or refused upload leaves nothing;
    storing existing content again rewrites it, which also renews its LastModified so the sweep
    of unreferenced files sees it as young while its row is being committed.
    """

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def put_file(self, path: Path, sha256: str) -> None:
        self.upload(path, sha256)
        path.unlink(missing_ok=True)

    def upload(self, path: Path, sha256: str) -> None:
        """Stores the file at `path` (left in place) as the content for `sha256`."""
        size = path.stat().st_size
        if size <= SINGLE_PUT_LIMIT:
            with path.open("rb") as handle:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=sha256,
                    Body=handle,
                    ContentLength=size,
                    # The store recomputes it and refuses the PUT (BadDigest) if the bytes differ.
                    ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode(),
                )
        else:
            self.client.upload_file(
                str(path), self.bucket, sha256, ExtraArgs={"ChecksumAlgorithm": "SHA256"}
            )

    def open(self, sha256: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=sha256)
        except ClientError as error:
            if _is_missing(error):
                raise FileNotFoundError(sha256) from None
            raise
        # botocore's streaming body reads in chunks (`read(n)`), closes, and is a context manager.
        return cast(BinaryIO, response["Body"])

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=sha256)
        except ClientError as error:
            if _is_missing(error):
                return False
            raise
        return True

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=sha256)

    def blobs(self) -> Iterator[tuple[str, float]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"]
                if SHA256_NAME.fullmatch(key):
                    yield key, item["LastModified"].timestamp()

    def sha256_of(self, sha256: str) -> str:
        """The SHA-256 of the stored bytes, read back in chunks (for verifying a migration)."""
        digest = hashlib.sha256()
        with self.open(sha256) as handle:
            for chunk in iter(lambda: handle.read(READ_CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def ensure_bucket(self) -> None:
        """Creates the bucket when it does not exist yet (deployment and tests)."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            if not _is_missing(error):
                raise
            self.client.create_bucket(Bucket=self.bucket)


@dataclass
class CopyReport:
    copied: int = 0
    already_there: int = 0  # present in the target with the right content
    bytes_copied: int = 0
    refused: list[str] = field(default_factory=list)  # local files whose content is not their name


def copy_local_to_s3(source: LocalStorage, target: S3Storage) -> CopyReport:
    """Copies every file of a local store into an object store and reads each back to check its
    SHA-256 (the name it is stored under). A local file whose content does not match its name
    is refused, not copied: the object store checks the SHA-256 of every PUT."""
    from botocore.exceptions import ClientError

    report = CopyReport()
    for sha256, _ in source.blobs():
        path = source._path(sha256)
        if target.exists(sha256) and target.sha256_of(sha256) == sha256:
            report.already_there += 1
            continue
        try:
            target.upload(path, sha256)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) not in {
                "BadDigest",
                "InvalidDigest",
            }:
                raise
            report.refused.append(sha256)
            continue
        if target.sha256_of(sha256) != sha256:
            raise StoredFileError(f"{sha256}: the object store returned other content")
        report.copied += 1
        report.bytes_copied += path.stat().st_size
    return report


def _error_code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


def _is_missing(error: Exception) -> bool:
    return _error_code(error) in {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}


@lru_cache(maxsize=4)
def s3_client(endpoint_url: str | None, region: str) -> S3Client:
    """One client per process and endpoint: boto3 clients are thread-safe, and building one
    costs tens of milliseconds."""
    import boto3
    from botocore.config import Config

    config = Config(
        s3={"addressing_style": "path"},  # MinIO, SeaweedFS and Ceph without wildcard DNS
        retries={"max_attempts": 5, "mode": "standard"},
        max_pool_connections=32,
        connect_timeout=5,
        read_timeout=30,
    )
    return cast(
        S3Client,
        boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        ),
    )


def get_storage() -> Storage:
    settings = get_settings()
    if settings.storage_backend == "s3":
        assert settings.s3_bucket is not None  # the settings refuse s3 without a bucket
        return S3Storage(
            s3_client(settings.s3_endpoint_url, settings.s3_region), settings.s3_bucket
        )
    return LocalStorage(settings.upload_dir)


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
