"""Permission-matrix rows of the recipients part of issue 17 (merged by tests/test_permission_matrix.py).

EXPECTED: URL name -> row(...) of GET statuses; POST_EXPECTED: overrides of the POST statuses
(the default is 405 where GET is 200); WRITING_VIEWS: URL name -> a role allowed to POST;
kwargs(objects): URL name -> the URL's kwargs, from the payments_sample objects."""

from __future__ import annotations

from typing import Any

EXPECTED: dict[str, dict[str, int]] = {}
POST_EXPECTED: dict[str, dict[str, int]] = {}
WRITING_VIEWS: dict[str, str] = {}


def kwargs(objects: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {}
