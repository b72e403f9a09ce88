"""Gazetteer mention detection: every name and alias of every entity, found in an article body.

    names ──fold──▶ one Aho-Corasick automaton (ahocorasick-rs), built once per gazetteer state
    body  ──fold──▶ folded text + the original index of each folded character
          ──automaton, overlapping──▶ every occurrence of every name
          ──keep whole characters, word boundaries──▶ valid candidates
          ──leftmost, then longest──▶ non-overlapping matches (one per entity on a shared span)

Folding (`fold`): compatibility caseless matching with accents removed, character by character
("Étorofu" ~ "etorofu", "KISHIDA" ~ "Kishida", "STRASSE" ~ "Straße", a no-break space ~ a
space), and a run of whitespace folds to one space. A character may fold to several characters
("ß" -> "ss") or to none (a combining accent), so the folded text keeps the original index of
each of its characters: matches are reported as offsets into the ORIGINAL body, and a match
must begin and end on whole original characters.

Case: a name written with a capital letter is not found in all-lowercase text, where it is
most likely a common word ("the North" is North Korea, "the north" a direction; "Foreign
Ministry" is Japan's in the seed data, a "foreign ministry" anyone's); otherwise case does not
matter ("KISHIDA", "The North").

Why the library's overlapping search and not its leftmost-longest kind: leftmost-longest picks
one match per place before word boundaries can be checked, so with the names ["Japan", "Japan
Air"] it would find "Japan Air" in "Japan Airlines", reject it (it ends inside "Airlines") and
lose the valid "Japan" beneath it. So every occurrence is collected, those that fail the checks
are dropped, and leftmost-longest is applied to the rest.

Word boundaries: the characters just outside a match must not be letters, digits or combining
marks ("Japan" in "Japan-Russia" and "Japan's", not in "Japanese"; "A.B." not in "A.B.C").
Scripts written without spaces between words (Han, kana, Thai, ...) have no such boundaries, so
the rule is not applied where either side is one of their characters: "日本" is found in
"日本人".

An ambiguous name (one folded name shared by several entities, e.g. "Tokyo" for the city and,
as a metonym, for Japan) yields one match per entity on the same span; `detect_mentions` stores
one mention for the span, with no entity and the n entities it may be, confidence 1/n, for an
editor to resolve. Names shorter than 2 characters (after folding) are ignored.
"""

import asyncio
import logging
import re
import unicodedata
import uuid
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache

from ahocorasick_rs import AhoCorasick, MatchKind
from sqlalchemy import delete, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from db.candidates import store_candidates
from db.enums import MentionMethod
from db.models import Article, Entity, EntityAlias, Mention
from db.recognizer import Candidate, recognize

logger = logging.getLogger(__name__)

MIN_NAME_LENGTH = 2


@dataclass(frozen=True, slots=True)
class Match:
    """`entity_id` is named at body[start:end] == surface (Python str offsets)."""

    entity_id: uuid.UUID
    start: int
    end: int
    surface: str


# Folding


@cache
def fold(char: str) -> str:
    """What one character folds to: zero, one or several characters (see the module doc)."""
    if char.isspace():
        return " "
    # Unicode's compatibility caseless match: NFKD(casefold(NFKD(casefold(NFD(c))))).
    folded = unicodedata.normalize("NFD", char).casefold()
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", folded).casefold())
    return "".join(c for c in folded if not unicodedata.combining(c))


# str.translate folds a whole text at C speed; the table learns each character when first seen.
_FOLD_TABLE: dict[int, str] = {}
_SPACE_RUN = re.compile(" {2,}")


def _learn(text: str) -> bool:
    """Put every character of `text` in the table; whether each folds to exactly one."""
    one_to_one = True
    for char in set(text):
        folded = _FOLD_TABLE.get(ord(char))
        if folded is None:
            folded = _FOLD_TABLE[ord(char)] = fold(char)
        one_to_one = one_to_one and len(folded) == 1
    return one_to_one


