"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from core.models.agent import Agent, AgentState, Role
from core.models.analytics import AnalyticsModel, CustomerMetrics
from core.models.audit import AuditEvent, ChangeEvent, CustomerMerge, FieldChange
from core.models.call import Call, CallDraft, CallState
from core.models.call_event import CallEvent, CallEventKind, CallReference, QualityScore
from core.models.customer import ContactKind, ContactPoint, Customer, CustomerRead
from core.models.interaction import Channel, Direction, Interaction, InteractionRead
from core.models.loyalty import LoyaltyAccount, NpsResponse
from core.models.offer import OfferPresentation, OfferResponse
from core.models.pbx_command import PbxCommand, PbxCommandKind, PbxCommandState
from core.models.product import Holding, Product, Transaction
from core.models.search_index import (  # noqa: F401  (registers the tables)
    SearchContact,
    SearchMeta,
    SearchName,
    SearchNameCustomer,
    SearchNameWord,
    SearchPosting,
    SearchWord,
)

__all__ = [
    "Agent",
    "AgentState",
    "AnalyticsModel",
    "AuditEvent",
    "Call",
    "CallDraft",
    "CallEvent",
    "CallEventKind",
    "CallReference",
    "CallState",
    "ChangeEvent",
    "Channel",
    "ContactKind",
    "ContactPoint",
    "Customer",
    "CustomerMerge",
    "CustomerMetrics",
    "CustomerRead",
    "Direction",
    "FieldChange",
    "Holding",
    "Interaction",
    "InteractionRead",
    "LoyaltyAccount",
    "NpsResponse",
    "OfferPresentation",
    "OfferResponse",
    "PbxCommand",
    "PbxCommandKind",
    "PbxCommandState",
    "Product",
    "QualityScore",
    "Role",
    "Transaction",
]
