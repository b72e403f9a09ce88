"""What every write shares: turning constraint violations into 409s, and the 409 for a
delete that something still refers to."""

from collections.abc import Callable, Mapping

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.errors import ProblemError
from api.shared.problems import ProblemCode


def unique_conflict(error: IntegrityError, describe: Callable[[str], str]) -> ProblemError | None:
    """409 `conflict` when `error` violated a unique constraint, `describe`d from its name
    (`uq_<table>_<columns>`, db.base's naming convention); None for any other violation, which
    the caller re-raises: a check or foreign key the API's own checks let through is a bug to
    see as a 500, not a conflict to report."""
    # SQLAlchemy wraps the driver's error; asyncpg's, its cause, knows the constraint.
    constraint = getattr(getattr(error.orig, "__cause__", None), "constraint_name", None)
    if not (isinstance(constraint, str) and constraint.startswith("uq_")):
        return None
    return ProblemError(ProblemCode.CONFLICT, describe(constraint))


async def flush_or_conflict(session: AsyncSession, *, resource: str) -> None:
    """Flush in a savepoint; a unique violation that a concurrent write won is a 409."""

    def taken(constraint: str) -> str:
        return f"Another {resource} already has this {constraint.removeprefix(f'uq_{resource}_')}."

    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        conflict = unique_conflict(error, taken)
        if conflict is None:
            raise
        raise conflict from error


def refuse_if_referenced(resource: str, references: Mapping[str, int]) -> None:
    """409 naming what still refers to the resource, unless nothing does."""
    used = {what: count for what, count in references.items() if count}
    if used:
        listed = ", ".join(f"{count} {what}" for what, count in used.items())
        raise ProblemError(
            ProblemCode.STILL_REFERENCED,
            f"The {resource} is still referred to by {listed}; delete those first, or repeat "
            "the request with `cascade=true` to delete them with it.",
        )
