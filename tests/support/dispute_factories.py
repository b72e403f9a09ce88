"""The Kuril Islands dispute as the Kyodo article of 2021-10-07 tells it: a scenario for the
dispute and point-of-view tests, built from the generic builders in tests.support.factories."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import (
    AliasKind,
    DisputeEventRole,
    DisputePartyRole,
    EntityKind,
    EventType,
    Modality,
    ParticipantRole,
)
from db.models import Article, Dispute, DisputeEvent, Entity
from tests.support.factories import (
    add_alias,
    add_part_of,
    add_party,
    add_territory,
    add_to_timeline,
    cite,
    make_article,
    make_dispute,
    make_entity,
    make_event,
    make_source,
)

# Paragraphs 3 to 6 of the article (../shared/seed-documents/000_017ee883bb4abc3e.txt).
KYODO_BODY = "\n\n".join(
    [
        "Japan and Russia have a decades-old territorial dispute over islands lying to the "
        "northeast of Hokkaido that has prevented them from signing a peace treaty since the "
        "end of World War II.",
        "The dispute concerns the sovereignty of Russian-held islands off Hokkaido, which were "
        "seized by the Soviet Union following Tokyo's surrender in 1945.",
        "Japan, which calls them the Northern Territories, argues the annexation was illegal "
        "and is demanding their return, while Russia says it was a legitimate outcome of the "
        "war. The islands are known as the Southern Kurils in Russia.",
        "In their first conversation since Kishida took office this week, the leaders agreed "
        "to move forward with negotiations based on past agreements, including a 1956 joint "
        "declaration that states two of the four islands — Shikotan and the Habomai islet "
        "group — will be handed over to Japan following the conclusion of a peace treaty.",
    ]
)


@dataclass(frozen=True)
class Kurils:
    article: Article
    japan: Entity
    russia: Entity
    soviet_union: Entity
    islands: Entity  # the group: Southern Kuril Islands / Northern Territories
    shikotan: Entity
    habomai: Entity
    dispute: Dispute


async def make_kurils(session: AsyncSession) -> Kurils:
    """The Kuril Islands dispute: Japan's and Russia's names and positions, three disputed
    territories, and a timeline of four dated events."""
    article = await make_article(
        session, await make_source(session), "kyodo-2021-10-07", KYODO_BODY
    )
    japan = await make_entity(session, "japan", "Japan")
    russia = await make_entity(session, "russia", "Russia")
    soviet_union = await make_entity(session, "soviet-union", "Soviet Union")
    islands = await make_entity(
        session, "southern-kuril-islands", "Southern Kuril Islands", EntityKind.TERRITORY
    )
    shikotan = await make_entity(session, "shikotan", "Shikotan", EntityKind.TERRITORY)
    habomai = await make_entity(session, "habomai-islands", "Habomai Islands", EntityKind.TERRITORY)
    for island in (shikotan, habomai):
        await add_part_of(session, island, islands)
    await add_alias(
        session, islands, "Northern Territories", used_by=japan, kind=AliasKind.OFFICIAL
    )
    await add_alias(session, islands, "北方領土", used_by=japan, language="ja")
    await add_alias(session, islands, "Southern Kurils", used_by=russia)
    await add_alias(session, islands, "Южные Курилы", used_by=russia, language="ru")
    await add_alias(
        session, shikotan, "色丹島", used_by=japan, language="ja", kind=AliasKind.OFFICIAL
    )
    # No party's name: not among "the names each side uses".
    await add_alias(session, habomai, "Habomai islet group", used_by=None)

    dispute = await make_dispute(
        session, "kuril-islands-dispute", "Kuril Islands dispute", time="1945/.."
    )
    await cite(session, article, "have a decades-old territorial dispute", dispute_id=dispute.id)
    await cite(
        session, article, "following Tokyo's surrender in 1945", field="time", dispute_id=dispute.id
    )
    japan_side = await add_party(
        session,
        dispute,
        japan,
        DisputePartyRole.CLAIMANT,
        "The annexation of the Northern Territories was illegal; Japan demands their return.",
    )
    await cite(
        session,
        article,
        "argues the annexation was illegal and is demanding their return",
        field="position",
        dispute_party_id=japan_side.id,
    )
    russia_side = await add_party(
        session,
        dispute,
        russia,
        DisputePartyRole.ADMINISTERING_PARTY,
        "The annexation of the Southern Kurils was a legitimate outcome of the war.",
    )
    await cite(
        session,
        article,
        "Russia says it was a legitimate outcome of the war",
        field="position",
        dispute_party_id=russia_side.id,
    )
    await cite(session, article, "Russian-held islands", dispute_party_id=russia_side.id)
    for place in (islands, shikotan, habomai):
        territory = await add_territory(
            session, dispute, place, administered_by=russia, claimed_by=japan
        )
        await cite(
            session,
            article,
            "is demanding their return",
            field="claimed_by",
            dispute_territory_id=territory.id,
        )
    return Kurils(article, japan, russia, soviet_union, islands, shikotan, habomai, dispute)


async def add_kuril_timeline(session: AsyncSession, kurils: Kurils) -> dict[str, DisputeEvent]:
    """Five events, added out of time order: one undated, one per partial date."""
    k = kurils
    call = await make_event(
        session,
        "kishida-putin-phone-call",
        "2021-10-07",
        title="Kishida and Putin hold their first phone call",
        participants=((k.japan, ParticipantRole.ACTOR), (k.russia, ParticipantRole.ACTOR)),
    )
    await cite(
        session, k.article, "the leaders agreed to move forward with negotiations", event_id=call.id
    )
    denial = await make_event(
        session,
        "soviet-union-denies-a-territorial-issue",
        "197X/198X",
        title="The Soviet Union denies that a territorial issue exists",
        event_type=EventType.REJECT,
        participants=((k.soviet_union, ParticipantRole.ACTOR),),
    )
    declaration = await make_event(
        session,
        "soviet-japanese-joint-declaration",
        "1956-10-19",
        title="Soviet-Japanese Joint Declaration",
        event_type=EventType.AGREE,
        participants=((k.japan, ParticipantRole.ACTOR), (k.soviet_union, ParticipantRole.ACTOR)),
    )
    await cite(session, k.article, "a 1956 joint declaration", event_id=declaration.id)
    seizure = await make_event(
        session,
        "soviet-seizure-of-the-islands",
        "1945",
        title="The Soviet Union seizes the islands off Hokkaido",
        event_type=EventType.ASSAULT,
        location=k.islands,
        participants=(
            (k.islands, ParticipantRole.SUBJECT),
            (k.japan, ParticipantRole.TARGET),
            (k.soviet_union, ParticipantRole.ACTOR),
        ),
    )
    await cite(session, k.article, "seized by the Soviet Union", event_id=seizure.id)
    await cite(session, k.article, "in 1945", field="time", event_id=seizure.id)
    no_treaty = await make_event(
        session,
        "no-peace-treaty",
        title="Japan and Russia have not signed a peace treaty",
        event_type=EventType.AGREE,
        modality=Modality.NEGATED,
    )
    return {
        "call": await add_to_timeline(
            session, k.dispute, call, DisputeEventRole.NEGOTIATION, "Talks resume."
        ),
        "denial": await add_to_timeline(session, k.dispute, denial, DisputeEventRole.ESCALATION),
        "declaration": await add_to_timeline(
            session, k.dispute, declaration, DisputeEventRole.AGREEMENT, "Two islands offered."
        ),
        "seizure": await add_to_timeline(
            session, k.dispute, seizure, DisputeEventRole.ORIGIN, "Began the dispute."
        ),
        "no_treaty": await add_to_timeline(
            session, k.dispute, no_treaty, DisputeEventRole.BACKGROUND
        ),
    }