class FoldedText:
    """A text folded for matching (`text`), and `origin`: the way back to the original offsets."""

    def __init__(self, original: str) -> None:
        # Step 1, character by character. Usually (ASCII, NFC accents) every character folds to
        # exactly one and the offsets are unchanged; otherwise they are kept per character.
        self._char_origins: Sequence[int]
        if _learn(original):
            spaced = original.translate(_FOLD_TABLE)
            self._char_origins = range(len(original))
        else:
            parts: list[str] = []
            origins: list[int] = []
            for index, char in enumerate(original):
                folded = _FOLD_TABLE[ord(char)]
                parts.append(folded)
                origins.extend([index] * len(folded))
            spaced = "".join(parts)
            self._char_origins = origins
        # Step 2, a run of spaces to one: from `_breaks[k]` on, `_shifts[k]` characters of the
        # step-1 text lie before each character of `text` that are not in it.
        self._breaks: list[int] = []
        self._shifts: list[int] = []
        dropped = 0
        for run in _SPACE_RUN.finditer(spaced):
            self._breaks.append(run.start() - dropped + 1)
            dropped += len(run[0]) - 1
            self._shifts.append(dropped)
        self.text = _SPACE_RUN.sub(" ", spaced) if dropped else spaced

    def origin(self, index: int) -> int:
        """The index of the original character that `text[index]` comes from."""
        run = bisect_right(self._breaks, index)
        return self._char_origins[index + (self._shifts[run - 1] if run else 0)]


def fold_name(name: str) -> str:
    return FoldedText(name.strip()).text


# Word boundaries

# Scripts written without spaces between words: the boundary rule does not apply beside them.
_UNSPACED_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # halfwidth Katakana
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


@cache
def _is_word_char(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char).startswith("M")


@cache
def _is_unspaced(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _UNSPACED_RANGES)


def _is_boundary(outside: str, inside: str) -> bool:
    """Whether a match may begin or end between `outside` and `inside` (its edge character)."""
    return not _is_word_char(outside) or _is_unspaced(outside) or _is_unspaced(inside)


def _has_capital(text: str) -> bool:
    return any(char.isupper() for char in text)


# The matcher


class Gazetteer:
    """An immutable multi-pattern matcher over (entity id, name) pairs: canonical names and
    aliases alike. Build it once and call `find` for each body."""

    def __init__(self, names: Iterable[tuple[uuid.UUID, str]]) -> None:
        # folded name -> {entity: whether every name of it that folds so has a capital letter}
        entities_by_name: dict[str, dict[uuid.UUID, bool]] = {}
        for entity_id, name in names:
            folded = fold_name(name)
            if len(folded) >= MIN_NAME_LENGTH:
                entities = entities_by_name.setdefault(folded, {})
                entities[entity_id] = entities.get(entity_id, True) and _has_capital(name)
        self._entities = list(entities_by_name.values())
        self._automaton = (
            AhoCorasick(list(entities_by_name), matchkind=MatchKind.Standard, store_patterns=False)
            if entities_by_name
            else None
        )

    def __len__(self) -> int:
        """The number of distinct folded names."""
        return len(self._entities)

    def find(self, body: str) -> list[Match]:
        """Every entity named in `body`, in body order: leftmost first, the longest name at each
        place, no overlaps; an ambiguous name gives one match per entity on the same span."""
        if self._automaton is None or not body:
            return []
        folded = FoldedText(body)
        entities_by_span: dict[tuple[int, int], dict[uuid.UUID, None]] = {}
        for pattern, folded_start, folded_end in self._automaton.find_matches_as_indexes(
            folded.text, overlapping=True
        ):
            span = _original_span(folded, body, folded_start, folded_end)
            if span is None:
                continue
            lowercase = not _has_capital(body[span[0] : span[1]])
            named = [
                entity_id
                for entity_id, capitalized in self._entities[pattern].items()
                if not (capitalized and lowercase)
            ]
            if named:
                entities_by_span.setdefault(span, {}).update(dict.fromkeys(named))

        matches: list[Match] = []
        taken_until = 0
        for start, end in sorted(entities_by_span, key=lambda span: (span[0], -span[1])):
            if start < taken_until:
                continue
            taken_until = end
            surface = body[start:end]
            matches.extend(
                Match(entity_id, start, end, surface) for entity_id in entities_by_span[start, end]
            )
        return matches


