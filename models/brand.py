from sqlmodel import Field, SQLModel


class Brand(SQLModel, table=True):
    """A courier brand an outlet may serve (admin-managed list)."""

    code: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=64)
    active: bool = Field(default=True)
