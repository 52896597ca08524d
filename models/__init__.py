"""All tables; importing this package registers them on SQLModel.metadata."""

from models.audit import AuditEntry
from models.base import SQLModel
from models.brand import Brand
from models.calendar import CalendarDay, CalendarYear
from models.enterprise import Enterprise
from models.filing import (
    Document,
    Filing,
    FilingCounter,
    FilingEvent,
    FilingRevision,
    ReviewDecision,
    RevisionBrand,
)
from models.idempotency import IdempotencyRecord
from models.inspection import (
    Inspection,
    InspectionEvidence,
    InspectionItem,
    InspectionMember,
    InspectionPlan,
    Inspector,
)
from models.notification import (
    Delivery,
    JobRun,
    NoticeBatch,
    Notification,
    PasswordResetToken,
)
from models.receipt import PublicOutlet, Receipt
from models.region import Region
from models.throttle import Throttle
from models.user import User

__all__ = [
    "AuditEntry",
    "Brand",
    "CalendarDay",
    "CalendarYear",
    "Delivery",
    "Document",
    "Enterprise",
    "Filing",
    "FilingCounter",
    "FilingEvent",
    "FilingRevision",
    "IdempotencyRecord",
    "Inspection",
    "InspectionEvidence",
    "InspectionItem",
    "InspectionMember",
    "InspectionPlan",
    "Inspector",
    "JobRun",
    "NoticeBatch",
    "Notification",
    "PasswordResetToken",
    "PublicOutlet",
    "Receipt",
    "Region",
    "ReviewDecision",
    "RevisionBrand",
    "SQLModel",
    "Throttle",
    "User",
]
