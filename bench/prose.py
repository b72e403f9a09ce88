"""Sentence templates and the article body builder that records mention offsets as it writes.

A template is a tuple of segments: a `str` is literal text, an `int` is a slot for the n-th
entity of the sentence. Bodies are concatenated segment by segment, so each mention's
[start, end) is known exactly when it is written; nothing is searched for afterwards.
"""

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from db.enums import EventType, ParticipantRole

Segment = str | int

_NOUNS = (
    "talks", "peace plan", "ceasefire", "trade deal", "border crossing", "aid convoy",
    "fishing quota", "shipping lane", "budget", "election", "pipeline", "summit", "treaty",
    "investigation", "sanctions regime", "water-sharing accord", "prisoner exchange",
    "customs union", "energy tariff", "security pact", "airspace agreement", "port lease",
)  # fmt: skip
_ADJECTIVES = (
    "uncertain", "fragile", "stalled", "on track", "under review", "contested", "promising",
    "deadlocked", "tense", "cautiously hopeful", "unresolved", "in doubt",
)  # fmt: skip
_TIMES = (
    "next week", "later this month", "on Monday", "on Tuesday", "on Wednesday", "on Thursday",
    "on Friday", "over the weekend", "this year", "before the summer", "by the end of the year",
)  # fmt: skip
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

_FILLER = (
    "Officials said the {noun} would be reviewed {time}.",
    "The {noun} has been {adj} since {month}.",
    "Analysts expect the {noun} to remain {adj} {time}.",
    "About {number} people attended a briefing on the {noun} {time}.",
    "Talks on the {noun} are expected to resume {time}.",
    "No date has been set for the next round of negotiations on the {noun}.",
    "Observers described the mood around the {noun} as {adj}.",
    "The figures could not be independently verified.",
    "Critics say the {noun} does little to address the {noun2}.",
    "A statement issued {time} gave no further details about the {noun}.",
    "Local media reported that the {noun} had been {adj} for weeks.",
    "The {noun} was first proposed {number} years ago.",
    "Diplomats said privately that the {noun} and the {noun2} were linked.",
    "Some {number} delegates are expected to attend the meeting {time}.",
    "The cost of the {noun} is estimated at {number} million dollars.",
    "Previous rounds of talks on the {noun} ended without agreement.",
)
_ONE_ENTITY = (
    "{0} said the {noun} remained {adj}.",
    "A spokesperson for {0} declined to comment on the {noun}.",
    "{0} has repeatedly called for progress on the {noun}.",
    "According to {0}, the {noun} will be discussed {time}.",
    "{0} did not respond to a request for comment.",
    "Officials in {0} described the {noun} as {adj}.",
    "{0} announced a review of the {noun} {time}.",
    "The position of {0} on the {noun} has not changed since {month}.",
)
_TWO_ENTITIES = (
    "{0} met {1} {time} to discuss the {noun}.",
    "{0} and {1} exchanged views on the {noun}.",
    "{0} urged {1} to show restraint over the {noun}.",
    "Relations between {0} and {1} have been {adj} since {month}.",
    "{0} welcomed the position taken by {1} on the {noun}.",
    "{0} said it was ready to work with {1} on the {noun}.",
)


@dataclass(frozen=True, slots=True)
class Template:
    segments: tuple[Segment, ...]
    words: int  # words of the sentence, not counting the entity names in its slots


@dataclass(frozen=True, slots=True)
class EventPhrase:
    """How an article reports one PLOVER event type between an actor ({0}) and {1}."""

    past: str
    base: str
    other_role: ParticipantRole
    headline: str
    modes: tuple[str, ...]


R = ParticipantRole
EVENT_PHRASES: dict[EventType, EventPhrase] = {
    EventType.AGREE: EventPhrase(
        "signed an agreement with {1} on the {noun}",
        "sign an agreement with {1} on the {noun}",
        R.RECIPIENT, "agrees deal with", ("formal", "verbal"),
    ),
    EventType.CONSULT: EventPhrase(
        "held talks with {1} about the {noun}", "hold talks with {1} about the {noun}",
        R.RECIPIENT, "holds talks with", ("phone", "visit", "third-party", "multilateral"),
    ),
    EventType.SUPPORT: EventPhrase(
        "voiced support for {1} over the {noun}", "voice support for {1} over the {noun}",
        R.RECIPIENT, "backs", ("diplomatic", "political"),
    ),
    EventType.CONCEDE: EventPhrase(
        "made concessions to {1} on the {noun}", "make concessions to {1} on the {noun}",
        R.RECIPIENT, "concedes to", ("policy", "territory"),
    ),
    EventType.COOPERATE: EventPhrase(
        "agreed to cooperate with {1} on the {noun}", "cooperate with {1} on the {noun}",
        R.RECIPIENT, "cooperates with", ("economic", "military", "intelligence"),
    ),
    EventType.AID: EventPhrase(
        "sent aid to {1}", "send aid to {1}",
        R.BENEFICIARY, "sends aid to", ("humanitarian", "economic", "military"),
    ),
    EventType.RETREAT: EventPhrase(
        "withdrew forces facing {1}", "withdraw forces facing {1}",
        R.TARGET, "pulls back from", ("withdraw", "release"),
    ),
    EventType.REQUEST: EventPhrase(
        "asked {1} to reconsider the {noun}", "ask {1} to reconsider the {noun}",
        R.RECIPIENT, "asks", ("assistance", "negotiation"),
    ),
    EventType.ACCUSE: EventPhrase(
        "accused {1} of undermining the {noun}", "accuse {1} of undermining the {noun}",
        R.TARGET, "accuses", ("allege", "criticize"),
    ),
    EventType.REJECT: EventPhrase(
        "rejected a proposal from {1} on the {noun}", "reject a proposal from {1} on the {noun}",
        R.RECIPIENT, "rejects", ("proposal", "demand"),
    ),
    EventType.THREATEN: EventPhrase(
        "threatened {1} with sanctions over the {noun}",
        "threaten {1} with sanctions over the {noun}",
        R.TARGET, "threatens", ("sanctions", "force"),
    ),
    EventType.PROTEST: EventPhrase(
        "lodged a protest with {1} over the {noun}", "lodge a protest with {1} over the {noun}",
        R.TARGET, "protests to", ("demonstrate", "diplomatic"),
    ),
    EventType.SANCTION: EventPhrase(
        "imposed sanctions on {1}", "impose sanctions on {1}",
        R.TARGET, "sanctions", ("economic", "travel"),
    ),
    EventType.MOBILIZE: EventPhrase(
        "put troops on alert near {1}", "put troops on alert near {1}",
        R.TARGET, "mobilizes against", ("troops", "police"),
    ),
    EventType.COERCE: EventPhrase(
        "detained nationals of {1}", "detain nationals of {1}",
        R.TARGET, "detains nationals of", ("arrest", "seize"),
    ),
    EventType.ASSAULT: EventPhrase(
        "carried out strikes against {1}", "carry out strikes against {1}",
        R.TARGET, "strikes", ("aerial", "firearms"),
    ),
}  # fmt: skip

