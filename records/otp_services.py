"""The second factor's devices (issue 17; ``records.second_factor`` says who needs one): a TOTP
device, set up once by its owner, and ten single-use backup codes (django-otp's static device).

Reads and writes of the devices go through here. Every check of a code goes through django-otp's
own ``verify_token`` on a locked row, so a wrong code counts as a failure and the device's
exponential throttling (1, 2, 4, 8 ... seconds) applies; a throttled device is not asked at all
(``Throttled``)."""

from __future__ import annotations

import math
import re
from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import user_has_device  # type: ignore[import-untyped]
from django_otp.oath import TOTP  # type: ignore[import-untyped]
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken  # type: ignore[import-untyped]
from django_otp.plugins.otp_totp.models import TOTPDevice  # type: ignore[import-untyped]
from django_otp.util import random_hex  # type: ignore[import-untyped]

from records.services import Actor, audit_record

BACKUP_CODE_COUNT = 10
TOTP_CODE = re.compile(r"\d{6}")
BACKUP_CODE = re.compile(r"[a-z2-7]{8}")  # StaticToken.random_token: 5 random bytes in base32


class Throttled(Exception):
    """Too many wrong codes in a row: the device answers nothing until ``locked_until``."""

    def __init__(self, locked_until: datetime) -> None:
        super().__init__(locked_until)
        self.locked_until = locked_until

    @property
    def seconds(self) -> int:
        return max(1, math.ceil((self.locked_until - timezone.now()).total_seconds()))


@dataclass(frozen=True)
class Enrolment:
    device: Any  # TOTPDevice
    backup_codes: list[str]


def totp_device(user: AbstractBaseUser | AnonymousUser) -> Any | None:
    """The user's confirmed TOTP device, if any."""
    if not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()


def has_device(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user has any confirmed device (an authenticator app or backup codes)."""
    return bool(user.is_authenticated and user_has_device(user, confirmed=True))


def new_totp_key() -> str:
    """A new shared secret (20 random bytes, hex) for a device being set up."""
    return str(random_hex(20))


def is_totp_key(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and re.fullmatch(r"[0-9a-f]{40}", value) is not None


def secret_text(key: str) -> str:
    """The secret as an authenticator app asks for it when typed: base32, in groups of four."""
    text = b32encode(bytes.fromhex(key)).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def setup_uri(user: User, key: str) -> str:
    """The ``otpauth://`` URI (the QR code's content) of a device with this key; nothing stored."""
    return str(TOTPDevice(user=user, key=key).config_url)


@transaction.atomic
def second_factor_enrol(*, user: User, key: str, code: str) -> Enrolment:
    """Confirm a new authenticator app: ``code`` must be the app's current code for ``key``.
    Stores the TOTP device and issues ten new backup codes (any earlier ones are void); the
    codes are returned once and stored by django-otp only to be matched."""
    totp = TOTP(bytes.fromhex(key))
    if not (TOTP_CODE.fullmatch(code) and totp.verify(int(code), tolerance=1)):
        raise ValidationError(
            _("This is not the code your app shows now. Check the app's clock and try again."), code="wrong"
        )
    User.objects.select_for_update().filter(pk=user.pk).get()  # one enrolment at a time per user
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ValidationError(_("Your authenticator app is already set up."), code="exists")
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(
        user=user, name="authenticator app", key=key, confirmed=True, drift=totp.drift, last_t=totp.t()
    )
    StaticDevice.objects.filter(user=user).delete()
    backup = StaticDevice.objects.create(user=user, name="backup codes", confirmed=True)
    codes = [StaticToken.random_token() for _n in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=backup, token=token) for token in codes])
    audit_record(actor=Actor.of(user), action="second_factor.enrol", obj=user, data={"backup_codes": len(codes)})
    return Enrolment(device=device, backup_codes=codes)


def _throttle_check(device: Any) -> None:
    allowed, info = device.verify_is_allowed()
    if not allowed:
        locked_until = (info or {}).get("locked_until") or timezone.now()
        raise Throttled(locked_until)


@transaction.atomic
def second_factor_verify(*, user: User, code: str) -> Any | None:
    """The device that accepts ``code`` (six digits: the authenticator app; eight letters and
    digits: a backup code, used up by this), or None. A wrong code counts against that device's
    throttle; a throttled device raises ``Throttled`` without looking at the code."""
    if TOTP_CODE.fullmatch(code):
        devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    else:
        devices = StaticDevice.objects.filter(user=user, confirmed=True)
    device = devices.select_for_update().order_by("pk").first()
    if device is None:
        return None
    _throttle_check(device)
    if device.verify_token(code):
        data: dict[str, Any] = {"device": "totp" if isinstance(device, TOTPDevice) else "backup_code"}
        if isinstance(device, StaticDevice):
            data["backup_codes_left"] = device.token_set.count()
        audit_record(actor=Actor.of(user), action="second_factor.verify", obj=user, data=data)
        return device
    audit_record(
        actor=Actor.of(user),
        action="second_factor.refused",
        obj=user,
        data={"failures": device.throttling_failure_count},
    )
    return None


def backup_codes_left(device: Any) -> int | None:
    """How many backup codes a static device has left (None for another kind of device)."""
    if isinstance(device, StaticDevice):
        return int(device.token_set.count())
    return None
