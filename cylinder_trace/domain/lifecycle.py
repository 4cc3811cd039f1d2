"""A cylinder's life as data: states, scan kinds, one transition table and flag effects.

``TRANSITIONS`` maps ``(state, kind, outcome)`` to the next state; ``None`` as state
means "no cylinder registered yet" and ``None`` as outcome means the kind takes none.
``FLAG_EFFECTS`` maps ``(kind, outcome)`` to the flags it sets or clears. A few guards
sit beside the table because they depend on flags or on the event, not on the state:

* a scrapped cylinder accepts nothing (``cylinder_scrapped``); its code is revoked;
* a stopped (recalled) cylinder accepts only ``STOPPED_ALLOWED`` (``cylinder_stopped``):
  release, scrap, send for inspection, the inspection itself, and a loss report
  (a loss is a fact about the world, not an act on the cylinder);
* ``release`` needs a stopped cylinder (``cylinder_not_stopped``);
* an overfilled cylinder may not be dispatched (``overfilled_cannot_dispatch``);
  underfilled is only a flag for review, domain.md blocks nothing on it;
* a delivery must name the buyer (``buyer_missing``).

Lost: the state of a lost cylinder is its last known one. Any physical scan that the
table allows from that state finds it and clears ``lost``. Because the last known state
of a lost cylinder is unreliable, ``receive_empty`` (back at its station) is also
accepted from any state except in_inspection (``LOST_RECOVERY``); another physical scan
the table does not allow is refused as ``cylinder_lost`` so the operator knows to
receive it first. ``stop``, ``release``, ``report_lost`` and ``scrap`` do not clear
``lost``: they can be done from an office, so a write-off of a missing cylinder stays
visible as such.

Mass flags (overfilled, underfilled) describe the current contents: set by the
outcome of ``fill`` or ``reweigh``, cleared when the contents are re-measured with an
``ok`` outcome or are gone (``receive_empty``, passed inspection).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

from cylinder_trace.domain.errors import DomainError


class CylinderState(StrEnum):
    """Where a cylinder is in its life."""

    REGISTERED = "registered"
    FULL_AT_STATION = "full_at_station"
    IN_TRANSIT = "in_transit"
    AT_SUPPLY_POINT = "at_supply_point"
    WITH_CUSTOMER = "with_customer"
    EMPTY_AT_STATION = "empty_at_station"
    IN_INSPECTION = "in_inspection"
    SCRAPPED = "scrapped"


class ScanKind(StrEnum):
    """What a scan records."""

    REGISTER = "register"
    FILL = "fill"
    DISPATCH = "dispatch"
    STORE = "store"
    DELIVER = "deliver"
    COLLECT = "collect"
    RECEIVE_EMPTY = "receive_empty"
    SEND_FOR_INSPECTION = "send_for_inspection"
    INSPECT = "inspect"
    SCRAP = "scrap"
    REPORT_LOST = "report_lost"
    STOP = "stop"
    RELEASE = "release"
    REWEIGH = "reweigh"


class Outcome(StrEnum):
    """Result carried by an inspect (pass/fail) or a fill/reweigh (mass check) scan."""

    PASS = "pass"
    FAIL = "fail"
    OK = "ok"
    OVERFILLED = "overfilled"
    UNDERFILLED = "underfilled"


# Short names keep the table rows readable as arrows of the sketch.
S, K = CylinderState, ScanKind
TERMINAL: frozenset[CylinderState] = frozenset({S.SCRAPPED})
NON_TERMINAL: tuple[CylinderState, ...] = tuple(s for s in S if s not in TERMINAL)
_MASS = (Outcome.OK, Outcome.OVERFILLED, Outcome.UNDERFILLED)

KIND_OUTCOMES: Mapping[ScanKind, tuple[Outcome | None, ...]] = MappingProxyType(
    dict.fromkeys(K, (None,))
    | {K.INSPECT: (Outcome.PASS, Outcome.FAIL), K.FILL: _MASS, K.REWEIGH: _MASS}
)
"""The outcomes each kind accepts; ``(None,)`` means it takes none."""


def _build_transitions() -> dict[tuple[S | None, K, Outcome | None], S]:
    # Rows read as the arrows of domain.md's sketch.
    moves: list[tuple[CylinderState | None, ScanKind, Outcome | None, CylinderState]] = [
        (None, K.REGISTER, None, S.REGISTERED),
        (S.IN_INSPECTION, K.INSPECT, Outcome.PASS, S.EMPTY_AT_STATION),
        (S.IN_INSPECTION, K.INSPECT, Outcome.FAIL, S.SCRAPPED),
        (S.FULL_AT_STATION, K.DISPATCH, None, S.IN_TRANSIT),
        (S.IN_TRANSIT, K.STORE, None, S.AT_SUPPLY_POINT),
        (S.IN_TRANSIT, K.DELIVER, None, S.WITH_CUSTOMER),
        (S.AT_SUPPLY_POINT, K.DELIVER, None, S.WITH_CUSTOMER),
        (S.WITH_CUSTOMER, K.COLLECT, None, S.IN_TRANSIT),
        (S.IN_TRANSIT, K.RECEIVE_EMPTY, None, S.EMPTY_AT_STATION),
    ]
    for outcome in _MASS:
        moves += [
            (S.REGISTERED, K.FILL, outcome, S.FULL_AT_STATION),
            (S.EMPTY_AT_STATION, K.FILL, outcome, S.FULL_AT_STATION),
            # Reweighing at the station is how an overfilled cylinder is cleared after
            # the excess is drawn off.
            (S.FULL_AT_STATION, K.REWEIGH, outcome, S.FULL_AT_STATION),
        ]
    for state in NON_TERMINAL:
        moves.append((state, K.SCRAP, None, S.SCRAPPED))
        # Already in inspection: sending it again would be a duplicate scan.
        if state is not S.IN_INSPECTION:
            moves.append((state, K.SEND_FOR_INSPECTION, None, S.IN_INSPECTION))
        # Flag-only kinds keep the state.
        moves += [(state, kind, None, state) for kind in (K.REPORT_LOST, K.STOP, K.RELEASE)]
    table = {(state, kind, outcome): target for state, kind, outcome, target in moves}
    if len(table) != len(moves):
        raise AssertionError("duplicate row in the transition table")
    return table


TRANSITIONS: Mapping[tuple[CylinderState | None, ScanKind, Outcome | None], CylinderState] = (
    MappingProxyType(_build_transitions())
)
"""The one transition table: (state or None, kind, outcome or None) -> next state."""

PHYSICAL_KINDS: frozenset[ScanKind] = frozenset(
    {K.FILL, K.DISPATCH, K.STORE, K.DELIVER, K.COLLECT, K.RECEIVE_EMPTY}
    | {K.SEND_FOR_INSPECTION, K.INSPECT, K.REWEIGH}
)
"""Scans that need the cylinder in hand, so they find a lost one."""

_CLEAR_MASS = {"overfilled": False, "underfilled": False}
FLAG_EFFECTS: Mapping[tuple[ScanKind, Outcome | None], Mapping[str, bool]] = MappingProxyType(
    {(kind, None): {"lost": False} for kind in PHYSICAL_KINDS if None in KIND_OUTCOMES[kind]}
    | {(kind, Outcome.OK): {"lost": False} | _CLEAR_MASS for kind in (K.FILL, K.REWEIGH)}
    | {
        (kind, Outcome.OVERFILLED): {"lost": False, "overfilled": True, "underfilled": False}
        for kind in (K.FILL, K.REWEIGH)
    }
    | {
        (kind, Outcome.UNDERFILLED): {"lost": False, "overfilled": False, "underfilled": True}
        for kind in (K.FILL, K.REWEIGH)
    }
    | {
        (K.RECEIVE_EMPTY, None): {"lost": False} | _CLEAR_MASS,
        (K.INSPECT, Outcome.PASS): {"lost": False} | _CLEAR_MASS,
        (K.INSPECT, Outcome.FAIL): {"lost": False},
        (K.REPORT_LOST, None): {"lost": True},
        (K.STOP, None): {"stopped": True},
        (K.RELEASE, None): {"stopped": False},
    }
)
"""Flags each (kind, outcome) sets (True) or clears (False); others are left alone."""

STOPPED_ALLOWED: frozenset[ScanKind] = frozenset(
    {K.RELEASE, K.SCRAP, K.SEND_FOR_INSPECTION, K.INSPECT, K.REPORT_LOST}
)
"""The only kinds a stopped cylinder accepts."""

LOST_RECOVERY: Mapping[ScanKind, CylinderState] = MappingProxyType(
    {K.RECEIVE_EMPTY: S.EMPTY_AT_STATION}
)
"""Extra moves a lost cylinder accepts from any non-terminal state but in_inspection."""


@dataclass(frozen=True, slots=True)
class CylinderSnapshot:
    """A cylinder's state and the flags beside it."""

    state: CylinderState
    stopped: bool = False
    lost: bool = False
    overfilled: bool = False
    underfilled: bool = False

    def __post_init__(self) -> None:
        # Accept the stored string too; the rules compare enum members by identity.
        if type(self.state) is not CylinderState:
            object.__setattr__(self, "state", CylinderState(self.state))


