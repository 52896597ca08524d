"""All tables; importing this package registers them on SQLModel.metadata."""

from models.base import SQLModel
from models.brand import Brand
from models.enterprise import Enterprise
from models.region import Region
from models.user import User

__all__ = ["Brand", "Enterprise", "Region", "SQLModel", "User"]