def _original_span(
    folded: FoldedText, body: str, folded_start: int, folded_end: int
) -> tuple[int, int] | None:
    """A match's span in `body`, or None unless it covers whole characters and stands between
    word boundaries."""
    start = folded.origin(folded_start)
    last = folded.origin(folded_end - 1)
    if folded_start > 0 and folded.origin(folded_start - 1) == start:
        return None  # it begins inside what one character folded to (the second "s" of "ß")
    if folded_end < len(folded.text) and folded.origin(folded_end) == last:
        return None
    end = last + 1
    while end < len(body) and not _FOLD_TABLE[ord(body[end])]:
        end += 1  # the accents that belong to the last character
    if start > 0 and not _is_boundary(body[start - 1], body[start]):
        return None
    if end < len(body) and not _is_boundary(body[end], body[end - 1]):
        return None
    return start, end


# The database side

# (entity rows, entity last change, alias rows, alias last change): one cheap query instead of
# reading every name. updated_at is set on every ORM insert and update and a deletion changes a
# count, so the fingerprint changes whenever a name does, with two exceptions, both unlikely:
# updated_at is now(), the transaction's start time, so a rename in a transaction that began
# before the latest committed change, or a rename later in the very transaction that loaded the
# gazetteer, leaves it unchanged. Callers in those situations pass
# `gazetteer=await load_gazetteer(session)`.
Fingerprint = tuple[int, datetime | None, int, datetime | None]


@dataclass(slots=True)
class _Cache:
    fingerprint: Fingerprint | None = None
    gazetteer: Gazetteer | None = None


_cache = _Cache()


async def load_gazetteer(session: AsyncSession) -> Gazetteer:
    """A new gazetteer of every entity's canonical name and aliases (one query)."""
    names = select(Entity.id, Entity.name).union_all(
        select(EntityAlias.entity_id, EntityAlias.name)
    )
    rows = [(entity_id, name) for entity_id, name in await session.execute(names)]
    # Building the automaton takes a few hundred milliseconds for 20,000 names: off the loop.
    return await asyncio.to_thread(Gazetteer, rows)


async def gazetteer_fingerprint(session: AsyncSession) -> Fingerprint:
    """A cheap summary of the entity and alias tables that changes when their names do."""
    entities = select(func.count().label("rows"), func.max(Entity.updated_at).label("at"))
    aliases = select(func.count().label("rows"), func.max(EntityAlias.updated_at).label("at"))
    entity_state = entities.subquery()
    alias_state = aliases.subquery()
    query = select(
        entity_state.c.rows, entity_state.c.at, alias_state.c.rows, alias_state.c.at
    ).select_from(entity_state.join(alias_state, true()))
    entity_rows, entity_change, alias_rows, alias_change = (await session.execute(query)).one()
    return entity_rows, entity_change, alias_rows, alias_change


async def current_gazetteer(session: AsyncSession) -> Gazetteer:
    """The gazetteer for the database's current names, reused while its fingerprint holds.

    One gazetteer is kept per process, with the fingerprint it was built at; a different
    fingerprint (names added, changed or deleted) rebuilds it.
    """
    fingerprint = await gazetteer_fingerprint(session)
    if _cache.gazetteer is None or _cache.fingerprint != fingerprint:
        _cache.gazetteer = await load_gazetteer(session)
        _cache.fingerprint = fingerprint
    return _cache.gazetteer


def clear_gazetteer_cache() -> None:
    _cache.fingerprint = None
    _cache.gazetteer = None


# The most mentions detection stores for one article, the first in body order. A real article
# names a few dozen entities a few times each; a 500 KB body made of entity names gave 74,072
# mentions, 18.9 s of writing and a 15 MB `include=mentions` read.
MAX_DETECTED_MENTIONS = 1000


@dataclass(frozen=True, slots=True)
class Detection:
    """What a body names: the known entities on each span (several: an ambiguous name), and
    the candidates, the names no entity matches."""

    entities_by_span: dict[tuple[int, int], list[uuid.UUID]]
    candidates: list[Candidate]