@dataclass(frozen=True, slots=True)
class ScanEvent:
    """One scan. ``ref`` is the caller's own identifier, carried through untouched."""

    kind: ScanKind
    occurred_at: datetime
    outcome: Outcome | None = None
    buyer_id: Hashable | None = None
    ref: Hashable | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Sorting naive and aware instants together would fail half-way through a replay.
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")
        if type(self.kind) is not ScanKind:
            object.__setattr__(self, "kind", ScanKind(self.kind))
        if self.outcome is not None and type(self.outcome) is not Outcome:
            object.__setattr__(self, "outcome", Outcome(self.outcome))


class TransitionRefused(DomainError):
    """A scan the rules do not allow; ``code`` is stable, ``message`` is for people."""

    kind = "refused"

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, code=code, details=details)


def _apply_flags(snapshot: CylinderSnapshot, event: ScanEvent) -> CylinderSnapshot:
    effects = FLAG_EFFECTS.get((event.kind, event.outcome))
    if not effects:
        return snapshot
    # dataclasses.replace, spelt out: it ran for nearly every scan and was its slowest step.
    flag = effects.get
    return CylinderSnapshot(
        snapshot.state,
        flag("stopped", snapshot.stopped),
        flag("lost", snapshot.lost),
        flag("overfilled", snapshot.overfilled),
        flag("underfilled", snapshot.underfilled),
    )


