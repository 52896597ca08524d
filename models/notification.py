"""Notifications (SPEC §10): the in-app inbox, the outbox of e-mail/SMS deliveries, the batches of
a large fan-out, password-reset tokens and the lock rows of daily jobs."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import CheckConstraint, Column, Field, SQLModel, Text

from domain.vocabulary import DeliveryChannel, DeliveryStatus, NoticeBatchKind, NotificationKind
from models.base import one_of, timestamp_field


class Notification(SQLModel, table=True):
    """One notice for one user, written in the transaction of the event it tells about."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(one_of("kind", NotificationKind), name="kind"),
        Index("ix_notification_user_id_id", "user_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id")
    kind: str = Field(max_length=32)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    link: str | None = Field(default=None, max_length=500)
    created_at: datetime = timestamp_field()
    read_at: datetime | None = timestamp_field(nullable=True)


class Delivery(SQLModel, table=True):
    """One message to send by e-mail or SMS (the outbox). A worker claims it for a lease
    (`claimed_until`), sends it outside any transaction, then marks it sent or schedules a retry
    until `expires_at` (3 days after it was written; a reset link's token expiry), then fails."""

    __tablename__ = "delivery"
    __table_args__ = (
        CheckConstraint(one_of("channel", DeliveryChannel), name="channel"),
        CheckConstraint(one_of("status", DeliveryStatus), name="status"),
        CheckConstraint(one_of("kind", NotificationKind), name="kind"),
        Index("ix_delivery_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int | None = Field(default=None, foreign_key="notification.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    kind: str = Field(max_length=32)
    channel: str = Field(max_length=8)
    address: str = Field(max_length=254)
    subject: str = Field(max_length=200)
    # Blanked once a password-reset link is sent: the raw link is kept no longer than needed.
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=DeliveryStatus.PENDING, max_length=8)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = timestamp_field()
    claimed_until: datetime | None = timestamp_field(nullable=True)
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime = timestamp_field()
    expires_at: datetime = timestamp_field()


class NoticeBatch(SQLModel, table=True):
    """One outbox row standing for a large fan-out (SPEC §10: a draw's notices), written in the
    event's transaction. A worker expands it after commit in chunks, each its own transaction
    that advances `progress` (the last item told; for a draw the inspection's `m`), so a crash
    resumes where the last chunk committed. A worker holds it for a lease (`claimed_until`),
    renewed with each chunk; `expanded_at` once every notice is written."""

    __tablename__ = "notice_batch"
    __table_args__ = (CheckConstraint(one_of("kind", NoticeBatchKind), name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    progress: int = Field(default=0)
    notices: int = Field(default=0)  # written so far
    created_at: datetime = timestamp_field()
    claimed_until: datetime | None = timestamp_field(nullable=True)
    expanded_at: datetime | None = timestamp_field(nullable=True)


class PasswordResetToken(SQLModel, table=True):
    """A one-time reset link's token: only its SHA-256 is stored."""

    __tablename__ = "password_reset_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = timestamp_field()
    used_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime = timestamp_field()


class JobRun(SQLModel, table=True):
    """A daily job's lock: the instance whose insert of (job, day) wins runs it that day."""

    __tablename__ = "job_run"

    job: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True)
    started_at: datetime = timestamp_field()
