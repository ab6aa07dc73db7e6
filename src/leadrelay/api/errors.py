"""The API's one error shape, and the handlers that turn every failure into it.

    {"error": {"code": "...", "message": "...",
               "fields": [{"field": "email", "message": "..."}],   # invalid input
               "unmet": ["ICP tag industry", ...]}}                 # a refusal

`error()` is the only place that body is built; docs/api.md lists the codes,
and tests/api/test_errors.py requests each one and checks its shape.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from leadrelay.contract import ContractError
from leadrelay.workflow.ops import Refused

logger = logging.getLogger(__name__)

JSON = "application/json; charset=utf-8"

#: The code each status gets when nothing more particular applies.
CODES = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


class Invalid(Exception):
    """Input that is the wrong shape: each problem names its field."""

    def __init__(self, problems: Sequence[tuple[str, str]], message: str = "") -> None:
        self.problems = list(problems)
        self.message = message or _summary(self.problems)
        super().__init__(self.message)


class ApiError(Exception):
    """Any other error a handler wants answered in the shape, with its own code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(message)


def once_each(request: HttpRequest) -> None:
    """Refuse a query parameter given twice: which one was meant is anyone's guess."""
    repeated = [name for name, values in request.GET.lists() if len(values) > 1]
    if repeated:
        raise Invalid([(name, "give it once") for name in repeated])


def respond(status: int, data: Any) -> HttpResponse:
    return HttpResponse(encode(data), status=status, content_type=JSON)


def encode(data: Any) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)


def error(
    status: int,
    message: str,
    *,
    code: str = "",
    fields: Sequence[tuple[str, str]] | None = None,
    unmet: Sequence[str] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "code": code or CODES.get(status, "error"),
        "message": message,
    }
    if fields is not None:
        body["fields"] = [{"field": f, "message": m} for f, m in fields]
    if unmet is not None:
        body["unmet"] = list(unmet)

    return respond(status, {"error": body})


def refused(exc: Refused) -> HttpResponse:
    return error(422, exc.message, code="refused", unmet=exc.reasons)


def invalid(exc: Invalid) -> HttpResponse:
    return error(422, exc.message, fields=exc.problems)


def install(api: NinjaAPI) -> None:
    """Answer every exception an operation raises in the error shape."""
    handlers: dict[type[Exception], Callable[[HttpRequest, Any], HttpResponse]] = {
        ValidationError: _validation,
        AuthenticationError: _authentication,
        HttpError: _http,
        Invalid: lambda request, exc: invalid(exc),
        Refused: lambda request, exc: refused(exc),
        ApiError: lambda request, exc: error(exc.status, exc.message, code=exc.code),
        Http404: _not_found,
        PermissionDenied: lambda request, exc: error(403, str(exc) or "Not allowed."),
        ContractError: _contract_broken,
        Exception: _server_error,
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, handler)


def _summary(problems: Sequence[tuple[str, str]]) -> str:
    if not problems:
        return "The request is not valid."

    parts = [f"{field}: {message}" for field, message in problems[:3]]
    more = len(problems) - 3
    tail = f"; and {more} more" if more > 0 else ""
    return "Not valid: " + "; ".join(parts) + tail + "."


def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = [_problem(item) for item in exc.errors]
    return invalid(Invalid(problems))


def _problem(item: dict[str, Any]) -> tuple[str, str]:
    """Name the field of one pydantic error as the sender wrote it."""
    loc = [str(part) for part in item.get("loc", ())]
    where = loc[0] if loc else ""
    # ninja puts the source first ("body", "query", "path") and, for a body,
    # the handler's parameter name second; the sender knows neither.
    rest = loc[2:] if where == "body" else loc[1:]
    field = ".".join(rest) or ("body" if where == "body" else where)
    kind = str(item.get("type", ""))
    ctx = item.get("ctx") or {}
    if kind in _PLAIN:
        try:
            return field, _PLAIN[kind].format(**ctx)
        except (KeyError, IndexError):
            pass

    if kind.startswith(("datetime", "timezone")):
        return field, "must be a date and time with its offset, e.g. " + _WHEN

    if kind == "value_error" and ctx.get("error"):
        return field, str(ctx["error"])

    return field, str(item.get("msg", "not valid")).rstrip(".").lower()


_WHEN = "2026-05-04T09:00:00+02:00"

#: Pydantic's error types, said the way the rest of leadrelay says things.
_PLAIN = {
    "extra_forbidden": "unknown field",
    "missing": "required",
    "dict_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "string_type": "must be text",
    "string_too_long": "must be at most {max_length} characters",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "greater_than_equal": "must be {ge} or more",
    "less_than_equal": "must be {le} or less",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
}


def _authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = str(exc)
    if message == "Unauthorized":
        message = (
            "Send an API key (Authorization: Bearer KEY, or X-Api-Key: KEY), "
            "or sign in to the web app."
        )
    response = error(401, message)
    response["WWW-Authenticate"] = 'Bearer realm="leadrelay"'
    return response


def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    if exc.status_code == 400 and exc.__cause__ is not None:
        message = f"The body is not valid JSON: {exc.__cause__}."
    elif message == "CSRF check Failed":
        message = (
            "CSRF check failed: a signed-in write must send the csrftoken "
            "cookie's value in the X-CSRFToken header."
        )
    return error(exc.status_code, message)


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    text = str(exc)
    return error(404, text if text.endswith(".") else "Not found.")


def _contract_broken(request: HttpRequest, exc: ContractError) -> HttpResponse:
    return error(
        503,
        f"The funnel contract cannot be used: {'; '.join(exc.problems)} "
        f"({exc.source}). Fix it and run `leadrelay contract check`.",
        code="contract_broken",
    )


def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    return error(500, "Something went wrong on our side; it has been logged.")
