"""Django's own messages that its Kazakh catalogue lacks and the staff see: the sign-in error
and the admin's navigation. Listed here so that ``makemessages`` keeps them in the project's
catalogue, which Django reads before its own (``LOCALE_PATHS``); the Russian text follows
Django's Russian catalogue."""

from django.utils.translation import gettext_noop

DJANGO_STRINGS = (
    gettext_noop("Please enter a correct %(username)s and password. Note that both fields may be case-sensitive."),
    gettext_noop(
        "Please enter the correct %(username)s and password for a staff account. Note that both fields may be "
        "case-sensitive."
    ),
    gettext_noop("View site"),
    gettext_noop("View"),
    gettext_noop("View %s"),
    gettext_noop("Select %s to view"),
    gettext_noop("Recent actions"),
    gettext_noop("My actions"),
    gettext_noop("Administration"),
    gettext_noop("%(app)s administration"),
    gettext_noop("Models in the %(name)s application"),
    gettext_noop("You don't have permission to view or edit anything."),
    gettext_noop("Summary"),
    gettext_noop("Close"),
)
