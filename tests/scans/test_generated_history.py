"""Acceptance test of "one true history": a generated offline history ends the same however
it is uploaded.

A seeded ``random.Random`` walks 100 cylinders of company A through their lives (fills with
the pre-fill check and scale masses, reweighs, dispatches, stores, deliveries to registered
real-name customers, collects, returns, inspections, stops and releases, losses and finds,
and a few scrapped cylinders), more than 2,000 scans at increasing times in the past month.
The same history is uploaded twice through POST /api/v1/scans/batch, each time to its own
fleet of cylinders and its own customers (the two "worlds"; results are mapped back by
position in the history):

* run A: in order, batches of 500;
* run B: shuffled, random batch sizes 1..300, some batches sent again, by different
  uploaders, and on PostgreSQL several batches at once from threads.

Both must end alike: the same rows, cylinders, verdicts, review list, and intact chains.
A valid history must flag nothing; a history with deliberate rule breaks must flag exactly
those scans, with the code of the rule each breaks.

Each scan's ``result`` is the answer it got on arrival and is never changed (see
``ScanResult``): a shuffled upload answers some scans with a flag that a later upload
clears. What must agree is the verdict of the complete history, ``review_code``; in run B
each scan's verdict-change log leads from its first answer to that verdict.

The last test holds GET /cylinders/<code>/whereabouts?at= to the same history: where a
cylinder was at a moment is the projection of its scans up to then.
"""

from __future__ import annotations

import calendar
import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cylinder_trace.customers.models import Customer
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.cylinders.services import CylinderInput, register_cylinder
from cylinder_trace.db import Database
from cylinder_trace.scans.chain import verify_chains
from cylinder_trace.scans.models import Scan, ScanVerdictChange
from cylinder_trace.scans.rebuild import rebuild_projections
from cylinder_trace.web.current import registry
from tests.conftest import REGISTERED_AT
from tests.customers.helpers import business, credit_code, id_number, person
from tests.scans.conftest import PRE_OK
from tests.world import World, build_world

CST = ZoneInfo("Asia/Shanghai")
CYLINDERS = 100
MIN_SCANS = 2000
PERSONS = 6
BUSINESSES = 2
CUSTOMERS = PERSONS + BUSINESSES
POST_OK = {"no_leak": True, "valve_closed": True, "mass_checked": True}
KEPT = {"accepted", "accepted_with_violation"}
UPLOADERS = ("a_handheld", "a_operator", "a_courier", "a_admin")
THREADS = 4  # batches sent at once on PostgreSQL

# Models the fleet is made of: nominal net mass and fill tolerance (default_rules.toml), and
# the range of registered tares.
MODELS = {
    "YSP35.5": (Decimal("14.5"), Decimal("0.5"), (Decimal("15.80"), Decimal("17.20"))),
    "YSP12": (Decimal("5.0"), Decimal("0.2"), (Decimal("7.80"), Decimal("9.20"))),
}

# States, as the lifecycle names them.
REGISTERED = "registered"
FULL = "full_at_station"
TRANSIT = "in_transit"
SUPPLY = "at_supply_point"
CUSTOMER = "with_customer"
EMPTY = "empty_at_station"
INSPECTION = "in_inspection"
SCRAPPED = "scrapped"

# Deliberate rule breaks: what the generator does, and the code the rules must give it.
BREAK_CODES = {
    "overdue_fill": "inspection_overdue",
    "overfill": "overfilled",
    "underfill": "underfilled",
    "pre_fill_failed": "pre_fill_check_failed",
    "pre_fill_missing": "pre_fill_check_missing",
    "post_fill_failed": "post_fill_check_failed",
    "tare_mismatch": "tare_mismatch",
    "unregistered_buyer": "buyer_not_registered",
    "dispatch_elsewhere": "location_mismatch",
    "deliver_undispatched": "transition_not_allowed",
}
FILL_BREAKS = {
    "overdue_fill",
    "overfill",
    "underfill",
    "pre_fill_failed",
    "pre_fill_missing",
    "post_fill_failed",
    "tare_mismatch",
}
# Which cylinders break which rule in the second variant. Cylinders 0..3 have an inspection
# due during the history (as in the valid one, where they are inspected in time).
BREAKS: dict[int, list[str]] = {
    0: ["overdue_fill"],
    2: ["overdue_fill"],
    10: ["overfill"],
    11: ["overfill", "unregistered_buyer"],
    12: ["underfill"],
    13: ["pre_fill_failed"],
    14: ["pre_fill_missing"],
    15: ["post_fill_failed"],
    16: ["tare_mismatch"],
    20: ["unregistered_buyer"],
    21: ["dispatch_elsewhere"],
    22: ["deliver_undispatched"],
    23: ["deliver_undispatched", "tare_mismatch"],
}
DUE_SOON = (0, 1, 2, 3)
END_OF_LIFE = {7: "inspect_fail", 42: "inspect_fail", 77: "scrap"}
UNREGISTERED_ID = id_number(region="500112", born="19991231", seq="777")


