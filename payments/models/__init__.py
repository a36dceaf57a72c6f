"""Social payments from the State Social Insurance Fund (Rules, paragraphs 10-14)."""

from payments.models.decisions import (
    Decision,
    DecisionKind,
    DecisionProposal,
    DecisionState,
    EndReason,
    ProposalReason,
    ProposalStatus,
)
from payments.models.parameters import Confidence, LegalParameter, ParameterName
from payments.models.recipients import (
    CaseDocument,
    Dependant,
    DocumentKind,
    PaymentType,
    Recipient,
    RecipientChange,
    RecipientStatus,
    Relation,
)

__all__ = [
    "CaseDocument",
    "Confidence",
    "Decision",
    "DecisionKind",
    "DecisionProposal",
    "DecisionState",
    "Dependant",
    "DocumentKind",
    "EndReason",
    "LegalParameter",
    "ParameterName",
    "PaymentType",
    "ProposalReason",
    "ProposalStatus",
    "Recipient",
    "RecipientChange",
    "RecipientStatus",
    "Relation",
]
