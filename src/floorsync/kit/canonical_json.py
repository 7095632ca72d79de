"""Canonical JSON: sorted keys at every level, no whitespace, raw UTF-8."""

import json
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
