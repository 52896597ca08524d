"""Dependencies the pages share with the API, which imports them from here (pages sit below it)."""

from typing import Annotated

from fastapi import Depends

from services.receipts.public_cache import PublicReader, shared_reader


async def public_reader() -> PublicReader:
    """The worker's receipt reader. A plain (non-generator) coroutine: FastAPI needs no exit
    stack for it, which matters on the public hot path."""
    return shared_reader()


PublicReaderDep = Annotated[PublicReader, Depends(public_reader)]
