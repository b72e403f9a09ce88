"""An editor ingests an article, reviews the names Newsgraph did not know (candidates), accepts
or rejects them, and resolves the ambiguous mentions."""

import uuid
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AliasKind, EntityKind
from db.models import Entity, EntityAlias, Evidence, Mention
from db.reference_gazetteer import load_reference_gazetteer
from tests.support.factories import add_alias, make_entity, make_source

UNSEEN = (
    Path(__file__).parent.parent / "eval" / "articles" / "001_japan_us_ministers_call.txt"
).read_text(encoding="utf-8")
BODY = (
    "U.S. Secretary of State Antony Blinken met Foreign Minister Yoshimasa Hayashi in Japan. "
    "Blinken said the Senkaku Islands are covered. Hayashi thanked Blinken."
)


def _article(body: str = BODY, **changes: object) -> dict[str, object]:
    return {"source": "kyodo", "language": "en", "body": body} | changes


@pytest.fixture
async def known(session: AsyncSession) -> None:
    await make_source(session)
    await make_entity(session, "japan", "Japan")
    united_states = await make_entity(session, "united-states", "United States")
    await add_alias(session, united_states, "U.S.", used_by=None, kind=AliasKind.ABBREVIATION)


async def _ingest(client: AsyncClient, writer: dict[str, str], body: str = BODY) -> Any:
    response = await client.post("/v1/articles", json=_article(body), headers=writer)
    assert response.status_code == 201, response.text
    return response.json()


