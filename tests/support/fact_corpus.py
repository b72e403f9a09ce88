"""A small corpus in the export format with every kind of fact the synthetic corpus leaves out:
relations, statements, event parents, locations and durations, a gazetteer mention, and
evidence (spans and editorial notes, with `field`) on every kind of subject, some of it citing
the other article. Two articles of two sources, so that a filter by source splits it."""

from typing import Any

NORTH = "north-herald-2021-03-01-talks"
SOUTH = "south-post-2021-03-05-visit"

NORTH_BODY = (
    "Ana Lind met Bo Berg in Oslo on Monday for talks on the fishing accord. "
    'Lind said: "We agreed to meet again." Nordland officials welcomed the talks.'
)
SOUTH_BODY = (
    "Bo Berg, the mayor of Oslo, visited Rome on Friday with Cara Holm. "
    "Officials said the visit lasted two days. Berg said the talks in Oslo went well."
)
BODIES = {NORTH: NORTH_BODY, SOUTH: SOUTH_BODY}


def cite(article: str, quote: str, *, field: str | None = None) -> dict[str, Any]:
    """A span item quoting the first occurrence of `quote` in the article."""
    start = BODIES[article].index(quote)
    return {
        "article": article,
        "start": start,
        "end": start + len(quote),
        "quote": quote,
        "editorial": False,
        "note": None,
        "field": field,
    }


def note(article: str, text: str, *, field: str | None = None) -> dict[str, Any]:
    return {
        "article": article,
        "start": None,
        "end": None,
        "quote": None,
        "editorial": True,
        "note": text,
        "field": field,
    }


def _mention(
    article: str, entity: str, surface: str, *, within: str | None = None, **more: Any
) -> dict[str, Any]:
    """The first occurrence of `surface`, or of `surface` at the start of `within`."""
    start = BODIES[article].index(within or surface)
    return {
        "entity": entity,
        "start": start,
        "end": start + len(surface),
        "surface": surface,
        "method": "curated",
        "confidence": 1,
    } | more


def _entity(slug: str, kind: str, name: str, aliases: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "entity",
        "slug": slug,
        "kind": kind,
        "name": name,
        "description": None,
        "external_ids": {},
        "aliases": aliases,
    }


def _event(slug: str, title: str, **more: Any) -> dict[str, Any]:
    return {
        "type": "event",
        "slug": slug,
        "title": title,
        "summary": None,
        "event_type": "CONSULT",
        "mode": None,
        "contexts": [],
        "modality": "asserted",
        "time": None,
        "duration": None,
        "location": None,
        "parent": None,
        "participants": [],
        "evidence": [],
    } | more


def _statement(slug: str, speaker: str, text: str, **more: Any) -> dict[str, Any]:
    return {
        "type": "statement",
        "slug": slug,
        "speaker": speaker,
        "kind": "paraphrase",
        "text": text,
        "conveyed_by": None,
        "conveyed_by_description": None,
        "event": None,
        "evidence": [],
    } | more


def _relation(subject: str, kind: str, object: str, **more: Any) -> dict[str, Any]:
    return {
        "type": "relation",
        "subject": subject,
        "kind": kind,
        "object": object,
        "role": None,
        "time": None,
        "evidence": [],
    } | more