# --- the generated history ------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """A cylinder of the fleet, as registered."""

    model: str
    tare: Decimal
    manufactured_on: date
    due_override: date | None


@dataclass
class Planned:
    """One scan of the history, independent of the run it is uploaded in."""

    cylinder: int
    kind: str
    when: datetime
    site: str  # a World.orgs key
    fields: dict[str, Any]
    buyer: tuple[str, Any] | None = None  # ("id", i), ("id_number", i), ("unregistered", n)
    expected: str | None = None  # the code the complete history gives it
    in_cst: bool = False  # occurred_at written with +08:00 instead of +00:00
    lower_case: bool = False  # the code as a scanner with Caps Lock on sends it
    by_label: bool = False  # the QR label's payload read, not the code typed
    after: tuple[str, str | None, int | None] | None = None  # state, location, holder


@dataclass
class Final:
    """What the generator expects of a cylinder at the end of its history."""

    state: str = REGISTERED
    stopped: bool = False
    lost: bool = False
    overfilled: bool = False
    underfilled: bool = False
    location: str | None = "a_station"
    holder: int | None = None
    last_inspected_on: date | None = None
    due_override: date | None = None


@dataclass
class History:
    specs: list[Spec]
    scans: list[Planned]
    finals: list[Final]


def add_months(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))


def cst_day(when: datetime) -> date:
    return when.astimezone(CST).date()


def _fleet(rng: random.Random) -> list[Spec]:
    today = datetime.now(CST).date()
    specs = []
    for index in range(CYLINDERS):
        model = "YSP35.5" if rng.random() < 0.8 else "YSP12"
        low, high = MODELS[model][2]
        tare = Decimal(rng.randint(int(low * 100), int(high * 100))) / 100
        due = None
        if index in DUE_SOON:
            # Due a few days into the history (in China): later fills need an inspection.
            due = cst_day(REGISTERED_AT) + timedelta(days=4 + index)
        made = today - timedelta(days=rng.randint(100, 1100))
        specs.append(Spec(model, tare, made, due))
    return specs


