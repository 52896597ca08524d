"""Loading a year's working-day arrangement (SPEC §1) as the route and the CLI do it: the year's
days are replaced, and the review deadlines of submissions awaiting a decision are counted again
on the calendar as it now stands (a deadline counted Monday to Friday becomes the official one).

It lives with the filings because it rewrites their deadlines; `services.reference.calendar`
holds the calendar itself and knows nothing of filings.
"""

from collections.abc import Iterable

from sqlmodel import Session, col, select

from core import clock
from domain.vocabulary import CalendarDayKind, RevisionStatus
from models.calendar import CalendarYear
from models.filing import FilingRevision
from models.user import User
from services.filings import rules
from services.oversight import audit
from services.reference import calendar as working_calendar


def load_year(
    session: Session,
    year: int,
    entries: Iterable[working_calendar.DayEntry],
    *,
    actor: User | None = None,
) -> CalendarYear:
    """Replaces `year`'s arrangement by `entries` (validated rows of that year), counts the
    open deadlines again on it and records both in the audit chain."""
    entries = list(entries)
    record = working_calendar.replace_year(session, year, entries, actor=actor)
    recounted = recount_open_deadlines(session)
    audit.append(
        session,
        actor_id=actor.id if actor else None,
        action="calendar.load",
        entity="calendar_year",
        entity_id=year,
        data={
            "holidays": sum(entry.kind == CalendarDayKind.HOLIDAY for entry in entries),
            "workdays": sum(entry.kind == CalendarDayKind.WORKDAY for entry in entries),
            "deadlines_recounted": recounted,
        },
        region_code=None,  # city-wide reference data
    )
    return record


def recount_open_deadlines(session: Session) -> int:
    """Submissions awaiting a decision get their due dates counted on the calendar as it is now;
    returns how many changed."""
    calendar = working_calendar.current(session)
    count = 0
    for rev in session.exec(
        select(FilingRevision).where(
            FilingRevision.status == RevisionStatus.SUBMITTED,
            col(FilingRevision.submitted_at).is_not(None),
        )
    ).all():
        assert rev.submitted_at is not None
        submitted_on = clock.china_date(rev.submitted_at)
        due = rules.deadlines(submitted_on, calendar)
        if (rev.review_due_on, rev.return_due_on) != due:
            rev.review_due_on, rev.return_due_on = due
            session.add(rev)
            count += 1
    session.flush()
    return count
