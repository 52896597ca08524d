"""What a change alters: the revision under review against the revision in force (SPEC §3), as
rows a reviewer reads (field path, old value, new value), brands and documents included."""

from typing import Any, NamedTuple

from sqlmodel import Session

from models.base import pk
from models.filing import FilingRevision
from services.filings import queries

SECTIONS = ("outlet", "person_in_charge", "partner")


class Difference(NamedTuple):
    field: str  # the API's field path (`outlet.name`), or `documents.<kind>`
    before: Any
    after: Any


def _flat(content: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for section in SECTIONS:
        for key, value in (content.get(section) or {}).items():
            flat[f"{section}.{key}"] = value
    return flat


def _documents(session: Session, rev: FilingRevision) -> dict[str, list[str]]:
    """The revision's documents by kind, as their content hashes (a copied file is unchanged)."""
    found: dict[str, list[str]] = {}
    for document in queries.documents_of(session, pk(rev)):
        found.setdefault(document.kind, []).append(document.sha256)
    return {kind: sorted(hashes) for kind, hashes in found.items()}


def _normal(value: Any) -> Any:
    return sorted(value) if isinstance(value, list) else value


def compare(session: Session, before: FilingRevision, after: FilingRevision) -> list[Difference]:
    """Every field whose value differs between the two revisions, then every document kind whose
    files differ (values: the number of files)."""
    old, new = _flat(queries.content_of(before)), _flat(queries.content_of(after))
    rows = [
        Difference(name, old.get(name), new.get(name))
        for name in dict.fromkeys([*old, *new])
        if _normal(old.get(name)) != _normal(new.get(name))
    ]
    old_docs, new_docs = _documents(session, before), _documents(session, after)
    for kind in dict.fromkeys([*old_docs, *new_docs]):
        if old_docs.get(kind) != new_docs.get(kind):
            rows.append(
                Difference(
                    f"documents.{kind}", len(old_docs.get(kind, [])), len(new_docs.get(kind, []))
                )
            )
    return rows