_SLOT = re.compile(r"\{(\d)\}")


def fill(rng: random.Random, text: str) -> str:
    """Fill the vocabulary placeholders ({noun}, {adj}, ...); entity slots ({0}) stay."""
    return (
        text.replace("{noun2}", rng.choice(_NOUNS))
        .replace("{noun}", rng.choice(_NOUNS))
        .replace("{adj}", rng.choice(_ADJECTIVES))
        .replace("{time}", rng.choice(_TIMES))
        .replace("{month}", rng.choice(_MONTHS))
        .replace("{number}", str(rng.randint(2, 900)))
    )


def compile_template(text: str) -> Template:
    pieces = _SLOT.split(text)
    # re.split with one group alternates literal text and slot numbers.
    segments: list[Segment] = [
        int(piece) if position % 2 else piece for position, piece in enumerate(pieces) if piece
    ]
    # Count words as str.split() will in the finished body: a slot stands for one word here,
    # so punctuation right after a slot ("{1}.") is not counted as a word of its own.
    placeholder = "".join(piece if isinstance(piece, str) else "X" for piece in segments)
    slots = sum(1 for piece in segments if isinstance(piece, int))
    return Template(tuple(segments), len(placeholder.split()) - slots)


@dataclass(frozen=True, slots=True)
class TemplatePool:
    filler: tuple[Template, ...]
    one_entity: tuple[Template, ...]
    two_entities: tuple[Template, ...]


def make_pool(rng: random.Random, size: int = 2048) -> TemplatePool:
    """Pre-filled templates, so writing an article is mostly picking and concatenating."""

    def many(sources: Sequence[str]) -> tuple[Template, ...]:
        return tuple(compile_template(fill(rng, rng.choice(sources))) for _ in range(size))

    return TemplatePool(many(_FILLER), many(_ONE_ENTITY), many(_TWO_ENTITIES))


class BodyBuilder:
    """Writes an article body sentence by sentence, recording where each mention lands."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self.length = 0
        self.words = 0
        self.sentences = 0
        # (entity index, start, end, surface)
        self.mentions: list[tuple[int, int, int, str]] = []

    def text(self, literal: str) -> None:
        self._parts.append(literal)
        self.length += len(literal)
        self.words += len(literal.split())

    def sentence(
        self, template: Template, entities: Sequence[int], surfaces: Sequence[str]
    ) -> tuple[int, int]:
        """Append one sentence; returns its [start, end) span."""
        start = self.length
        for segment in template.segments:
            if isinstance(segment, str):
                self._parts.append(segment)
                self.length += len(segment)
            else:
                surface = surfaces[segment]
                end = self.length + len(surface)
                self.mentions.append((entities[segment], self.length, end, surface))
                self._parts.append(surface)
                self.length = end
                self.words += surface.count(" ") + 1
        self.words += template.words
        self.sentences += 1
        return start, self.length

    def body(self) -> str:
        return "".join(self._parts)


def event_template(
    rng: random.Random, phrase: EventPhrase, modality: str, participants: int
) -> tuple[Template, str]:
    """The sentence reporting an event with 2-4 participants, and its plain-text pattern."""
    extras = ""
    if participants >= 3:
        extras += ", in talks mediated by {2}"
    if participants >= 4:
        extras += ", a move that concerns {3}"
    if modality == "negated":
        text = "{0} did not " + phrase.base + extras + ", officials said."
    elif modality == "intended":
        text = "{0} said it intends to " + phrase.base + extras + "."
    elif modality == "hypothetical":
        text = "{0} could " + phrase.base + extras + " if talks break down."
    else:
        text = "{0} " + phrase.past + extras + " " + rng.choice(_TIMES) + "."
    filled = fill(rng, text)
    return compile_template(filled), filled


def extra_roles(participants: int) -> list[ParticipantRole]:
    """Roles of the third and fourth participants of `event_template`'s sentences."""
    return [ParticipantRole.MEDIATOR, ParticipantRole.SUBJECT][: max(0, participants - 2)]


def render(pattern: str, names: Sequence[str]) -> str:
    return _SLOT.sub(lambda match: names[int(match.group(1))], pattern)


def month_name(month: int) -> str:
    return _MONTHS[month - 1]
