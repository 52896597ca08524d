"""A small HTTP/1.1 keep-alive load generator (asyncio, raw sockets), so benchmarks need nothing
outside the project. Run in its own process, it out-paces a single uvicorn worker."""

import asyncio
import random
import time
from collections.abc import Sequence


async def _worker(
    host: str, port: int, paths: Sequence[str], stop_at: float, stats: list[float]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    rng = random.Random()
    try:
        while time.perf_counter() < stop_at:
            path = paths[rng.randrange(len(paths))]
            started = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            if not status_line.startswith(b"HTTP/1.1 2"):
                raise RuntimeError(f"{path}: {status_line!r}")
            stats.append(time.perf_counter() - started)
    finally:
        writer.close()


def run(host: str, port: int, paths: Sequence[str], *, seconds: float, connections: int) -> dict:
    """Requests per second and latency samples for GETs spread over `paths`."""
    stats: list[float] = []

    async def main() -> float:
        stop_at = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(
            *(_worker(host, port, paths, stop_at, stats) for _ in range(connections))
        )
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    return {"requests": len(stats), "rps": len(stats) / elapsed, "latencies": stats}


def _run_in_process(args: tuple[str, int, Sequence[str], float, int]) -> dict:
    host, port, paths, seconds, connections = args
    result = run(host, port, paths, seconds=seconds, connections=connections)
    return {"requests": result["requests"], "rps": result["rps"]}


def run_processes(
    host: str, port: int, paths: Sequence[str], *, seconds: float, connections: int, processes: int
) -> dict:
    """`run` from several processes at once (one load process cannot keep two server workers
    busy); requests per second summed."""
    from multiprocessing import get_context

    share = max(1, connections // processes)
    with get_context("spawn").Pool(processes) as pool:
        results = pool.map(_run_in_process, [(host, port, list(paths), seconds, share)] * processes)
    return {
        "requests": sum(r["requests"] for r in results),
        "rps": sum(r["rps"] for r in results),
    }
