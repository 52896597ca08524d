"""The S3 document store against a real S3 server (SeaweedFS), and `storage-migrate --to s3`.

The document tests of the API (tests/api/test_documents.py, test_upload_security.py) run on
both stores as well; these check what only the object store does.
"""

import hashlib
import os
import time
import uuid
from pathlib import Path

import pytest

from cli.main import main as cli_main
from core import storage
from core.config import get_settings
from core.storage import LocalStorage, S3Storage, s3_client
from tests.s3server import S3Server


@pytest.fixture
def bucket(s3_server: S3Server) -> S3Storage:
    """An empty bucket of its own."""
    store = S3Storage(s3_client(s3_server.endpoint_url, "us-east-1"), f"t-{uuid.uuid4().hex}")
    store.ensure_bucket()
    return store


def spooled(tmp_path: Path, content: bytes) -> tuple[Path, str]:
    path = tmp_path / f"spool-{uuid.uuid4().hex}"
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest()


def test_a_file_is_stored_by_its_sha256_read_back_in_chunks_and_deleted(
    bucket: S3Storage, tmp_path: Path
) -> None:
    content = os.urandom(300_000)
    path, sha256 = spooled(tmp_path, content)
    assert not bucket.exists(sha256)

    bucket.put_file(path, sha256)

    assert not path.exists(), "the spooled file is adopted, not left behind"
    assert bucket.exists(sha256)
    with bucket.open(sha256) as handle:
        first = handle.read(64 * 1024)
        rest = handle.read()
    assert len(first) == 64 * 1024 and first + rest == content
    [(listed, stored_at)] = list(bucket.blobs())
    assert listed == sha256 and abs(stored_at - time.time()) < 60
    bucket.delete(sha256)
    bucket.delete(sha256)  # deleting what is gone is no error
    assert not bucket.exists(sha256)
    with pytest.raises(FileNotFoundError):
        bucket.open(sha256)


def test_content_that_is_not_its_sha256_is_refused_and_nothing_is_stored(
    bucket: S3Storage, tmp_path: Path
) -> None:
    path, _ = spooled(tmp_path, b"what the client sent")
    claimed = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(Exception, match="BadDigest"):
        bucket.put_file(path, claimed)
    assert not bucket.exists(claimed)
    assert list(bucket.blobs()) == []


def test_a_file_above_the_single_put_limit_goes_up_in_parts(
    bucket: S3Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "SINGLE_PUT_LIMIT", 1024 * 1024)
    content = os.urandom(12 * 1024 * 1024)  # above boto3's 8 MiB multipart threshold
    path, sha256 = spooled(tmp_path, content)
    bucket.put_file(path, sha256)
    assert bucket.sha256_of(sha256) == sha256


def test_only_content_named_objects_are_listed(bucket: S3Storage) -> None:
    bucket.client.put_object(Bucket=bucket.bucket, Key="README.txt", Body=b"not a document")
    assert list(bucket.blobs()) == []


def test_storage_migrate_copies_the_local_store_and_verifies_every_hash(
    s3_server: S3Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    bucket_name = f"migrate-{uuid.uuid4().hex}"
    for name, value in s3_server.environment(bucket_name).items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
        elif name != "STORAGE_BACKEND":  # still on the local store while migrating
            monkeypatch.setattr(settings, name.lower(), value)
    local = LocalStorage(settings.upload_dir)
    contents = [os.urandom(1000 + n) for n in range(3)]
    for content in contents:
        path, sha256 = spooled(tmp_path, content)
        local.put_file(path, sha256)
    corrupt_name = hashlib.sha256(b"the original").hexdigest()
    corrupt = local._path(corrupt_name)
    corrupt.parent.mkdir(parents=True, exist_ok=True)
    corrupt.write_bytes(b"bit rot")

    assert cli_main(["storage-migrate", "--to", "s3"]) == 1
    output = capsys.readouterr()
    assert "已复制 3 个文件" in output.out and corrupt_name in output.err

    target = S3Storage(s3_client(s3_server.endpoint_url, "us-east-1"), bucket_name)
    assert sorted(sha for sha, _ in target.blobs()) == sorted(
        hashlib.sha256(content).hexdigest() for content in contents
    )
    for content in contents:
        with target.open(hashlib.sha256(content).hexdigest()) as handle:
            assert handle.read() == content

    corrupt.unlink()
    assert cli_main(["storage-migrate", "--to", "s3"]) == 0
    assert "已复制 0 个文件" in capsys.readouterr().out, "a second run copies nothing again"
    assert all(local.exists(hashlib.sha256(content).hexdigest()) for content in contents)


def test_storage_migrate_without_a_bucket_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(get_settings(), "s3_bucket", None)
    assert cli_main(["storage-migrate", "--to", "s3"]) == 2
    assert "S3_BUCKET" in capsys.readouterr().err


def test_the_s3_backend_without_a_bucket_is_refused_at_start() -> None:
    from pydantic import ValidationError

    from core.config import Settings

    with pytest.raises(ValidationError, match="S3_BUCKET"):
        Settings(storage_backend="s3", s3_bucket=None)


def test_migrate_makes_the_bucket_ready(
    s3_server: S3Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`outlet-filing migrate` is a deployment's one start-up step: with the S3 store it also
    creates the bucket (instances then only use it)."""
    from core.db import get_engine

    bucket_name = f"migrate-{uuid.uuid4().hex}"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    for name, value in s3_server.environment(bucket_name).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        assert cli_main(["migrate"]) == 0
        assert f"对象存储桶 {bucket_name} 已就绪" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
        get_engine.cache_clear()
    target = S3Storage(s3_client(s3_server.endpoint_url, "us-east-1"), bucket_name)
    assert list(target.blobs()) == []  # listing a missing bucket would raise NoSuchBucket
