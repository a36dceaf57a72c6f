"""The staff roles and their permissions: the one place where they are defined.

Roles come from the profession cards of the professional standard "Organization of payment of
pensions, allowances and social benefits" (2024 edition, Order No. 421, cards 9-13 as amended by
Order No. 109 of 31 March 2026; the 2019 edition, Order No. 715, for the earlier cards), plus the
auditor, who is not in the standard. Every permission names the labour functions it serves
(``<edition>/<card>/<function>``) or the auditor's mandate. ``manage.py sync_roles`` makes the
groups match this module exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

AUDITOR_MANDATE = "auditor"
API_MANDATE = "api"  # banks and state systems that submit payment orders (Rules, paragraph 6)
# The role of those systems' accounts. A machine account holds it and nothing else, and no
# person's account holds it (standards.services.machine_account_refusal).
API_ROLE_KEY = "api_client"


@dataclass(frozen=True)
class Grant:
    permission: str  # "app_label.codename"
    basis: tuple[str, ...]  # labour function keys, or AUDITOR_MANDATE
    why: str


@dataclass(frozen=True)
class RoleSpec:
    key: str
    group_name: str
    title: Promise
    description: Promise
    cards: tuple[tuple[int, int], ...]  # (edition, card number)
    grants: tuple[Grant, ...]
    admin_site: bool = False  # whether holders may use the Django admin (is_staff)

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset(g.permission for g in self.grants)


# Labour functions of the 2024 edition (card/function):
#   9/1, 10/1  processing documents on payment of pensions, allowances and social payments
#   9/2, 10/2  reliable accounting of assigned pensions, allowances and social payments
#   11/1       control of the processing of documents (checks others' work, level 6)
#   11/2       control of reliable accounting
#   12/1       management of the structural unit's activity, planning and control
#   12/2       management of the unit's economic and financial activity
#   13/1       organisation of the structural unit's work and its management
#   13/2       organisation of the payment of pensions, allowances and social payments

_SPECIALIST = (
    Grant(
        "records.view_participant", ("2024/9/1", "2024/10/1"), "read participants' personal data to process documents"
    ),
    Grant("records.view_personaldatachange", ("2024/9/2", "2024/10/2"), "see the paragraph 9 change records"),
    Grant("records.view_registryperson", ("2024/9/1", "2024/10/1"), "compare a document with the state registry"),
    Grant("records.view_calendarday", ("2024/9/1", "2024/10/1"), "know the one-working-day deadline"),
    Grant("standards.view_role", ("2024/9/1",), "see who holds which role"),
    Grant("standards.view_professioncard", ("2024/9/1",), "read the profession cards"),
    Grant("contributions.view_paymentorder", ("2024/9/1", "2024/10/1"), "follow payment orders being processed"),
    Grant("contributions.view_orderline", ("2024/9/1", "2024/10/1"), "see each line and its return reason"),
    Grant("contributions.view_incomingfile", ("2024/9/1",), "see what a payer sent, as sent"),
    Grant("contributions.add_paymentorder", ("2024/9/1", "2024/10/1"), "upload payment order files on the staff page"),
    Grant("contributions.view_returndocument", ("2024/9/2", "2024/10/2"), "send return documents to payers"),
    Grant("contributions.view_ledgerentry", ("2024/9/2", "2024/10/2"), "read personal accounts"),
    Grant("contributions.view_refund", ("2024/9/2", "2024/10/2"), "follow refunds"),
    Grant("contributions.add_refund", ("2024/9/2", "2024/10/2"), "register a payer's refund request"),
    # Recipients and decisions (Rules, paragraphs 10-14).
    Grant("payments.view_recipient", ("2024/9/1", "2024/10/1", "2019/3/1"), "open recipients and their case files"),
    Grant(
        "payments.add_recipient", ("2024/9/1", "2024/10/1", "2019/3/1"), "register an applicant from the application"
    ),
    Grant(
        "payments.change_recipient",
        ("2024/9/2", "2024/10/2", "2019/3/2"),
        "enter dated changes of a recipient's paragraph 12 items",
    ),
    Grant("payments.view_recipientchange", ("2024/9/2", "2024/10/2", "2019/3/2"), "see a recipient's change records"),
    Grant("payments.view_dependant", ("2024/9/1", "2024/10/1", "2019/3/1"), "see a breadwinner's dependants"),
    Grant("payments.view_casedocument", ("2024/9/1", "2024/10/1", "2019/3/1"), "read the documents of a case file"),
    Grant("payments.add_casedocument", ("2024/9/1", "2024/10/1", "2019/3/1"), "file the documents received"),
    Grant("payments.check_casedocument", ("2024/9/1", "2024/10/1", "2019/3/1"), "check the documents received"),
    Grant("payments.view_decision", ("2024/9/2", "2024/10/2", "2019/3/2"), "follow the decisions on payments"),
    Grant("payments.add_decision", ("2024/9/1", "2024/10/1", "2019/3/1"), "draft decisions on payments"),
    Grant(
        "payments.view_decisionproposal",
        ("2024/9/2", "2024/10/2", "2019/3/2"),
        "draft what the system proposes (recalculations, terminations)",
    ),
    Grant("payments.view_legalparameter", ("2024/9/2", "2024/10/2", "2019/3/2"), "see the parameters of an amount"),
    # Monthly payments (Rules, paragraph 12 items 22-25, paragraph 13).
    Grant("payments.view_bank", ("2024/9/2", "2024/10/2", "2019/3/2"), "see the banks that pay"),
    Grant("payments.view_bankaccount", ("2024/9/1", "2024/10/1", "2019/3/1"), "see where a recipient is paid"),
    Grant("payments.add_bankaccount", ("2024/9/1", "2024/10/1", "2019/3/1"), "enter a recipient's bank details"),
    Grant("payments.view_paymentrun", ("2024/9/2", "2024/10/2", "2019/3/2"), "follow the month's payment run"),
    Grant(
        "payments.add_paymentrun",
        ("2024/9/2", "2024/10/2", "2019/3/2"),
        "build the month's payment run from the payments assigned (and build it again before approval)",
    ),
    Grant("payments.view_paymentlist", ("2024/9/2", "2024/10/2", "2019/3/2"), "download the lists for the banks"),
    Grant("payments.view_payment", ("2024/9/2", "2024/10/2", "2019/3/2"), "see each recipient's payments"),
    Grant("payments.view_paymentitem", ("2024/9/2", "2024/10/2", "2019/3/2"), "see arrears and payments made again"),
    Grant("payments.add_confirmationfile", ("2024/9/2", "2024/10/2", "2019/3/2"), "take in the banks' confirmations"),
    Grant(
        "payments.confirm_any_list",
        ("2024/9/2", "2024/10/2", "2019/3/2"),
        "take in a confirmation on behalf of any bank (a bank's own account confirms only its lists)",
    ),
    Grant("payments.view_confirmationfile", ("2024/9/2", "2024/10/2", "2019/3/2"), "see what the banks confirmed"),
    Grant("payments.view_confirmationline", ("2024/9/2", "2024/10/2", "2019/3/2"), "see each confirmed payment"),
    Grant("payments.view_paymentreturn", ("2024/9/2", "2024/10/2", "2019/3/2"), "pay returned payments again"),
    Grant("payments.view_recovery", ("2024/9/2", "2024/10/2", "2019/3/2"), "follow money paid that was not due"),
    # The monthly report to the authorized body (Rules, paragraph 5).
    Grant("payments.view_monthlyreport", ("2024/9/2", "2024/10/2"), "read the monthly report"),
    Grant(
        "payments.add_monthlyreport",
        ("2024/9/2", "2024/10/2"),
        "prepare the monthly report on the payments accounted, in its terms (skill 7)",
    ),
)
_CONTROLLER = (
    Grant("records.view_auditevent", ("2024/11/1", "2024/11/2"), "check other specialists' work"),
    Grant("contributions.resolve_review", ("2024/11/1",), "decide orders that are wrong as a whole"),
    Grant("records.view_registryload", ("2024/11/2",), "check what registry data the accounting relied on"),
    Grant("payments.verify_decision", ("2024/11/1",), "verify decisions drafted by others, or return them"),
    Grant("records.view_approvalstep", ("2024/11/1", "2024/11/2"), "see who took each step of a decision"),
    Grant("payments.view_decisionevent", ("2024/11/2",), "check the row history of the decisions accounted"),
)
_HEAD_OF_UNIT = (
    Grant("records.view_accesslog", ("2024/12/1",), "control who read personal data in the unit"),
    Grant(
        "payments.view_dashboard",
        ("2024/12/1", "2024/12/2"),
        "follow the unit's intake, deadlines, decisions waiting and payments (the heads' dashboard)",
    ),
    Grant("standards.assign_role", ("2024/12/1",), "staff the unit's roles"),
    Grant("contributions.monitor_deadlines", ("2024/12/1",), "see orders due today and late ones"),
    Grant("contributions.approve_refund", ("2024/12/1", "2024/12/2"), "approve refunds registered by others"),
    Grant(
        "payments.approve_decision",
        ("2024/12/1", "2024/12/2", "2019/1/1", "2019/1/2"),
        "approve decisions on payments up to the amount threshold",
    ),
)
_HEAD_OF_SERVICE = (
    Grant("records.change_calendarday", ("2024/13/1",), "keep the working-day calendar of the service"),
    Grant("records.add_calendarday", ("2024/13/1",), "record a new transfer of days off"),
    Grant(
        "records.add_registryload",
        ("2024/13/2",),
        "load the state registry snapshot the payments are checked against (Rules, paragraph 6)",
    ),
    Grant(
        "payments.approve_decision_above_threshold",
        ("2024/13/1", "2024/13/2", "2019/2/1", "2019/2/2"),
        "approve decisions above the amount threshold (organisation of the payment)",
    ),
    Grant(
        "payments.approve_paymentrun",
        ("2024/13/2", "2019/2/2"),
        "approve the month's payment run and release it to the banks (organisation of the payment)",
    ),
    Grant(
        "payments.sign_monthlyreport",
        ("2024/13/2",),
        "sign off the monthly report to the authorized body before it is sent (organisation of the payment)",
    ),
)
_AUDITOR = tuple(
    Grant(permission, (AUDITOR_MANDATE,), why)
    for permission, why in [
        ("records.view_participant", "read the records audited"),
        ("records.view_personaldatachange", "read change records"),
        ("records.view_registryperson", "read the registry snapshot"),
        ("records.view_registryload", "read registry loads"),
        ("records.view_calendarday", "read the calendar"),
        ("records.view_auditevent", "read domain audit events"),
        ("records.view_accesslog", "read the access log"),
        ("records.export_data", "export data: from the admin, and large exports as jobs (its one write)"),
        ("standards.view_role", "read the roles"),
        ("standards.view_professionalstandard", "read the standard"),
        ("standards.view_professioncard", "read the profession cards"),
        ("standards.view_laborfunction", "read the labour functions"),
        ("contributions.view_incomingfile", "read what payers sent"),
        ("contributions.view_paymentorder", "read payment orders"),
        ("contributions.view_orderline", "read order lines"),
        ("contributions.view_returndocument", "read return documents"),
        ("contributions.view_ledgerentry", "read personal accounts"),
        ("contributions.view_refund", "read refunds"),
        ("contributions.view_purposecode", "read the payment purpose codes"),
        ("payments.view_legalparameter", "read the legal parameters of the benefit amounts"),
        ("payments.view_legalparameterevent", "read the row history of the legal parameters"),
        ("payments.view_recipient", "read recipients"),
        ("payments.view_recipientevent", "read the row history of recipients"),
        ("payments.view_recipientchange", "read the recipients' change records"),
        ("payments.view_dependant", "read dependants"),
        ("payments.view_dependantevent", "read the row history of dependants"),
        ("payments.view_casedocument", "read case-file documents"),
        ("payments.view_decision", "read decisions"),
        ("payments.view_decisionevent", "read the row history of decisions"),
        ("payments.view_decisionproposal", "read what the system proposed"),
        ("records.view_approvalstep", "read every step of every approval"),
        ("contributions.monitor_deadlines", "read the deadline page"),
        ("records.view_participantevent", "read the row history of participants"),
        ("records.view_registrypersonevent", "read the row history of the registry snapshot"),
        ("records.view_calendardayevent", "read the row history of the calendar"),
        ("contributions.view_paymentorderevent", "read the row history of payment orders"),
        ("contributions.view_refundevent", "read the row history of refunds"),
        ("standards.view_usergroupsevent", "read the history of who held which role"),
        ("standards.view_grouppermissionsevent", "read the history of what each role could do"),
        ("records.view_workerheartbeat", "read when the workers last signed in"),
        ("payments.view_bank", "read the banks"),
        ("payments.view_bankaccount", "read recipients' bank accounts"),
        ("payments.view_paymentrun", "read payment runs"),
        ("payments.view_paymentlist", "read payment lists"),
        ("payments.view_payment", "read payments"),
        ("payments.view_paymentitem", "read payment items"),
        ("payments.view_confirmationfile", "read the banks' confirmations"),
        ("payments.view_confirmationline", "read confirmation lines"),
        ("payments.view_paymentreturn", "read returned payments"),
        ("payments.view_recovery", "read recoveries"),
        ("payments.view_monthlyreport", "read the monthly reports and their versions"),
        ("payments.view_dashboard", "read the heads' dashboard"),
    ]
)
_API_CLIENT = tuple(
    Grant(permission, (API_MANDATE,), why)
    for permission, why in [
        ("contributions.submit_order", "submit payment orders through the API"),
        ("contributions.view_paymentorder", "read the status of the orders submitted"),
        ("contributions.view_returndocument", "download return documents"),
        ("payments.view_paymentrun", "read a month's payment run and its totals per bank"),
        ("payments.add_confirmationfile", "submit a bank's confirmation of a payment list"),
    ]
)

ROLES: tuple[RoleSpec, ...] = (
    RoleSpec(
        key="specialist",
        group_name="Specialist in pension provision (levels 4-5)",
        title=_("Specialist in pension provision (qualification levels 4-5)"),
        description=_("Processes payment documents and keeps the personal accounts accurate."),
        cards=((2024, 9), (2024, 10), (2019, 3)),
        grants=_SPECIALIST,
    ),
    RoleSpec(
        key="senior_specialist",
        group_name="Specialist in pension provision (level 6)",
        title=_("Specialist in pension provision (qualification level 6)"),
        description=_("Checks the work of other specialists."),
        cards=((2024, 11), (2019, 3)),
        grants=_SPECIALIST + _CONTROLLER,
    ),
    RoleSpec(
        key="head_of_unit",
        group_name="Head of a structural unit",
        title=_("Head of a structural unit"),
        description=_("Manages the unit, approves what specialists draft and staffs its roles."),
        cards=((2024, 12), (2019, 1)),
        grants=_SPECIALIST + _CONTROLLER + _HEAD_OF_UNIT,
    ),
    RoleSpec(
        key="head_of_service",
        group_name="Head of the pension service",
        title=_("Head of the pension service"),
        description=_("Organises the pension service, its working time and its staff."),
        cards=((2024, 13), (2019, 2)),
        grants=_SPECIALIST + _CONTROLLER + _HEAD_OF_UNIT + _HEAD_OF_SERVICE,
        admin_site=True,
    ),
    RoleSpec(
        key="auditor",
        group_name="Auditor",
        title=_("Auditor"),
        description=_("Reads everything, exports data and reads the logs; changes nothing."),
        cards=(),
        grants=_AUDITOR,
        admin_site=True,
    ),
)
ROLES = (
    *ROLES,
    RoleSpec(
        key=API_ROLE_KEY,
        group_name="Bank or state system (API)",
        title=_("Bank or state system (API)"),
        description=_("Submits payment orders through the API and reads their status and return documents."),
        cards=(),
        grants=_API_CLIENT,
    ),
)
ROLES_BY_KEY = {role.key: role for role in ROLES}