class Walker:
    """One cylinder's valid walk of the lifecycle, with its deliberate breaks."""

    def __init__(
        self,
        rng: random.Random,
        index: int,
        spec: Spec,
        breaks: list[str],
        times: set[datetime],
    ) -> None:
        self.rng, self.index, self.spec = rng, index, spec
        self.pending = list(breaks)
        self.times = times
        self.final = Final(due_override=spec.due_override)
        self.full = False  # contents of a cylinder in transit
        self.scans: list[Planned] = []
        self.when = REGISTERED_AT + timedelta(minutes=rng.randint(60, 48 * 60))
        self.target = rng.randint(20, 24)
        self.warmup = rng.randint(4, 10)  # breaks fall in the middle of the history

    # -- emitting --------------------------------------------------------------------

    def _next_time(self) -> datetime:
        when = self.when + timedelta(seconds=self.rng.randint(15 * 60, 16 * 3600))
        while when in self.times:  # one instant per scan: the review list has one order
            when += timedelta(seconds=1)
        return when

    def emit(
        self,
        kind: str,
        when: datetime,
        site: str,
        fields: dict[str, Any] | None = None,
        *,
        buyer: tuple[str, Any] | None = None,
        broken: str | None = None,
    ) -> None:
        if when >= datetime.now(UTC) - timedelta(hours=1):
            raise AssertionError("the generated history ran into the present; shorten it")
        self.times.add(when)
        self.when = when
        self.scans.append(
            Planned(
                self.index,
                kind,
                when,
                site,
                fields or {},
                buyer,
                BREAK_CODES[broken] if broken else None,
                in_cst=self.rng.random() < 0.3,
                lower_case=self.rng.random() < 0.05,
                by_label=self.rng.random() < 0.15,
            )
        )
        if broken:
            self.pending.remove(broken)

    def wants(self, *kinds: str) -> str | None:
        """A pending break among ``kinds``, once the history has warmed up."""
        if len(self.scans) < self.warmup:
            return None
        return next((k for k in self.pending if k in kinds), None)

    # -- the walk --------------------------------------------------------------------

    def run(self) -> None:
        while len(self.scans) < self.target or self.pending:
            self.step()
            self._stamp()
            if len(self.scans) > self.target + 60:
                raise AssertionError(f"cylinder {self.index}: breaks {self.pending} not placed")
        ending = END_OF_LIFE.get(self.index)
        if ending is None:
            return
        f = self.final
        while f.state not in (REGISTERED, EMPTY) or f.stopped or f.lost:
            self.step()
            self._stamp()
        when = self._next_time()
        if ending == "scrap":
            self.emit("scrap", when, "a", {"reason": "瓶体腐蚀, 报废"})
        else:
            self.send_for_inspection(when)
            self._stamp()
            self.emit("inspect", self._next_time(), "a_station", self._inspection("fail"))
            f.lost = False
        f.state, f.location, f.holder = SCRAPPED, "a_station", None
        self._stamp()

    def _stamp(self) -> None:
        """Note where the cylinder is and who holds it right after its newest scan."""
        self.scans[-1].after = (self.final.state, self.final.location, self.final.holder)

    def step(self) -> None:
        f, rng = self.final, self.rng
        when = self._next_time()
        state = f.state
        if f.lost:
            # Found again: a scan the table allows from where it was last seen, or back at
            # its station from anywhere.
            if state == CUSTOMER and rng.random() < 0.5:
                self.collect(when)
            else:
                self.receive_empty(when)
            return
        if state in (REGISTERED, EMPTY):
            if f.stopped:
                if rng.random() < 0.5:
                    self.send_for_inspection(when)
                else:
                    self.emit("release", when, "a", {"note": "核查无误, 解除停用"})
                    f.stopped = False
                return
            if cst_day(when) > self.due():
                if "overdue_fill" in self.pending:  # whenever the due date comes
                    self.fill(when, "overdue_fill")
                else:
                    self.send_for_inspection(when)
                return
            # A cylinder meant to be filled overdue is not inspected before its due date.
            roll = 1.0 if "overdue_fill" in self.pending else rng.random()
            if roll < 0.05:
                self.emit("stop", when, "a", {"reason": "批次召回核查"})
                f.stopped = True
            elif roll < 0.10:
                self.send_for_inspection(when)
            else:
                broken = self.wants(*(FILL_BREAKS - {"overdue_fill"}))
                self.fill(when, broken)
        elif state == INSPECTION:
            self.emit("inspect", when, "a_station", self._inspection("pass"))
            f.state, f.location, f.holder = EMPTY, "a_station", None
            f.overfilled = f.underfilled = f.lost = False
            f.last_inspected_on, f.due_override = cst_day(when), None
        elif state == FULL:
            if f.overfilled or rng.random() < 0.12:
                self.weigh("reweigh", when, None)
                return
            broken = self.wants("dispatch_elsewhere", "deliver_undispatched")
            if broken == "deliver_undispatched":
                self.deliver(when, broken)
                return
            site = "a_supply" if broken else "a_station"
            plate = rng.choice(["渝A12345", "渝B67890", "渝C24680"])
            self.emit("dispatch", when, site, {"vehicle_plate": plate}, broken=broken)
            f.state, f.location, f.holder = TRANSIT, site, None
            self.full = True
        elif state == TRANSIT:
            if self.full:
                if rng.random() < 0.5:
                    self.emit("store", when, "a_supply")
                    f.state, f.location = SUPPLY, "a_supply"
                else:
                    self.deliver(when, self.wants("unregistered_buyer"))
            elif rng.random() < 0.04:
                self.emit("report_lost", when, "a", {"note": "车辆卸货时未找到"})
                f.lost = True
            else:
                self.receive_empty(when)
        elif state == SUPPLY:
            self.deliver(when, self.wants("unregistered_buyer"))
        elif state == CUSTOMER:
            if rng.random() < 0.06:
                self.emit("report_lost", when, "a", {"note": "用户称气瓶不见"})
                f.lost = True
            else:
                self.collect(when)
        else:
            raise AssertionError(f"no move from {state}")

    def due(self) -> date:
        f = self.final
        if f.last_inspected_on is not None:
            return add_months(f.last_inspected_on, 48)
        if f.due_override is not None:
            return f.due_override
        return add_months(self.spec.manufactured_on, 48)

    def _inspection(self, result: str) -> dict[str, Any]:
        number = f"JY-{self.index:03d}-{len(self.scans)}"
        return {
            "inspection_result": result,
            "inspection_body": "重庆特检院",
            "certificate_no": number,
        }

    def send_for_inspection(self, when: datetime) -> None:
        self.emit("send_for_inspection", when, "a_station", {"note": "定期检验"})
        self.final.state, self.final.location, self.final.holder = INSPECTION, "a_station", None

    def receive_empty(self, when: datetime) -> None:
        self.emit("receive_empty", when, "a_station")
        f = self.final
        f.state, f.location, f.holder = EMPTY, "a_station", None
        f.overfilled = f.underfilled = f.lost = False

    def collect(self, when: datetime) -> None:
        self.emit("collect", when, "a_supply", {"staff": ["李四"]})
        f = self.final
        f.state, f.location, f.holder, f.lost = TRANSIT, "a_supply", None, False
        self.full = False

    def deliver(self, when: datetime, broken: str | None) -> None:
        customer = self.rng.randrange(CUSTOMERS)
        if broken == "unregistered_buyer":
            buyer: tuple[str, Any] = ("unregistered", UNREGISTERED_ID)
        elif customer < PERSONS and self.rng.random() < 0.3:
            buyer = ("id_number", customer)  # the ID card checked against the registry
        else:
            buyer = ("id", customer)
        fields = {"vehicle_plate": "渝A12345", "note": "送气上门"}
        self.emit("deliver", when, "a_supply", fields, buyer=buyer, broken=broken)
        f = self.final
        f.state, f.location, f.lost = CUSTOMER, None, False
        f.holder = None if broken == "unregistered_buyer" else customer
        self.full = False

    def fill(self, when: datetime, broken: str | None) -> None:
        self.weigh("fill", when, broken)
        self.final.state = FULL

    def weigh(self, kind: str, when: datetime, broken: str | None) -> None:
        """A fill or reweigh at the station: masses on the scale, checks by the operator."""
        rng, f = self.rng, self.final
        nominal, tolerance, _ = MODELS[self.spec.model]
        tare = self.spec.tare
        if rng.random() < 0.4:  # the scale's own tare reading, within tolerance
            tare += Decimal(rng.randint(-15, 15)) / 100
        if broken == "tare_mismatch":
            tare = self.spec.tare + Decimal("0.60")
        spread = int(tolerance * 80)  # within 80 % of the tolerance
        net = nominal + Decimal(rng.randint(-spread, spread)) / 100
        if broken == "overfill":
            net = nominal + tolerance + Decimal(rng.randint(20, 80)) / 100
        elif broken == "underfill":
            net = nominal - tolerance - Decimal(rng.randint(20, 80)) / 100
        fields: dict[str, Any] = {"gross_kg": str(tare + net), "operator": "王充装"}
        if tare != self.spec.tare or rng.random() < 0.3:
            fields["tare_kg"] = str(tare)
        if kind == "fill":
            if broken == "pre_fill_failed":
                fields["pre_fill_check"] = {**PRE_OK, "valve": False}
            elif broken != "pre_fill_missing":
                fields["pre_fill_check"] = dict(PRE_OK)
        fields["post_fill_check"] = dict(POST_OK)
        if broken == "post_fill_failed":
            fields["post_fill_check"]["no_leak"] = False
        self.emit(kind, when, "a_station", fields, broken=broken)
        f.location, f.holder, f.lost = "a_station", None, False
        f.overfilled, f.underfilled = broken == "overfill", broken == "underfill"