def _check(snapshot: CylinderSnapshot | None, event: ScanEvent) -> tuple[str, str] | None:
    """The first rule the event breaks, as (code, message), or None when it is allowed."""
    kind, outcome = event.kind, event.outcome
    if outcome not in KIND_OUTCOMES[kind]:
        return "outcome_invalid", f"{kind} does not take outcome {outcome}"
    if snapshot is None:
        if kind is K.REGISTER:
            return None
        return "cylinder_unknown", f"{kind} scan for a cylinder that was never registered"
    if snapshot.state in TERMINAL:
        return "cylinder_scrapped", "the cylinder is scrapped and its code revoked"
    if kind is K.REGISTER:
        return "already_registered", "the cylinder code is already registered"
    if snapshot.stopped and kind not in STOPPED_ALLOWED:
        return "cylinder_stopped", f"the cylinder is stopped; {kind} is not allowed"
    if kind is K.RELEASE and not snapshot.stopped:
        return "cylinder_not_stopped", "only a stopped cylinder can be released"
    if (snapshot.state, kind, outcome) not in TRANSITIONS:
        if snapshot.lost and _lost_recovery_target(snapshot, kind) is not None:
            return None
        if snapshot.lost and kind in PHYSICAL_KINDS:
            return "cylinder_lost", f"the cylinder is reported lost; receive it before {kind}"
        return "transition_not_allowed", f"{kind} is not allowed from {snapshot.state}"
    if kind is K.DISPATCH and snapshot.overfilled:
        return "overfilled_cannot_dispatch", "an overfilled cylinder may not leave the station"
    if kind is K.DELIVER and event.buyer_id is None:
        return "buyer_missing", "a delivery must name the registered buyer"
    return None


def _lost_recovery_target(snapshot: CylinderSnapshot, kind: ScanKind) -> CylinderState | None:
    if snapshot.state in TERMINAL or snapshot.state is S.IN_INSPECTION:
        return None
    return LOST_RECOVERY.get(kind)


def _target(snapshot: CylinderSnapshot, event: ScanEvent) -> CylinderState:
    key = (snapshot.state, event.kind, event.outcome)
    if key in TRANSITIONS:
        return TRANSITIONS[key]
    recovered = _lost_recovery_target(snapshot, event.kind) if snapshot.lost else None
    if recovered is not None:
        return recovered
    # Only reached for a scan that broke the table but is kept anyway (replay).
    return FORCED_TARGETS.get((event.kind, event.outcome)) or snapshot.state


