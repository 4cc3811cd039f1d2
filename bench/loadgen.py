"""A small closed-loop HTTP load generator: client processes, one connection each, stdlib only.

Each client process sends a request, waits for the whole answer, then sends the next, until
its list of work items runs out or the time is up. Processes, not threads: a client written
in Python that shares one GIL would end up measuring itself. The processes are forked, so
they inherit the work lists and the body-building function without pickling them.

Connections are HTTP/1.1 keep-alive from the client's side; gunicorn's sync workers close
every connection after one answer anyway, and ``http.client`` then reconnects by itself, so
each request costs a TCP connect on 127.0.0.1 for the baseline and the service alike.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

HOST = "127.0.0.1"  # never anything else: this is a local benchmark
BodyFor = Callable[[Any], bytes]


@dataclass
class LoadResult:
    """What a run of the client processes measured."""

    clients: int
    requests: int
    elapsed: float  # first request sent to last answer received, over all clients
    latencies: list[float]  # seconds, one per request
    statuses: Counter = field(default_factory=Counter)
    counts: Counter = field(default_factory=Counter)  # batch answers' per-status counts
    errors: list[str] = field(default_factory=list)  # the first few non-2xx answers
    server_cpu: float = 0.0  # CPU seconds of the server's workers, if the caller measured it
    database_cpu: float = 0.0  # CPU seconds of its database backends, likewise

    @classmethod
    def merged(cls, parts: Sequence[LoadResult]) -> LoadResult:
        """Several runs of the same load as one: their times add up, their requests too."""
        result = cls(clients=parts[0].clients, requests=0, elapsed=0.0, latencies=[])
        for part in parts:
            result.requests += part.requests
            result.elapsed += part.elapsed
            result.latencies += part.latencies
            result.statuses.update(part.statuses)
            result.counts.update(part.counts)
            result.errors += part.errors
            result.server_cpu += part.server_cpu
            result.database_cpu += part.database_cpu
        return result

    @property
    def per_second(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1] * 1000

    @property
    def max_ms(self) -> float:
        return max(self.latencies) * 1000 if self.latencies else float("nan")


def _client(
    port: int,
    path: str,
    headers: dict[str, str],
    items: Sequence[Any],
    body_for: BodyFor,
    duration: float,
    count_statuses: bool,
    barrier: Any,
    results: Any,
) -> None:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    latencies: list[float] = []
    statuses: Counter = Counter()
    counts: Counter = Counter()
    errors: list[str] = []
    barrier.wait(timeout=120)
    started = time.perf_counter()
    deadline = started + duration
    for item in items:
        body = body_for(item)
        sent = time.perf_counter()
        if sent >= deadline:
            break
        try:
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            status, data = 599, repr(exc).encode()
        latencies.append(time.perf_counter() - sent)
        statuses[status] += 1
        if not 200 <= status < 300:
            if len(errors) < 5:
                errors.append(f"{status} {data[:300].decode('utf-8', 'replace')}")
        elif count_statuses:
            counts.update(json.loads(data)["counts"])
    finished = time.perf_counter()
    connection.close()
    results.put((started, finished, latencies, statuses, counts, errors))


def run_load(
    *,
    port: int,
    path: str,
    headers: dict[str, str],
    work: Sequence[Sequence[Any]],
    body_for: BodyFor,
    duration: float,
    count_statuses: bool = False,
) -> LoadResult:
    """POST to ``path`` from ``len(work)`` client processes, each working through its list.

    ``body_for(item)`` builds each request's body just before it is sent (so "now" is now).
    A client stops at the end of its list or after ``duration`` seconds, whichever is first.
    ``count_statuses`` sums the ``counts`` object of each 2xx answer (scan batches).
    """
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(work))
    results = context.Queue()
    headers = {"Content-Type": "application/json", "Connection": "keep-alive", **headers}
    processes = [
        context.Process(
            target=_client,
            args=(port, path, headers, items, body_for, duration, count_statuses, barrier, results),
            daemon=True,
        )
        for items in work
    ]
    for process in processes:
        process.start()
    try:
        # Read before joining: a child blocks on a full pipe until its result is taken.
        gathered = [results.get(timeout=duration + 120) for _ in processes]
    except BaseException:
        for process in processes:
            process.kill()
        raise
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    result = LoadResult(
        clients=len(work),
        requests=0,
        elapsed=max(g[1] for g in gathered) - min(g[0] for g in gathered),
        latencies=[],
    )
    for _, _, latencies, statuses, counts, errors in gathered:
        result.latencies += latencies
        result.statuses.update(statuses)
        result.counts.update(counts)
        result.errors += errors
    result.requests = len(result.latencies)
    return result