def _by_name(article: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {candidate["name"]: candidate for candidate in article["candidates"]}


@pytest.mark.usefixtures("known")
async def test_ingest_returns_the_unknown_names_as_candidates_with_kind_cue_and_spans(
    client: AsyncClient, writer: dict[str, str]
) -> None:
    article = await _ingest(client, writer)

    candidates = [
        (c["name"], c["kind"], c["cue"], c["suggested_slug"], c["status"])
        for c in article["candidates"]
    ]
    assert candidates == [
        ("Antony Blinken", "person", "Secretary of State", "antony-blinken", "pending"),
        ("Yoshimasa Hayashi", "person", "Foreign Minister", "yoshimasa-hayashi", "pending"),
        ("Senkaku Islands", "territory", "Islands", "senkaku-islands", "pending"),
    ]
    blinken = _by_name(article)["Antony Blinken"]
    assert [BODY[start:end] for start, end in blinken["spans"]] == [
        "Antony Blinken",
        "Blinken",
        "Blinken",
    ]
    assert (blinken["start"], blinken["end"]) == tuple(blinken["spans"][0])
    assert blinken["entity"] is None
    assert [(m["surface"], m["entity"]["slug"]) for m in article["mentions"]] == [
        ("U.S.", "united-states"),
        ("Japan", "japan"),
    ]
    listed = await client.get("/v1/candidates", params={"article": article["slug"]})
    assert listed.status_code == 200
    assert listed.json()["items"] == article["candidates"]
    embedded = await client.get(f"/v1/articles/{article['id']}", params={"include": "candidates"})
    assert embedded.json()["candidates"] == article["candidates"]


@pytest.mark.usefixtures("known")
async def test_accepting_creates_the_entity_aliases_evidence_and_a_mention_at_every_span(
    client: AsyncClient, writer: dict[str, str], session: AsyncSession
) -> None:
    article = await _ingest(client, writer)
    blinken = _by_name(article)["Antony Blinken"]

    accepted = await client.post(
        f"/v1/candidates/{blinken['id']}/accept",
        json={"description": "United States Secretary of State."},
        headers=writer,
    )

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["entity"]["slug"] == "antony-blinken"
    entity = (await client.get("/v1/entities/antony-blinken")).json()
    assert (entity["kind"], entity["name"], entity["description"]) == (
        "person",
        "Antony Blinken",
        "United States Secretary of State.",
    )
    assert [(a["name"], a["kind"]) for a in entity["aliases"]] == [("Blinken", "short")]
    read = await client.get(f"/v1/articles/{article['id']}", params={"include": "mentions"})
    assert read.headers["etag"] != article["version"]
    assert [
        (m["surface"], m["start"], m["entity"]["slug"], m["method"])
        for m in read.json()["mentions"]
        if m["entity"]["slug"] == "antony-blinken"
    ] == [
        ("Antony Blinken", blinken["spans"][0][0], "antony-blinken", "curated"),
        ("Blinken", blinken["spans"][1][0], "antony-blinken", "curated"),
        ("Blinken", blinken["spans"][2][0], "antony-blinken", "curated"),
    ]
    evidence = (
        await session.execute(
            select(Evidence.quote, Evidence.start_offset).where(
                (Evidence.entity_id == uuid_of(accepted.json()["entity"]["id"]))
                | Evidence.entity_alias_id.in_(
                    select(EntityAlias.id).where(EntityAlias.name == "Blinken")
                )
            )
        )
    ).all()
    assert sorted(evidence) == [
        ("Antony Blinken", blinken["spans"][0][0]),
        ("Blinken", blinken["spans"][1][0]),
    ]
    # Again: nothing new.
    again = await client.post(f"/v1/candidates/{blinken['id']}/accept", json={}, headers=writer)
    assert again.status_code == 200
    assert again.json()["entity"]["slug"] == "antony-blinken"
    count = select(func.count()).select_from(Mention).where(Mention.surface.like("%Blinken"))
    assert await session.scalar(count) == 3
    assert await session.scalar(select(func.count()).where(Entity.slug == "antony-blinken")) == 1


@pytest.mark.usefixtures("known")
async def test_accepting_as_an_existing_entity_adds_the_name_as_its_alias(
    client: AsyncClient, writer: dict[str, str], session: AsyncSession
) -> None:
    await make_entity(session, "senkakus", "Senkaku Islands (disputed)", EntityKind.TERRITORY)
    article = await _ingest(client, writer)
    senkaku = _by_name(article)["Senkaku Islands"]

    accepted = await client.post(
        f"/v1/candidates/{senkaku['id']}/accept", json={"entity": "senkakus"}, headers=writer
    )

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["entity"]["slug"] == "senkakus"
    aliases = (await client.get("/v1/entities/senkakus")).json()["aliases"]
    assert [(a["name"], a["kind"]) for a in aliases] == [("Senkaku Islands", "common")]
    other = await client.post(
        f"/v1/candidates/{senkaku['id']}/accept", json={"entity": "japan"}, headers=writer
    )
    assert other.status_code == 409
    assert other.json()["code"] == "candidate_settled"
    rejected = await client.post(f"/v1/candidates/{senkaku['id']}/reject", headers=writer)
    assert rejected.status_code == 409
    assert rejected.json()["code"] == "candidate_settled"


@pytest.mark.usefixtures("known")
async def test_a_rejected_name_is_not_suggested_again_and_rejecting_is_idempotent(
    client: AsyncClient, writer: dict[str, str]
) -> None:
    article = await _ingest(client, writer)
    hayashi = _by_name(article)["Yoshimasa Hayashi"]

    first = await client.post(f"/v1/candidates/{hayashi['id']}/reject", headers=writer)
    second = await client.post(f"/v1/candidates/{hayashi['id']}/reject", headers=writer)
    detected = await client.post(f"/v1/articles/{article['id']}/mentions/detect", headers=writer)

    assert (first.status_code, first.json()["status"]) == (200, "rejected")
    assert second.json() == first.json()
    names = {c["name"]: c["status"] for c in detected.json()["candidates"]}
    assert names == {
        "Antony Blinken": "pending",
        "Yoshimasa Hayashi": "rejected",
        "Senkaku Islands": "pending",
    }
    pending = await client.get(
        "/v1/candidates", params={"article": article["id"], "status": "pending"}
    )
    assert [c["name"] for c in pending.json()["items"]] == ["Antony Blinken", "Senkaku Islands"]
    # A rejected candidate can still be accepted.
    accepted = await client.post(f"/v1/candidates/{hayashi['id']}/accept", json={}, headers=writer)
    assert accepted.json()["status"] == "accepted"


@pytest.mark.usefixtures("known")
async def test_refusals_change_nothing(
    client: AsyncClient, writer: dict[str, str], reader: dict[str, str], session: AsyncSession
) -> None:
    await make_entity(session, "antony-blinken", "Someone Else", EntityKind.PERSON)
    article = await _ingest(client, writer)
    blinken = _by_name(article)["Antony Blinken"]
    path = f"/v1/candidates/{blinken['id']}/accept"

    async def refused(method: str, url: str, **kwargs: Any) -> Any:
        # Each request has its transaction in production; here they share the test's.
        response = await client.request(method, url, **kwargs)
        await session.rollback()
        return response

    taken = await refused("POST", path, json={}, headers=writer)
    unknown = await refused("POST", path, json={"entity": "nobody"}, headers=writer)
    bad_kind = await refused("POST", path, json={"kind": "planet"}, headers=writer)
    anonymous = await refused("POST", path, json={})
    read_only = await refused("POST", path, json={}, headers=reader)
    stale = await refused(
        "POST", path, json={}, headers={**writer, "If-Match": '"v99-0000000000000000"'}
    )
    missing = await refused(
        "POST",
        "/v1/candidates/00000000-0000-4000-8000-000000000000/accept",
        json={},
        headers=writer,
    )
    not_an_id = await refused("POST", "/v1/candidates/blinken/reject", headers=writer)

    assert (taken.status_code, taken.json()["code"]) == (409, "conflict")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_reference")
    assert (bad_kind.status_code, bad_kind.json()["code"]) == (422, "validation_error")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthorized")
    assert (read_only.status_code, read_only.json()["code"]) == (403, "insufficient_scope")
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert (not_an_id.status_code, not_an_id.json()["code"]) == (404, "not_found")
    listed = await client.get("/v1/candidates", params={"article": article["id"]})
    assert {c["name"]: c["status"] for c in listed.json()["items"]}["Antony Blinken"] == "pending"
    # With a slug of its own it goes through.
    renamed = await client.post(path, json={"slug": "antony-j-blinken"}, headers=writer)
    assert renamed.json()["entity"]["slug"] == "antony-j-blinken"


@pytest.mark.usefixtures("known")
async def test_the_list_filters_and_pages_without_gaps(
    client: AsyncClient, writer: dict[str, str]
) -> None:
    first = await _ingest(client, writer)
    second = await _ingest(
        client, writer, "President Joe Biden spoke about the East China Sea with Japan."
    )
    everything = await client.get("/v1/candidates", params={"count": "exact"})
    assert everything.json()["total"] == 5

    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 2}
    while True:
        page = await client.get("/v1/candidates", params=params)
        assert page.status_code == 200
        seen += [c["name"] for c in page.json()["items"]]
        if page.json()["next_cursor"] is None:
            break
        assert page.headers["link"].endswith('; rel="next"')
        params = {"limit": 2, "cursor": page.json()["next_cursor"]}
    assert sorted(seen) == sorted(
        [c["name"] for c in first["candidates"]] + [c["name"] for c in second["candidates"]]
    )
    assert len(seen) == len(set(seen)) == 5

    persons = await client.get("/v1/candidates", params={"kind": "person"})
    assert sorted(c["name"] for c in persons.json()["items"]) == [
        "Antony Blinken",
        "Joe Biden",
        "Yoshimasa Hayashi",
    ]
    of_second = await client.get("/v1/candidates", params={"article": second["slug"]})
    assert [(c["name"], c["kind"], c["cue"]) for c in of_second.json()["items"]] == [
        ("Joe Biden", "person", "President"),
        ("East China Sea", "place", "Sea"),
    ]
    for name, value in (("kind", "planet"), ("status", "maybe"), ("article", "nowhere")):
        refused = await client.get("/v1/candidates", params={name: value})
        assert refused.status_code == 400, name


