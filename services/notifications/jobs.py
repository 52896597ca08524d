"""Daily jobs, run by the worker once per day across every instance.

The lock is a row: the transaction whose insert of (job, China date) into `job_run` wins runs
the job, in that same transaction; the others insert nothing and skip. Each round first reads
which of today's rows exist (no write unless one is missing). A job that fails is logged and
rolls its row back, so the next round tries again; the jobs after it still run.
"""

import logging
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from core import clock
from core.db import is_postgresql, session_scope
from domain.vocabulary import NotificationKind, PlanStatus, RevisionStatus
from domain.working_days import add_working_days
from models.filing import FilingRevision
from models.inspection import Inspection, InspectionPlan
from models.notification import JobRun, Notification
from services.inspections.results import plan_results_due_on
from services.notifications import delivery, events
from services.oversight import audit
from services.reference import calendar as working_calendar

logger = logging.getLogger("outlet_filing.notifications")

REVIEW_DUE_SOON = "review_due_soon"
RESULT_OVERDUE = "result_overdue"
AUDIT_HEAD_STAMP = "audit_head_stamp"


def acquire(session: Session, job: str, day: date) -> bool:
    """Inserts the (job, day) lock row; True when this transaction's insert won."""
    insert = postgresql.insert if is_postgresql(session) else sqlite.insert
    # RETURNING, not rowcount: an ORM-enabled insert reports rowcount -1 on psycopg.
    inserted = session.execute(
        insert(JobRun)
        .values(job=job, day=day, started_at=clock.now())
        .on_conflict_do_nothing(index_elements=["job", "day"])
        .returning(col(JobRun.job))
    ).first()
    return inserted is not None


def previous_run(session: Session, job: str, day: date) -> date | None:
    return session.exec(
        select(func.max(JobRun.day)).where(JobRun.job == job, col(JobRun.day) < day)
    ).one()


def review_due_soon(session: Session, today: date) -> int:
    """Reviewers learn of each submission whose review is due on the next working day, once per
    submission: Friday, Saturday and Sunday all see Monday as the next working day, so a
    submission already told of since it was submitted is skipped."""
    due_on = add_working_days(today, 1, working_calendar.current(session))
    revisions = session.exec(
        select(FilingRevision)
        .where(
            FilingRevision.status == RevisionStatus.SUBMITTED,
            FilingRevision.review_due_on == due_on,
        )
        .order_by(col(FilingRevision.id))
    ).all()
    told = 0
    for rev in revisions:
        if _told_since_submitted(session, rev):
            continue
        events.review_due_soon(session, rev, due_on)
        told += 1
    return told


def _told_since_submitted(session: Session, rev: FilingRevision) -> bool:
    query = select(Notification.id).where(
        Notification.kind == NotificationKind.REVIEW_DUE_SOON,
        Notification.link == events.staff_filing_link(rev.filing_id),
    )
    if rev.submitted_at is not None:
        query = query.where(col(Notification.created_at) >= rev.submitted_at)
    return session.exec(query.limit(1)).first() is not None


def result_overdue(session: Session, today: date) -> int:
    """Inspectors and admins learn of each result that became overdue since the last run
    (yesterday's due date on the first run): a result is overdue the day after its due date."""
    since = previous_run(session, RESULT_OVERDUE, today) or today - timedelta(days=1)
    calendar = working_calendar.current(session)
    plans = session.exec(select(InspectionPlan).where(InspectionPlan.status == PlanStatus.DRAWN))
    count = 0
    for plan in plans.all():
        due_on = plan_results_due_on(plan, calendar)
        if not since <= due_on < today:
            continue
        missing = session.exec(
            select(Inspection)
            .where(Inspection.plan_id == plan.id, col(Inspection.outcome).is_(None))
            .order_by(col(Inspection.id))
        ).all()
        for inspection in missing:
            events.result_overdue(session, inspection, due_on)
            count += 1
    return count


def audit_head_stamp(session: Session, _today: date) -> int:
    audit.stamp_head(session)
    return 1


DAILY: dict[str, Callable[[Session, date], int]] = {
    REVIEW_DUE_SOON: review_due_soon,
    RESULT_OVERDUE: result_overdue,
    AUDIT_HEAD_STAMP: audit_head_stamp,
}


def run_daily(session_factory: delivery.SessionFactory = session_scope) -> dict[str, int]:
    """Runs each daily job not yet run today (China date); {job: items handled} of those run.
    A job that fails is logged and retried next round; it does not stop the others."""
    today = clock.today()
    with delivery.reading(session_factory) as session:
        done = set(session.exec(select(JobRun.job).where(JobRun.day == today)).all())
    ran: dict[str, int] = {}
    for job, work in DAILY.items():
        if job in done:
            continue
        try:
            with session_factory() as session:  # rolled back, lock row included, if it raises
                if acquire(session, job, today):
                    ran[job] = work(session, today)
        except Exception:
            logger.exception("daily job %s failed; it is tried again next round", job)
    return ran