def generate(seed: int, breaks: dict[int, list[str]]) -> History:
    rng = random.Random(seed)
    specs = _fleet(rng)
    scans: list[Planned] = []
    finals: list[Final] = []
    times: set[datetime] = set()
    for index, spec in enumerate(specs):
        walker = Walker(rng, index, spec, breaks.get(index, []), times)
        walker.run()
        scans += walker.scans
        finals.append(walker.final)
    return History(specs, scans, finals)


# --- the two worlds ---------------------------------------------------------------------


@dataclass
class Env:
    """The app, its world, and how to read and write the database on this backend.

    SQLite: the test's rolled-back session (requests share its connection); uploads run one
    after the other. PostgreSQL: a really committed database, emptied after the test, so
    that requests from threads race for real.
    """

    app: Flask
    world: World
    session: Session | None
    database: Database | None

    @property
    def concurrent(self) -> bool:
        return self.database is not None

    @contextmanager
    def db(self) -> Iterator[Session]:
        if self.session is not None:
            self.session.expire_all()
            yield self.session
            self.session.flush()
        else:
            assert self.database is not None
            with self.database.session_scope() as session:
                yield session


@pytest.fixture
def env(request: pytest.FixtureRequest, app: Flask, backend: str) -> Env:
    if backend == "postgresql":
        database = request.getfixturevalue("committed_database")
        with database.session_scope() as session:
            world = build_world(session)
        return Env(app, world, None, database)
    session = request.getfixturevalue("db_session")
    return Env(app, build_world(session), session, None)


