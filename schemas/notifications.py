from pydantic import BaseModel, ConfigDict

from domain.vocabulary import NotificationKind
from schemas.common import Password, Timestamp


class NotificationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: NotificationKind
    title: str
    body: str
    link: str | None
    created_at: Timestamp
    read_at: Timestamp | None


class NotificationPage(BaseModel):
    items: list[NotificationPublic]
    total: int
    unread: int
    limit: int
    offset: int


class PasswordResetRequest(BaseModel):
    username: str


class PasswordResetConfirm(BaseModel):
    token: str
    password: Password


class PasswordResetAccepted(BaseModel):
    detail: str
