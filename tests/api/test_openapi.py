"""The OpenAPI schema: the committed file is the one the code generates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.test import Client

from leadrelay.api.openapi import REGENERATE, schema_text

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_committed_schema_is_the_generated_one() -> None:
    generated = schema_text()

    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    assert committed == generated, (
        f"docs/openapi.json differs from the API's schema; regenerate it: {REGENERATE}"
    )


@pytest.mark.django_db
def test_the_served_schema_is_the_committed_one() -> None:
    response = Client().get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.json() == json.loads(COMMITTED.read_text(encoding="utf-8"))


def test_every_write_documents_the_idempotency_header() -> None:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))

    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            names = [p["name"] for p in operation.get("parameters", [])]
            assert ("Idempotency-Key" in names) == (method in ("post", "patch")), path


def test_every_operation_documents_its_errors_in_the_one_shape() -> None:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))

    for methods in schema["paths"].values():
        for operation in methods.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/ErrorOut"


@pytest.mark.django_db
def test_the_docs_page_loads_nothing_from_another_site() -> None:
    response = Client().get("/api/v1/docs")

    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(a.startswith("/static/") for a in assets), assets
    assert "cdn" not in page.lower()
