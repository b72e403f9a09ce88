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


class CandidateKind(StrEnum):
    """What an unknown name in an article seems to be (db/recognizer.py says from which cue)."""

    PERSON = "person"
    ORGANIZATION = "organization"
    COUNTRY = "country"
    PLACE = "place"
    TERRITORY = "territory"
    EVENT = "event"
    OTHER = "other"


class CandidateStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class EventType(StrEnum):
    """The PLOVER event ontology: what kind of thing happened. Each type as the PLOVER manual
    defines it (openeventdata/PLOVER, PLOVER_MANUAL, "Event Categories"):

    - AGREE: agree to, offer, promise or otherwise indicate willingness or commitment to
      cooperate, including promises to sign or ratify agreements; cooperative acts reported
      as future intentions, such as meetings to come.
    - CONSULT: consultations and meetings: visiting, hosting, meeting at a neutral location,
      and consultation by phone or other media.
    - SUPPORT: initiate, resume, improve or expand diplomatic, non-material cooperation;
      express support for, commend or approve a policy, action or actor; ratify, sign or
      finalize an agreement or treaty.
    - CONCEDE: verbal concessions with no immediate material consequences, including promises
      of future concessions and declarations (not implementations) of ceasefires and of
      withdrawals from territory.
    - COOPERATE: initiate, resume, improve or expand mutual material cooperation or exchange:
      economic, military, judicial, intelligence.
    - AID: material aid whose benefits accrue mainly to the recipient: money, military or
      police assistance, humanitarian aid, asylum.
    - RETREAT: concessions with immediate material consequences: releasing prisoners,
      returning property, allowing access, disarming, observing a ceasefire or otherwise
      ending active conflict, withdrawing from or ceding territory; resignations of officials.
    - REQUEST: all requests, demands and orders (verbal acts).
    - ACCUSE: express disapproval, criticize or condemn; accuse, allege or charge, judicially
      or informally; sue; investigate.
    - REJECT: all rejections and refusals.
    - THREATEN: threats, and coercive or forceful warnings with serious potential
      repercussions.
    - PROTEST: civilian demonstrations and other collective actions carried out as protests
      against the recipient.
    - SANCTION: reductions in existing, routine or cooperative relations, not only formal
      sanctions.
    - MOBILIZE: military or police moves that fall short of the actual use of force.
    - COERCE: repression, restrictions on rights, or coercive uses of power falling short of
      violence, such as seizing property or territory, arrests and deportations.
    - ASSAULT: deliberate actions which can potentially result in substantial physical harm.
    """

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


class ResourceType(StrEnum):
    """The resources the change feed reports."""

    ARTICLE = "article"
    ENTITY = "entity"
    EVENT = "event"
    STATEMENT = "statement"
    DISPUTE = "dispute"
    SOURCE = "source"


class ChangeOperation(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class DeliveryStatus(StrEnum):
    """Where a webhook delivery stands: still being tried, received (a 2xx), or given up."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
