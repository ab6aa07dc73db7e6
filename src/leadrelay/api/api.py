"""The REST API, version 1: one NinjaAPI with its routers, auth and error handlers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Swagger
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation

from leadrelay.api import errors, info, intake, leads
from leadrelay.api.auth import AUTH
from leadrelay.api.limits import MAX_BODY_BYTES
from leadrelay.api.replay import HEADER as IDEMPOTENCY_HEADER

DESCRIPTION = """\
Every lead created or changed here goes through the same workflow, and the
same gates, as the web app. Authenticate with an API key (`Authorization:
Bearer KEY` or `X-Api-Key: KEY`; `leadrelay apikey create` makes one) or a
web app session (writes then need the `X-CSRFToken` header). Writes accept an
`Idempotency-Key` header: a retry with the same key gets the first answer and
changes nothing. Every error has one shape, `{"error": {"code", "message",
"fields"?, "unmet"?}}`; see docs/api.md.
"""


def _limit_body(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse a body over the limit before anything reads it."""

    @wraps(run)
    def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            return errors.error(
                413,
                f"The body is {length} bytes; the API reads at most "
                f"{MAX_BODY_BYTES} ({MAX_BODY_BYTES // 1024} KB).",
            )

        return run(request, *args, **kwargs)

    return limited


IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": IDEMPOTENCY_HEADER,
    "required": False,
    "description": "a retry with the same key gets the first answer and "
    "changes nothing",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


class Api(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        return str(operation.view_func.__name__)

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        """Document the `Idempotency-Key` header on every write."""
        schema = super().get_openapi_schema(**kwargs)
        for methods in schema["paths"].values():
            for method, operation in methods.items():
                if method in ("post", "patch"):
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
        return schema


api = Api(
    title="leadrelay",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=AUTH,
    # Served from the installed package (ninja is an installed app), and with
    # the validator badge off: the docs page loads nothing from elsewhere.
    docs=Swagger(settings={"validatorUrl": None}),
)
api.add_decorator(_limit_body, mode="view")
errors.install(api)
api.add_router("", leads.router)
api.add_router("", intake.router)
api.add_router("", info.router)
