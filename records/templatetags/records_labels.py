"""Labels for the records pages, in the reader's language."""

from __future__ import annotations

from django import template

from records.access import view_label

register = template.Library()
register.filter("access_view_label", view_label)
