"""pg_trgm's word similarity operators costed as what they are

The planner took `<%` for as cheap as `=` and read a small `entity` table (2,000 rows) in full,
computing word similarity on every name, rather than ask the trigram index: name search at the
10k corpus went from 0.7 ms to 9 ms once the folded name was a stored column. Costed at 100,
the index plan wins where it is cheaper (db/planner.py says why, and why a restore sets it
again). A role that does not own pg_trgm's functions gets a notice, not a failure.

Revision ID: 5c9e3a1f7b42
Revises: 8e4b2d6f0a13
Create Date: 2026-12-06 14:00:00.000000

"""

from collections.abc import Sequence

from alembic import op

revision: str = "5c9e3a1f7b42"
down_revision: str | None = "8e4b2d6f0a13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = ("word_similarity_op(text, text)", "word_similarity_commutator_op(text, text)")


def _set_cost(cost: int) -> None:
    statements = "\n".join(f"    ALTER FUNCTION {name} COST {cost};" for name in FUNCTIONS)
    op.execute(
        f"""
DO $$
BEGIN
{statements}
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pg_trgm''s word similarity operators keep their cost: %', SQLERRM;
END
$$
"""
    )


def upgrade() -> None:
    _set_cost(100)


def downgrade() -> None:
    _set_cost(1)
