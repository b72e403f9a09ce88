"""Every enumeration of the domain model, shared by the ORM, the API schemas and the seed loader."""

from enum import StrEnum


class TimePrecision(StrEnum):
    DAY = "day"
    MONTH = "month"
    SEASON = "season"
    YEAR = "year"
    DECADE = "decade"
    CENTURY = "century"
    RANGE = "range"


class SourceKind(StrEnum):
    NEWS_AGENCY = "news_agency"
    NEWSPAPER = "newspaper"
    BROADCASTER = "broadcaster"
    MAGAZINE = "magazine"
    ONLINE = "online"
    GOVERNMENT = "government"
    ORGANIZATION = "organization"
    OTHER = "other"


class EntityKind(StrEnum):
    PERSON = "person"
    ORGANIZATION = "organization"
    COUNTRY = "country"
    PLACE = "place"
    TERRITORY = "territory"
    OTHER = "other"


class AliasKind(StrEnum):
    OFFICIAL = "official"
    COMMON = "common"
    FORMER = "former"
    ABBREVIATION = "abbreviation"
    SHORT = "short"
    METONYM = "metonym"


class RelationKind(StrEnum):
    HOLDS_OFFICE = "holds_office"
    HELD_OFFICE = "held_office"
    PART_OF = "part_of"
    ADMINISTERED_BY = "administered_by"
    CLAIMED_BY = "claimed_by"
    MEMBER_OF = "member_of"
    LOCATED_IN = "located_in"
    SUCCEEDED_BY = "succeeded_by"
    AGENCY_OF = "agency_of"


class MentionMethod(StrEnum):
    CURATED = "curated"
    GAZETTEER = "gazetteer"


class EventType(StrEnum):
    """The PLOVER event ontology."""

    AGREE = "AGREE"
    CONSULT = "CONSULT"
    SUPPORT = "SUPPORT"
    CONCEDE = "CONCEDE"
    COOPERATE = "COOPERATE"
    AID = "AID"
    RETREAT = "RETREAT"
    REQUEST = "REQUEST"
    ACCUSE = "ACCUSE"
    REJECT = "REJECT"
    THREATEN = "THREATEN"
    PROTEST = "PROTEST"
    SANCTION = "SANCTION"
    MOBILIZE = "MOBILIZE"
    COERCE = "COERCE"
    ASSAULT = "ASSAULT"


class Modality(StrEnum):
    ASSERTED = "asserted"
    INTENDED = "intended"
    HYPOTHETICAL = "hypothetical"
    NEGATED = "negated"


class ParticipantRole(StrEnum):
    ACTOR = "actor"
    RECIPIENT = "recipient"
    MEDIATOR = "mediator"
    TARGET = "target"
    BENEFICIARY = "beneficiary"
    SUBJECT = "subject"


class StatementKind(StrEnum):
    DIRECT_QUOTE = "direct_quote"
    PARAPHRASE = "paraphrase"


class DisputeKind(StrEnum):
    TERRITORIAL = "territorial"
    MARITIME = "maritime"
    DIPLOMATIC = "diplomatic"
    HUMANITARIAN = "humanitarian"
    SECURITY = "security"
    ECONOMIC = "economic"
    LEGAL = "legal"


class DisputeStatus(StrEnum):
    ACTIVE = "active"
    DORMANT = "dormant"
    RESOLVED = "resolved"


class DisputePartyRole(StrEnum):
    CLAIMANT = "claimant"
    ADMINISTERING_PARTY = "administering_party"
    MEDIATOR = "mediator"
    AFFECTED_PARTY = "affected_party"
    RESPONSIBLE_PARTY = "responsible_party"
    OBSERVER = "observer"


class DisputeEventRole(StrEnum):
    ORIGIN = "origin"
    AGREEMENT = "agreement"
    NEGOTIATION = "negotiation"
    ESCALATION = "escalation"
    DE_ESCALATION = "de_escalation"
    STATEMENT = "statement"
    RESOLUTION = "resolution"
    BACKGROUND = "background"


class ApiKeyScope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"
