"""The cylinder lifecycle: the transition table, its guards, and replay of late scans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.lifecycle import (
    FORCED_TARGETS,
    KIND_OUTCOMES,
    NON_TERMINAL,
    STOPPED_ALLOWED,
    TRANSITIONS,
    CylinderSnapshot,
    CylinderState,
    Outcome,
    ScanEvent,
    ScanKind,
    TransitionRefused,
    apply,
    replay,
)
from tests.domain.allowed import allowed_kinds

S, K, O = CylinderState, ScanKind, Outcome  # noqa: E741 - short names for table rows
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
MASS = (O.OK, O.OVERFILLED, O.UNDERFILLED)

# domain.md's sketch, arrow by arrow, written out independently of the module's table.
SKETCH_MOVES = {
    (None, K.REGISTER, None): S.REGISTERED,
    **{(S.REGISTERED, K.FILL, m): S.FULL_AT_STATION for m in MASS},
    **{(S.EMPTY_AT_STATION, K.FILL, m): S.FULL_AT_STATION for m in MASS},
    (S.FULL_AT_STATION, K.DISPATCH, None): S.IN_TRANSIT,
    (S.IN_TRANSIT, K.STORE, None): S.AT_SUPPLY_POINT,
    (S.IN_TRANSIT, K.DELIVER, None): S.WITH_CUSTOMER,
    (S.AT_SUPPLY_POINT, K.DELIVER, None): S.WITH_CUSTOMER,
    (S.WITH_CUSTOMER, K.COLLECT, None): S.IN_TRANSIT,
    (S.IN_TRANSIT, K.RECEIVE_EMPTY, None): S.EMPTY_AT_STATION,
    (S.IN_INSPECTION, K.INSPECT, O.PASS): S.EMPTY_AT_STATION,
    (S.IN_INSPECTION, K.INSPECT, O.FAIL): S.SCRAPPED,
    **{
        (s, K.SEND_FOR_INSPECTION, None): S.IN_INSPECTION
        for s in S
        if s not in {S.SCRAPPED, S.IN_INSPECTION}
    },
    **{(s, K.SCRAP, None): S.SCRAPPED for s in S if s is not S.SCRAPPED},
    # Decisions beyond the sketch: reweigh at the station; flag-only kinds keep the state.
    **{(S.FULL_AT_STATION, K.REWEIGH, m): S.FULL_AT_STATION for m in MASS},
    **{
        (s, kind, None): s
        for s in S
        if s is not S.SCRAPPED
        for kind in (K.REPORT_LOST, K.STOP, K.RELEASE)
    },
}  # fmt: skip


def event(kind: ScanKind, outcome: Outcome | None = None, *, minutes: int = 0, **kw) -> ScanEvent:
    return ScanEvent(kind, T0 + timedelta(minutes=minutes), outcome, **kw)


def every_scan() -> list[tuple[ScanKind, Outcome | None]]:
    return [(kind, outcome) for kind in K for outcome in KIND_OUTCOMES[kind]]


def test_table_is_the_sketch() -> None:
    assert dict(TRANSITIONS) == SKETCH_MOVES


def test_nothing_leaves_scrapped_in_the_table() -> None:
    assert not [key for key in TRANSITIONS if key[0] is S.SCRAPPED]


def _ready(state: CylinderState | None, kind: ScanKind) -> CylinderSnapshot | None:
    # The flags a scan needs to be allowed at all (release needs a stopped cylinder).
    if state is None:
        return None
    return CylinderSnapshot(state, stopped=kind is K.RELEASE)


@pytest.mark.parametrize(
    ("key", "target"), sorted(TRANSITIONS.items(), key=str), ids=lambda v: str(v)
)
def test_every_allowed_transition(key: tuple, target: CylinderState) -> None:
    state, kind, outcome = key
    after = apply(_ready(state, kind), event(kind, outcome, buyer_id="c-1"))
    assert after.state is target


FORBIDDEN = [
    (state, kind, outcome)
    for state in [None, *S]
    for kind, outcome in every_scan()
    if (state, kind, outcome) not in SKETCH_MOVES
]


def _expected_code(state: CylinderState | None, kind: ScanKind) -> str:
    if state is None:
        return "cylinder_unknown"
    if state is S.SCRAPPED:
        return "cylinder_scrapped"
    if kind is K.REGISTER:
        return "already_registered"
    return "transition_not_allowed"


@pytest.mark.parametrize(("state", "kind", "outcome"), FORBIDDEN, ids=str)
def test_every_forbidden_transition(
    state: CylinderState | None, kind: ScanKind, outcome: Outcome | None
) -> None:
    before = _ready(state, kind)
    with pytest.raises(TransitionRefused) as caught:
        apply(before, event(kind, outcome, buyer_id="c-1"))
    assert caught.value.code == _expected_code(state, kind)
    assert caught.value.kind == "refused"
    assert isinstance(caught.value, DomainError)


def test_forbidden_list_is_complete() -> None:
    # 9 states (incl. unregistered) x 19 (kind, outcome) pairs: 11 kinds without an
    # outcome, fill and reweigh with 3 mass outcomes each, inspect with pass and fail.
    assert len(every_scan()) == 19
    assert len(FORBIDDEN) + len(SKETCH_MOVES) == 9 * 19


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        *[(K.FILL, None), (K.FILL, O.PASS), (K.INSPECT, None), (K.INSPECT, O.OK)],
        *[(K.DISPATCH, O.OK), (K.REWEIGH, None), (K.REGISTER, O.PASS), (K.SCRAP, O.FAIL)],
    ],
)
def test_outcome_must_fit_the_kind(kind: ScanKind, outcome: Outcome | None) -> None:
    for state in (None, S.REGISTERED, S.FULL_AT_STATION, S.IN_INSPECTION):
        snapshot = None if state is None else CylinderSnapshot(state)
        with pytest.raises(TransitionRefused) as caught:
            apply(snapshot, event(kind, outcome))
        assert caught.value.code == "outcome_invalid"


# --- flags ----------------------------------------------------------------------------

STOPPED_FORBIDDEN = [
    (state, kind, outcome)
    for state in NON_TERMINAL
    for kind, outcome in every_scan()
    if kind not in STOPPED_ALLOWED and kind is not K.REGISTER
]


@pytest.mark.parametrize(("state", "kind", "outcome"), STOPPED_FORBIDDEN, ids=str)
def test_stopped_cylinder_refuses_everything_else(
    state: CylinderState, kind: ScanKind, outcome: Outcome | None
) -> None:
    with pytest.raises(TransitionRefused) as caught:
        apply(CylinderSnapshot(state, stopped=True), event(kind, outcome, buyer_id="c"))
    assert caught.value.code == "cylinder_stopped"


@pytest.mark.parametrize("state", NON_TERMINAL)
def test_stopped_cylinder_can_be_released_scrapped_or_inspected(state: CylinderState) -> None:
    stopped = CylinderSnapshot(state, stopped=True)
    assert apply(stopped, event(K.RELEASE)) == CylinderSnapshot(state)
    assert apply(stopped, event(K.SCRAP)).state is S.SCRAPPED
    if state is not S.IN_INSPECTION:
        sent = apply(stopped, event(K.SEND_FOR_INSPECTION))
        assert sent == CylinderSnapshot(S.IN_INSPECTION, stopped=True)
    else:
        # The inspection of a recalled cylinder must be possible; it stays stopped.
        passed = apply(stopped, event(K.INSPECT, O.PASS))
        assert passed == CylinderSnapshot(S.EMPTY_AT_STATION, stopped=True)


def test_stop_and_release() -> None:
    stopped = apply(CylinderSnapshot(S.WITH_CUSTOMER), event(K.STOP))
    assert stopped == CylinderSnapshot(S.WITH_CUSTOMER, stopped=True)
    with pytest.raises(TransitionRefused) as caught:
        apply(stopped, event(K.STOP))
    assert caught.value.code == "cylinder_stopped"
    with pytest.raises(TransitionRefused) as caught:
        apply(CylinderSnapshot(S.WITH_CUSTOMER), event(K.RELEASE))
    assert caught.value.code == "cylinder_not_stopped"


def test_overfilled_cannot_leave_until_reweighed_ok() -> None:
    full = apply(CylinderSnapshot(S.EMPTY_AT_STATION), event(K.FILL, O.OVERFILLED))
    assert full == CylinderSnapshot(S.FULL_AT_STATION, overfilled=True)
    with pytest.raises(TransitionRefused) as caught:
        apply(full, event(K.DISPATCH))
    assert caught.value.code == "overfilled_cannot_dispatch"
    still = apply(full, event(K.REWEIGH, O.OVERFILLED))
    with pytest.raises(TransitionRefused):
        apply(still, event(K.DISPATCH))
    fixed = apply(still, event(K.REWEIGH, O.OK))
    assert fixed == CylinderSnapshot(S.FULL_AT_STATION)
    assert apply(fixed, event(K.DISPATCH)).state is S.IN_TRANSIT


def test_underfilled_is_flagged_but_may_leave() -> None:
    full = apply(CylinderSnapshot(S.REGISTERED), event(K.FILL, O.UNDERFILLED))
    assert full.underfilled and not full.overfilled
    moving = apply(full, event(K.DISPATCH))
    assert moving == CylinderSnapshot(S.IN_TRANSIT, underfilled=True)
    back = apply(apply(moving, event(K.RECEIVE_EMPTY)), event(K.FILL, O.OK))
    assert back == CylinderSnapshot(S.FULL_AT_STATION)


def test_mass_flags_clear_when_the_gas_is_gone() -> None:
    moving = CylinderSnapshot(S.IN_TRANSIT, underfilled=True)
    assert apply(moving, event(K.RECEIVE_EMPTY)) == CylinderSnapshot(S.EMPTY_AT_STATION)
    inspected = CylinderSnapshot(S.IN_INSPECTION, overfilled=True)
    assert apply(inspected, event(K.INSPECT, O.PASS)) == CylinderSnapshot(S.EMPTY_AT_STATION)


@pytest.mark.parametrize("source", [S.IN_TRANSIT, S.AT_SUPPLY_POINT])
def test_delivery_names_the_buyer(source: CylinderState) -> None:
    with pytest.raises(TransitionRefused) as caught:
        apply(CylinderSnapshot(source), event(K.DELIVER))
    assert caught.value.code == "buyer_missing"
    assert apply(CylinderSnapshot(source), event(K.DELIVER, buyer_id=7)).state is S.WITH_CUSTOMER


def test_lost_is_found_by_a_legitimate_physical_scan() -> None:
    lost = apply(CylinderSnapshot(S.WITH_CUSTOMER), event(K.REPORT_LOST))
    assert lost == CylinderSnapshot(S.WITH_CUSTOMER, lost=True)
    assert apply(lost, event(K.REPORT_LOST)) == lost  # a second report changes nothing
    assert apply(lost, event(K.COLLECT)) == CylinderSnapshot(S.IN_TRANSIT)


def test_lost_cylinder_found_at_its_station_is_received() -> None:
    lost = CylinderSnapshot(S.WITH_CUSTOMER, lost=True, underfilled=True)
    with pytest.raises(TransitionRefused) as caught:
        apply(lost, event(K.FILL, O.OK))
    assert caught.value.code == "cylinder_lost"
    assert apply(lost, event(K.RECEIVE_EMPTY)) == CylinderSnapshot(S.EMPTY_AT_STATION)
    with pytest.raises(TransitionRefused) as caught:
        apply(CylinderSnapshot(S.WITH_CUSTOMER), event(K.RECEIVE_EMPTY))
    assert caught.value.code == "transition_not_allowed"  # only lost ones take that path


def test_office_actions_do_not_find_a_lost_cylinder() -> None:
    lost = CylinderSnapshot(S.AT_SUPPLY_POINT, lost=True)
    assert apply(lost, event(K.STOP)).lost
    assert apply(lost, event(K.SCRAP)) == CylinderSnapshot(S.SCRAPPED, lost=True)


@pytest.mark.parametrize(("kind", "outcome"), every_scan())
def test_nothing_leaves_scrapped(kind: ScanKind, outcome: Outcome | None) -> None:
    with pytest.raises(TransitionRefused) as caught:
        apply(CylinderSnapshot(S.SCRAPPED), event(kind, outcome, buyer_id=1))
    assert caught.value.code == "cylinder_scrapped"


def test_strings_from_storage_are_accepted() -> None:
    after = apply(CylinderSnapshot("empty_at_station"), ScanEvent("fill", T0, "ok"))  # type: ignore[arg-type]
    assert after.state is S.FULL_AT_STATION
    with pytest.raises(ValueError):
        ScanEvent("teleport", T0)  # type: ignore[arg-type]


def test_naive_scan_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ScanEvent(K.FILL, datetime(2026, 3, 2), O.OK)


def test_allowed_kinds_follow_the_rules() -> None:
    assert allowed_kinds(None) == [(K.REGISTER, None)]
    assert allowed_kinds(CylinderSnapshot(S.SCRAPPED)) == []
    overfilled = allowed_kinds(CylinderSnapshot(S.FULL_AT_STATION, overfilled=True))
    assert (K.DISPATCH, None) not in overfilled
    assert (K.REWEIGH, O.OK) in overfilled
    stopped = allowed_kinds(CylinderSnapshot(S.WITH_CUSTOMER, stopped=True))
    assert {kind for kind, _ in stopped} == {K.RELEASE, K.SCRAP, K.SEND_FOR_INSPECTION} | {
        K.REPORT_LOST
    }


# --- replay ---------------------------------------------------------------------------

FULL_LIFE = [
    (K.REGISTER, None),
    (K.FILL, O.OK),
    (K.DISPATCH, None),
    (K.STORE, None),
    (K.DELIVER, None),
    (K.COLLECT, None),
    (K.RECEIVE_EMPTY, None),
    (K.SEND_FOR_INSPECTION, None),
    (K.INSPECT, O.PASS),
    (K.FILL, O.OK),
    (K.DISPATCH, None),
    (K.DELIVER, None),
    (K.COLLECT, None),
    (K.RECEIVE_EMPTY, None),
    (K.SCRAP, None),
]


def _events(scans: list[tuple[ScanKind, Outcome | None]]) -> list[ScanEvent]:
    return [
        event(kind, outcome, minutes=10 * i, buyer_id="c", ref=i)
        for i, (kind, outcome) in enumerate(scans)
    ]


def test_replay_of_a_clean_life() -> None:
    result = replay(_events(FULL_LIFE))
    assert result.snapshot == CylinderSnapshot(S.SCRAPPED)
    assert result.violations == []


def test_replay_sorts_late_uploads_by_when_they_happened() -> None:
    events = _events(FULL_LIFE[:6])
    arrived = [events[0], events[1], events[2], events[5], events[3], events[4]]
    snapshot, violations = replay(arrived)
    assert snapshot == CylinderSnapshot(S.IN_TRANSIT)
    assert violations == []


def test_replay_keeps_and_flags_rule_breakers() -> None:
    events = _events(
        [(K.REGISTER, None), (K.FILL, O.OVERFILLED), (K.DISPATCH, None), (K.DELIVER, None)]
    )
    snapshot, violations = replay(events)
    # The overfilled cylinder did leave: the scans say so, and the breach is reported.
    assert snapshot == CylinderSnapshot(S.WITH_CUSTOMER, overfilled=True)
    assert [(e.ref, code) for e, code in violations] == [(2, "overfilled_cannot_dispatch")]


def test_replay_survives_a_missing_scan() -> None:
    life = [s for s in FULL_LIFE[:7] if s[0] is not K.DISPATCH]  # the dispatch never arrived
    snapshot, violations = replay(_events(life))
    assert snapshot == CylinderSnapshot(S.EMPTY_AT_STATION)
    assert [(e.kind, code) for e, code in violations] == [(K.STORE, "transition_not_allowed")]


def test_replay_flags_a_stopped_cylinder_that_moved() -> None:
    scans = [(K.REGISTER, None), (K.FILL, O.OK), (K.STOP, None), (K.DISPATCH, None)]
    snapshot, violations = replay(_events(scans))
    assert snapshot == CylinderSnapshot(S.IN_TRANSIT, stopped=True)
    assert [code for _, code in violations] == ["cylinder_stopped"]


def test_replay_never_leaves_scrapped() -> None:
    scans = [(K.REGISTER, None), (K.SCRAP, None), (K.FILL, O.OK), (K.DELIVER, None)]
    snapshot, violations = replay(_events(scans))
    assert snapshot == CylinderSnapshot(S.SCRAPPED)
    assert [(e.ref, code) for e, code in violations] == [
        (2, "cylinder_scrapped"),
        (3, "cylinder_scrapped"),
    ]


def test_replay_of_scans_before_registration() -> None:
    snapshot, violations = replay(_events([(K.FILL, O.OK), (K.DISPATCH, None)]))
    assert snapshot == CylinderSnapshot(S.IN_TRANSIT)
    assert [code for _, code in violations] == ["cylinder_unknown"]


def test_replay_changes_nothing_for_uninformative_breaches() -> None:
    start = CylinderSnapshot(S.FULL_AT_STATION)
    scans = [(K.REGISTER, None), (K.INSPECT, O.OK), (K.RELEASE, None)]
    snapshot, violations = replay(_events(scans), initial=start)
    assert snapshot == start
    assert [code for _, code in violations] == [
        "already_registered",
        "outcome_invalid",
        "cylinder_not_stopped",
    ]


def test_replay_ties_keep_the_order_received() -> None:
    same = T0 + timedelta(hours=1)
    dispatch = ScanEvent(K.DISPATCH, same, ref="a")
    store = ScanEvent(K.STORE, same, ref="b")
    start = CylinderSnapshot(S.FULL_AT_STATION)
    assert replay([dispatch, store], start) == (CylinderSnapshot(S.AT_SUPPLY_POINT), [])
    # Received the other way round, the store comes first and both scans break the table.
    snapshot, violations = replay([store, dispatch], start)
    assert snapshot == CylinderSnapshot(S.IN_TRANSIT)
    assert [(e.ref, code) for e, code in violations] == [
        ("b", "transition_not_allowed"),
        ("a", "transition_not_allowed"),
    ]


def test_forced_targets_cover_every_moving_kind() -> None:
    moving = {(k, o) for (s, k, o), t in SKETCH_MOVES.items() if s is not None and s is not t}
    assert set(FORCED_TARGETS) == moving
    assert FORCED_TARGETS[(K.DELIVER, None)] is S.WITH_CUSTOMER


def test_flag_effects_name_only_snapshot_flags() -> None:
    # _apply_flags builds the snapshot field by field: an unknown key would be ignored.
    from dataclasses import fields

    from cylinder_trace.domain.lifecycle import FLAG_EFFECTS, CylinderSnapshot

    flags = {f.name for f in fields(CylinderSnapshot)} - {"state"}
    assert all(set(effects) <= flags for effects in FLAG_EFFECTS.values())
