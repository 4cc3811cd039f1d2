"""A cylinder's history judged (domain.history): registered, judge, advance, replay.

Pure unit tests: no database, no app. The rules are the packaged defaults (the ``rules``
fixture of tests/domain/conftest.py); dates are read in China Standard Time.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cylinder_trace.domain.history import (
    FLAGS,
    PRIORITY,
    REFUSALS,
    Buyer,
    CylinderIdentity,
    Observation,
    Place,
    Projection,
    advance,
    judge,
    refusals,
    registered,
    replay,
    sort_key,
)
from cylinder_trace.domain.lifecycle import (
    KIND_OUTCOMES,
    CylinderSnapshot,
    CylinderState,
    Outcome,
    ScanKind,
)
from cylinder_trace.domain.rules import RuleSettings
from tests.domain.allowed import allowed_kinds

S, K, O = CylinderState, ScanKind, Outcome  # noqa: E741 - short names for table rows
ZONE = ZoneInfo("Asia/Shanghai")
NEW_YORK_WINTER = timezone(timedelta(hours=-5))

COMPANY, OTHER_COMPANY = "company-a", "company-b"
STATION = Place("station-a", "filling_station", COMPANY)
STATION_2 = Place("station-a2", "filling_station", COMPANY)
SUPPLY = Place("supply-a", "supply_point", COMPANY)
SUPPLY_2 = Place("supply-a2", "supply_point", COMPANY)
OFFICE = Place(COMPANY, "gas_company", COMPANY)
B_STATION = Place("station-b", "filling_station", OTHER_COMPANY)

REGISTERED_AT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in China, 2026-03-02
MADE = date(2024, 3, 15)
DUE = date(2028, 3, 15)  # MADE + 48 months
SCRAP = date(2032, 3, 15)  # MADE + 8 years
TARE = Decimal("16.40")

BUYER = Buyer("customer-1", REGISTERED_AT - timedelta(days=10))


def buyer(*, active: bool = True, household: bool = False) -> Buyer:
    """BUYER, inactive or living in a household without an outdoor cylinder area."""
    return Buyer(BUYER.id, BUYER.registered_at, active, household)


# Where each kind of scan is made by default, and what it carries.
DEFAULTS: dict[ScanKind, dict[str, Any]] = {
    K.FILL: {"outcome": O.OK, "site": STATION, "pre_fill_check_passed": True},
    K.REWEIGH: {"outcome": O.OK, "site": STATION},
    K.DISPATCH: {"site": STATION},
    K.STORE: {"site": SUPPLY},
    K.DELIVER: {"site": SUPPLY, "buyer": BUYER},
    K.COLLECT: {"site": SUPPLY},
    K.RECEIVE_EMPTY: {"site": STATION},
    K.SEND_FOR_INSPECTION: {"site": STATION},
    K.INSPECT: {"outcome": O.PASS, "site": STATION},
    K.SCRAP: {"site": OFFICE, "reason": "dented"},
    K.STOP: {"site": OFFICE, "reason": "recalled batch"},
    K.RELEASE: {"site": OFFICE},
    K.REPORT_LOST: {"site": OFFICE},
}
_orders = itertools.count()


def identity(**fields: Any) -> CylinderIdentity:
    values: dict[str, Any] = {
        "owner_company_id": COMPANY,
        "model": "YSP35.5",
        "tare_kg": TARE,
        "manufactured_on": MADE,
        "registered_at": REGISTERED_AT,
        "registered_site_id": STATION.id,
    }
    values.update(fields)
    return CylinderIdentity(**values)


def obs(
    kind: ScanKind,
    minutes: float = 0,
    *,
    at: datetime | None = None,
    judged_at: datetime | None = None,
    **fields: Any,
) -> Observation:
    """A scan ``minutes`` after T0 (or ``at``); judged when it happened unless told."""
    occurred = at if at is not None else T0 + timedelta(minutes=minutes)
    values = {**DEFAULTS.get(kind, {}), **fields}
    values.setdefault("order", f"{next(_orders):08d}")
    return Observation(kind, occurred, judged_at or occurred, **values)


def fold(
    ident: CylinderIdentity,
    scans: list[Observation],
    rules: RuleSettings,
    start: Projection | None = None,
) -> tuple[Projection, list[list[str]]]:
    """judge then advance, scan by scan, in the order given (the reference for replay)."""
    projection = start if start is not None else registered(ident, rules)
    verdicts = []
    for scan in scans:
        verdicts.append(judge(ident, projection, scan, rules, ZONE))
        projection = advance(ident, projection, scan, rules, ZONE)
    return projection, verdicts


def at_state(ident: CylinderIdentity, rules: RuleSettings, *scans: Observation) -> Projection:
    """The projection after ``scans``, which must all be clean."""
    projection, verdicts = fold(ident, list(scans), rules)
    assert verdicts == [[] for _ in scans], verdicts
    return projection


def verdict(
    ident: CylinderIdentity, before: Projection, scan: Observation, rules: RuleSettings
) -> list[str]:
    return judge(ident, before, scan, rules, ZONE)


def china(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0):  # type: ignore[no-untyped-def]
    return datetime(year, month, day, hour, minute, second, tzinfo=ZONE)


# --- registration ------------------------------------------------------------------------


def test_registered_projection(rules: RuleSettings) -> None:
    projection = registered(identity(), rules)
    assert projection.snapshot == CylinderSnapshot(S.REGISTERED)
    assert projection.last_inspected_on is None
    assert projection.inspection_due_override is None
    assert projection.next_inspection_due == DUE
    assert projection.scrap_date == SCRAP
    assert projection.location_id == STATION.id
    assert (projection.holder_customer_id, projection.held_since) == (None, None)
    assert projection.last_scan_at == REGISTERED_AT
    assert (projection.scrapped_at, projection.scrap_reason) == (None, None)


def test_registered_with_the_inspection_it_came_with(rules: RuleSettings) -> None:
    came_with = registered(identity(initial_last_inspected_on=date(2026, 1, 10)), rules)
    assert came_with.last_inspected_on == date(2026, 1, 10)
    assert came_with.next_inspection_due == date(2030, 1, 10)
    assert came_with.scrap_date == SCRAP
    overridden = registered(
        identity(
            initial_inspection_due_override=date(2027, 5, 1),
            scrap_date_override=date(2030, 12, 31),
            registered_site_id=None,
        ),
        rules,
    )
    assert overridden.inspection_due_override == date(2027, 5, 1)
    assert overridden.next_inspection_due == date(2027, 5, 1)
    assert overridden.scrap_date == date(2030, 12, 31)
    assert overridden.location_id is None


# --- a clean life ------------------------------------------------------------------------

CLEAN_LIFE: list[tuple[ScanKind, CylinderState]] = [
    (K.FILL, S.FULL_AT_STATION),
    (K.DISPATCH, S.IN_TRANSIT),
    (K.STORE, S.AT_SUPPLY_POINT),
    (K.DELIVER, S.WITH_CUSTOMER),
    (K.COLLECT, S.IN_TRANSIT),
    (K.RECEIVE_EMPTY, S.EMPTY_AT_STATION),
    (K.FILL, S.FULL_AT_STATION),
    (K.DISPATCH, S.IN_TRANSIT),
    (K.DELIVER, S.WITH_CUSTOMER),  # straight from the vehicle
    (K.COLLECT, S.IN_TRANSIT),
    (K.RECEIVE_EMPTY, S.EMPTY_AT_STATION),
    (K.SEND_FOR_INSPECTION, S.IN_INSPECTION),
    (K.INSPECT, S.EMPTY_AT_STATION),
    (K.FILL, S.FULL_AT_STATION),
    (K.REWEIGH, S.FULL_AT_STATION),
    (K.STOP, S.FULL_AT_STATION),
    (K.RELEASE, S.FULL_AT_STATION),
    (K.DISPATCH, S.IN_TRANSIT),
    (K.STORE, S.AT_SUPPLY_POINT),
]


def clean_life() -> list[Observation]:
    # An hour apart: the inspection (minute 13 * 60) falls on 2026-03-02 in China.
    return [obs(kind, 60 * step) for step, (kind, _) in enumerate(CLEAN_LIFE, start=1)]


def test_a_clean_life_flags_nothing(rules: RuleSettings) -> None:
    ident = identity()
    scans = clean_life()
    projection = registered(ident, rules)
    for scan, (kind, state) in zip(scans, CLEAN_LIFE, strict=True):
        assert judge(ident, projection, scan, rules, ZONE) == [], kind
        projection = advance(ident, projection, scan, rules, ZONE)
        assert projection.snapshot == CylinderSnapshot(state, stopped=kind is K.STOP), kind
        if kind is K.DELIVER:
            assert projection.holder_customer_id == BUYER.id
            assert projection.held_since == scan.occurred_at
            assert projection.location_id is None
        else:
            assert projection.holder_customer_id is None and projection.held_since is None
        if kind in (K.FILL, K.DISPATCH, K.RECEIVE_EMPTY):
            assert projection.location_id == STATION.id, kind
        if kind in (K.STORE, K.COLLECT):
            assert projection.location_id == SUPPLY.id, kind
    assert projection.last_scan_at == scans[-1].occurred_at
    # The passed inspection (the 13th scan, 2026-03-02 14:00 UTC = 22:00 in China).
    assert projection.last_inspected_on == date(2026, 3, 2)
    assert projection.next_inspection_due == date(2030, 3, 2)
    assert projection.scrap_date == SCRAP
    judged = replay(ident, scans, rules, ZONE)
    assert judged.verdicts == [[] for _ in scans]
    assert judged.projection == projection


# --- order of a history ------------------------------------------------------------------


def test_sort_key_is_occurrence_then_the_scans_own_id() -> None:
    first = obs(K.STOP, 5, order="b")
    tie = obs(K.STOP, at=(T0 + timedelta(minutes=5)).astimezone(ZONE), order="a")
    later = obs(K.STOP, 6, order="0")
    assert sort_key(first) == (T0 + timedelta(minutes=5), "b")
    assert sorted([later, first, tie], key=sort_key) == [tie, first, later]


@pytest.mark.parametrize("seed", range(8))
def test_replay_does_not_depend_on_the_order_of_arrival(rules: RuleSettings, seed: int) -> None:
    ident = identity()
    # A clean life, a late overfilled reweigh before its dispatch, a scan before
    # registration and two scans of the same instant.
    scans = [
        *clean_life(),
        obs(K.REWEIGH, 60 * 1 + 30, outcome=O.OVERFILLED),
        obs(K.STOP, at=REGISTERED_AT - timedelta(hours=1)),
        obs(K.RELEASE, at=REGISTERED_AT - timedelta(minutes=30)),
        obs(K.REPORT_LOST, 60 * 4, order="~tie-1"),
        obs(K.COLLECT, 60 * 4, order="~tie-0"),
    ]
    reference = replay(ident, sorted(scans, key=sort_key), rules, ZONE)
    assert reference.verdicts != [[] for _ in scans]  # there is something to judge
    ordered = sorted(scans, key=sort_key)
    expected = {s.order: v for s, v in zip(ordered, reference.verdicts, strict=True)}
    shuffled = list(scans)
    random.Random(seed).shuffle(shuffled)
    judged = replay(ident, shuffled, rules, ZONE)
    assert judged.projection == reference.projection
    assert {s.order: v for s, v in zip(shuffled, judged.verdicts, strict=True)} == expected
    # The late reweigh left it overfilled: the dispatch after it is now refused-in-hindsight.
    assert expected[scans[1].order] == ["overfilled_cannot_dispatch"]
    assert expected[scans[-5].order] == ["overfilled"]
    assert expected[scans[-4].order] == ["scanned_before_registration"]


@pytest.mark.parametrize(
    ("stop_id", "fill_id", "fill_codes", "stopped"),
    [("a", "b", ["cylinder_stopped"], True), ("b", "a", [], True)],
)
def test_scans_of_the_same_instant_are_ordered_by_their_id(
    rules: RuleSettings, stop_id: str, fill_id: str, fill_codes: list[str], stopped: bool
) -> None:
    ident = identity()
    stop = obs(K.STOP, 1, order=stop_id)
    filled = obs(K.FILL, at=stop.occurred_at.astimezone(ZONE), order=fill_id)  # same instant
    for scans in ([stop, filled], [filled, stop]):
        judged = replay(ident, scans, rules, ZONE)
        by_kind = {s.kind: v for s, v in zip(scans, judged.verdicts, strict=True)}
        assert by_kind == {K.STOP: [], K.FILL: fill_codes}
        assert judged.projection.snapshot == CylinderSnapshot(S.FULL_AT_STATION, stopped=stopped)


def test_replay_from_a_start_continues_the_history(rules: RuleSettings) -> None:
    ident = identity()
    scans = clean_life()
    whole = replay(ident, scans, rules, ZONE)
    for cut in (0, 5, len(scans)):
        head = replay(ident, scans[:cut], rules, ZONE)
        tail = replay(ident, scans[cut:], rules, ZONE, start=head.projection)
        assert tail.projection == whole.projection
        assert head.verdicts + tail.verdicts == whole.verdicts


def test_a_late_scan_never_moves_last_scan_at_back(rules: RuleSettings) -> None:
    ident = identity()
    after_fill = advance(ident, registered(ident, rules), obs(K.FILL, 60), rules, ZONE)
    late = advance(ident, after_fill, obs(K.REPORT_LOST, 30), rules, ZONE)
    assert late.last_scan_at == T0 + timedelta(minutes=60)
    before_registration = obs(K.STOP, at=REGISTERED_AT - timedelta(days=1))
    assert (
        advance(ident, registered(ident, rules), before_registration, rules, ZONE).last_scan_at
        == REGISTERED_AT
    )


# --- dates: inspection due, scrap date, in China Standard Time -----------------------------


def _fill_judged(rules: RuleSettings, judged_at: datetime, ident: CylinderIdentity | None = None):  # type: ignore[no-untyped-def]
    ident = ident or identity()
    scan = obs(K.FILL, at=judged_at - timedelta(hours=1), judged_at=judged_at)
    return verdict(ident, registered(ident, rules), scan, rules)


@pytest.mark.parametrize(
    ("judged_at", "codes"),
    [
        (china(2028, 3, 14, 12), []),
        (china(2028, 3, 15, 0, 0, 0), []),  # the due date itself is still valid
        (china(2028, 3, 15, 23, 59, 59), []),  # = 2028-03-15 15:59:59 UTC
        (datetime(2028, 3, 14, 16, 30, tzinfo=UTC), []),  # UTC says the 14th, China the 15th
        (china(2028, 3, 16, 0, 0, 0), ["inspection_overdue"]),  # UTC still says the 15th
        (datetime(2028, 3, 15, 16, 0, tzinfo=UTC), ["inspection_overdue"]),
        # An instant given in another offset is still read on China's calendar.
        (
            datetime(2028, 3, 15, 11, 0, tzinfo=timezone(timedelta(hours=-5))),
            ["inspection_overdue"],
        ),
        (china(2028, 6, 1, 9), ["inspection_overdue"]),
    ],
    ids=str,
)
def test_inspection_due_date_is_read_on_the_judged_day_in_china(
    rules: RuleSettings, judged_at: datetime, codes: list[str]
) -> None:
    assert registered(identity(), rules).next_inspection_due == DUE
    assert _fill_judged(rules, judged_at) == codes


def test_the_zone_given_decides_the_day(rules: RuleSettings) -> None:
    ident = identity()
    scan = obs(K.FILL, at=datetime(2028, 3, 15, 16, 0, tzinfo=UTC))
    before = registered(ident, rules)
    assert judge(ident, before, scan, rules, ZONE) == ["inspection_overdue"]
    assert judge(ident, before, scan, rules, UTC) == []


def test_an_offline_fill_before_the_due_date_was_legal_whenever_judged(
    rules: RuleSettings,
) -> None:
    ident = identity()
    before = registered(ident, rules)
    happened = china(2028, 3, 15, 23, 50)
    offline = obs(K.FILL, at=happened)  # judged when it happened
    interactive = obs(K.FILL, at=happened, judged_at=china(2028, 3, 16, 0, 10))
    assert verdict(ident, before, offline, rules) == []
    assert verdict(ident, before, interactive, rules) == ["inspection_overdue"]
    # Replayed later among other scans, the offline fill stays legal.
    judged = replay(ident, [obs(K.DISPATCH, at=china(2028, 3, 17)), offline], rules, ZONE)
    assert judged.verdicts == [[], []]


@pytest.mark.parametrize(
    ("judged_at", "codes"),
    [
        (china(2032, 3, 14, 12), []),
        (china(2032, 3, 15, 23, 59, 59), []),
        (datetime(2032, 3, 15, 15, 59, 59, tzinfo=UTC), []),
        (datetime(2032, 3, 15, 16, 0, tzinfo=UTC), ["past_scrap_date"]),
        (china(2032, 3, 16, 0, 0), ["past_scrap_date"]),
    ],
    ids=str,
)
def test_past_scrap_date(rules: RuleSettings, judged_at: datetime, codes: list[str]) -> None:
    # Inspected in 2031: the inspection is not due, only the design life ends.
    ident = identity(initial_last_inspected_on=date(2031, 1, 10))
    assert registered(ident, rules).next_inspection_due == date(2035, 1, 10)
    assert registered(ident, rules).scrap_date == SCRAP
    assert _fill_judged(rules, judged_at, ident) == codes


def test_overdue_and_past_scrap_date_together(rules: RuleSettings) -> None:
    assert _fill_judged(rules, china(2032, 3, 16, 9)) == ["inspection_overdue", "past_scrap_date"]


def test_scrap_date_override(rules: RuleSettings) -> None:
    ident = identity(scrap_date_override=date(2027, 1, 31))
    assert registered(ident, rules).scrap_date == date(2027, 1, 31)
    assert _fill_judged(rules, china(2027, 1, 31, 20), ident) == []
    assert _fill_judged(rules, china(2027, 2, 1, 0, 1), ident) == ["past_scrap_date"]


def test_only_a_fill_is_refused_for_dates(rules: RuleSettings) -> None:
    ident = identity()
    late = china(2033, 1, 1, 9)
    full = at_state(ident, rules, obs(K.FILL, 1))
    assert verdict(ident, full, obs(K.DISPATCH, at=late), rules) == []
    assert verdict(ident, full, obs(K.REWEIGH, at=late), rules) == []


# --- registration time --------------------------------------------------------------------


def test_scanned_before_registration(rules: RuleSettings) -> None:
    ident = identity()
    before = registered(ident, rules)
    early = obs(K.FILL, at=REGISTERED_AT - timedelta(seconds=1))
    assert verdict(ident, before, early, rules) == ["scanned_before_registration"]
    assert verdict(ident, before, obs(K.STOP, at=early.occurred_at), rules) == [
        "scanned_before_registration"
    ]
    assert verdict(ident, before, obs(K.FILL, at=REGISTERED_AT), rules) == []
    # What counts is the judged instant: a device clock behind, uploaded interactively.
    behind = obs(K.FILL, at=early.occurred_at, judged_at=REGISTERED_AT + timedelta(minutes=1))
    assert verdict(ident, before, behind, rules) == []
    assert refusals(["scanned_before_registration"]) == []


# --- the scale ---------------------------------------------------------------------------


def test_tare_mismatch_beyond_the_tolerance_only(rules: RuleSettings) -> None:
    ident = identity()
    tolerance = rules.tare_tolerance_kg
    step = Decimal("0.01")
    before = registered(ident, rules)
    full = at_state(ident, rules, obs(K.FILL, 1))
    for tare, codes in [
        (None, []),
        (TARE, []),
        (TARE + tolerance, []),
        (TARE - tolerance, []),
        (TARE + tolerance + step, ["tare_mismatch"]),
        (TARE - tolerance - step, ["tare_mismatch"]),
    ]:
        assert verdict(ident, before, obs(K.FILL, 2, tare_kg=tare), rules) == codes, tare
        assert verdict(ident, full, obs(K.REWEIGH, 2, tare_kg=tare), rules) == codes, tare
    loose = replace(rules, tare_tolerance_kg=Decimal("1.00"))
    assert verdict(ident, before, obs(K.FILL, 2, tare_kg=TARE + tolerance + step), loose) == []
    assert refusals(["tare_mismatch"]) == []


def test_overfilled_and_underfilled(rules: RuleSettings) -> None:
    ident = identity()
    projection = registered(ident, rules)
    steps = [
        (obs(K.FILL, 1, outcome=O.OVERFILLED), ["overfilled"], (True, False)),
        (obs(K.DISPATCH, 2), ["overfilled_cannot_dispatch"], None),
        (obs(K.REWEIGH, 3, outcome=O.UNDERFILLED), ["underfilled"], (False, True)),
        (obs(K.REWEIGH, 4, outcome=O.OK), [], (False, False)),
        (obs(K.REWEIGH, 5, outcome=O.UNDERFILLED), ["underfilled"], (False, True)),
        (obs(K.DISPATCH, 6), [], (False, True)),  # underfilled blocks nothing
    ]
    for scan, codes, flags in steps:
        assert verdict(ident, projection, scan, rules) == codes, scan.kind
        if flags is None:
            continue  # a refused interactive scan is not kept
        projection = advance(ident, projection, scan, rules, ZONE)
        assert (projection.snapshot.overfilled, projection.snapshot.underfilled) == flags
    # The mass flags only flag: the cylinder is already filled.
    assert refusals(["overfilled"]) == [] and refusals(["underfilled"]) == []


def test_receiving_it_empty_clears_the_mass_flags(rules: RuleSettings) -> None:
    ident = identity()
    projection = at_state(ident, rules, obs(K.FILL, 1))
    projection, verdicts = fold(
        ident,
        [
            obs(K.REWEIGH, 2, outcome=O.UNDERFILLED),
            obs(K.DISPATCH, 3),
            obs(K.DELIVER, 4),
            obs(K.COLLECT, 5),
        ],
        rules,
        start=projection,
    )
    assert verdicts == [["underfilled"], [], [], []]
    assert projection.snapshot.underfilled is True
    projection = advance(ident, projection, obs(K.RECEIVE_EMPTY, 6), rules, ZONE)
    assert projection.snapshot == CylinderSnapshot(S.EMPTY_AT_STATION)


# --- where the scan was made -------------------------------------------------------------


def test_location_mismatch_for_fill_reweigh_dispatch_at_another_site(
    rules: RuleSettings,
) -> None:
    ident = identity()
    at_station = registered(ident, rules)
    assert at_station.location_id == STATION.id
    assert verdict(ident, at_station, obs(K.FILL, 1, site=STATION_2), rules) == [
        "location_mismatch"
    ]
    full = at_state(ident, rules, obs(K.FILL, 1))
    assert verdict(ident, full, obs(K.REWEIGH, 2, site=STATION_2), rules) == ["location_mismatch"]
    assert verdict(ident, full, obs(K.DISPATCH, 2, site=STATION_2), rules) == ["location_mismatch"]
    assert verdict(ident, full, obs(K.DISPATCH, 2, site=STATION), rules) == []
    empty = at_state(
        ident,
        rules,
        *(obs(kind, n) for n, kind in enumerate([K.FILL, K.DISPATCH, K.DELIVER, K.COLLECT])),
        obs(K.RECEIVE_EMPTY, 9, site=STATION_2),  # received at the other station: it is there
    )
    assert empty.location_id == STATION_2.id
    assert verdict(ident, empty, obs(K.FILL, 10, site=STATION_2), rules) == []
    assert verdict(ident, empty, obs(K.FILL, 10, site=STATION), rules) == ["location_mismatch"]
    # Kept anyway (it happened): the fill puts it where it was seen.
    moved = advance(ident, empty, obs(K.FILL, 10, site=STATION), rules, ZONE)
    assert moved.location_id == STATION.id


def test_no_location_mismatch_where_the_site_is_unknown_or_after_a_journey(
    rules: RuleSettings,
) -> None:
    unknown = identity(registered_site_id=None)
    assert verdict(unknown, registered(unknown, rules), obs(K.FILL, 1, site=STATION_2), rules) == []
    ident = identity()
    in_transit = at_state(ident, rules, obs(K.FILL, 1), obs(K.DISPATCH, 2))
    assert in_transit.location_id == STATION.id  # where it was last seen
    assert verdict(ident, in_transit, obs(K.STORE, 3, site=SUPPLY_2), rules) == []
    assert verdict(ident, in_transit, obs(K.RECEIVE_EMPTY, 3, site=STATION_2), rules) == []
    stored = at_state(ident, rules, obs(K.FILL, 1), obs(K.DISPATCH, 2), obs(K.STORE, 3))
    assert stored.location_id == SUPPLY.id
    # At a site, yet store and receive never check it: store is simply out of order, and a
    # lost cylinder may be received wherever it turns up.
    assert verdict(ident, stored, obs(K.STORE, 4, site=SUPPLY_2), rules) == [
        "transition_not_allowed"
    ]
    lost = advance(ident, stored, obs(K.REPORT_LOST, 4), rules, ZONE)
    assert verdict(ident, lost, obs(K.RECEIVE_EMPTY, 5, site=STATION_2), rules) == []
    delivered = at_state(
        ident, rules, obs(K.FILL, 1), obs(K.DISPATCH, 2), obs(K.STORE, 3), obs(K.DELIVER, 4)
    )
    assert verdict(ident, delivered, obs(K.COLLECT, 5, site=SUPPLY_2), rules) == []


def test_not_own_cylinder_and_station_required(rules: RuleSettings) -> None:
    ident = identity()
    before = registered(ident, rules)
    # Another company's station is also another site than the one it sits at.
    assert verdict(ident, before, obs(K.FILL, 1, site=B_STATION), rules) == [
        "not_own_cylinder",
        "location_mismatch",
    ]
    unknown_site = identity(registered_site_id=None)
    assert verdict(
        unknown_site, registered(unknown_site, rules), obs(K.FILL, 1, site=B_STATION), rules
    ) == ["not_own_cylinder"]
    assert verdict(ident, before, obs(K.FILL, 1, site=None), rules) == ["station_required"]
    assert verdict(ident, before, obs(K.FILL, 1, site=SUPPLY), rules) == [
        "station_required",
        "location_mismatch",
    ]
    assert verdict(ident, before, obs(K.FILL, 1, site=OFFICE), rules)[0] == "station_required"
    full = at_state(ident, rules, obs(K.FILL, 1))
    assert verdict(ident, full, obs(K.REWEIGH, 2, site=None), rules) == ["station_required"]
    assert verdict(ident, full, obs(K.REWEIGH, 2, site=B_STATION), rules)[0] == "not_own_cylinder"
    # Other kinds do not need a filling station.
    assert verdict(ident, full, obs(K.DISPATCH, 2, site=None), rules) == []


def test_fill_checks_and_post_fill_check(rules: RuleSettings) -> None:
    ident = identity()
    before = registered(ident, rules)
    assert verdict(ident, before, obs(K.FILL, 1, pre_fill_check_passed=None), rules) == [
        "pre_fill_check_missing"
    ]
    assert verdict(ident, before, obs(K.FILL, 1, pre_fill_check_passed=False), rules) == [
        "pre_fill_check_failed"
    ]
    assert verdict(ident, before, obs(K.FILL, 1, post_fill_check_failed=True), rules) == [
        "post_fill_check_failed"
    ]


# --- real-name delivery ------------------------------------------------------------------


def _in_transit(ident: CylinderIdentity, rules: RuleSettings) -> Projection:
    return at_state(ident, rules, obs(K.FILL, 1), obs(K.DISPATCH, 2))


def test_buyer_not_registered(rules: RuleSettings) -> None:
    ident = identity()
    before = _in_transit(ident, rules)
    when = T0 + timedelta(hours=1)
    nobody = obs(K.DELIVER, at=when, buyer=None)
    assert verdict(ident, before, nobody, rules) == ["buyer_not_registered"]
    later = Buyer("customer-2", when + timedelta(seconds=1))
    assert verdict(ident, before, obs(K.DELIVER, at=when, buyer=later), rules) == [
        "buyer_not_registered"
    ]
    just_now = Buyer("customer-3", when)
    assert verdict(ident, before, obs(K.DELIVER, at=when, buyer=just_now), rules) == []
    # Judged when it arrived (interactive): registered by then.
    arrived = obs(K.DELIVER, at=when, judged_at=when + timedelta(seconds=2), buyer=later)
    assert verdict(ident, before, arrived, rules) == []
    assert refusals(["buyer_not_registered"]) == ["buyer_not_registered"]
    # Kept anyway (offline): with the customer, held by nobody known.
    kept = advance(ident, before, nobody, rules, ZONE)
    assert kept.snapshot.state is S.WITH_CUSTOMER
    assert (kept.holder_customer_id, kept.held_since, kept.location_id) == (None, when, None)


def test_buyer_inactive_and_ysp118_indoors(rules: RuleSettings) -> None:
    ident = identity()
    before = _in_transit(ident, rules)
    inactive = buyer(active=False)
    household = buyer(household=True)
    both = buyer(active=False, household=True)
    assert verdict(ident, before, obs(K.DELIVER, 3, buyer=inactive), rules) == ["buyer_inactive"]
    # A 15 kg cylinder may go into a household.
    assert verdict(ident, before, obs(K.DELIVER, 3, buyer=household), rules) == []
    big = identity(model="YSP118", tare_kg=Decimal("60.00"), model_indoor_allowed=False)
    big_before = _in_transit(big, rules)
    assert verdict(big, big_before, obs(K.DELIVER, 3, buyer=household), rules) == [
        "ysp118_indoor_forbidden"
    ]
    assert verdict(big, big_before, obs(K.DELIVER, 3, buyer=BUYER), rules) == []
    assert verdict(big, big_before, obs(K.DELIVER, 3, buyer=both), rules) == [
        "buyer_inactive",
        "ysp118_indoor_forbidden",
    ]
    unregistered = Buyer("customer-9", T0 + timedelta(days=1), household_without_outdoor_area=True)
    assert verdict(big, big_before, obs(K.DELIVER, 3, buyer=unregistered), rules) == [
        "buyer_not_registered"
    ]


# --- codes and their order ---------------------------------------------------------------


def test_refusals_drops_flags_and_keeps_the_order() -> None:
    codes = [
        "cylinder_stopped",
        "inspection_overdue",
        "scanned_before_registration",
        "location_mismatch",
        "tare_mismatch",
        "overfilled",
    ]
    assert refusals(codes) == ["cylinder_stopped", "inspection_overdue"]
    assert refusals(iter(FLAGS)) == []
    assert refusals(REFUSALS) == list(REFUSALS)
    assert refusals([]) == []


def test_priority_is_refusals_then_flags() -> None:
    assert PRIORITY == REFUSALS + FLAGS
    assert len(set(PRIORITY)) == len(PRIORITY)
    assert not set(REFUSALS) & set(FLAGS)
    # The most fundamental first.
    assert PRIORITY[:3] == ("outcome_invalid", "station_required", "not_own_cylinder")


def test_every_broken_rule_is_reported_once_in_priority_order(rules: RuleSettings) -> None:
    ident = identity(registered_at=datetime(2040, 1, 1, tzinfo=UTC))
    stopped = advance(ident, registered(ident, rules), obs(K.STOP, 1), rules, ZONE)
    scan = obs(
        K.FILL,
        at=china(2033, 1, 1, 9),
        site=B_STATION,
        pre_fill_check_passed=None,
        post_fill_check_failed=True,
        tare_kg=Decimal("17.00"),
        outcome=O.OVERFILLED,
    )
    codes = verdict(ident, stopped, scan, rules)
    assert codes == [
        "not_own_cylinder",
        "cylinder_stopped",
        "inspection_overdue",
        "past_scrap_date",
        "pre_fill_check_missing",
        "post_fill_check_failed",
        "scanned_before_registration",
        "location_mismatch",
        "tare_mismatch",
        "overfilled",
    ]
    assert refusals(codes) == codes[:6]


def test_a_scrapped_cylinder_reports_scrapped_once(rules: RuleSettings) -> None:
    ident = identity()
    scrapped = at_state(ident, rules, obs(K.SCRAP, 1))
    assert verdict(ident, scrapped, obs(K.FILL, 2), rules) == ["cylinder_scrapped"]
    assert verdict(ident, scrapped, obs(K.STOP, 2), rules) == ["cylinder_scrapped"]


def test_outcome_invalid(rules: RuleSettings) -> None:
    ident = identity()
    before = registered(ident, rules)
    assert verdict(ident, before, obs(K.FILL, 1, outcome=O.PASS), rules) == ["outcome_invalid"]
    # Kept, it changes nothing.
    assert advance(ident, before, obs(K.FILL, 1, outcome=O.PASS), rules, ZONE).snapshot == (
        before.snapshot
    )


# --- stop, inspection, scrap ---------------------------------------------------------------


def test_a_stopped_cylinder_refuses_a_fill_until_released(rules: RuleSettings) -> None:
    ident = identity()
    stopped = at_state(ident, rules, obs(K.STOP, 1))
    assert stopped.snapshot == CylinderSnapshot(S.REGISTERED, stopped=True)
    assert verdict(ident, stopped, obs(K.FILL, 2), rules) == ["cylinder_stopped"]
    assert refusals(verdict(ident, stopped, obs(K.FILL, 2), rules)) == ["cylinder_stopped"]
    assert verdict(ident, stopped, obs(K.SEND_FOR_INSPECTION, 2), rules) == []
    released = advance(ident, stopped, obs(K.RELEASE, 3), rules, ZONE)
    assert released.snapshot == CylinderSnapshot(S.REGISTERED)
    assert verdict(ident, released, obs(K.FILL, 4), rules) == []
    full_stopped = at_state(ident, rules, obs(K.FILL, 1), obs(K.STOP, 2))
    assert verdict(ident, full_stopped, obs(K.DISPATCH, 3), rules) == ["cylinder_stopped"]


def test_a_lost_cylinder(rules: RuleSettings) -> None:
    ident = identity()
    lost = at_state(ident, rules, obs(K.REPORT_LOST, 1))
    assert lost.snapshot == CylinderSnapshot(S.REGISTERED, lost=True)
    # A fill the table allows finds it.
    assert verdict(ident, lost, obs(K.FILL, 2), rules) == []
    assert advance(ident, lost, obs(K.FILL, 2), rules, ZONE).snapshot.lost is False
    away = at_state(ident, rules, obs(K.FILL, 1), obs(K.DISPATCH, 2), obs(K.REPORT_LOST, 3))
    assert verdict(ident, away, obs(K.FILL, 4), rules) == ["cylinder_lost"]
    # What an office can do does not find it: a write-off stays visible as such.
    office = at_state(ident, rules, obs(K.REPORT_LOST, 1), obs(K.STOP, 2), obs(K.RELEASE, 3))
    assert office.snapshot == CylinderSnapshot(S.REGISTERED, lost=True)
    written_off = advance(ident, office, obs(K.SCRAP, 4), rules, ZONE)
    assert written_off.snapshot == CylinderSnapshot(S.SCRAPPED, lost=True)


def test_a_passed_inspection_moves_the_due_date(rules: RuleSettings) -> None:
    ident = identity()
    rules = rules.with_overrides(life_extension_years=0)
    sent = at_state(ident, rules, obs(K.SEND_FOR_INSPECTION, 1))
    # 17:00 UTC is 01:00 the next day in China: that is the inspection's date.
    passed = advance(
        ident, sent, obs(K.INSPECT, at=datetime(2026, 3, 2, 17, 0, tzinfo=UTC)), rules, ZONE
    )
    assert passed.snapshot == CylinderSnapshot(S.EMPTY_AT_STATION)
    assert passed.last_inspected_on == date(2026, 3, 3)
    assert passed.next_inspection_due == date(2030, 3, 3)
    assert passed.scrap_date == SCRAP
    certificate = advance(
        ident, sent, obs(K.INSPECT, 2, inspected_on=date(2026, 2, 20)), rules, ZONE
    )
    assert certificate.last_inspected_on == date(2026, 2, 20)
    assert certificate.next_inspection_due == date(2030, 2, 20)
    overridden = advance(
        ident, sent, obs(K.INSPECT, 2, next_due_override=date(2027, 1, 1)), rules, ZONE
    )
    assert overridden.inspection_due_override == date(2027, 1, 1)
    assert overridden.next_inspection_due == date(2027, 1, 1)
    # An older certificate arriving later does not move the dates back.
    again = advance(ident, certificate, obs(K.SEND_FOR_INSPECTION, 3), rules, ZONE)
    older = advance(ident, again, obs(K.INSPECT, 4, inspected_on=date(2025, 12, 1)), rules, ZONE)
    assert older.last_inspected_on == date(2026, 2, 20)
    assert older.next_inspection_due == date(2030, 2, 20)
    # A newer one supersedes an override.
    newer = advance(
        ident,
        advance(ident, overridden, obs(K.SEND_FOR_INSPECTION, 5), rules, ZONE),
        obs(K.INSPECT, 6, inspected_on=date(2026, 3, 2)),
        rules,
        ZONE,
    )
    assert newer.inspection_due_override is None
    assert newer.next_inspection_due == date(2030, 3, 2)


def test_a_passed_inspection_late_in_life_extends_the_scrap_date(rules: RuleSettings) -> None:
    ident = identity()
    extended = rules.with_overrides(life_extension_years=4)
    sent = advance(
        ident,
        registered(ident, extended),
        obs(K.SEND_FOR_INSPECTION, at=china(2031, 5, 30)),
        extended,
        ZONE,
    )
    assert sent.scrap_date == SCRAP
    passed = advance(ident, sent, obs(K.INSPECT, at=china(2031, 6, 1, 10)), extended, ZONE)
    assert passed.last_inspected_on == date(2031, 6, 1)
    assert passed.next_inspection_due == date(2035, 6, 1)
    assert passed.scrap_date == date(2036, 3, 15)
    # The mid-life inspection earns nothing.
    mid = advance(
        ident,
        sent,
        obs(K.INSPECT, at=china(2031, 5, 30, 12), inspected_on=date(2028, 3, 15)),
        extended,
        ZONE,
    )
    assert mid.scrap_date == SCRAP
    # And a fill after the old scrap date is legal now.
    assert verdict(ident, passed, obs(K.FILL, at=china(2033, 1, 1)), extended) == []


def test_a_failed_inspection_scraps_it(rules: RuleSettings) -> None:
    ident = identity()
    sent = at_state(ident, rules, obs(K.SEND_FOR_INSPECTION, 1))
    failed = advance(ident, sent, obs(K.INSPECT, 2, outcome=O.FAIL), rules, ZONE)
    assert failed.snapshot.state is S.SCRAPPED
    assert failed.scrapped_at == T0 + timedelta(minutes=2)
    assert failed.scrap_reason == "failed periodic inspection"
    assert (failed.last_inspected_on, failed.next_inspection_due) == (None, DUE)
    with_reason = advance(
        ident, sent, obs(K.INSPECT, 2, outcome=O.FAIL, reason="wall too thin"), rules, ZONE
    )
    assert with_reason.scrap_reason == "wall too thin"


def test_scrap_sets_when_and_why_once(rules: RuleSettings) -> None:
    ident = identity()
    full = at_state(ident, rules, obs(K.FILL, 1))
    scrapped = advance(ident, full, obs(K.SCRAP, 5, reason="dented"), rules, ZONE)
    assert scrapped.snapshot.state is S.SCRAPPED
    assert (scrapped.scrapped_at, scrapped.scrap_reason) == (T0 + timedelta(minutes=5), "dented")
    # A second scrap (kept, flagged) and a late fill change nothing of it.
    assert verdict(ident, scrapped, obs(K.SCRAP, 6, reason="again"), rules) == ["cylinder_scrapped"]
    after = advance(ident, scrapped, obs(K.SCRAP, 6, reason="again"), rules, ZONE)
    after = advance(ident, after, obs(K.FILL, 7), rules, ZONE)
    assert after.snapshot.state is S.SCRAPPED
    assert (after.scrapped_at, after.scrap_reason) == (T0 + timedelta(minutes=5), "dented")
    unexplained = advance(ident, full, obs(K.SCRAP, 5, reason=None), rules, ZONE)
    assert unexplained.scrap_reason == "scrapped by scan"


# --- generated histories -----------------------------------------------------------------

EVERY_SCAN = [
    (kind, outcome) for kind in K if kind is not K.REGISTER for outcome in KIND_OUTCOMES[kind]
]
ENDINGS = {(K.SCRAP, None), (K.INSPECT, O.FAIL)}
SITES = [STATION, STATION_2, SUPPLY, SUPPLY_2, OFFICE, B_STATION, None]
BUYERS = [
    BUYER,
    buyer(active=False),
    buyer(household=True),
    Buyer("customer-late", T0 + timedelta(days=2)),
    None,
]
IDENTITIES = [
    identity(),
    identity(registered_site_id=None, registered_at=T0 + timedelta(days=1)),
    identity(model="YSP118", tare_kg=Decimal("60.00"), model_indoor_allowed=False),
    identity(manufactured_on=date(2022, 3, 3), initial_last_inspected_on=date(2022, 3, 3)),
]


def random_history(
    rng: random.Random, ident: CylinderIdentity, rules: RuleSettings, size: int
) -> list[Observation]:
    """A walk through the lifecycle, mostly by scans allowed at that point, sometimes by
    any scan, at times that may tie, cross a due date or fall before registration."""
    projection = registered(ident, rules)
    scans: list[Observation] = []
    when = rng.choice([T0, china(2026, 3, 15, 23, 30), datetime(2026, 3, 9, 15, 59, tzinfo=UTC)])
    steps = [timedelta(0), timedelta(minutes=1), timedelta(hours=7), timedelta(days=1)]
    for index in range(size):
        allowed = [pair for pair in allowed_kinds(projection.snapshot) if pair[0] is not K.REGISTER]
        kind, outcome = rng.choice(allowed if allowed and rng.random() < 0.75 else EVERY_SCAN)
        while (kind, outcome) in ENDINGS and rng.random() < 0.9:  # or most walks end early
            kind, outcome = rng.choice(allowed or EVERY_SCAN)
        if rng.random() < 0.03:  # what no scanner should send, kept anyway
            kind, outcome = rng.choice([(K.REGISTER, None), (K.FILL, O.PASS), (K.STORE, O.OK)])
        # Ties, minutes, hours or a day apart; now and then years (past a due date).
        when += timedelta(days=365 * 3) if rng.random() < 0.05 else rng.choice(steps)
        occurred = when - timedelta(days=3) if rng.random() < 0.05 else when  # a late one
        judged = occurred + timedelta(minutes=rng.choice([0, 0, 0, 30, 60 * 24]))
        scan = Observation(
            kind,
            occurred,
            judged,
            order=f"{rng.randrange(10**6):06d}-{index:03d}",
            outcome=outcome,
            site=rng.choice(SITES) if rng.random() < 0.3 else DEFAULTS.get(kind, {}).get("site"),
            buyer=rng.choice(BUYERS) if kind is K.DELIVER else None,
            pre_fill_check_passed=rng.choice([True, True, True, False, None]),
            post_fill_check_failed=rng.random() < 0.1,
            tare_kg=rng.choice([None, TARE, TARE + Decimal("0.5")]),
            inspected_on=rng.choice([None, occurred.date(), date(2025, 1, 1)]),
            next_due_override=rng.choice([None, None, None, date(2027, 7, 7)]),
            reason=rng.choice([None, "reason"]),
        )
        scans.append(scan)
        projection = advance(ident, projection, scan, rules, ZONE)  # only to steer the walk
    return scans


@pytest.mark.parametrize("seed", range(40))
def test_generated_histories_replay_the_same_in_any_order(rules: RuleSettings, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(10):
        ident = rng.choice(IDENTITIES)
        scans = random_history(rng, ident, rules, rng.randrange(1, 30))
        ordered = sorted(scans, key=sort_key)
        reference = replay(ident, ordered, rules, ZONE)
        # replay is the fold of judge and advance in the order things happened.
        assert fold(ident, ordered, rules) == (reference.projection, reference.verdicts)
        expected = {s.order: v for s, v in zip(ordered, reference.verdicts, strict=True)}
        for codes in reference.verdicts:
            assert codes == sorted(set(codes), key=PRIORITY.index), codes
        for _ in range(3):
            shuffled = list(scans)
            rng.shuffle(shuffled)
            judged = replay(ident, shuffled, rules, ZONE)
            context = f"seed {seed}: {[(s.kind.value, s.occurred_at, s.order) for s in ordered]}"
            assert judged.projection == reference.projection, context
            got = {s.order: v for s, v in zip(shuffled, judged.verdicts, strict=True)}
            assert got == expected, context