def detect(
    gazetteer: Gazetteer,
    body: str,
    *,
    candidates: bool = True,
    mentioned: Iterable[tuple[int, int]] = (),
) -> Detection:
    """The gazetteer's matches in `body` by span, and with `candidates` the unknown names
    (db/recognizer.py), which are neither matches nor `mentioned` spans (an editor's); a known
    name inside a new place or event name is dropped ("China" in "East China Sea"). Pure CPU
    work, no database: the evaluation (tests/eval/) runs it too."""
    matches = gazetteer.find(body)
    found: list[Candidate] = []
    if candidates:
        recognition = recognize(body, [*((m.start, m.end) for m in matches), *mentioned])
        matches = [m for m in matches if (m.start, m.end) not in recognition.enclosed]
        found = recognition.candidates
    entities_by_span: dict[tuple[int, int], list[uuid.UUID]] = {}
    for match in matches:
        entities_by_span.setdefault((match.start, match.end), []).append(match.entity_id)
    return Detection(entities_by_span, found)


def _confidence(entities_on_span: int) -> Decimal:
    return (Decimal(1) / entities_on_span).quantize(Decimal("0.001"))


async def detect_mentions(
    session: AsyncSession,
    *,
    article: Article,
    gazetteer: Gazetteer | None = None,
    candidates: bool = True,
) -> list[Mention]:
    """Replace the article's gazetteer mentions with those found in its body now, and return
    them in body order; with `candidates`, replace its pending candidates too (the names no
    entity matches, db/recognizer.py), keeping those an editor accepted or rejected.

    At most MAX_DETECTED_MENTIONS are stored, the first in body order. Mentions of any other
    method (curated) stay; a match on the span of one of them is not stored again. A name shared
    by n entities is one ambiguous mention, with no entity, the n in `possible_entity_ids` and
    confidence 1/n (3 decimals); otherwise confidence is 1. A known name inside a new place or
    event name ("China" in "East China Sea") is not a mention. Flushes; the caller commits.
    """
    if gazetteer is None:
        gazetteer = await current_gazetteer(session)
    # Two detections of one article at once take turns instead of colliding on the unique
    # (article, entity, span) key; NO KEY UPDATE leaves inserts that reference it unblocked.
    await session.execute(
        select(Article.id).where(Article.id == article.id).with_for_update(key_share=True)
    )
    await session.execute(
        delete(Mention).where(
            Mention.article_id == article.id, Mention.method == MentionMethod.GAZETTEER
        )
    )
    kept = await session.execute(
        select(Mention.start_offset, Mention.end_offset).where(Mention.article_id == article.id)
    )
    # A curated mention settles its span, whichever entity it names.
    already_mentioned = {(start, end) for start, end in kept}

    # Matching a long body is CPU work (seconds for 500 KB of names): off the event loop.
    detection = await asyncio.to_thread(
        detect, gazetteer, article.body, candidates=candidates, mentioned=already_mentioned
    )
    spans = sorted(detection.entities_by_span)
    if len(spans) > MAX_DETECTED_MENTIONS:
        logger.warning(
            "article %s: %d mentions detected, the first %d stored",
            article.slug,
            len(spans),
            MAX_DETECTED_MENTIONS,
        )
        spans = spans[:MAX_DETECTED_MENTIONS]
    entities_by_span = detection.entities_by_span
    mentions = []
    for start, end in spans:
        if (start, end) in already_mentioned:
            continue
        entities = entities_by_span[start, end]
        mentions.append(
            Mention(
                article_id=article.id,
                entity_id=entities[0] if len(entities) == 1 else None,
                possible_entity_ids=sorted(entities) if len(entities) > 1 else None,
                start_offset=start,
                end_offset=end,
                surface=article.body[start:end],
                method=MentionMethod.GAZETTEER,
                confidence=_confidence(len(entities)),
            )
        )
    session.add_all(mentions)
    await session.flush()
    if candidates:
        await store_candidates(session, article=article, candidates=detection.candidates)
    return mentions