def fact_corpus() -> list[dict[str, Any]]:
    """The records, in the order the export writes them."""
    alias = {"language": "en", "kind": "short", "used_by": None}
    return [
        {
            "type": "source",
            "slug": "north-herald",
            "name": "North Herald",
            "kind": "newspaper",
            "homepage_url": None,
        },
        {
            "type": "source",
            "slug": "south-post",
            "name": "South Post",
            "kind": "newspaper",
            "homepage_url": None,
        },
        _entity("ana-lind", "person", "Ana Lind", [{"name": "Lind", **alias}]),
        _entity("bo-berg", "person", "Bo Berg", [{"name": "Berg", **alias}]),
        _entity("cara-holm", "person", "Cara Holm", []),
        _entity("nordland", "country", "Nordland", []),
        _entity("oslo", "place", "Oslo", []),
        _entity("rome", "place", "Rome", []),
        {
            "type": "article",
            "slug": NORTH,
            "source": "north-herald",
            "headline": "Lind and Berg hold talks",
            "byline": None,
            "url": None,
            "language": "en",
            "published_at": "2021-03-01T00:00:00Z",
            "published_precision": "day",
            "summary": None,
            "body": NORTH_BODY,
            "mentions": [
                _mention(NORTH, "ana-lind", "Ana Lind"),
                _mention(NORTH, "bo-berg", "Bo Berg"),
                _mention(NORTH, "oslo", "Oslo", method="gazetteer", confidence=0.857),
                _mention(NORTH, "ana-lind", "Lind", within="Lind said"),
            ],
        },
        {
            "type": "article",
            "slug": SOUTH,
            "source": "south-post",
            "headline": None,
            "byline": "By a correspondent",
            "url": "https://south-post.example/visit",
            "language": "en",
            "published_at": "2021-03-05T00:00:00Z",
            "published_precision": "day",
            "summary": None,
            "body": SOUTH_BODY,
            "mentions": [
                _mention(SOUTH, "bo-berg", "Bo Berg"),
                _mention(SOUTH, "oslo", "Oslo"),
                _mention(SOUTH, "rome", "Rome"),
                _mention(SOUTH, "cara-holm", "Cara Holm"),
            ],
        },
        {
            "type": "evidence",
            "of": "entity",
            "entity": "ana-lind",
            "items": [note(NORTH, "Her office is not in the article.", field="description")],
        },
        {
            "type": "evidence",
            "of": "entity",
            "entity": "bo-berg",
            "items": [cite(SOUTH, "the mayor of Oslo", field="description")],
        },
        {
            "type": "evidence",
            "of": "alias",
            "entity": "ana-lind",
            "name": "Lind",
            "language": "en",
            "items": [cite(NORTH, "Lind said")],
        },
        {
            "type": "evidence",
            "of": "alias",
            "entity": "bo-berg",
            "name": "Berg",
            "language": "en",
            "items": [cite(SOUTH, "Berg said")],
        },
        {
            "type": "evidence",
            "of": "article",
            "article": NORTH,
            "items": [
                note(NORTH, "Written by the editor.", field="headline"),
                # The date, worked out from the other article's report of the same talks.
                cite(SOUTH, "the talks in Oslo", field="published_at"),
            ],
        },
        {
            "type": "evidence",
            "of": "article",
            "article": SOUTH,
            "items": [note(SOUTH, "From the credit line.", field="byline")],
        },
        _relation(
            "bo-berg",
            "holds_office",
            "oslo",
            role="mayor",
            time="2021-03-05/..",
            evidence=[cite(SOUTH, "the mayor of Oslo"), note(SOUTH, "As of the article.")],
        ),
        _relation(
            "bo-berg",
            "member_of",
            "nordland",
            evidence=[cite(NORTH, "Nordland officials"), cite(SOUTH, "Bo Berg")],
        ),
        _relation("oslo", "part_of", "nordland", evidence=[note(NORTH, "Geography.")]),
        _event(
            "berg-visits-rome",
            "Berg visits Rome",
            time="2021-03-05",
            duration="P2D",
            location="rome",
            participants=[
                {"entity": "bo-berg", "role": "actor", "evidence": [cite(SOUTH, "Bo Berg")]}
            ],
            evidence=[
                cite(SOUTH, "visited Rome on Friday"),
                cite(SOUTH, "the visit lasted two days", field="duration"),
            ],
        ),
        _event(
            "fishing-accord-talks",
            "Talks on the fishing accord",
            time="2021-03",
            location="rome",
            evidence=[cite(SOUTH, "the talks in Oslo")],
        ),
        _event(
            "lind-berg-meeting",
            "Lind meets Berg",
            time="2021-03-01",
            duration="PT2H30M",
            location="oslo",
            parent="fishing-accord-talks",
            participants=[
                {
                    "entity": "ana-lind",
                    "role": "actor",
                    "evidence": [cite(NORTH, "Ana Lind met")],
                },
                {
                    "entity": "bo-berg",
                    "role": "actor",
                    "evidence": [
                        cite(NORTH, "met Bo Berg"),
                        note(NORTH, "Named as the host.", field="role"),
                    ],
                },
            ],
            evidence=[
                cite(NORTH, "Ana Lind met Bo Berg in Oslo on Monday"),
                note(NORTH, "Monday before the article's date.", field="time"),
            ],
        ),
        _statement(
            "berg-says-talks-went-well",
            "bo-berg",
            "The talks in Oslo went well.",
            event="fishing-accord-talks",
            evidence=[cite(SOUTH, "Berg said the talks in Oslo went well")],
        ),
        _statement(
            "lind-says-they-agreed",
            "ana-lind",
            "We agreed to meet again.",
            kind="direct_quote",
            event="berg-visits-rome",
            conveyed_by="nordland",
            conveyed_by_description="the officials",
            evidence=[
                cite(NORTH, "Lind said", field="speaker"),
                cite(NORTH, "We agreed to meet again."),
            ],
        ),
    ]
