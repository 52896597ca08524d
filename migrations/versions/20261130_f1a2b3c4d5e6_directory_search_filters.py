"""directory search: filter columns inside the search index, two-character queries indexed

SQLite: the FTS5 trigram table gains the county, township and brands (each as one token of
its own) and the name's and address's two-character substrings (each followed by a separator,
so one trigram token stands for one bigram); a text search with its filters is one MATCH.
PostgreSQL: one GIN index over an array of keys (the bigrams of the lowered name and address,
`c:`county, `t:`township, `b:`brand), so a text search with its filters is one containment; it
replaces the two pg_trgm indexes. Both are filled by the database (triggers, an
expression index), so plain INSERTs and COPYs of public_outlet's columns keep them right.

Revision ID: f1a2b3c4d5e6
Revises: e5b7d9f1a3c4
Create Date: 2026-11-30 05:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f1a2b3c4d5e6"
down_revision: str | None = "e5b7d9f1a3c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: positions 1..N for the bigrams (a trigger may not use WITH RECURSIVE), far beyond the
# 128/256-character name and address.
POSITIONS = 4096
FTS_COLUMNS = "rowid, name, address, grams, keys"


def _sqlite_token(key_id: str) -> str:
    """The one trigram token standing for a county, township or brand: a marker and two
    characters from the supplementary private use area numbering the key (directory.py builds
    the same). A phrase of several trigrams costs a position check per candidate row."""
    return f"char(983040, 987136 + ({key_id} >> 12), 987136 + ({key_id} & 4095))"


def _sqlite_register_keys(row: str) -> str:
    """Statements giving the row's county, township and brands a number (kept forever, so the
    tokens of an old row can be rebuilt for its delete)."""
    return (
        "INSERT OR IGNORE INTO public_outlet_fts_key (value) "
        f"VALUES ('c' || {row}.county_code), ('t' || {row}.township_code); "
        "INSERT OR IGNORE INTO public_outlet_fts_key (value) "
        f"SELECT 'b' || brand FROM ({_sqlite_brands(row)}) WHERE brand <> '';"
    )


def _sqlite_brand_parts(row: str) -> tuple[str, str]:
    """The brand code starting at position n of `,` + brands, and the condition that one does
    (a comma there): joined with the positions, the codes of a comma-separated list."""
    listed = f"(',' || {row}.brands)"
    code = f"substr({listed}, n + 1, instr(substr({listed}, n + 1) || ',', ',') - 1)"
    return code, f"n <= length({listed}) AND substr({listed}, n, 1) = ','"


def _sqlite_brands(row: str) -> str:
    code, starts = _sqlite_brand_parts(row)
    return f"SELECT {code} AS brand FROM public_outlet_fts_pos WHERE {starts}"


def _sqlite_values(row: str) -> str:
    """The FTS values of the public_outlet row `row` (`new`, `old` or a table alias): the same
    expression for insert and delete, as a contentless table's delete needs the indexed values."""

    def grams(column: str) -> str:
        return (
            f"SELECT substr({row}.{column}, n, 2) || char(1) AS gram FROM public_outlet_fts_pos "
            f"WHERE n < length({row}.{column})"
        )

    keys = (
        f"SELECT {_sqlite_token('k.id')} AS token FROM public_outlet_fts_key AS k "
        f"WHERE k.value IN ('c' || {row}.county_code, 't' || {row}.township_code) "
        f"OR k.value IN (SELECT 'b' || brand FROM ({_sqlite_brands(row)})) ORDER BY k.id"
    )
    return (
        f"{row}.filing_id, {row}.name, {row}.address, "
        f"(SELECT coalesce(group_concat(gram, ''), '') FROM "
        f"({grams('name')} UNION ALL {grams('address')})), "
        f"(SELECT coalesce(group_concat(token, ''), '') FROM ({keys}))"
    )


def _sqlite_upgrade() -> None:
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS public_outlet_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS public_outlet_fts")
    op.execute("CREATE TABLE public_outlet_fts_pos (n INTEGER PRIMARY KEY)")
    op.execute(_sqlite_positions())
    op.execute(
        "CREATE TABLE public_outlet_fts_key (id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE)"
    )
    # Contentless: nothing is read back from it but rowids.
    op.execute(
        "CREATE VIRTUAL TABLE public_outlet_fts USING fts5("
        "name, address, grams, keys, content='', tokenize='trigram')"
    )
    insert_new = (
        f"{_sqlite_register_keys('new')} "
        f"INSERT INTO public_outlet_fts({FTS_COLUMNS}) VALUES ({_sqlite_values('new')});"
    )
    delete_old = (
        f"INSERT INTO public_outlet_fts(public_outlet_fts, {FTS_COLUMNS}) "
        f"VALUES ('delete', {_sqlite_values('old')});"
    )
    op.execute(
        "CREATE TRIGGER public_outlet_fts_insert AFTER INSERT ON public_outlet "
        f"BEGIN {insert_new} END"
    )
    op.execute(
        "CREATE TRIGGER public_outlet_fts_delete AFTER DELETE ON public_outlet "
        f"BEGIN {delete_old} END"
    )
    op.execute(
        "CREATE TRIGGER public_outlet_fts_update AFTER UPDATE OF "
        "filing_id, name, address, county_code, township_code, brands ON public_outlet "
        f"BEGIN {delete_old} {insert_new} END"
    )
    code, starts = _sqlite_brand_parts("p")
    op.execute(
        "INSERT OR IGNORE INTO public_outlet_fts_key (value) "
        "SELECT 'c' || county_code FROM public_outlet "
        "UNION SELECT 't' || township_code FROM public_outlet "
        f"UNION SELECT 'b' || {code} FROM public_outlet AS p "
        f"JOIN public_outlet_fts_pos ON {starts} WHERE {code} <> ''"
    )
    op.execute(
        f"INSERT INTO public_outlet_fts({FTS_COLUMNS}) "
        f"SELECT {_sqlite_values('p')} FROM public_outlet AS p"
    )