@dataclass
class Run:
    """One upload of the history: its own cylinder codes, customers and event ids."""

    name: str
    codes: list[str]
    customers: list[int] = field(default_factory=list)
    id_numbers: list[str] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def prepare_run(env: Env, history: History, name: str, run_number: int) -> Run:
    """Register the run's cylinders (a month ago) and customers (before that)."""
    run = Run(name, [f"CQDZ-8{run_number}{index:04d}" for index in range(CYLINDERS)])
    rules = env.app.config["CT_SETTINGS"].rules
    with env.db() as session:
        owner = session.merge(env.world.orgs["a"])
        station = session.merge(env.world.orgs["a_station"])
        for code, spec in zip(run.codes, history.specs, strict=True):
            register_cylinder(
                session,
                CylinderInput(
                    code=code,
                    model=spec.model,
                    manufacturer="重庆钢瓶厂",
                    serial_no=f"SN-{code}",
                    manufactured_on=spec.manufactured_on,
                    tare_kg=spec.tare,
                    inspection_due_override=spec.due_override,
                ),
                owner=owner,
                station=station,
                rules=rules,
                today=date.today(),
                registered_at=REGISTERED_AT,
            )
    client = env.app.test_client()
    names = ["张三", "李梅", "王建国", "赵丽", "陈晓东", "刘芳"]
    for index in range(CUSTOMERS):
        number = id_number(born=f"19{70 + index}0{1 + index % 9}15", seq=f"{run_number}{index:02d}")
        phone = f"13812{run_number}{index:05d}"
        if index < PERSONS:
            body = person(name=names[index], id_number=number, phone=phone)
        else:
            body = business(
                name=f"火锅店{run_number}{index}",
                credit_code=credit_code(org=f"MA5U{run_number}{index:04d}"),
                id_number=number,
                phone=phone,
            )
        response = client.post("/api/v1/customers", json=body, headers=env.world.auth("a_admin"))
        assert response.status_code == 201, response.get_json()
        run.customers.append(response.get_json()["id"])
        run.id_numbers.append(number)
    with env.db() as session:
        session.execute(
            update(Customer)
            .where(Customer.id.in_(run.customers))
            .values(created_at=REGISTERED_AT - timedelta(days=1))
        )
    run.bodies = bodies_for(env, history, run)
    return run


def bodies_for(env: Env, history: History, run: Run) -> list[dict[str, Any]]:
    """The history's scans as this run's scanners send them, in the history's order."""
    ids = random.Random(f"event-ids-{run.name}")
    orgs = env.world.orgs
    with env.app.app_context():
        labels = {code: registry().label_signer.sign(code) for code in run.codes}
    bodies = []
    for planned in history.scans:
        code = run.codes[planned.cylinder]
        zone = CST if planned.in_cst else UTC
        body: dict[str, Any] = {
            "event_id": str(uuid.UUID(int=ids.getrandbits(128), version=4)),
            "kind": planned.kind,
            **({"qr": labels[code]} if planned.by_label else {"code": code}),
            "occurred_at": planned.when.astimezone(zone).isoformat(),
            "site_id": orgs[planned.site].id,
            **json.loads(json.dumps(planned.fields)),
        }
        if planned.lower_case:
            body |= {k: body[k].lower() for k in ("code", "qr") if k in body}
        if planned.buyer is not None:
            how, value = planned.buyer
            if how == "id":
                body["buyer"] = {"customer_id": run.customers[value]}
            elif how == "id_number":
                body["buyer"] = {"id_number": run.id_numbers[value]}
            else:
                body["buyer"] = {"id_number": value}
        bodies.append(body)
    return bodies


# --- uploading --------------------------------------------------------------------------


def _post(client: Any, env: Env, who: str, scans: list[dict]) -> tuple[int, Any]:
    response = client.post(
        "/api/v1/scans/batch", json={"scans": scans}, headers=env.world.auth(who)
    )
    return response.status_code, response.get_json()


def check_answer(run: Run, scans: list[dict], status: int, payload: Any) -> None:
    """Every item of a batch answered, in order, kept or a duplicate; never a 5xx."""
    assert status == 200, payload
    results = payload["results"]
    assert len(results) == len(scans), "items lost from the answer"
    for index, (body, result) in enumerate(zip(scans, results, strict=True)):
        assert result["index"] == index
        assert result["event_id"] == body["event_id"]
        assert result["status"] in KEPT | {"duplicate"}, result
        assert result["scan_id"] is not None, result
        if result["status"] == "duplicate":
            assert result["original_status"] in KEPT, result
        run.answers.setdefault(body["event_id"], []).append(result)
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    assert payload["counts"] == counts


