from datetime import datetime

from sqlalchemy import Index, text
from sqlmodel import CheckConstraint, Field, SQLModel

from domain.vocabulary import Role
from models.base import one_of, timestamp_field


class User(SQLModel, table=True):
    """A login. Staff act inside `jurisdiction`; an operator acts for its `enterprise_id`."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(one_of("role", Role), name="role"),
        # One owner per enterprise (a partial unique index: staff and other accounts are free).
        Index(
            "uq_user_account_one_owner",
            "enterprise_id",
            unique=True,
            postgresql_where=text("is_owner"),
            sqlite_where=text("is_owner"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=256)
    role: str = Field(max_length=16)
    jurisdiction: str = Field(foreign_key="region.code", max_length=12)
    display_name: str = Field(max_length=64)
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id", index=True)
    active: bool = Field(default=True)
    # Where notices and password-reset links go (SPEC §10); optional for everyone.
    email: str | None = Field(default=None, max_length=254)
    mobile: str | None = Field(default=None, max_length=20)
    # The operator account that registered its enterprise: manages the enterprise's accounts.
    is_owner: bool = Field(default=False)
    failed_login_count: int = Field(default=0)
    # In every token; bumped when the password changes or the user is deactivated, so older
    # tokens stop working (and stay dead after a reactivation).
    token_version: int = Field(default=0)
    locked_until: datetime | None = timestamp_field(nullable=True)
    created_at: datetime = timestamp_field()
