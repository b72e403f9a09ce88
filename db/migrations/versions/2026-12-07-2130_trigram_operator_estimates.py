"""pg_trgm's word similarity operators estimated with a constant

`matchingsel`, pg_trgm's estimate for `<%` and `%>`, computes word similarity against the
column's statistics each time a statement is planned: 0.4 ms for each table a name search reads,
at every request, since the API plans each execution for its values. `contsel`, PostgreSQL's
constant estimate for containment operators, takes none, and the trigram index serves name
search as before (db/planner.py says why, and why a restore sets it again). A role that does
not own pg_trgm's operators gets a notice, not a failure.

Revision ID: 9d4f2b7e1c58
Revises: 2c6e8a4f1d93
Create Date: 2026-12-07 21:30:00.000000

"""

from collections.abc import Sequence

from alembic import op

revision: str = "9d4f2b7e1c58"
down_revision: str | None = "2c6e8a4f1d93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPERATORS = ("<% (text, text)", "%> (text, text)")


def _set_estimate(estimate: str) -> None:
    statements = "\n".join(
        f"    ALTER OPERATOR {name} SET (RESTRICT = {estimate});" for name in OPERATORS
    )
    op.execute(
        f"""
DO $$
BEGIN
{statements}
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pg_trgm''s word similarity operators keep their estimate: %', SQLERRM;
END
$$
"""
    )


def upgrade() -> None:
    _set_estimate("contsel")


def downgrade() -> None:
    # pg_trgm's own estimate since its version 1.6 (PostgreSQL 14).
    _set_estimate("matchingsel")
