"""All ORM models, one module per table family. Importing this registers every table."""

from db.models.article import Article
from db.models.auth import ApiKey, IdempotencyRecord
from db.models.candidate import EntityCandidate
from db.models.change import Change, ChangeHorizon
from db.models.dispute import Dispute, DisputeEvent, DisputeParty, DisputeTerritory
from db.models.entity import Entity, EntityAlias, EntityRelation
from db.models.event import Event, EventParticipant, Statement
from db.models.evidence import Evidence
from db.models.mention import Mention
from db.models.rollup import ArticleFacetKey, EntityArticleRollup
from db.models.seed import SeedFile
from db.models.source import Source
from db.models.webhook import Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "ApiKey",
    "Article",
    "ArticleFacetKey",
    "Change",
    "ChangeHorizon",
    "Dispute",
    "DisputeEvent",
    "DisputeParty",
    "DisputeTerritory",
    "Entity",
    "EntityAlias",
    "EntityArticleRollup",
    "EntityCandidate",
    "EntityRelation",
    "Event",
    "EventParticipant",
    "Evidence",
    "IdempotencyRecord",
    "Mention",
    "SeedFile",
    "Source",
    "Statement",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]
