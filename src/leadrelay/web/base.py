"""What every page shares: the sign-in and role check, the contract, the time zone."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from leadrelay.contract import Contract, ContractError
from leadrelay.web import contract as contracts
from leadrelay.workflow.roles import ACTIONS, may, not_allowed, roles_of

View = Callable[..., HttpResponse]

NO_ROLE = (
    "Your account has no role yet. An admin can give you one: "
    "marketing, sales or admin."
)


def page(action: str | None = None) -> Callable[[View], View]:
    """Guard a view: signed in, holding a role (and the one `action` needs).

    The view is called with the contract in force as its second argument,
    with times shown in the contract's time zone.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())

            if not roles_of(request.user):
                raise PermissionDenied(NO_ROLE)

            if action is not None:
                require(request, action)

            try:
                contract = contracts.current()
            except ContractError as exc:
                context = {"source": exc.source, "problems": exc.problems}
                return render(
                    request, "leadrelay/contract_broken.html", context, status=503
                )

            with timezone.override(contract.tz):
                return view(request, contract, *args, **kwargs)

        return guarded

    return decorate


def require(request: HttpRequest, action: str) -> None:
    """Refuse with a readable 403 page unless the user's role allows `action`."""
    if not may(request.user, action):
        raise PermissionDenied(not_allowed(action))


def permissions(request: HttpRequest) -> dict[str, Any]:
    """Give templates `can.<action>` and `my_roles`, to hide what a user may not do."""
    user = getattr(request, "user", None)
    return {
        "can": {action: may(user, action) for action in ACTIONS},
        "my_roles": sorted(roles_of(user)),
    }


def safe_next(request: HttpRequest, fallback: str) -> str:
    """Return the form's `next` address when it points back into this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else fallback


def contract_context(contract: Contract) -> dict[str, Any]:
    return {"contract": contract, "version": contract.sha256[:12]}
