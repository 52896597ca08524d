"""The streaming multipart receiver lives in `web.uploads` (the pages use it too); the API's
upload routes import it from here."""

from web.uploads import (
    FORM_OVERHEAD,
    MAX_FIELD_BYTES,
    MAX_NAME_CHARS,
    MAX_PARTS,
    CheckedUpload,
    ReceivedForm,
    receive_multipart,
    store_checked_upload,
)

__all__ = [
    "FORM_OVERHEAD",
    "MAX_FIELD_BYTES",
    "MAX_NAME_CHARS",
    "MAX_PARTS",
    "CheckedUpload",
    "ReceivedForm",
    "receive_multipart",
    "store_checked_upload",
]
