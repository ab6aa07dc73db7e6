"""The API's OpenAPI schema as the repository keeps it, in docs/openapi.json."""

from __future__ import annotations

import json

from leadrelay.api.api import api

PREFIX = "/api/v1/"
REGENERATE = "leadrelay openapi --output docs/openapi.json"


def schema_text() -> str:
    """Return the schema as the committed file holds it: indented, one final newline."""
    schema = api.get_openapi_schema(path_prefix=PREFIX)
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
