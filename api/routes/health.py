import logging
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import text

from core.db import get_engine
from core.migrate import schema_is_current

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Public. The process is up."""
    return {"status": "ok"}


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable", "schema behind"]


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(response: Response) -> Readiness:
    """Public. The database answers and its schema is at the latest migration (else 503)."""
    try:
        engine = get_engine()
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = schema_is_current(engine)
    except Exception:
        logger.warning("readiness check: database unreachable", exc_info=True)
        response.status_code = 503
        return Readiness(status="unavailable", database="unreachable")
    if not current:
        response.status_code = 503
        return Readiness(status="unavailable", database="schema behind")
    return Readiness(status="ok", database="ok")
