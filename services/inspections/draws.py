"""The draw of an announced plan (SPEC §6): runs the pure `domain.draw` on the frozen frame and
stores objects, teams and inspections. Runs once: the plan row is locked, so concurrent draws
queue and the losers find it drawn (409)."""

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Dialect, bindparam, insert
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, col, select

from core import clock
from domain import draw
from domain.errors import NotEnoughInspectors, ValidationFailed
from domain.lifecycle import next_plan_status
from domain.vocabulary import PlanAction, SamplingMode
from models.base import pk, table_of
from models.filing import Filing, FilingRevision
from models.inspection import (
    Inspection,
    InspectionMember,
    InspectionPlan,
)
from models.user import User
from services.inspections.plans import record_plan_change
from services.notifications import events as notices

SNAPSHOT_CHUNK = 1000


class _EncodedJSON(TypeDecorator[str]):
    """A JSON column's value already encoded (the same `json.dumps` text the column writes):
    bound as is, cast to JSON where the database needs it."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


@dataclass(frozen=True)
class _Drawn:
    """The draw computed from the frozen frame: nothing is stored yet."""

    key: str
    strata: list[draw.Stratum]
    assignments: list[draw.Assignment]
    objects: dict[str, tuple[dict[str, Any], str]]  # drawn filing number -> (candidate, stratum)


def _compute(plan: InspectionPlan, sources: list[list[int]]) -> _Drawn:
    """SPEC §6 steps 2–4 on the announced frame; a draw error saves nothing."""
    if not sources or any(not values for values in sources):
        raise ValidationFailed.single(
            "sources", "validation_error", "须为每个随机源录入至少一个数值"
        )
    try:
        key = draw.key_string(sources)
        strata = [
            draw.Stratum(s["label"], s["rate"], [c["filing_no"] for c in s["candidates"]])
            for s in plan.strata
        ]
        count = plan.sampling["count"] if plan.sampling["mode"] == SamplingMode.COUNT else None
        draw.draw_objects(key, strata, count=count)
        # Only the drawn candidates are looked up: a map of a whole city-wide frame would cost
        # more than the draw.
        objects: dict[str, tuple[dict[str, Any], str]] = {}
        for stored, stratum in zip(plan.strata, strata, strict=True):
            wanted = set(stratum.selected)
            objects.update(
                (c["filing_no"], (c, stratum.label))
                for c in stored["candidates"]
                if c["filing_no"] in wanted
            )
        pairs = [(no, objects[no][0]["uscc"]) for stratum in strata for no in stratum.selected]
        pool = [draw.PoolMember(p["certificate_no"], frozenset(p["conflicts"])) for p in plan.pool]
        assignments = draw.draw_teams(key, pairs, pool, plan.team_size)
    except draw.DrawError as error:
        if error.code == NotEnoughInspectors.code:
            raise NotEnoughInspectors(error.message) from None
        raise ValidationFailed.single("sources", error.code, error.message) from None
    return _Drawn(key, strata, assignments, objects)


def _outlets_as_drawn(session: Session, filing_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Each drawn filing's outlet name and address from its revision in force (one query per
    thousand objects: bound parameters are limited on both databases)."""
    found: dict[int, tuple[str, str]] = {}
    for start in range(0, len(filing_ids), SNAPSHOT_CHUNK):
        rows = session.exec(
            select(Filing.id, FilingRevision.outlet_name, FilingRevision.address)
            .join(FilingRevision, col(FilingRevision.id) == Filing.current_revision_id)
            .where(col(Filing.id).in_(filing_ids[start : start + SNAPSHOT_CHUNK]))
        ).all()
        found.update({fid: (name, address) for fid, name, address in rows if fid is not None})
    return found


def _store_inspections(session: Session, plan: InspectionPlan, drawn: _Drawn) -> None:
    """Inspections and their members as multi-row inserts (a city-wide draw has tens of
    thousands of objects: a flush per row would take longer than the draw)."""
    inspector_ids = {p["certificate_no"]: p["inspector_id"] for p in plan.pool}
    snapshots = _outlets_as_drawn(
        session, [drawn.objects[a.filing_no][0]["filing_id"] for a in drawn.assignments]
    )
    # Most objects share their eligible list (the whole pool, less one operator's conflicts,
    # until inspectors reach the cap): each distinct list is encoded once. Encoding every
    # list again, 200 certificates each, cost more than the draw.
    encoded: dict[tuple[str, ...], str] = {}

    def json_of(values: list[str]) -> str:
        key = tuple(values)
        text = encoded.get(key)
        if text is None:
            text = encoded[key] = json.dumps(values)
        return text

    rows = []
    for assignment in drawn.assignments:
        candidate, label = drawn.objects[assignment.filing_no]
        # A frozen candidate whose filing has no revision in force any more (impossible today:
        # a filing keeps its last revision when it ends) is named by its number.
        outlet_name, outlet_address = snapshots.get(
            candidate["filing_id"], (assignment.filing_no, "")
        )
        rows.append(
            {
                "plan_id": pk(plan),
                "m": assignment.m,
                "filing_id": candidate["filing_id"],
                "filing_no": assignment.filing_no,
                "outlet_name": outlet_name,
                "outlet_address": outlet_address,
                "stratum": label,
                "eligible_json": json_of(assignment.eligible),
                "team_json": json_of(assignment.team),
            }
        )
    if not rows:
        return
    # RETURNING makes SQLAlchemy send multi-row INSERTs ("insertmanyvalues", a thousand rows a
    # statement) on both databases, not a statement per row, and gives each row's id with its
    # `m` (unordered: SQLite cannot promise a multi-row insert's RETURNING order).
    ids: dict[int, int] = {
        m: inspection_id
        for m, inspection_id in session.execute(
            insert(table_of(Inspection))
            .values(
                eligible=bindparam("eligible_json", type_=_EncodedJSON()),
                team=bindparam("team_json", type_=_EncodedJSON()),
            )
            .returning(col(Inspection.m), col(Inspection.id)),
            rows,
        )
    }
    members = [
        {"inspection_id": ids[assignment.m], "inspector_id": inspector_ids[certificate_no]}
        for assignment in drawn.assignments
        for certificate_no in assignment.team
    ]
    session.execute(  # RETURNING again only for the multi-row statements
        insert(table_of(InspectionMember)).returning(col(InspectionMember.inspection_id)), members
    )


def run_draw(
    session: Session, plan: InspectionPlan, *, admin: User, sources: list[list[int]]
) -> InspectionPlan:
    """Draws objects and teams once; `not_enough_inspectors` leaves everything unsaved."""
    new_status = next_plan_status(plan.status, PlanAction.DRAW)
    drawn = _compute(plan, sources)
    _store_inspections(session, plan, drawn)
    # A new value, not an in-place change: JSON columns only notice reassignment.
    plan.strata = [
        {**stored, "selected": computed.selected}
        for stored, computed in zip(plan.strata, drawn.strata, strict=True)
    ]
    plan.sources = [sorted(values) for values in sources]
    plan.key_string = drawn.key
    plan.status = new_status
    plan.drawn_at = clock.now()
    record_plan_change(
        session,
        plan,
        admin=admin,
        action=PlanAction.DRAW,
        data={"key_string": drawn.key, "objects": len(drawn.assignments)},
    )
    notices.inspections_drawn(session, plan)
    return plan
