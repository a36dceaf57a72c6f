"""The one approval mechanism for documents that staff decide in turns: refunds (Rules,
paragraph 9) and payment decisions (paragraphs 11 and 14; conventions: "Recipients and
decisions").

A document declares its steps as django-fsm transitions (``ApprovalModel``); each transition
names, in ``custom``, the role permission it needs and whether it needs the second factor, and
its ``permission`` is an object predicate (``rules``) such as "not the drafter". ``take_step``
is the only way a step is taken. It locks the row, then refuses, in this order:

1. a user whose roles do not allow the step at all (``StepNotPermitted``, 403);
2. a page that is out of date: the version the user saw is not the row's (``StalePage``, 409),
   so two people acting on the same page never change it twice;
3. a step the current state does not allow (``WrongState``, 409);
4. a user the object predicate refuses, e.g. the drafter verifying (``StepNotPermitted``);
5. a user who did not sign in with the second factor where the step needs it
   (``SecondFactorMissing``, 403).

Then it runs the transition, bumps the version, and writes the step (who, when, from, to, why)
and the domain audit event in the same transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransitionMixin, can_proceed, has_transition_perm

from records.models import ApprovalStep
from records.services import Actor, audit_record, with_history_context


class WrongState(ValidationError):
    """The step is not possible from the document's current state (HTTP 409)."""


class StalePage(WrongState):
    """The document changed since the user's page was loaded (HTTP 409)."""


def stale_page() -> StalePage:
    return StalePage(
        " ".join([_("Someone changed this document after you opened it."), _("Reload the page; nothing was changed.")])
    )


class StepNotPermitted(PermissionDenied):
    """The user may not take this step on this document (HTTP 403)."""


class SecondFactorMissing(StepNotPermitted):
    """The step moves money and the user did not sign in with the second factor (HTTP 403)."""


if TYPE_CHECKING:  # django-fsm's mixin reads as Any to mypy, which would make every model Any

    class _Concurrent:
        pass

else:
    _Concurrent = ConcurrentTransitionMixin


class ApprovalModel(_Concurrent, models.Model):
    """A document decided in steps: a ``version`` that every step bumps (stale-page
    protection), the steps' history, and django-fsm's guard that a save never overwrites a
    state someone else changed since the row was read (``ConcurrentTransition``)."""

    version = models.PositiveIntegerField(gettext_lazy("version"), default=1, editable=False)

    class Meta:
        abstract = True

    def approval_steps(self) -> models.QuerySet[ApprovalStep]:
        return ApprovalStep.objects.filter(
            content_type=ContentType.objects.get_for_model(type(self)), object_pk=str(self.pk)
        ).select_related("actor")


def fsm_permission(predicate: Any) -> Any:
    """A ``rules`` predicate as django-fsm's transition ``permission``: django-fsm calls
    ``permission(instance, user)``, a predicate takes ``(user, object)``."""
    return lambda obj, user: predicate.test(user, obj)


def second_factor_verified(user: AbstractBaseUser) -> bool:
    """Whether the user signed in with the second factor in this session (django-otp's
    ``OTPMiddleware`` sets ``otp_device``; a token-authenticated request never has one)."""
    return getattr(user, "otp_device", None) is not None


M = TypeVar("M", bound=ApprovalModel)


def _custom(method: Any) -> dict[str, Any]:
    transitions = list(method._django_fsm.transitions.values())
    return transitions[0].custom if transitions else {}


def step_allowed(obj: ApprovalModel, step: str, user: User) -> bool:
    """Whether ``user`` could take ``step`` now (the pages show only the buttons that work;
    the second factor is asked for when the button is pressed)."""
    method = getattr(obj, step)
    custom = _custom(method)
    return user.has_perm(custom["permission"]) and can_proceed(method) and has_transition_perm(method, user)


@with_history_context
def take_step(
    *,
    model: type[M],
    pk: int,
    step: str,
    actor: User,
    version: int | None = None,
    reason: str = "",
    audit_data: dict[str, Any] | None = None,
    **arguments: Any,
) -> M:
    """Take ``step`` on the document ``model`` ``pk`` as ``actor``; ``version`` is the version
    the actor's page showed (``None`` from an API client that did not send one). Raises
    ``model.DoesNotExist`` for an unknown document (a 404 at the door)."""
    with transaction.atomic():
        obj = model._default_manager.select_for_update().get(pk=pk)
        method = getattr(obj, step)
        custom = _custom(method)
        if not actor.has_perm(custom["permission"]):
            raise StepNotPermitted(_("Your roles do not allow this step."))
        if version is not None and version != obj.version:
            raise stale_page()
        state_field = custom["state_field"]
        if not can_proceed(method):
            raise WrongState(
                _("This step is not possible in the document's current state (%(state)s).")
                % {"state": getattr(obj, f"get_{state_field}_display")()}
            )
        if not has_transition_perm(method, actor):
            raise StepNotPermitted(custom["refusal"])
        if custom.get("second_factor") and not second_factor_verified(actor):
            raise SecondFactorMissing(
                _("This step needs a sign-in with the second factor (one-time code). Sign in again with your code.")
            )
        from_state = getattr(obj, state_field)
        method(actor=actor, reason=reason, **arguments)
        obj.version += 1
        obj.save()
        ApprovalStep.objects.create(
            content_type=ContentType.objects.get_for_model(model),
            object_pk=str(obj.pk),
            step=step,
            from_state=from_state,
            to_state=getattr(obj, state_field),
            actor=actor,
            reason=reason,
        )
        audit_record(
            actor=Actor.of(actor),
            action=custom.get("audit_action") or f"{model._meta.label_lower}.{step}",
            obj=obj,
            data={"from": from_state, "to": getattr(obj, state_field), "reason": reason, **(audit_data or {})},
        )
    return obj
