"""Proper names in an article body that the gazetteer does not know: rule-based, no model.

    body ──tokens──▶ words with their offsets ("U.S." and "Jong-un" are one word each)
         ──runs──▶ maximal runs of capitalised words on one line, joined by "of", "the",
                    "de", ... only between two capitalised words ("Ministry of Foreign Affairs")
         ──names──▶ each run, trimmed and split:
              - a possessive ends the run at the name ("Japan's" -> "Japan");
              - leading words that are not names go: "The", a demonym ("Japanese"), a sentence's
                first word that the body also writes in lower case ("Mentioning");
              - a title splits it: "U.S. Secretary of State Antony Blinken" is a person,
                "Antony Blinken", cue "Secretary of State"; a title alone is no name;
              - a known name (a gazetteer match) splits it too, unless the run ends in a cue word
                that makes it a name of its own ("East China Sea", "U.N. Security Council");
         ──kinds──▶ from the cue: a title (person), a last word ("Islands": territory, "Sea":
                    place, "Council": organization, "Summit": event), a first word followed by
                    "of" ("Ministry of ..."); else two or three plain words are guessed a
                    person, and anything else `other`, with no cue
         ──grouping──▶ one candidate per name; a later lone surname or given name of a person
                    candidate ("Blinken said") is another span of it

Every offset is into the original body (Python str offsets), and body[start:end] is the
surface exactly.
"""

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from db.enums import CandidateKind

# At most this many distinct candidates per article (a body of nothing but capitalised words
# would otherwise yield thousands), the first in body order.
MAX_CANDIDATES = 200
# At most this many spans of one candidate (as detection stores at most 1,000 mentions).
MAX_SPANS = 1000
# Longer runs are not names (an entity name holds at most 300 characters).
MAX_NAME_LENGTH = 200

# A word: letters, with inner apostrophes and hyphens followed by a letter; or an initialism
# written with full stops ("U.S.", "U.N."); or an abbreviated title ("Mr.", "Gen.").
_WORD = re.compile(
    r"(?:[^\W\d_]\.){2,}"
    r"|(?:Mr|Mrs|Ms|Dr|Gen|Lt|Col|Sen|Rep|Gov|Prof|St)\.(?=\s)"
    r"|[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*"
)
_POSSESSIVE = re.compile("['\u2019]s$")
# Between two words of a run: one space (or a no-break space), nothing else.
_GAP = re.compile(r"[ \u00a0]")


def _words_of(text: str) -> frozenset[str]:
    return frozenset(text.split())


CONNECTORS = frozenset(
    {"of", "the", "de", "del", "da", "du", "la", "le", "van", "von", "bin", "al"}
)

# Words that begin a sentence or a run without being, or starting, a name.
STOPWORDS = _words_of(
    """
    a about according after again against all also although among an and another any are as
    at because been before being between both but by can could despite did do does during
    each earlier either even every few following for from further had has have he her here
    hers him his how however i if in including into is it its just last later later least
    less many may meanwhile might more most much must my neither next no nor not now of on
    once one only or other our out over own per perhaps same several she should since so
    some still such than that the their theirs them then there these they this those though
    through thus to too toward towards under unless until upon us very was we were what
    whatever when where whether which while who whom whose why will with within without
    would yet you your yesterday today tomorrow tonight
    """
)

