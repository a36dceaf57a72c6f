#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

The settings come from ``DJANGO_SETTINGS_MODULE`` (the environment, or ``.env`` written by the
quick start); without it, production (``config.bootstrap``).
"""

import sys


def main() -> None:
    from config.bootstrap import bootstrap

    bootstrap()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
