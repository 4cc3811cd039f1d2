"""Benchmark: recording scans through the API under gunicorn, against a bare insert baseline.

Run: ``.venv/bin/python bench/bench_scans.py [--clients 4] [--duration 10] [--batches 48]``.

In one run, on PostgreSQL (default database cylinder_trace_bench_scans on the local server,
rebuilt from scratch):

1. migrates, seeds the demo world, registers enough YSP35.5 cylinders for the run and one
   registered customer;
2. starts the service (``gunicorn -w 2 wsgi:app``) and the baseline (``bench/baseline_app.py``,
   a bare Flask endpoint inserting one row per request) under the same gunicorn settings;
3. single scans: closed-loop clients (``bench/loadgen.py``: one process and connection each)
   send interactive fill scans, each on a cylinder of its own, as the station operator; the
   same clients send the same bodies to the baseline. Baseline and service alternate in
   halves (baseline, service, service, baseline) so that other work on the machine weighs on
   both alike. Prints requests/s, latency percentiles, their ratio, and the CPU time per
   request of the gunicorn workers and of the PostgreSQL backends (``bench/cpu.py``), which
   moves far less than throughput when the machine is shared;
4. batches of 500: the same clients upload offline batches: fill scans on fresh cylinders
   as the station operator, then delivery rounds as the courier on the handheld (dispatch,
   store, deliver to the registered customer, collect: 125 cylinders x 4 scans); prints
   scans/s, per-batch latency and the per-status counts;
5. prints a summary against the goals of issue 4 (ratio >= 0.5, p99 < 50 ms, >= 10,000
   scans/s in batches). Exits 0 whatever the figures: it is a benchmark, not a test.

Profile mode: ``--profile-single N`` and/or ``--profile-batch [B]`` run N single fill scans,
B fill batches and B delivery-round batches in this process through ``app.test_client()``
(first unprofiled, for the time per request, then again under cProfile) and print the top
functions by own and cumulative time, time by package, selected steps, and every SQL
statement per request with its time (``--profile-clock wall`` to include waiting for the
database; ``--profile-out DIR`` to keep the .pstats files).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import baseline_app
import loadgen
from common import REPO, SECRET, bench_database_url, fresh_database
from cpu import CpuMeter
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/cylinder_trace_bench_scans"
WORKERS = 2
BATCH = 500
PRE_OK = {"appearance": True, "valve": True, "residual_liquid": True, "marking": True}
GROSS = "30.90"  # tare 16.40 + 14.50 net: a YSP35.5 on target
TARE = "16.40"
ROUND = ("dispatch", "store", "deliver", "collect")
CUSTOMER = {
    "kind": "person",
    "name": "张三",
    "id_number": "11010519491231002X",  # the domain brief's example, check character right
    "phone": "13812345678",
    "address": "大足区龙岗街道石刻路1号",
    "division_code": "500111",
}


@dataclass
class World:
    tokens: dict[str, str]
    customer_id: int
    codes: list[str]
    station_id: int = 0

    def take(self, count: int) -> list[str]:
        """The next ``count`` never-scanned cylinder codes."""
        if count > len(self.codes):
            raise SystemExit(f"not enough cylinders: {count} wanted, {len(self.codes)} left")
        taken, self.codes = self.codes[:count], self.codes[count:]
        return taken


# --- set-up -------------------------------------------------------------------------------


def service_config(url: str, instance: str) -> dict[str, str]:
    return {
        "CT_ENV": "development",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": url,
        "CT_LOG_LEVEL": "WARNING",
        "CT_INSTANCE_PATH": instance,
    }


def _cylinder_rows(count: int) -> Iterator[tuple[int, dict[str, Any]]]:
    made = (date.today() - timedelta(days=365)).isoformat()
    for i in range(count):
        yield (
            i + 2,
            {
                "code": f"CQBS-{i:08d}",
                "model": "YSP35.5",
                "manufacturer": "重庆钢瓶厂",
                "serial_no": f"BS{i:09d}",
                "manufactured_on": made,
                "tare_kg": TARE,
            },
        )


def prepare(url: str, cylinders: int, instance: str) -> World:
    """A fresh database with the demo world, ``cylinders`` registered cylinders, a customer."""
    from sqlalchemy import select

    from cylinder_trace import create_app
    from cylinder_trace.customers.services import register_customer
    from cylinder_trace.cylinders.importing import import_cylinders
    from cylinder_trace.db import get_database, make_engine
    from cylinder_trace.demo.seed import seed_demo
    from cylinder_trace.domain.roles import OrganisationKind
    from cylinder_trace.organisations.models import Organisation
    from cylinder_trace.web.current import registry

    started = time.perf_counter()
    registered_at = datetime.now(UTC) - timedelta(days=1)
    fresh_database(url)
    migrated = time.perf_counter()
    app = create_app(service_config(url, instance))
    with app.app_context():
        database = get_database()
        with database.session_scope() as session:
            tokens = {t.role: t.token for t in seed_demo(session)}
            company = session.scalar(
                select(Organisation).where(
                    Organisation.kind == OrganisationKind.GAS_COMPANY,
                    Organisation.name == "重庆大足燃气有限公司",
                )
            )
            station = session.scalar(
                select(Organisation).where(
                    Organisation.kind == OrganisationKind.FILLING_STATION,
                    Organisation.parent_id == company.id,
                )
            )
            customer = register_customer(session, registry().pii_vault, company=company, **CUSTOMER)
            # Registered (like the cylinders below) a day before the scans of the run: an
            # offline scan made before either would rightly be flagged.
            customer.created_at = registered_at
            customer_id = customer.id
            station_id = station.id
            report = import_cylinders(
                session,
                _cylinder_rows(cylinders),
                owner=company,
                stations=[station],
                default_station=station,
                rules=app.config["CT_SETTINGS"].rules,
                today=date.today(),
                registered_at=registered_at,
            )
        if report.created != cylinders:
            raise SystemExit(f"registration failed: {report.errors[:3]}")
        database.dispose()
    baseline_app.create_table(url)
    # A live database has statistics for its tables; right after a bulk load autovacuum may
    # not have caught up, and the planner would take 20,000 cylinders for a few hundred.
    analyze = make_engine(url)
    with analyze.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    analyze.dispose()
    done = time.perf_counter()
    print(
        f"set-up: migrations {migrated - started:.1f} s, demo world + {cylinders:,} cylinders "
        f"+ 1 customer {done - migrated:.1f} s"
    )
    return World(tokens, customer_id, [f"CQBS-{i:08d}" for i in range(cylinders)], station_id)


# --- request bodies -----------------------------------------------------------------------


def _now(offset_minutes: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(minutes=offset_minutes)).isoformat()


def fill_scan(code: str, offset_minutes: float = 0) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "kind": "fill",
        "code": code,
        "occurred_at": _now(offset_minutes),
        "gross_kg": GROSS,
        "pre_fill_check": PRE_OK,
    }


def single_body(code: str) -> bytes:
    return json.dumps(fill_scan(code)).encode()


def fill_batch_body(codes: list[str]) -> bytes:
    # Offline uploads arrive after the fact: filled ten minutes ago.
    return json.dumps({"scans": [fill_scan(code, -10) for code in codes]}).encode()


def round_batch_body(codes_and_customer: tuple[list[str], int, int]) -> bytes:
    """A courier's round: each cylinder dispatched (at its station), stored, delivered and
    collected."""
    codes, customer_id, station_id = codes_and_customer
    scans = []
    for code in codes:
        for step, kind in enumerate(ROUND):
            scan: dict[str, Any] = {
                "event_id": str(uuid.uuid4()),
                "kind": kind,
                "code": code,
                "occurred_at": _now(-5 + step * 0.5),
            }
            if kind == "dispatch":
                scan["vehicle_plate"] = "渝A12345"
                scan["site_id"] = station_id
            elif kind == "deliver":
                scan["buyer"] = {"customer_id": customer_id}
            scans.append(scan)
    return json.dumps({"scans": scans}).encode()


def baseline_codes(count: int, run: int = 0) -> list[str]:
    """Codes for the baseline's bodies: it stores them without looking them up."""
    return [f"BASE{run}-{i:08d}" for i in range(count)]