def upload_in_order(env: Env, run: Run) -> None:
    client = env.app.test_client()
    ordered = sorted(run.bodies, key=lambda body: datetime.fromisoformat(body["occurred_at"]))
    for start in range(0, len(ordered), 500):
        batch = ordered[start : start + 500]
        check_answer(run, batch, *_post(client, env, "a_handheld", batch))


def upload_shuffled(env: Env, run: Run, rng: random.Random) -> None:
    shuffled = list(run.bodies)
    rng.shuffle(shuffled)
    batches: list[list[dict]] = []
    start = 0
    while start < len(shuffled):
        size = rng.randint(1, 300)
        batches.append(shuffled[start : start + size])
        start += size
    # Some batches sent again (a handheld that never saw the answer), later or at once.
    for batch in rng.sample(batches, k=max(3, len(batches) // 4)):
        batches.insert(rng.randint(batches.index(batch), len(batches)), batch)
    # And a few items twice in the same batch.
    for batch in rng.sample(batches, k=5):
        batch.insert(rng.randint(0, len(batch)), rng.choice(batch))
    requests = [(rng.choice(UPLOADERS), batch) for batch in batches]
    if not env.concurrent:
        client = env.app.test_client()
        for who, batch in requests:
            check_answer(run, batch, *_post(client, env, who, batch))
        return
    for start in range(0, len(requests), THREADS):
        wave = requests[start : start + THREADS]
        for (_, batch), (status, payload) in zip(wave, _at_once(env, wave), strict=True):
            check_answer(run, batch, status, payload)


def _at_once(env: Env, wave: list[tuple[str, list[dict]]]) -> list[tuple[int, Any]]:
    """Send the batches of a wave from threads released together; their answers."""
    barrier = threading.Barrier(len(wave))
    answers: list[Any] = [None] * len(wave)
    errors: list[BaseException] = []

    def send(index: int) -> None:
        try:
            client = env.app.test_client()
            barrier.wait(timeout=30)
            answers[index] = _post(client, env, *wave[index])
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(wave))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert all(answer is not None for answer in answers), "a request never answered"
    return answers


# --- reading the outcome ----------------------------------------------------------------


@dataclass
class Outcome:
    rows: int
    verdicts: list[tuple[str, str | None]]  # per history position: (kind, review_code)
    results: list[tuple[str, str | None]]  # per position: the answer on arrival
    changes: list[list[tuple[str | None, str | None]]]  # per position: verdict changes
    cylinders: list[tuple]
    review: list[int]  # history positions, in the review list's order
    review_codes: list[str | None]


def read_outcome(env: Env, run: Run, history: History) -> Outcome:
    position = {uuid.UUID(body["event_id"]): i for i, body in enumerate(run.bodies)}
    customer_index = {customer: i for i, customer in enumerate(run.customers)}
    orgs = {org.id: key for key, org in env.world.orgs.items()}
    with env.db() as session:
        rows = session.execute(
            select(
                Scan.id, Scan.event_id, Scan.kind, Scan.result, Scan.result_code, Scan.review_code
            ).where(Scan.chain_key.in_(run.codes))
        ).all()
        verdicts: list[Any] = [None] * len(run.bodies)
        results: list[Any] = [None] * len(run.bodies)
        changes: list[list] = [[] for _ in run.bodies]
        by_id = {}
        registrations = 0
        for scan_id, event_id, kind, result, result_code, review_code in rows:
            if kind == "register":
                registrations += 1
                continue
            index = position[event_id]
            by_id[scan_id] = index
            verdicts[index] = (str(kind), review_code)
            results[index] = (str(result), result_code)
        assert registrations == CYLINDERS
        for change in session.scalars(
            select(ScanVerdictChange)
            .where(ScanVerdictChange.scan_id.in_(list(by_id)))
            .order_by(ScanVerdictChange.id)
        ):
            changes[by_id[change.scan_id]].append((change.previous_code, change.new_code))
        cylinders = []
        stored = {
            c.code: c for c in session.scalars(select(Cylinder).where(Cylinder.code.in_(run.codes)))
        }
        for code in run.codes:
            c = stored[code]
            cylinders.append(
                (
                    c.state.value,
                    c.stopped,
                    c.lost,
                    c.overfilled,
                    c.underfilled,
                    orgs.get(c.location_id) if c.location_id else None,
                    customer_index[c.holder_customer_id] if c.holder_customer_id else None,
                    c.held_since,
                    c.last_inspected_on,
                    c.inspection_due_override,
                    c.next_inspection_due,
                    c.scrap_date,
                    c.scrapped_at,
                    c.last_scan_at,
                )
            )
    review = [item for item in review_list(env) if item["cylinder_code"] in run.codes]
    return Outcome(
        len(rows),
        verdicts,
        results,
        changes,
        cylinders,
        [position[uuid.UUID(item["event_id"])] for item in review],
        [item["review_code"] for item in review],
    )


def review_list(env: Env) -> list[dict]:
    """GET /scans?needs_review=true, every page, as company A's admin."""
    client = env.app.test_client()
    items: list[dict] = []
    page = 1
    while True:
        response = client.get(
            "/api/v1/scans",
            query_string={"needs_review": "true", "page": page, "page_size": 50},
            headers=env.world.auth("a_admin"),
        )
        assert response.status_code == 200, response.get_json()
        got = response.get_json()
        items += got
        if len(got) < 50:
            break
        page += 1
    total = response.headers.get("X-Pagination")
    if total is not None:
        assert json.loads(total)["total"] == len(items)
    return items


# --- the test ---------------------------------------------------------------------------


def expected_cylinders(history: History) -> list[tuple]:
    """The generator's own account of each cylinder's end, in read_outcome's first fields."""
    expected = []
    for spec, final in zip(history.specs, history.finals, strict=True):
        if final.last_inspected_on is not None:
            due = add_months(final.last_inspected_on, 48)
        else:
            due = final.due_override or add_months(spec.manufactured_on, 48)
        expected.append(
            (
                final.state,
                final.stopped,
                final.lost,
                final.overfilled,
                final.underfilled,
                final.location,
                final.holder,
                final.last_inspected_on,
                final.due_override,
                due,
            )
        )
    return expected


def _seen(outcome_cylinder: tuple) -> tuple:
    state, stopped, lost, over, under, location, holder = outcome_cylinder[:7]
    return (state, stopped, lost, over, under, location, holder, *outcome_cylinder[8:11])


def one_true_history(env: Env, seed: int, breaks: dict[int, list[str]]) -> dict[str, Any]:
    started = time.perf_counter()
    history = generate(seed, breaks)
    scans = history.scans
    kinds = {planned.kind for planned in scans}
    assert len(scans) >= MIN_SCANS
    assert kinds >= {
        "fill",
        "reweigh",
        "dispatch",
        "store",
        "deliver",
        "collect",
        "receive_empty",
        "send_for_inspection",
        "inspect",
        "stop",
        "release",
        "report_lost",
        "scrap",
    }, kinds
    broken = [i for i, planned in enumerate(scans) if planned.expected]
    assert len(broken) == sum(len(b) for b in breaks.values())
    by_order = sorted(range(len(scans)), key=lambda i: scans[i].when)

    in_order = prepare_run(env, history, "in-order", 1)
    shuffled = prepare_run(env, history, "shuffled", 2)
    timings = {"setup": time.perf_counter() - started}

    mark = time.perf_counter()
    upload_in_order(env, in_order)
    timings["in_order"] = time.perf_counter() - mark
    mark = time.perf_counter()
    upload_shuffled(env, shuffled, random.Random(seed + 1))
    timings["shuffled"] = time.perf_counter() - mark

    for run in (in_order, shuffled):
        # Each scan stored once: exactly one first answer, every repeat a duplicate of it.
        assert set(run.answers) == {body["event_id"] for body in run.bodies}
        for answers in run.answers.values():
            firsts = [a for a in answers if a["status"] != "duplicate"]
            assert len(firsts) == 1, (run.name, answers)
            assert {a["scan_id"] for a in answers} == {firsts[0]["scan_id"]}, answers
            repeated = {(a["original_status"], a["code"]) for a in answers if a not in firsts}
            assert repeated <= {(firsts[0]["status"], firsts[0]["code"])}, answers

    a = read_outcome(env, in_order, history)
    b = read_outcome(env, shuffled, history)

    # In order, each scan is judged once, against the history before it: its answer is the
    # verdict of the complete history, and nothing is ever re-judged.
    expected = [(planned.kind, planned.expected) for planned in scans]
    wrong = [
        (i, scans[i].cylinder, expected[i], a.verdicts[i])
        for i in by_order
        if a.verdicts[i] != expected[i]
    ]
    assert wrong == [], wrong[:20]
    assert a.results == [
        ("accepted_with_violation" if code else "accepted", code) for _, code in expected
    ]
    assert a.changes == [[] for _ in scans]
    first_answers = [in_order.answers[body["event_id"]][0] for body in in_order.bodies]
    assert [(r["status"], r["code"]) for r in first_answers] == a.results

    # Shuffled, re-sent and raced, the complete history says the same.
    assert b.rows == a.rows == CYLINDERS + len(scans)
    mismatched = [
        (i, scans[i].cylinder, a.verdicts[i], b.verdicts[i])
        for i in by_order
        if b.verdicts[i] != a.verdicts[i]
    ]
    assert mismatched == [], mismatched[:20]
    assert b.cylinders == a.cylinders
    assert [_seen(c) for c in a.cylinders] == expected_cylinders(history)
    # A flag raised and later cleared stays visible: each verdict-change log leads from
    # the answer given on arrival to the verdict now.
    for index in range(len(scans)):
        code = b.results[index][1]
        for previous, new in b.changes[index]:
            assert previous == code, (index, b.results[index], b.changes[index])
            code = new
        assert code == b.verdicts[index][1], (index, b.results[index], b.changes[index])
        status = b.results[index][0]
        assert (status == "accepted_with_violation") == (b.results[index][1] is not None)

    # The shuffled upload did re-judge: scans flagged on arrival were cleared by the scans
    # that arrived after them (and some clean ones flagged, then cleared again).
    rejudged = [i for i in range(len(scans)) if b.changes[i]]
    flagged_on_arrival = [i for i in range(len(scans)) if b.results[i][1] != b.verdicts[i][1]]
    assert len(flagged_on_arrival) > len(scans) // 20, len(flagged_on_arrival)
    assert rejudged
    duplicates = sum(len(answers) - 1 for answers in shuffled.answers.values())
    assert duplicates > 0
    timings |= {
        "scans": len(scans),
        "flagged_on_arrival": len(flagged_on_arrival),
        "rejudged": len(rejudged),
        "verdict_changes": sum(len(c) for c in b.changes),
        "duplicates": duplicates,
    }

    # The review list: exactly the deliberately broken scans, in the order they happened.
    assert a.review == b.review == [i for i in by_order if scans[i].expected]
    assert a.review_codes == b.review_codes == [scans[i].expected for i in a.review]

    settings = env.app.config["CT_SETTINGS"]
    with env.db() as session:
        checked, problems = verify_chains(session)
        # Every cylinder row is what replaying its scans from registration gives.
        replayed, differences = rebuild_projections(
            session, settings.rules, settings.time_zone, write=False
        )
    assert problems == []
    assert checked == 2 * (CYLINDERS + len(scans))
    assert differences == [] and replayed >= 2 * CYLINDERS
    timings["total"] = time.perf_counter() - started
    return timings


SEED_VALID = 20230621
SEED_BROKEN = 20240621


def test_a_valid_history_uploaded_in_order_and_shuffled_ends_alike(env: Env) -> None:
    timings = one_true_history(env, seed=SEED_VALID, breaks={})
    print("timings", {k: round(v, 2) for k, v in timings.items()})


def test_a_history_with_rule_breaks_flags_exactly_those_however_uploaded(env: Env) -> None:
    timings = one_true_history(env, seed=SEED_BROKEN, breaks=BREAKS)
    print("timings", {k: round(v, 2) for k, v in timings.items()})


def test_whereabouts_at_a_time_follows_the_same_history(env: Env) -> None:
    """Where a cylinder was at a moment is the history replayed up to then."""
    history = generate(SEED_BROKEN, BREAKS)
    run = prepare_run(env, history, "in-order", 1)
    upload_in_order(env, run)
    client = env.app.test_client()
    customer_index = {customer: i for i, customer in enumerate(run.customers)}
    orgs = {org.id: key for key, org in env.world.orgs.items()}

    def where(code: str, **query: str) -> tuple:
        response = client.get(
            f"/api/v1/cylinders/{code}/whereabouts",
            query_string=query,
            headers=env.world.auth("a_admin"),
        )
        assert response.status_code == 200, response.get_json()
        got = response.get_json()
        holder = got["holder_customer_id"]
        return (
            got["state"],
            orgs[got["location_id"]] if got["location_id"] else None,
            customer_index[holder] if holder else None,
        )

    # Now: the cylinder row, the projection of the whole history.
    now = [where(code) for code in run.codes]
    assert now == [(f.state, f.location, f.holder) for f in history.finals]
    # At moments in the past: right after each office scan, and after the newest scan.
    office = {"stop", "release", "report_lost", "scrap"}
    moments = [
        (i, planned)
        for i, planned in enumerate(history.scans)
        if planned.kind in office
        or i + 1 == len(history.scans)
        or history.scans[i + 1].cylinder != planned.cylinder
    ]
    wrong = []
    for _, planned in moments:
        code = run.codes[planned.cylinder]
        seen = where(code, at=planned.when.isoformat())
        if seen != planned.after:
            wrong.append((code, planned.kind, planned.when.isoformat(), planned.after, seen))
    assert wrong == [], wrong[:10]
