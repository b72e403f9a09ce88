"""Which slugs the seed files define and which they refer to, per table."""

from collections.abc import Iterable, Iterator

from seeds import schema
from seeds.files import SeedFileInput
from seeds.rows import SLUGGED_TABLES


def referenced_slugs(files: Iterable[SeedFileInput]) -> dict[str, set[str]]:
    """Slugs each file refers to, per table, whether or not the run defines them."""
    wanted: dict[str, set[str]] = {table: set() for table in SLUGGED_TABLES}
    for seed_file in files:
        document = seed_file.document
        if document is None:
            continue
        if document.cites:
            wanted["article"].add(document.cites)
        for evidence in all_evidence(document):
            if evidence.article:
                wanted["article"].add(evidence.article)
        for article in document.articles:
            wanted["source"].add(article.source)
            wanted["entity"].update(mention.entity for mention in article.mentions)
        for entity in document.entities:
            wanted["entity"].update(a.used_by for a in entity.aliases if a.used_by)
            wanted["entity"].update(relation.object for relation in entity.relations)
        for event in document.events:
            wanted["entity"].update(p.entity for p in event.participants)
            wanted["entity"].update(s for s in (event.location,) if s)
            wanted["event"].update(s for s in (event.parent,) if s)
        for statement in document.statements:
            wanted["entity"].update(s for s in (statement.speaker, statement.conveyed_by) if s)
            wanted["event"].update(s for s in (statement.event,) if s)
        for dispute in document.disputes:
            wanted["entity"].update(party.entity for party in dispute.parties)
            for territory in dispute.territories:
                wanted["entity"].update(
                    s
                    for s in (territory.entity, territory.administered_by, territory.claimed_by)
                    if s
                )
            wanted["event"].update(item.event for item in dispute.events)
    return wanted


def defined_slugs(files: Iterable[SeedFileInput]) -> dict[str, set[str]]:
    defined: dict[str, set[str]] = {table: set() for table in SLUGGED_TABLES}
    for seed_file in files:
        document = seed_file.document
        if document is None:
            continue
        defined["source"].update(item.slug for item in document.sources)
        defined["article"].update(item.slug for item in document.articles)
        defined["entity"].update(item.slug for item in document.entities)
        defined["event"].update(item.slug for item in document.events)
        defined["statement"].update(item.slug for item in document.statements)
        defined["dispute"].update(item.slug for item in document.disputes)
    return defined


def all_evidence(document: schema.SeedDocument) -> Iterator[schema.EvidenceSeed]:
    for article in document.articles:
        yield from article.evidence
    for entity in document.entities:
        yield from entity.evidence
        for alias in entity.aliases:
            yield from alias.evidence
        for relation in entity.relations:
            yield from relation.evidence
    for event in document.events:
        yield from event.evidence
        for participant in event.participants:
            yield from participant.evidence
    for statement in document.statements:
        yield from statement.evidence
    for dispute in document.disputes:
        yield from dispute.evidence
        for party in dispute.parties:
            yield from party.evidence
        for territory in dispute.territories:
            yield from territory.evidence
        for item in dispute.events:
            yield from item.evidence