def split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts)]


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A gunicorn with 2 sync workers in a process group of its own."""

    def __init__(self, name: str, target: str, port: int, env: dict[str, str], logs: Path) -> None:
        self.name, self.port = name, port
        self.log = logs / f"{name}.log"
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            target,
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/api/v1/health"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start; its log:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text("utf-8", "replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue


# --- reporting ----------------------------------------------------------------------------


def describe(label: str, result: loadgen.LoadResult, unit: str = "req", scans: int = 1) -> None:
    print(
        f"  {label:<22} {result.requests:>6} {unit} in {result.elapsed:5.2f} s = "
        f"{result.per_second:8.1f} {unit}/s   latency ms p50 {result.percentile(50):6.1f}  "
        f"p95 {result.percentile(95):6.1f}  p99 {result.percentile(99):6.1f}  "
        f"max {result.max_ms:6.1f}   non-2xx {result.failed}"
    )
    if result.requests:
        server, database = cpu_ms(result, scans)
        what = "scan" if scans > 1 else unit
        ceiling = (os.cpu_count() or 1) * 1000 / max(server + database, 1e-9)
        digits = 3 if scans > 1 else 2  # a scan in a batch costs tens of microseconds
        print(
            f"    CPU per {what}: gunicorn workers {server:.{digits}f} ms + PostgreSQL backends "
            f"{database:.{digits}f} ms -> CPU-bound ceiling on {os.cpu_count()} cores "
            f"~{ceiling:,.0f} {what}s/s"
        )
    for error in result.errors[:3]:
        print(f"    error: {error}")


def cpu_ms(result: loadgen.LoadResult, scans: int = 1) -> tuple[float, float]:
    """Milliseconds of CPU per request (or per scan) in the workers and in PostgreSQL."""
    count = max(result.requests * scans, 1)
    return 1000 * result.server_cpu / count, 1000 * result.database_cpu / count


def machine_load() -> str:
    """The machine's load average: other work on a 2-core box skews every figure."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def cpu_busy(seconds: float = 1.0) -> float:
    """Percent of all CPUs busy over ``seconds`` (from /proc/stat; nan elsewhere)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        return sum(values), values[3] + values[4]  # total, idle + iowait

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except OSError:
        return float("nan")
    return 100 * (1 - (idle1 - idle0) / max(1, total1 - total0))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# --- the run ------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    clients = args.clients
    single_cap = args.single_max // clients  # cylinders per client for the measured run
    warm_cap = 250 // clients
    round_cylinders = args.round_batches * (BATCH // len(ROUND))
    needed = clients * (warm_cap + single_cap) + (args.batches + clients) * BATCH
    if round_cylinders > args.batches * BATCH:
        raise SystemExit("--round-batches needs that many cylinders from the fill batches")
    url = bench_database_url(args.database_url or DEFAULT_URL)
    print(
        f"database: {url.split('@')[-1]}   gunicorn: {WORKERS} sync workers each   "
        f"clients: {clients} processes (closed loop)   cores: {os.cpu_count()}"
    )
    load_before = machine_load()
    instance = tempfile.mkdtemp(prefix="bench-scans-")
    world = prepare(url, needed, instance)
    operator = {"Authorization": f"Bearer {world.tokens['station_operator']}"}
    courier = {"Authorization": f"Bearer {world.tokens['delivery_staff']}"}
    env = {**service_config(url, instance), "PYTHONDONTWRITEBYTECODE": "1"}
    logs = Path(instance)
    service = baseline = None
    try:
        service = Server("service", "wsgi:app", free_port(), env, logs)
        baseline = Server("baseline", "bench.baseline_app:app", free_port(), env, logs)
        service.wait_ready()
        baseline.wait_ready()

        database = make_url(url).database
        meters = {s: CpuMeter(s.process.pid, database) for s in (service, baseline)}

        def load(server: Server, path: str, headers: dict, work: list, body_for: Any, **kw: Any):  # type: ignore[no-untyped-def]
            before = meters[server].snapshot()
            result = loadgen.run_load(
                port=server.port, path=path, headers=headers, work=work, body_for=body_for, **kw
            )
            result.server_cpu, result.database_cpu = CpuMeter.used(
                before, meters[server].snapshot()
            )
            return result

        # Warm-up, not counted: imports, compiled SQL caches, pool connections, both workers.
        load(
            baseline,
            "/insert",
            {},
            split(baseline_codes(clients * warm_cap), clients),
            single_body,
            duration=2,
        )
        load(
            service,
            "/api/v1/scans",
            operator,
            split(world.take(clients * warm_cap), clients),
            single_body,
            duration=2,
        )
        warm = load(
            service,
            "/api/v1/scans/batch",
            operator,
            [[c] for c in chunks(world.take(clients * BATCH), BATCH)],
            fill_batch_body,
            duration=60,
            count_statuses=True,
        )
        if warm.failed:
            print(f"warm-up batch errors: {warm.errors[:2]}")

        # Baseline and service alternate in halves (A B B A), so that a drift in what else
        # the machine is doing weighs on both alike.
        half, half_cap = args.duration / 2, single_cap // 2
        busy = cpu_busy()
        print(
            f"\nSingle scans ({args.duration:g} s each, in halves: baseline, service, service, "
            f"baseline; {clients} clients). CPU busy just before: {busy:.0f} %"
        )
        if busy > 25:
            print("  WARNING: something else is using the CPUs: every figure below is skewed")
        parts: dict[str, list[loadgen.LoadResult]] = {"baseline": [], "service": []}
        for order, which in enumerate(("baseline", "service", "service", "baseline")):
            if which == "baseline":
                # Codes cost nothing here (no cylinders to register): enough that the
                # baseline always runs for the whole half, however fast it is.
                work = split(baseline_codes(4 * clients * half_cap, order + 1), clients)
                part = load(baseline, "/insert", {}, work, single_body, duration=half)
            else:
                work = split(world.take(clients * half_cap), clients)
                part = load(service, "/api/v1/scans", operator, work, single_body, duration=half)
                if part.requests >= clients * half_cap:
                    print("  (the service ran out of cylinders early: raise --single-max)")
            parts[which].append(part)
        base = loadgen.LoadResult.merged(parts["baseline"])
        single = loadgen.LoadResult.merged(parts["service"])
        halves = "  ".join(
            f"{which} {' / '.join(f'{p.per_second:.1f}' for p in runs)}"
            for which, runs in parts.items()
        )
        print(f"  req/s by half: {halves}")
        describe("baseline POST /insert", base)
        describe("service POST /scans", single)

        print(f"\nBatches of {BATCH} ({args.batches} fill batches, {args.round_batches} rounds):")
        filled = world.take(args.batches * BATCH)
        fills = load(
            service,
            "/api/v1/scans/batch",
            operator,
            split(chunks(filled, BATCH), clients),
            fill_batch_body,
            duration=args.batch_timeout,
            count_statuses=True,
        )
        describe("fill batches", fills, "batch", BATCH)
        fill_rate = fills.requests * BATCH / fills.elapsed
        print(f"    {fill_rate:,.0f} scans/s   per-status: {dict(fills.counts)}")
        round_work = [
            (codes, world.customer_id, world.station_id)
            for codes in chunks(filled[:round_cylinders], BATCH // len(ROUND))
        ]
        rounds = load(
            service,
            "/api/v1/scans/batch",
            courier,
            split(round_work, clients),
            round_batch_body,
            duration=args.batch_timeout,
            count_statuses=True,
        )
        describe("delivery-round batches", rounds, "batch", BATCH)
        round_rate = rounds.requests * BATCH / rounds.elapsed if rounds.requests else 0.0
        print(f"    {round_rate:,.0f} scans/s   per-status: {dict(rounds.counts)}")
    finally:
        for server in (service, baseline):
            if server is not None:
                server.stop()
    for server in (service, baseline):
        if server is not None and "Traceback" in server.log.read_text("utf-8", "replace"):
            print(f"\n{server.name} log (tail):\n{server.tail()}")
    shutil.rmtree(instance, ignore_errors=True)

    ratio = single.per_second / base.per_second if base.per_second else 0.0
    p99 = single.percentile(99)
    not_accepted = {k: v for k, v in (fills.counts + rounds.counts).items() if k != "accepted"}
    print("\n=== Summary (issue 4, Speed) ===")
    print(
        f"load average (1, 5, 15 min) at the start {load_before}, at the end {machine_load()}; "
        f"CPU busy now, after the run: {cpu_busy():.0f} %"
    )
    print(f"concurrency: {clients} client processes; gunicorn -w {WORKERS} (sync) for both")
    print(
        f"baseline (bare Flask, 1 insert):  {base.per_second:8.1f} req/s  p99 "
        f"{base.percentile(99):.1f} ms"
    )
    print(
        f"service single scans:             {single.per_second:8.1f} req/s  p99 {p99:.1f} ms"
        f"  errors {single.failed}"
    )
    print(
        f"ratio service/baseline:           {ratio:8.2f}   goal >= 0.5      "
        f"{verdict(ratio >= 0.5 and not single.failed)}"
    )
    base_cpu, single_cpu = sum(cpu_ms(base)), sum(cpu_ms(single))
    print(
        f"CPU per request (workers + PostgreSQL): baseline {base_cpu:.1f} ms, service "
        f"{single_cpu:.1f} ms: CPU ratio {base_cpu / max(single_cpu, 1e-9):.2f} (what the "
        "throughput ratio tends to when the CPUs are the limit and nothing else runs)"
    )
    print(f"single-scan p99:                  {p99:8.1f} ms goal < 50 ms     {verdict(p99 < 50)}")
    print(
        f"batches of 500, fill:             {fill_rate:8.0f} scans/s goal >= 10,000 "
        f"{verdict(fill_rate >= 10_000 and not fills.failed)}"
    )
    print(
        f"batches of 500, delivery rounds:  {round_rate:8.0f} scans/s goal >= 10,000 "
        f"{verdict(round_rate >= 10_000 and not rounds.failed)}"
    )
    if not_accepted or fills.failed or rounds.failed:
        print(
            f"batch items not accepted: {not_accepted}; failed requests "
            f"{fills.failed + rounds.failed}"
        )


# --- profile mode -------------------------------------------------------------------------


class StatementCounter:
    """Counts what the app sends to the database: statements, checkouts, commits.

    Statements are counted at the driver (psycopg's Cursor.execute and executemany), so
    those the service runs straight on the driver (cylinder_trace.bulk) count too.
    """

    def __init__(self, engine: Any) -> None:
        import psycopg
        from sqlalchemy import event

        self.statements: Counter = Counter()
        self.seconds: Counter = Counter()  # time inside cursor.execute, by statement
        self.checkouts = self.commits = self.rollbacks = 0
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)
        event.listen(engine.pool, "checkout", self._checkout)
        self.active = False
        for name, many in (("execute", False), ("executemany", True)):
            setattr(psycopg.Cursor, name, self._timed(getattr(psycopg.Cursor, name), many))

    def _timed(self, method: Any, many: bool) -> Any:
        counter = self

        def timed(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            if not counter.active:
                return method(cursor, query, *args, **kwargs)
            key = counter._key(str(query), many)
            started = time.perf_counter()
            try:
                return method(cursor, query, *args, **kwargs)
            finally:
                counter.statements[key] += 1
                counter.seconds[key] += time.perf_counter() - started

        return timed

    @staticmethod
    def _key(statement: str, many: bool) -> tuple[str, bool]:
        text = " ".join(statement.split())
        return text[:100] + ("…" if len(text) > 100 else ""), many

    def _commit(self, _conn: Any) -> None:
        self.commits += self.active

    def _rollback(self, _conn: Any) -> None:
        self.rollbacks += self.active

    def _checkout(self, *_: Any) -> None:
        self.checkouts += self.active

    def reset(self) -> None:
        self.statements.clear()
        self.seconds.clear()
        self.checkouts = self.commits = self.rollbacks = 0

    def report(self, requests: int) -> None:
        total = sum(self.statements.values())
        trips = total + 2 * self.commits + self.rollbacks + self.checkouts
        print(
            f"\nDatabase per request: {total / requests:.1f} statements, "
            f"{self.commits / requests:.1f} commits, {self.checkouts / requests:.1f} pool "
            f"checkouts; about {trips / requests:.1f} round trips "
            f"with BEGIN and COMMIT (an executemany counts once: psycopg pipelines it)"
        )
        print(
            f"  (in cursor.execute: {1000 * sum(self.seconds.values()) / requests:.2f} ms per "
            "request under the profiler; the first statement of a transaction includes BEGIN)"
        )
        print(f"  {'per req':>7} {'ms each':>7}  statement")
        for key, count in self.statements.most_common():
            statement, many = key
            each = 1000 * self.seconds[key] / count
            print(f"  {count / requests:7.2f} {each:7.2f}  {'[many] ' if many else ''}{statement}")


def _where(filename: str) -> str:
    for marker in ("site-packages/", "/lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    if filename.startswith(str(REPO)):
        return filename[len(str(REPO)) + 1 :]
    return filename


def _package(filename: str) -> str:
    where = _where(filename)
    if where.startswith(("~", "<")):
        return "builtins / C"
    return where.split("/", 1)[0].removesuffix(".py")


# (label, file ending, function): steps of a request worth timing on their own.
STEPS = (
    ("authenticate: token lookup, holder, organisation", "auth/tokens.py", "authenticate"),
    ("marshmallow Schema.load (request body, every item)", "marshmallow/schema.py", "load"),
    ("fast_scan_reader.load (batch items; fastpath/)", "fastpath/scan_reader.py", "load"),
    ("record_scans", "scans/services.py", "record_scans"),
    ("  ScanContext.content_hash (keyed JSON hash)", "scans/context.py", "content_hash"),
    ("  _prepare (a new scan's fields: site, mass, buyer)", "scans/services.py", "_prepare"),
    ("  _judge_in_order (the rules, the projection)", "scans/services.py", "_judge_in_order"),
    ("  chain.link (record hash)", "scans/chain.py", "link"),
    ("ORM Session.execute (statements through the ORM)", "sqlalchemy/orm/session.py", "execute"),
    ("ORM Session.flush (UPDATEs of changed objects)", "sqlalchemy/orm/session.py", "flush"),
    ("ORM Session.commit", "sqlalchemy/orm/session.py", "commit"),
    ("ORM rows to objects (loading.instances)", "sqlalchemy/orm/loading.py", "instances"),
    ("SQL compile (cache misses)", "sqlalchemy/sql/compiler.py", "__init__"),
    ("psycopg Cursor.execute", "psycopg/cursor.py", "execute"),
    ("psycopg Cursor.executemany", "psycopg/cursor.py", "executemany"),
    ("pool checkout (with pre-ping)", "sqlalchemy/pool/base.py", "_checkout"),
    ("marshmallow Schema.dump (response)", "marshmallow/schema.py", "dump"),
    ("responses.scan_answer (fastpath/)", "fastpath/responses.py", "scan_answer"),
)


def print_profile(profiler: Any, seconds: float, requests: int, clock: str) -> None:
    import pstats

    stats = pstats.Stats(profiler)
    rows = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for _cc, _nc, tt, _ct, _callers in rows.values())
    for key, title in (("tottime", "own time"), ("cumulative", "cumulative time")):
        print(
            f"\nTop 25 by {title}, {clock} clock ({requests} requests, {seconds:.2f} s wall "
            "under the profiler):"
        )
        print(f"  {'calls':>9} {'tottime':>8} {'cumtime':>8}  function")
        index = 2 if key == "tottime" else 3
        for func, values in sorted(rows.items(), key=lambda kv: -kv[1][index])[:25]:
            filename, line, name = func
            print(
                f"  {values[1]:>9} {values[2]:8.3f} {values[3]:8.3f}  "
                f"{name} ({_where(filename)}:{line})"
            )
    by_package: Counter = Counter()
    for (filename, _line, _name), values in rows.items():
        by_package[_package(filename)] += values[2]
    print("\nOwn time by package:")
    for package, tottime in by_package.most_common(14):
        print(f"  {tottime:7.3f} s {100 * tottime / total:5.1f} %  {package}")
    print(f"\nSelected steps, cumulative ms per request (of {1000 * total / requests:.2f}):")
    for label, where, name in STEPS:
        cumulative = sum(
            values[3]
            for (filename, _line, function), values in rows.items()
            if function == name and filename.endswith(where)
        )
        if cumulative:
            print(f"  {1000 * cumulative / requests:8.2f}  {label}")


def profile(args: argparse.Namespace) -> None:
    import cProfile

    from cylinder_trace import create_app
    from cylinder_trace.db import get_database

    singles = args.profile_single or 0
    batches = args.profile_batch or 0
    url = bench_database_url(args.database_url or DEFAULT_URL)
    instance = tempfile.mkdtemp(prefix="bench-scans-")
    world = prepare(url, 2 * singles + 20 + (2 * batches + 1) * BATCH, instance)
    app = create_app(service_config(url, instance))
    client = app.test_client()
    with app.app_context():
        counter = StatementCounter(get_database().engine)

    def post_single(code: str) -> None:
        response = client.post("/api/v1/scans", json=fill_scan(code), headers=headers)
        assert response.status_code == 201, response.get_json()

    def post_batch(codes: list[str], body_for: Any = fill_batch_body, who: str = "") -> None:
        response = client.post(
            "/api/v1/scans/batch",
            data=body_for(codes),
            headers={"Authorization": f"Bearer {who or world.tokens['station_operator']}"},
            content_type="application/json",
        )
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["counts"] == {"accepted": BATCH}, response.get_json()

    def post_round(codes: list[str]) -> None:
        post_batch(
            codes,
            lambda c: round_batch_body((c, world.customer_id, world.station_id)),
            world.tokens["delivery_staff"],
        )

    headers = {"Authorization": f"Bearer {world.tokens['station_operator']}"}
    for code in world.take(20):
        post_single(code)
    post_batch(world.take(BATCH))
    work: list[tuple[str, Any, list[Any], int]] = []
    if singles:
        work.append(("single fill scans", post_single, world.take(2 * singles), singles))
    if batches:
        filled = world.take(2 * batches * BATCH)
        work.append((f"fill batches of {BATCH}", post_batch, chunks(filled, BATCH), batches))
        # Delivery rounds on cylinders the fill batches filled: 125 cylinders x 4 scans.
        rounds = chunks(filled[: 2 * batches * BATCH // len(ROUND)], BATCH // len(ROUND))
        work.append((f"delivery-round batches of {BATCH}", post_round, rounds, batches))
    clock = time.process_time if args.profile_clock == "cpu" else time.perf_counter
    for title, send, items, count in work:
        plain, profiled = items[:count], items[count:]
        started, cpu_started = time.perf_counter(), time.process_time()
        for item in plain:
            send(item)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        print(
            f"\n##### {title}: {count} in-process without the profiler: {elapsed:.2f} s, "
            f"{1000 * elapsed / count:.2f} ms each, of which {1000 * cpu / count:.2f} ms CPU in "
            "this process (the rest waits for PostgreSQL)"
        )
        counter.reset()
        profiler = cProfile.Profile(clock)
        counter.active = True
        started = time.perf_counter()
        profiler.enable()
        for item in profiled:
            send(item)
        profiler.disable()
        elapsed = time.perf_counter() - started
        counter.active = False
        print_profile(profiler, elapsed, count, args.profile_clock)
        counter.report(count)
        if args.profile_out:
            path = Path(args.profile_out) / (title.split(" of ")[0].replace(" ", "-") + ".pstats")
            path.parent.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(path)
            print(f"\n(profile saved to {path}: python -m pstats {path})")
    shutil.rmtree(instance, ignore_errors=True)


def _interrupted(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help=f"default: {DEFAULT_URL}")
    parser.add_argument("--clients", type=int, default=4, help="client processes (default 4)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per single-scan run")
    parser.add_argument(
        "--single-max", type=int, default=16_000, help="cap on single scans in the measured run"
    )
    parser.add_argument("--batches", type=int, default=48, help="fill batches of 500")
    parser.add_argument("--round-batches", type=int, default=24, help="delivery-round batches")
    parser.add_argument("--batch-timeout", type=float, default=60, help="cap per batch phase (s)")
    parser.add_argument("--profile-single", type=int, metavar="N", help="profile N single scans")
    parser.add_argument(
        "--profile-batch",
        type=int,
        nargs="?",
        const=4,
        metavar="B",
        help="profile B fill batches and B delivery-round batches (default 4)",
    )
    parser.add_argument("--profile-out", metavar="DIR", help="also save the .pstats files here")
    parser.add_argument(
        "--profile-clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu: where this process burns CPU (default); wall: also time waiting for the DB",
    )
    args = parser.parse_args()
    # Killed or interrupted, still stop the servers (the finally blocks do): SIGTERM would
    # end the process without running them, and a background shell ignores SIGINT.
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, _interrupted)
    try:
        if args.profile_single or args.profile_batch:
            profile(args)
        else:
            run(args)
    except KeyboardInterrupt as stop:
        print(f"\ninterrupted ({stop}); servers and clients stopped", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
