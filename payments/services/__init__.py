"""Writes of the payments app: recipients and their case files, decisions and their steps,
and the proposals the system makes for specialists to draft."""

from payments.services.decisions import (
    amount_for,
    decision_approve,
    decision_draft,
    decision_redraft,
    decision_reject,
    decision_submit,
    decision_verify,
    proposal_dismiss,
)
from payments.services.proposals import propose_recalculations, propose_terminations
from payments.services.recipients import (
    DependantData,
    case_document_add,
    case_document_check,
    dependant_add,
    dependant_end,
    recipient_change_items,
    recipient_register,
)

__all__ = [
    "DependantData",
    "amount_for",
    "case_document_add",
    "case_document_check",
    "decision_approve",
    "decision_draft",
    "decision_redraft",
    "decision_reject",
    "decision_submit",
    "decision_verify",
    "dependant_add",
    "dependant_end",
    "proposal_dismiss",
    "propose_recalculations",
    "propose_terminations",
    "recipient_change_items",
    "recipient_register",
]
