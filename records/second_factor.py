"""Who signs in with a second factor (issue 17): whoever verifies or approves money decisions
(level-6 specialists, heads, the head of the service) and administrators. TOTP with backup codes
(django-otp); the steps that move money refuse a session without it
(``records.approval.SecondFactorMissing``). The API's machine accounts keep their tokens."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

# The permissions whose holders sign in with the second factor.
SECOND_FACTOR_PERMISSIONS = (
    "payments.verify_decision",
    "payments.approve_decision",
    "payments.approve_decision_above_threshold",
    "contributions.approve_refund",
    "payments.approve_paymentrun",
)


def needs_second_factor(user: User | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    if getattr(user, "is_superuser", False):
        return True
    return any(user.has_perm(permission) for permission in SECOND_FACTOR_PERMISSIONS)
