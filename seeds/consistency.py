"""Checks over all planned rows of a run, once every file has been planned."""

from typing import Any

from seeds.problems import Problems
from seeds.rows import Key, PlannedRow


def check_event_parents(events: dict[Key, PlannedRow], problems: Problems) -> None:
    """Parent chains must end: a loop would make an event its own ancestor."""
    parents = {
        row.key[0]: row.refs["parent_id"].key[0]  # type: ignore[union-attr]
        for row in events.values()
        if row.refs.get("parent_id") is not None
    }
    reported: set[str] = set()
    for start in parents:
        chain = [start]
        while chain[-1] in parents and parents[chain[-1]] not in chain:
            chain.append(parents[chain[-1]])
        if chain[-1] not in parents:
            continue
        loop = chain[chain.index(parents[chain[-1]]) :]
        if not reported.isdisjoint(loop):
            continue
        reported.update(loop)
        row = events[(loop[0],)]
        problems.add(
            row.file,
            f"{row.path}.parent",
            "event parents form a loop: " + " -> ".join([*loop, loop[0]]),
        )


def check_unique_articles(articles: dict[Key, PlannedRow], problems: Problems) -> None:
    """Body hash and URL are unique in the database: two articles of a run must differ."""
    for column, what in (("content_hash", "body"), ("url", "url")):
        seen: dict[Any, PlannedRow] = {}
        for row in articles.values():
            value = row.values[column]
            if value is None:
                continue
            first = seen.setdefault(value, row)
            if first is not row:
                problems.add(
                    row.file,
                    f"{row.path}.{what}",
                    f"same {what} as article {first.key[0]!r} ({first.file}: {first.path})",
                )
