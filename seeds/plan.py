"""From validated seed documents to the rows they describe, checked across every file of a run.

Each planned row is keyed by its natural key written with slugs (an alias is
`(entity slug, name, language)`); seeds.write turns the slugs into ids and matches the rows
already in the database. Checks that need the article body (spans, quotes) happen here.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from db.checks import (
    SpanError,
    SpanOutOfRange,
    article_content_hash,
    check_span,
    locate_quote,
    parse_duration,
    parse_time,
)
from db.enums import StatementKind
from seeds import schema
from seeds.consistency import check_event_parents, check_unique_articles
from seeds.files import SeedFileInput
from seeds.problems import Problems
from seeds.rows import (
    EVIDENCE_SUBJECT_COLUMN,
    SLUGGED_TABLES,
    TABLES,
    Key,
    KnownRows,
    Plan,
    PlannedRow,
    Ref,
)


def _label(table: str) -> str:
    return table.replace("_", " ")


def _time_values(edtf: str | None) -> dict[str, Any]:
    if edtf is None:
        return {
            "time_edtf": None,
            "time_earliest": None,
            "time_latest": None,
            "time_precision": None,
        }
    span = parse_time(edtf)
    return {
        "time_edtf": edtf,
        "time_earliest": span.earliest,
        "time_latest": span.latest,
        "time_precision": span.precision,
    }


@dataclass(slots=True)
class _FileContext:
    owner: str
    file: str
    default_article: str | None


class _Planner:
    def __init__(self, files: list[SeedFileInput], known: KnownRows, problems: Problems) -> None:
        self.files = files
        self.known = known
        self.problems = problems
        self.rows: dict[str, dict[Key, PlannedRow]] = {table: {} for table in TABLES}
        self.bodies = dict(known.bodies)
        for seed_file in files:
            if seed_file.document is not None:
                for article in seed_file.document.articles:
                    self.bodies.setdefault(article.slug, article.body)

    def build(self) -> Plan:
        for seed_file in self.files:
            document = seed_file.document
            if document is None:
                continue
            own_articles = [article.slug for article in document.articles]
            default = document.cites or (own_articles[0] if len(own_articles) == 1 else None)
            context = _FileContext(seed_file.key, seed_file.display, default)
            if document.cites and document.cites not in self.bodies:
                self._unknown(seed_file.display, "cites", "article", document.cites)
            for index, source in enumerate(document.sources):
                self._source(context, source, f"sources[{index}]")
            for index, article in enumerate(document.articles):
                self._article(context, article, f"articles[{index}]")
            for index, entity in enumerate(document.entities):
                self._entity(context, entity, f"entities[{index}]")
            for index, event in enumerate(document.events):
                self._event(context, event, f"events[{index}]")
            for index, statement in enumerate(document.statements):
                self._statement(context, statement, f"statements[{index}]")
            for index, dispute in enumerate(document.disputes):
                self._dispute(context, dispute, f"disputes[{index}]")
        self._check_references()
        check_event_parents(self.rows["event"], self.problems)
        check_unique_articles(self.rows["article"], self.problems)
        return Plan(self.rows, self.known)

    # -- rows ---------------------------------------------------------------------------

    def _add(
        self,
        context: _FileContext,
        table: str,
        key: Key,
        path: str,
        values: dict[str, Any],
        refs: dict[str, tuple[str, str | None, str]] | None = None,
    ) -> Ref:
        """Plan one row; `refs` maps a column to (table, slug, path of the slug)."""
        resolved: dict[str, Ref | None] = {}
        ref_paths: dict[str, str] = {}
        for column, (target, slug, ref_path) in (refs or {}).items():
            resolved[column] = Ref(target, (slug,)) if slug is not None else None
            ref_paths[column] = ref_path
        row = PlannedRow(table, key, values, resolved, context.owner, context.file, path, ref_paths)
        return self._insert(row)

    def _insert(self, row: PlannedRow) -> Ref:
        first = self.rows[row.table].get(row.key)
        if first is not None:
            if row.table in SLUGGED_TABLES:
                what = f"{_label(row.table)} slug {row.key[0]!r}"
            elif row.table == "evidence":
                what = "evidence (same span, or same editorial note, for the same fact)"
            else:
                what = f"{_label(row.table)} {row.key!r}"
            self.problems.add(
                row.file,
                row.path,
                f"duplicate {what}: already defined at {first.file}: {first.path}",
            )
        else:
            self.rows[row.table][row.key] = row
        return Ref(row.table, row.key)

    def _evidence(
        self, context: _FileContext, items: list[schema.EvidenceSeed], subject: Ref, path: str
    ) -> None:
        for index, item in enumerate(items):
            item_path = f"{path}.evidence[{index}]"
            article = item.article or context.default_article
            if article is None:
                self.problems.add(
                    context.file,
                    item_path,
                    "evidence names no article: add `article:` here or `cites:` at the top of "
                    "the file",
                )
                continue
            if article not in self.bodies:
                if item.article:  # an unknown `cites:` is reported once, at the top
                    self._unknown(context.file, f"{item_path}.article", "article", article)
                continue
            span = self._span(context, article, item, item_path) if not item.editorial else None
            if span is None and not item.editorial:
                continue
            start, end = span if span is not None else (None, None)
            values = dict.fromkeys(EVIDENCE_SUBJECT_COLUMN.values())
            values.update(
                start_offset=start,
                end_offset=end,
                quote=item.quote,
                editorial=item.editorial,
                note=item.note,
                field=item.field,
            )
            row = PlannedRow(
                "evidence",
                (
                    subject.table,
                    subject.key,
                    article,
                    item.field,
                    start,
                    end,
                    item.note if item.editorial else None,
                ),
                values,
                {
                    "article_id": Ref("article", (article,)),
                    EVIDENCE_SUBJECT_COLUMN[subject.table]: subject,
                },
                context.owner,
                context.file,
                item_path,
                {"article_id": f"{item_path}.article"},
            )
            self._insert(row)

    def _span(
        self, context: _FileContext, article: str, item: schema.EvidenceSeed, path: str
    ) -> tuple[int, int] | None:
        body = self.bodies[article]
        assert item.quote is not None
        try:
            if item.start is not None and item.end is not None:
                span = check_span(body, item.start, item.end, item.quote)
            else:
                span = locate_quote(body, item.quote, occurrence=item.occurrence)
        except SpanOutOfRange as error:
            self.problems.add(context.file, f"{path}.start", str(error))
            return None
        except SpanError as error:
            self.problems.add(context.file, f"{path}.quote", f"in article {article!r}: {error}")
            return None
        return span.start, span.end

    # -- sections ------------------------------------------------------------------------

    def _source(self, context: _FileContext, source: schema.SourceSeed, path: str) -> None:
        self._add(context, "source", (source.slug,), path, source.model_dump())

    def _article(self, context: _FileContext, article: schema.ArticleSeed, path: str) -> None:
        published_at, precision = None, None
        if article.published is not None:
            span = parse_time(article.published)
            if span.earliest is not None:
                published_at = datetime.combine(span.earliest, time(0), tzinfo=UTC)
                precision = span.precision
        values = {
            "slug": article.slug,
            "headline": article.headline,
            "byline": article.byline,
            "url": article.url,
            "language": article.language,
            "published_at": published_at,
            "published_precision": precision,
            "body": article.body,
            "summary": article.summary,
            "content_hash": article_content_hash(article.body),
        }
        ref = self._add(
            context,
            "article",
            (article.slug,),
            path,
            values,
            {"source_id": ("source", article.source, f"{path}.source")},
        )
        self._evidence(context, article.evidence, ref, path)
        for index, mention in enumerate(article.mentions):
            self._mention(context, article, mention, f"{path}.mentions[{index}]")

    def _mention(
        self,
        context: _FileContext,
        article: schema.ArticleSeed,
        mention: schema.MentionSeed,
        path: str,
    ) -> None:
        try:
            if mention.start is not None:
                end = (
                    mention.end if mention.end is not None else mention.start + len(mention.surface)
                )
                span = check_span(article.body, mention.start, end, mention.surface)
            else:
                span = locate_quote(article.body, mention.surface, occurrence=mention.occurrence)
        except SpanOutOfRange as error:
            self.problems.add(context.file, f"{path}.start", str(error))
            return
        except SpanError as error:
            self.problems.add(context.file, f"{path}.surface", str(error))
            return
        values = {
            "start_offset": span.start,
            "end_offset": span.end,
            "surface": mention.surface,
            "method": mention.method,
            "confidence": mention.confidence,
        }
        self._add(
            context,
            "mention",
            (article.slug, mention.entity, span.start, span.end),
            path,
            values,
            {
                "article_id": ("article", article.slug, path),
                "entity_id": ("entity", mention.entity, f"{path}.entity"),
            },
        )

    def _entity(self, context: _FileContext, entity: schema.EntitySeed, path: str) -> None:
        values = {
            "slug": entity.slug,
            "kind": entity.kind,
            "name": entity.name,
            "description": entity.description,
            "external_ids": dict(entity.external_ids),
        }
        ref = self._add(context, "entity", (entity.slug,), path, values)
        self._evidence(context, entity.evidence, ref, path)
        for index, alias in enumerate(entity.aliases):
            alias_path = f"{path}.aliases[{index}]"
            alias_ref = self._add(
                context,
                "entity_alias",
                (entity.slug, alias.name, alias.language),
                alias_path,
                {"name": alias.name, "language": alias.language, "kind": alias.kind},
                {
                    "entity_id": ("entity", entity.slug, alias_path),
                    "used_by_id": ("entity", alias.used_by, f"{alias_path}.used_by"),
                },
            )
            self._evidence(context, alias.evidence, alias_ref, alias_path)
        for index, relation in enumerate(entity.relations):
            relation_path = f"{path}.relations[{index}]"
            if relation.object == entity.slug:
                self.problems.add(
                    context.file, f"{relation_path}.object", "an entity cannot relate to itself"
                )
            relation_ref = self._add(
                context,
                "entity_relation",
                (entity.slug, relation.kind, relation.object, relation.role, relation.time),
                relation_path,
                {"kind": relation.kind, "role": relation.role, **_time_values(relation.time)},
                {
                    "subject_id": ("entity", entity.slug, relation_path),
                    "object_id": ("entity", relation.object, f"{relation_path}.object"),
                },
            )
            self._evidence(context, relation.evidence, relation_ref, relation_path)

    def _event(self, context: _FileContext, event: schema.EventSeed, path: str) -> None:
        values = {
            "slug": event.slug,
            "title": event.title,
            "summary": event.summary,
            "event_type": event.type,
            "mode": event.mode,
            "modality": event.modality,
            "contexts": list(event.contexts),
            "duration": parse_duration(event.duration) if event.duration else None,
            **_time_values(event.time),
        }
        ref = self._add(
            context,
            "event",
            (event.slug,),
            path,
            values,
            {
                "location_id": ("entity", event.location, f"{path}.location"),
                "parent_id": ("event", event.parent, f"{path}.parent"),
            },
        )
        self._evidence(context, event.evidence, ref, path)
        for index, participant in enumerate(event.participants):
            participant_path = f"{path}.participants[{index}]"
            participant_ref = self._add(
                context,
                "event_participant",
                (event.slug, participant.entity, participant.role),
                participant_path,
                {"role": participant.role},
                {
                    "event_id": ("event", event.slug, participant_path),
                    "entity_id": ("entity", participant.entity, f"{participant_path}.entity"),
                },
            )
            self._evidence(context, participant.evidence, participant_ref, participant_path)

    def _statement(self, context: _FileContext, statement: schema.StatementSeed, path: str) -> None:
        values = {
            "slug": statement.slug,
            "text": statement.text,
            "kind": statement.kind,
            "conveyed_by_description": statement.conveyed_by_description,
        }
        ref = self._add(
            context,
            "statement",
            (statement.slug,),
            path,
            values,
            {
                "speaker_id": ("entity", statement.speaker, f"{path}.speaker"),
                "conveyed_by_id": ("entity", statement.conveyed_by, f"{path}.conveyed_by"),
                "event_id": ("event", statement.event, f"{path}.event"),
            },
        )
        self._evidence(context, statement.evidence, ref, path)
        if statement.kind is StatementKind.DIRECT_QUOTE:
            cited = {
                item.article or context.default_article
                for item in statement.evidence
                if not item.editorial
            }
            bodies = [self.bodies[slug] for slug in cited if slug in self.bodies]
            if not any(statement.text in body for body in bodies):
                self.problems.add(
                    context.file,
                    f"{path}.text",
                    "a direct quote must appear word for word in an article its evidence cites",
                )

    def _dispute(self, context: _FileContext, dispute: schema.DisputeSeed, path: str) -> None:
        values = {
            "slug": dispute.slug,
            "title": dispute.title,
            "kind": dispute.kind,
            "status": dispute.status,
            "summary": dispute.summary,
            **_time_values(dispute.time),
        }
        ref = self._add(context, "dispute", (dispute.slug,), path, values)
        self._evidence(context, dispute.evidence, ref, path)
        own = ("dispute", dispute.slug, path)
        for index, party in enumerate(dispute.parties):
            item_path = f"{path}.parties[{index}]"
            item_ref = self._add(
                context,
                "dispute_party",
                (dispute.slug, party.entity),
                item_path,
                {"role": party.role, "position": party.position},
                {"dispute_id": own, "entity_id": ("entity", party.entity, f"{item_path}.entity")},
            )
            self._evidence(context, party.evidence, item_ref, item_path)
        for index, territory in enumerate(dispute.territories):
            item_path = f"{path}.territories[{index}]"
            if territory.administered_by and territory.administered_by == territory.claimed_by:
                self.problems.add(
                    context.file,
                    f"{item_path}.claimed_by",
                    "the claimant cannot also be the administering party",
                )
            item_ref = self._add(
                context,
                "dispute_territory",
                (dispute.slug, territory.entity),
                item_path,
                {},
                {
                    "dispute_id": own,
                    "entity_id": ("entity", territory.entity, f"{item_path}.entity"),
                    "administered_by_id": (
                        "entity",
                        territory.administered_by,
                        f"{item_path}.administered_by",
                    ),
                    "claimed_by_id": ("entity", territory.claimed_by, f"{item_path}.claimed_by"),
                },
            )
            self._evidence(context, territory.evidence, item_ref, item_path)
        for index, item in enumerate(dispute.events):
            item_path = f"{path}.events[{index}]"
            item_ref = self._add(
                context,
                "dispute_event",
                (dispute.slug, item.event),
                item_path,
                {"role": item.role, "significance": item.significance},
                {"dispute_id": own, "event_id": ("event", item.event, f"{item_path}.event")},
            )
            self._evidence(context, item.evidence, item_ref, item_path)

    # -- whole-run checks ----------------------------------------------------------------

    def _check_references(self) -> None:
        for table in TABLES:
            for row in self.rows[table].values():
                for column, ref in row.refs.items():
                    if ref is None or ref.table not in SLUGGED_TABLES:
                        continue
                    slug = ref.key[0]
                    if ref.key in self.rows[ref.table]:
                        continue
                    if slug in self.known.ids.get(ref.table, {}):
                        continue
                    self._unknown(row.file, row.ref_paths.get(column, row.path), ref.table, slug)

    def _unknown(self, file: str, path: str, table: str, slug: str) -> None:
        message = f"unknown {_label(table)} slug {slug!r}"
        if slug in self.known.removed.get(table, set()):
            message += " (its seed file no longer defines it, so this run deletes it)"
        self.problems.add(file, path, message)


def build_plan(files: list[SeedFileInput], known: KnownRows, problems: Problems) -> Plan:
    return _Planner(files, known, problems).build()
