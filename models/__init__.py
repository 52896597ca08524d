"""All tables; importing this package registers them on SQLModel.metadata."""

from models.audit import AuditEntry
from models.base import SQLModel
from models.brand import Brand
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
from models.receipt import PublicOutlet, Receipt
from models.region import Region
from models.throttle import Throttle
from models.user import User

__all__ = [
    "AuditEntry",
    "Brand",
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
    "PublicOutlet",
    "Receipt",
    "Region",
    "ReviewDecision",
    "RevisionBrand",
    "SQLModel",
    "Throttle",
    "User",
]