# Times and days are capitalised but no entity.
CALENDAR = _words_of(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december
    """
)

# Nationality adjectives: they qualify a name ("Japanese Foreign Minister ...") and are not one.
DEMONYMS = _words_of(
    """
    american australian british canadian chinese dutch egyptian european filipino french
    german indian indonesian iranian iraqi israeli italian japanese korean malaysian mexican
    mongolian north south palestinian russian saudi soviet spanish syrian taiwanese thai
    turkish ukrainian vietnamese western eastern asian african arab brazilian polish swedish
    """
)

# Titles (longest first is how they are matched): the words after one are a person's name.
TITLES = tuple(
    sorted(
        (
            tuple(title.split())
            for title in """
            President|Vice President|Prime Minister|Deputy Prime Minister|Foreign Minister|
            Defense Minister|Defence Minister|Finance Minister|Trade Minister|Minister|
            Chief Cabinet Secretary|Secretary of State|Secretary of Defense|Defense Secretary|
            Secretary-General|Secretary General|Secretary|Deputy Secretary of State|
            Ambassador|Chancellor|Premier|King|Queen|Emperor|Empress|Prince|Princess|Pope|
            Governor|Mayor|Senator|Sen.|Rep.|Representative|Chairman|Chairwoman|Chair|
            Spokesman|Spokeswoman|Spokesperson|Press Secretary|Leader|General|Gen.|Admiral|
            Lt.|Col.|Gov.|Prof.|Mr.|Mrs.|Ms.|Dr.|Mr|Mrs|Ms|Dr|Director|Commissioner|
            Foreign Ministry Spokesman|Foreign Ministry spokesman|National Security Adviser|
            Justice|Judge|Chief Justice|Crown Prince
            """.replace("\n", "").split("|")
            if title.strip()
        ),
        key=len,
        reverse=True,
    )
)

# A run's last word, and what it makes the run.
SUFFIX_CUES: dict[str, CandidateKind] = {
    **dict.fromkeys(
        _words_of(
            """
            Islands Island Isles Islets Atoll
            """
        ),
        CandidateKind.TERRITORY,
    ),
    **dict.fromkeys(
        _words_of(
            """
            Sea Ocean Strait Straits Gulf Bay River Peninsula Mountains Mountain Lake
            Province Prefecture Region Valley Desert Canal Coast Plateau Basin Reef Shoal
            Shoals
            """
        ),
        CandidateKind.PLACE,
    ),
    **dict.fromkeys(
        _words_of(
            """
            Council Ministry Agency Organization Organisation Committee Commission
            Parliament Assembly Party Bank Fund Union Forces Force Guard Army Navy
            Department Office University Court Corporation Corp. Inc. Association Institute
            Senate Congress Cabinet Diet Group Alliance Secretariat Bureau Administration
            Government Police News Times Post Company Co. Foundation Federation League
            Programme Program Service Services Authority
            """
        ),
        CandidateKind.ORGANIZATION,
    ),
    **dict.fromkeys(
        _words_of(
            """
            Summit War Conference Olympics Games Talks Forum Dialogue Crisis Election
            Elections Incident Declaration Treaty Agreement Accord Accords Revolution
            Uprising Massacre Games Cup Expo
            """
        ),
        CandidateKind.EVENT,
    ),
}
# A run's first word when "of" follows it ("Ministry of Foreign Affairs", "Sea of Japan").
PREFIX_CUES: dict[str, CandidateKind] = {
    **dict.fromkeys(
        _words_of(
            """
            Ministry Council Bank University Department Office Court Organization
            """
        ),
        CandidateKind.ORGANIZATION,
    ),
    **dict.fromkeys(
        _words_of(
            """
            Sea Gulf Strait Bay Isle Straits
            """
        ),
        CandidateKind.PLACE,
    ),
    **dict.fromkeys(
        _words_of(
            """
            Republic Kingdom Commonwealth
            """
        ),
        CandidateKind.COUNTRY,
    ),
    **dict.fromkeys(
        _words_of(
            """
            Battle Treaty Siege
            """
        ),
        CandidateKind.EVENT,
    ),
}
# A known name inside a run of these kinds is part of its name, not a mention of its own:
# "China" in "East China Sea" is not China.
ENCLOSING_KINDS = frozenset({CandidateKind.PLACE, CandidateKind.TERRITORY, CandidateKind.EVENT})


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    start: int
    end: int
    possessive: bool  # "Japan's": the word is "Japan", and a name ends with it
    sentence_start: bool

    @property
    def capitalised(self) -> bool:
        return self.text[0].isupper()


@dataclass(slots=True)
class Candidate:
    """An unknown name, every span where the body names it, its suggested kind and why."""

    name: str
    kind: CandidateKind
    cue: str | None
    spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[0][1]

    @property
    def suggested_slug(self) -> str:
        return slugify(self.name)[:120].strip("-") or "entity"


@dataclass(frozen=True, slots=True)
class Recognition:
    candidates: list[Candidate]
    # Known-name spans inside a candidate that encloses them ("China" in "East China Sea").
    enclosed: set[tuple[int, int]]


def _words(body: str) -> list[_Word]:
    words: list[_Word] = []
    previous_end = 0
    for match in _WORD.finditer(body):
        text, start, end = match.group(), match.start(), match.end()
        between = body[previous_end:start]
        sentence_start = not words or bool(re.search(r"[.!?:\"“”\n•]\s*$|^\s*[\"“]", between))
        possessive = bool(_POSSESSIVE.search(text)) and len(text) > 2
        if possessive:
            text, end = text[:-2], end - 2
        words.append(_Word(text, start, end, possessive, sentence_start))
        previous_end = match.end()
    return words


def _runs(body: str, words: Sequence[_Word]) -> list[list[_Word]]:
    """Maximal runs of capitalised words, joined by single spaces, with connectors inside."""
    runs: list[list[_Word]] = []
    current: list[_Word] = []
    index = 0
    while index < len(words):
        word = words[index]
        joined = bool(current) and _GAP.fullmatch(body[current[-1].end : word.start]) is not None
        if word.capitalised and (not current or joined):
            current.append(word)
            index += 1
            if word.possessive and word.text != "People":
                runs.append(current)
                current = []
            continue
        # A connector continues a run only between two capitalised words ("Sea of Japan").
        if (
            current
            and joined
            and word.text in CONNECTORS
            and index + 1 < len(words)
            and words[index + 1].capitalised
            and _GAP.fullmatch(body[word.end : words[index + 1].start])
        ):
            current.append(word)
            index += 1
            continue
        if current:
            runs.append(current)
        current = [word] if word.capitalised else []
        index += 1
    if current:
        runs.append(current)
    return runs


def _trim(run: list[_Word], lowercase_words: set[str]) -> list[_Word]:
    """The run without what cannot start or end a name. A demonym stays in a name ending in a
    cue word ("Korean Peninsula", "Chinese Coast Guard")."""
    named = len(run) > 1 and run[-1].text in SUFFIX_CUES
    first, last = 0, len(run)
    while first < last:
        word = run[first]
        lowered = word.text.lower()
        if (
            lowered in STOPWORDS
            or lowered in CALENDAR
            or (lowered in DEMONYMS and not named)
            or word.text in CONNECTORS
            or (word.sentence_start and (lowered in lowercase_words or _verb_like(lowered)))
            or _qualifier(word.text)
        ):
            first += 1
        else:
            break
    while last > first and (
        run[last - 1].text in CONNECTORS or run[last - 1].text.lower() in CALENDAR
    ):
        last -= 1
    return run[first:last]


def _verb_like(word: str) -> bool:
    """A sentence's first word that reads as a verb or adverb ("Mentioning", "Asked")."""
    return len(word) > 4 and word.endswith(("ing", "ed", "ly"))


def _qualifier(word: str) -> bool:
    """A hyphenated adjective made of a demonym ("Russian-held", "Chinese-made")."""
    head, _, tail = word.partition("-")
    return bool(tail) and tail.islower() and head.lower() in DEMONYMS


_ROMAN = re.compile(r"^(?:I{1,3}|IV|V|VI{1,3}|IX|X)$")


# The titles by their first word, longest first.
_TITLES_BY_FIRST_WORD: dict[str, list[tuple[str, ...]]] = {}
for _title in TITLES:
    _TITLES_BY_FIRST_WORD.setdefault(_title[0], []).append(_title)


def _title_at(run: Sequence[_Word], index: int) -> int:
    """The length of the title starting at run[index], 0 if none."""
    for title in _TITLES_BY_FIRST_WORD.get(run[index].text, ()):
        if tuple(word.text for word in run[index : index + len(title)]) == title:
            return len(title)
    return 0


def _kind(run: Sequence[_Word]) -> tuple[CandidateKind, str | None]:
    last = run[-1].text
    if len(run) > 2 and _ROMAN.match(last):
        last = run[-2].text  # "World War II"
    if len(run) > 1 and last in SUFFIX_CUES:
        return SUFFIX_CUES[last], last
    if len(run) > 2 and run[1].text == "of" and run[0].text in PREFIX_CUES:
        return PREFIX_CUES[run[0].text], f"{run[0].text} of"
    if 2 <= len(run) <= 3 and all(
        word.text.isalpha() and word.text[0].isupper() and word.text[1:].islower() for word in run
    ):
        return CandidateKind.PERSON, None
    return CandidateKind.OTHER, None


class _Known:
    """The known spans, for "which of them overlap [start, end)" in logarithmic time: a body
    made of names has tens of thousands of them."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        self.spans = sorted(set(spans))
        self.starts = [start for start, _ in self.spans]
        self.max_end = list(accumulate((end for _, end in self.spans), max))

    def overlapping(self, start: int, end: int) -> list[tuple[int, int]]:
        index = bisect_left(self.starts, end) - 1
        found = []
        while index >= 0 and self.max_end[index] > start:
            if self.spans[index][1] > start:
                found.append(self.spans[index])
            index -= 1
        return found[::-1]

    def covers(self, word: _Word) -> bool:
        return bool(self.overlapping(word.start, word.end))


def recognize(
    body: str, known_spans: Iterable[tuple[int, int]], *, limit: int = MAX_CANDIDATES
) -> Recognition:
    """The candidates in `body`, given the spans the gazetteer matched (`known_spans`)."""
    known = _Known(known_spans)
    words = _words(body)
    lowercase_words = {word.text for word in words if word.text.islower()}
    found: dict[str, Candidate] = {}
    singles: list[_Word] = []  # lone words, settled once every full name is known
    enclosed: set[tuple[int, int]] = set()

    def add(name_words: Sequence[_Word], kind: CandidateKind, cue: str | None) -> None:
        start, end = name_words[0].start, name_words[-1].end
        name = body[start:end]
        if end - start > MAX_NAME_LENGTH:
            return
        if len(name_words) == 1 and kind == CandidateKind.OTHER and cue is None:
            singles.append(name_words[0])
            return
        candidate = found.get(name)
        if candidate is None:
            if len(found) >= limit:
                return
            candidate = found[name] = Candidate(name, kind, cue)
        elif candidate.cue is None and cue is not None:
            candidate.kind, candidate.cue = kind, cue
        if len(candidate.spans) < MAX_SPANS:
            candidate.spans.append((start, end))

    def settle(run: list[_Word]) -> None:
        run = _trim(run, lowercase_words)
        if not run:
            return
        # A title: the name is what follows it; unless the run ends in a cue word, which makes
        # it a name of its own ("U.N. General Assembly").
        titled = run[-1].text not in SUFFIX_CUES
        for index in range(len(run) if titled else 0):
            size = _title_at(run, index)
            if size:
                name = _trim(run[index + size :], lowercase_words)
                if name and not any(known.covers(word) for word in name):
                    add(
                        name,
                        CandidateKind.PERSON,
                        " ".join(w.text for w in run[index : index + size]),
                    )
                elif name:
                    settle_known(name)
                return
        settle_known(run)

    def settle_known(run: list[_Word]) -> None:
        inside = known.overlapping(run[0].start, run[-1].end)
        if not inside:
            if len(run) == 1 and (
                len(run[0].text) < 2 or (run[0].text.isupper() and len(run[0].text) < 3)
            ):
                return
            add(run, *_kind(run))
            return
        if inside == [(run[0].start, run[-1].end)]:
            return  # exactly a known name
        kind, cue = _kind(run)
        if cue is not None and run[-1].text in SUFFIX_CUES and not known.covers(run[-1]):
            add(run, kind, cue)
            if kind in ENCLOSING_KINDS:
                enclosed.update(inside)
            return
        # Split at the known names; the parts between them are runs of their own.
        part: list[_Word] = []
        for word in run:
            if known.covers(word):
                if part:
                    settle(part)
                part = []
            else:
                part.append(word)
        if part:
            settle(part)

    for run in _runs(body, words):
        settle(run)

    # A lone word: another span of a person candidate whose first or last word it is
    # ("Blinken"), else a candidate of its own unless it starts a sentence (most such words
    # are ordinary words capitalised there) or is not a name at all.
    persons: dict[str, Candidate] = {}
    for candidate in found.values():
        if candidate.kind == CandidateKind.PERSON:
            parts = candidate.name.split()
            for part in (parts[0], parts[-1]):
                persons.setdefault(part, candidate)
    for word in singles:
        if word.text in persons:
            if len(persons[word.text].spans) < MAX_SPANS:
                persons[word.text].spans.append((word.start, word.end))
        elif not word.sentence_start and word.text.lower() not in lowercase_words:
            add_single(found, word, limit)

    candidates = sorted(found.values(), key=lambda candidate: candidate.spans[0])
    for candidate in candidates:
        candidate.spans.sort()
    return Recognition(candidates, enclosed)


def add_single(found: dict[str, Candidate], word: _Word, limit: int) -> None:
    candidate = found.get(word.text)
    if candidate is None:
        if len(found) >= limit:
            return
        candidate = found[word.text] = Candidate(word.text, CandidateKind.OTHER, None)
    if len(candidate.spans) < MAX_SPANS:
        candidate.spans.append((word.start, word.end))