def _sqlite_positions() -> str:
    # SQLite 3.40 has no generate_series without the series extension: a recursive CTE here
    # (outside any trigger) fills the table once.
    return (
        "INSERT INTO public_outlet_fts_pos (n) "
        f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {POSITIONS}) "
        "SELECT n FROM s"
    )


def _sqlite_downgrade() -> None:
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS public_outlet_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS public_outlet_fts")
    op.execute("DROP TABLE IF EXISTS public_outlet_fts_pos")
    op.execute("DROP TABLE IF EXISTS public_outlet_fts_key")
    # The previous revision's index and triggers, rebuilt from the table.
    op.execute(
        "CREATE VIRTUAL TABLE public_outlet_fts USING fts5("
        "name, address, content='public_outlet', content_rowid='filing_id', "
        "tokenize='trigram')"
    )
    op.execute(
        "CREATE TRIGGER public_outlet_fts_insert AFTER INSERT ON public_outlet BEGIN "
        "INSERT INTO public_outlet_fts(rowid, name, address) "
        "VALUES (new.filing_id, new.name, new.address); END"
    )
    op.execute(
        "CREATE TRIGGER public_outlet_fts_delete AFTER DELETE ON public_outlet BEGIN "
        "INSERT INTO public_outlet_fts(public_outlet_fts, rowid, name, address) "
        "VALUES ('delete', old.filing_id, old.name, old.address); END"
    )
    op.execute(
        "CREATE TRIGGER public_outlet_fts_update AFTER UPDATE ON public_outlet BEGIN "
        "INSERT INTO public_outlet_fts(public_outlet_fts, rowid, name, address) "
        "VALUES ('delete', old.filing_id, old.name, old.address); "
        "INSERT INTO public_outlet_fts(rowid, name, address) "
        "VALUES (new.filing_id, new.name, new.address); END"
    )
    op.execute("INSERT INTO public_outlet_fts(public_outlet_fts) VALUES ('rebuild')")


# The bigrams of a (lowered) text. IMMUTABLE so an index may use it; its callers lower() with
# the database's collation, as ILIKE does, so a key of the query is a key of every match.
PG_BIGRAMS = """
CREATE FUNCTION public_outlet_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT coalesce(array_agg(substr(value, i, 2)), '{}')
    FROM generate_series(1, char_length(value) - 1) AS i
$$
"""
# High COST: the planner then never picks it as a per-row filter over a scan. PARALLEL UNSAFE
# although it is safe: a search naming it is never planned with a parallel worker, whose
# start-up (~10 ms) costs more than the whole search.
PG_KEYS = """
CREATE FUNCTION public_outlet_search_keys(
    name text, address text, county_code text, township_code text, brands text
) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL UNSAFE COST 1000
AS $$
    SELECT public_outlet_bigrams(lower(name))
        || public_outlet_bigrams(lower(address))
        || ARRAY['c:' || county_code, 't:' || township_code]
        || ARRAY(SELECT 'b:' || code FROM unnest(string_to_array(brands, ',')) AS code
                 WHERE code <> '')
$$
"""
PG_INDEX = (
    "CREATE INDEX ix_public_outlet_search_trgm ON public_outlet USING gin ("
    "public_outlet_search_keys(name, address, county_code, township_code, brands))"
)


def _postgresql_upgrade() -> None:
    op.execute(PG_BIGRAMS)
    op.execute(PG_KEYS)
    op.execute(PG_INDEX)  # builds from the existing rows: no separate backfill
    op.execute("DROP INDEX IF EXISTS ix_public_outlet_address_trgm")
    op.execute("DROP INDEX IF EXISTS ix_public_outlet_name_trgm")


def _postgresql_downgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX ix_public_outlet_name_trgm ON public_outlet USING gin (name gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_public_outlet_address_trgm ON public_outlet "
        "USING gin (address gin_trgm_ops)"
    )
    op.execute("DROP INDEX IF EXISTS ix_public_outlet_search_trgm")
    op.execute("DROP FUNCTION IF EXISTS public_outlet_search_keys(text, text, text, text, text)")
    op.execute("DROP FUNCTION IF EXISTS public_outlet_bigrams(text)")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _postgresql_upgrade()
    elif dialect == "sqlite":
        _sqlite_upgrade()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _postgresql_downgrade()
    elif dialect == "sqlite":
        _sqlite_downgrade()
