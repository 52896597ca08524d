"""Dependencies the pages share with the API, which imports them from here (pages sit below it)."""

from typing import Annotated

from fastapi import Depends

from services.receipts.public_cache import PublicReader, public_reader

PublicReaderDep = Annotated[PublicReader, Depends(public_reader)]
