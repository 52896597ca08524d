"""What every page form does with the API's rules: validate with the API's schema, and run a
service call so that a refusal keeps nothing and comes back as field errors for the page."""

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from domain.errors import FieldError, ValidationFailed, from_pydantic


def validated(model: type[BaseModel], data: Mapping[str, Any]) -> tuple[Any, list[FieldError]]:
    """`data` validated by the API's schema: (model or None, its field errors in Chinese)."""
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, from_pydantic(error.errors())


def in_savepoint(session: Session, work: Callable[[], object]) -> list[FieldError]:
    """Runs a service call in a SAVEPOINT: when it refuses (ValidationFailed) nothing it did is
    kept, and its field errors are returned for the page shown again in the same transaction."""
    try:
        with session.begin_nested():
            work()
    except ValidationFailed as failed:
        return list(failed.errors)
    return []