def uuid_of(value: str) -> uuid.UUID:
    return uuid.UUID(value)


async def test_an_editor_links_every_name_of_an_unseen_article(
    client: AsyncClient, writer: dict[str, str], session: AsyncSession
) -> None:
    """The issue's story: a Kyodo-style article none of whose people is known, ingested with the
    reference gazetteer loaded; the editor accepts every candidate (the Chinese name of the
    Senkakus as an alias of them), resolves the ambiguous "Tokyo", and reads the article back
    with every name in it linked."""
    await make_source(session)
    japan = await make_entity(session, "japan", "Japan")
    tokyo = await make_entity(session, "tokyo", "Tokyo", EntityKind.PLACE)
    await add_alias(session, japan, "Tokyo", used_by=None, kind=AliasKind.METONYM)
    mofa = await make_entity(
        session, "japan-mofa", "Ministry of Foreign Affairs of Japan", EntityKind.ORGANIZATION
    )
    await add_alias(session, mofa, "Foreign Ministry", used_by=None)
    north_korea = await make_entity(session, "north-korea", "North Korea")
    await load_reference_gazetteer(session)
    assert tokyo.slug
    assert north_korea.slug

    article = await _ingest(client, writer, UNSEEN)
    candidates = _by_name(article)
    assert set(candidates) >= {
        "Yoshimasa Hayashi",
        "Antony Blinken",
        "East China Sea",
        "Senkaku Islands",
        "Diaoyu Islands",
        "U.N. Security Council",
        "Joe Biden",
        "Nobuo Kishi",
        "Lloyd Austin",
    }
    [ambiguous] = [m for m in article["mentions"] if m["ambiguous"]]
    assert ambiguous["surface"] == "Tokyo"
    assert ambiguous["entity"] is None
    assert [e["slug"] for e in ambiguous["possible_entities"]] == ["japan", "tokyo"]

    # Review: "Article" (as in "Article 5") is no entity; the Diaoyu Islands are the Senkakus.
    senkaku = await client.post(
        f"/v1/candidates/{candidates['Senkaku Islands']['id']}/accept", json={}, headers=writer
    )
    assert senkaku.status_code == 200, senkaku.text
    for name, candidate in candidates.items():
        if name == "Senkaku Islands":
            continue
        if name == "Article":
            done = await client.post(f"/v1/candidates/{candidate['id']}/reject", headers=writer)
        elif name == "Diaoyu Islands":
            done = await client.post(
                f"/v1/candidates/{candidate['id']}/accept",
                json={"entity": "senkaku-islands"},
                headers=writer,
            )
        else:
            done = await client.post(
                f"/v1/candidates/{candidate['id']}/accept", json={}, headers=writer
            )
        assert done.status_code == 200, (name, done.text)
    pending = await client.get(
        "/v1/candidates", params={"article": article["id"], "status": "pending"}
    )
    assert pending.json()["items"] == []

    # The ambiguous "Tokyo": the city (a visit to Tokyo).
    read = await client.get(f"/v1/articles/{article['id']}", params={"include": "mentions"})
    [ambiguous] = [m for m in read.json()["mentions"] if m["ambiguous"]]
    resolved = await client.patch(
        f"/v1/articles/{article['id']}/mentions/{ambiguous['id']}",
        json={"entity": "tokyo"},
        headers={**writer, "If-Match": read.headers["etag"]},
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["entity"]["slug"] == "tokyo"
    assert resolved.json()["ambiguous"] is False

    # Read back: every proper name in the article is a mention of an entity.
    final = await client.get(f"/v1/articles/{article['id']}", params={"include": "mentions"})
    linked = {(m["surface"], m["entity"]["slug"]) for m in final.json()["mentions"]}
    assert not [m for m in final.json()["mentions"] if m["entity"] is None]
    assert linked == {
        ("Yoshimasa Hayashi", "yoshimasa-hayashi"),
        ("Hayashi", "yoshimasa-hayashi"),
        ("U.S.", "united-states"),
        ("Antony Blinken", "antony-blinken"),
        ("Blinken", "antony-blinken"),
        ("China", "china"),
        ("Taiwan", "taiwan"),
        ("Foreign Ministry", "japan-mofa"),
        ("Beijing", "beijing"),
        ("East China Sea", "east-china-sea"),
        ("Senkaku Islands", "senkaku-islands"),
        ("Japan", "japan"),
        ("Diaoyu Islands", "senkaku-islands"),
        ("Washington", "washington"),
        ("U.N. Security Council", "u-n-security-council"),
        ("North Korea", "north-korea"),
        ("Tokyo", "tokyo"),
        ("Joe Biden", "joe-biden"),
        ("Nobuo Kishi", "nobuo-kishi"),
        ("Lloyd Austin", "lloyd-austin"),
    }
    names = [
        "Yoshimasa Hayashi", "Antony Blinken", "China", "Taiwan", "Beijing", "East China Sea",
        "Senkaku Islands", "Diaoyu Islands", "Washington", "U.N. Security Council",
        "North Korea", "Tokyo", "Joe Biden", "Nobuo Kishi", "Lloyd Austin",
    ]  # fmt: skip
    spans = {(m["start"], m["end"]) for m in final.json()["mentions"]}
    for name in names:
        start = UNSEEN.index(name)
        assert (start, start + len(name)) in spans, name
    # Detecting again keeps all of it and suggests nothing new.
    again = await client.post(f"/v1/articles/{article['id']}/mentions/detect", headers=writer)
    assert {(m["surface"], m["entity"]["slug"]) for m in again.json()["mentions"]} == linked
    assert {c["status"] for c in again.json()["candidates"]} <= {"accepted", "rejected"}
    # The Senkakus know their Chinese name now: a new article links it at once.
    later = await _ingest(client, writer, "China sent ships near the Diaoyu Islands on Monday.")
    assert [(m["surface"], m["entity"]["slug"]) for m in later["mentions"]] == [
        ("China", "china"),
        ("Diaoyu Islands", "senkaku-islands"),
    ]
    assert later["candidates"] == []


async def test_an_ambiguous_mention_counts_for_no_entity_until_resolved(
    client: AsyncClient, writer: dict[str, str], session: AsyncSession
) -> None:
    await make_source(session)
    japan = await make_entity(session, "japan", "Japan")
    await make_entity(session, "tokyo", "Tokyo", EntityKind.PLACE)
    await add_alias(session, japan, "Tokyo", used_by=None, kind=AliasKind.METONYM)
    article = await _ingest(client, writer, "Tokyo protested on Monday.")
    [mention] = article["mentions"]
    assert (mention["ambiguous"], mention["entity"], mention["confidence"]) == (True, None, "0.500")
    assert [e["slug"] for e in mention["possible_entities"]] == ["japan", "tokyo"]
    for slug in ("japan", "tokyo"):
        assert (await client.get(f"/v1/entities/{slug}")).json()["counts"]["articles"] == 0
        listed = await client.get("/v1/articles", params={"entity": slug})
        assert listed.json()["items"] == []
    path = f"/v1/articles/{article['id']}/mentions/{mention['id']}"
    etag = (await client.get(f"/v1/articles/{article['id']}")).headers["etag"]

    refusals = {
        428: await client.patch(path, json={"entity": "japan"}, headers=writer),
        412: await client.patch(
            path, json={"entity": "japan"}, headers={**writer, "If-Match": '"v9-0000000000000000"'}
        ),
        422: await client.patch(
            path, json={"entity": "nowhere"}, headers={**writer, "If-Match": etag}
        ),
        404: await client.patch(
            f"/v1/articles/{article['id']}/mentions/00000000-0000-4000-8000-000000000000",
            json={"entity": "japan"},
            headers={**writer, "If-Match": etag},
        ),
    }
    for status, response in refusals.items():
        assert response.status_code == status, (status, response.text)
    resolved = await client.patch(
        path, json={"entity": "japan"}, headers={**writer, "If-Match": etag}
    )

    assert resolved.status_code == 200, resolved.text
    assert resolved.headers["etag"] != etag
    assert (resolved.json()["entity"]["slug"], resolved.json()["possible_entities"]) == (
        "japan",
        [],
    )
    assert (resolved.json()["method"], resolved.json()["confidence"]) == ("curated", "1.000")
    assert (await client.get("/v1/entities/japan")).json()["counts"]["articles"] == 1
    assert (await client.get("/v1/entities/tokyo")).json()["counts"]["articles"] == 0
    # Detecting again keeps the editor's choice.
    again = await client.post(f"/v1/articles/{article['id']}/mentions/detect", headers=writer)
    assert [(m["surface"], m["entity"]["slug"]) for m in again.json()["mentions"]] == [
        ("Tokyo", "japan")
    ]
