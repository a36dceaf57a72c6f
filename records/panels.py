"""Panels that upper apps add to the participant page, so ``records`` imports none of them
(imports flow downwards: contributions and payments register here in their ``ready()``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from records.models import Participant


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any]


PanelFactory = Callable[[HttpRequest, Participant], Panel | None]
PARTICIPANT_PANELS: list[PanelFactory] = []


def register_participant_panel(factory: PanelFactory) -> PanelFactory:
    if factory not in PARTICIPANT_PANELS:
        PARTICIPANT_PANELS.append(factory)
    return factory


def participant_panels(request: HttpRequest, participant: Participant) -> list[Panel]:
    return [panel for factory in PARTICIPANT_PANELS if (panel := factory(request, participant)) is not None]


HomePanelFactory = Callable[[HttpRequest], Panel | None]
HOME_PANELS: list[HomePanelFactory] = []


def register_home_panel(factory: HomePanelFactory) -> HomePanelFactory:
    """A card an upper app adds to the home page (the heads' counts of the payments' work lists)."""
    if factory not in HOME_PANELS:
        HOME_PANELS.append(factory)
    return factory


def home_panels(request: HttpRequest) -> list[Panel]:
    return [panel for factory in HOME_PANELS if (panel := factory(request)) is not None]
