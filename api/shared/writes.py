"""What every write shares: turning constraint violations into 409s, and the 409 for a
delete that something still refers to."""

from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.errors import ProblemError
from api.shared.problems import ProblemCode


async def flush_or_conflict(session: AsyncSession, *, resource: str) -> None:
    """Flush in a savepoint; a unique violation that a concurrent write won is a 409."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        constraint = getattr(getattr(error.orig, "__cause__", None), "constraint_name", None)
        if constraint and constraint.startswith("uq_"):
            column = constraint.removeprefix(f"uq_{resource}_")
            raise ProblemError(
                ProblemCode.CONFLICT, f"Another {resource} already has this {column}."
            ) from error
        raise


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