def apply(snapshot: CylinderSnapshot | None, event: ScanEvent) -> CylinderSnapshot:
    """The snapshot after ``event``, or raise TransitionRefused if the rules forbid it.

    ``snapshot`` is None for a cylinder not yet registered; only ``register`` is
    accepted then. The input snapshot is never modified.
    """
    broken = _check(snapshot, event)
    if broken is not None:
        details = {
            "kind": str(event.kind),
            "state": None if snapshot is None else str(snapshot.state),
        }
        raise TransitionRefused(*broken, details=details)
    if snapshot is None:
        return CylinderSnapshot(TRANSITIONS[(None, event.kind, event.outcome)])
    return _apply_flags(_moved(snapshot, _target(snapshot, event)), event)


def _moved(snapshot: CylinderSnapshot, state: CylinderState) -> CylinderSnapshot:
    # dataclasses.replace, spelt out: this runs for every scan, and replace is slow.
    return CylinderSnapshot(
        state, snapshot.stopped, snapshot.lost, snapshot.overfilled, snapshot.underfilled
    )


def _derive_forced_targets() -> dict[tuple[ScanKind, Outcome | None], CylinderState]:
    # A scan that breaks the table still happened: the scanner saw the cylinder arrive
    # where the kind always leads (deliver -> with_customer, whatever it came from).
    # Kinds whose rows keep the state (stop, release, report_lost) have no entry.
    targets: dict[tuple[ScanKind, Outcome | None], set[CylinderState]] = {}
    for (state, kind, outcome), target in TRANSITIONS.items():
        if state is not None and target is not state:
            targets.setdefault((kind, outcome), set()).add(target)
    return {key: next(iter(found)) for key, found in targets.items() if len(found) == 1}


FORCED_TARGETS: Mapping[tuple[ScanKind, Outcome | None], CylinderState] = MappingProxyType(
    _derive_forced_targets()
)
"""Where a kept-but-flagged scan leaves the cylinder (derived from TRANSITIONS)."""


def broken_rule(snapshot: CylinderSnapshot | None, event: ScanEvent) -> tuple[str, str] | None:
    """The first lifecycle rule the event breaks, as (code, message), or None."""
    return _check(snapshot, event)


def apply_judged(
    snapshot: CylinderSnapshot | None, event: ScanEvent, broken: tuple[str, str] | None
) -> CylinderSnapshot | None:
    """The snapshot after a kept event, given what ``broken_rule`` said of it.

    A kept event that broke a rule still moves the cylinder where that kind of scan leads
    (what a scanner saw is a fact), except as ``replay`` explains.
    """
    if broken is None:
        if snapshot is None:
            return CylinderSnapshot(TRANSITIONS[(None, event.kind, event.outcome)])
        return _apply_flags(_moved(snapshot, _target(snapshot, event)), event)
    if broken[0] in {"outcome_invalid", "already_registered", "cylinder_not_stopped"}:
        # Nothing can be inferred from these: keep the cylinder as it was.
        return snapshot
    if snapshot is None:
        # A scan of a cylinder that was never registered: it exists, so start it there.
        snapshot = CylinderSnapshot(S.REGISTERED)
    elif snapshot.state in TERMINAL:
        return snapshot  # nothing leaves scrapped, not even by a flagged scan
    return _apply_flags(_moved(snapshot, _target(snapshot, event)), event)


def _apply_lenient(
    snapshot: CylinderSnapshot | None, event: ScanEvent
) -> tuple[CylinderSnapshot | None, str | None]:
    broken = _check(snapshot, event)
    return apply_judged(snapshot, event, broken), broken[0] if broken is not None else None


class ReplayResult(NamedTuple):
    """The final snapshot and every event that broke a rule, with the rule's code."""

    snapshot: CylinderSnapshot | None
    violations: list[tuple[ScanEvent, str]]


def replay(events: Iterable[ScanEvent], initial: CylinderSnapshot | None = None) -> ReplayResult:
    """Fold events in ``occurred_at`` order, keeping and flagging rule breakers.

    Late offline scans arrive out of order, so the events are sorted by when they
    happened; the sort is stable, so pass them in the order received and ties keep it.
    A scan that breaks a rule is never dropped: it is reported with its code, and the
    cylinder still moves to where that kind of scan leads (``FORCED_TARGETS``), because
    what a scanner saw is a fact. Exceptions: nothing leaves scrapped, and scans that
    carry no usable information (``outcome_invalid``, ``already_registered``,
    ``cylinder_not_stopped``) change nothing.
    """
    snapshot = initial
    violations: list[tuple[ScanEvent, str]] = []
    for event in sorted(events, key=lambda e: e.occurred_at):
        snapshot, code = _apply_lenient(snapshot, event)
        if code is not None:
            violations.append((event, code))
    return ReplayResult(snapshot, violations)
