"""no article, event, statement or dispute slugged `histogram` or `facets`

Those are the names of the collections' aggregate paths (`/v1/events/facets`), so an item with
one as its slug could be reached by its id only. Each of the four tables gets a check
(`db.base.slug_not_reserved`); an upgrade over a row that has such a slug stops at the check,
and the row must be renamed first.

Revision ID: 2c6e8a4f1d93
Revises: 8b3f6d2a7c41
Create Date: 2026-12-07 15:30:00.000000

"""

from collections.abc import Sequence

from alembic import op

revision: str = "2c6e8a4f1d93"
down_revision: str | None = "8b3f6d2a7c41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As db.fields.RESERVED_SLUGS reads today: a migration keeps its own copy.
_TABLES = ("article", "event", "statement", "dispute")
_CHECK = "slug NOT IN ('histogram', 'facets')"


def upgrade() -> None:
    for table in _TABLES:
        op.create_check_constraint("slug_not_reserved", table, _CHECK)


def downgrade() -> None:
    for table in _TABLES:
        op.drop_constraint(op.f(f"ck_{table}_slug_not_reserved"), table, type_="check")
