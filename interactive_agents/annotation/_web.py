"""What every route of the platform shares: blocking work off the event loop, the signed-in
user, ids from the path, refusals the page can translate, and the client's address.

A refusal carries a stable ``code`` beside its English ``detail``; the page shows its
own translation of the code (``static/strings.<lang>.json``) and the detail otherwise.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends, HTTPException, Request

from interactive_agents.annotation._config import Network
from interactive_agents.annotation._database import MAX_ID, AnnotationStore, User

COOKIE = "ia_session"
DEVICE_COOKIE = "ia_device"
T = TypeVar("T")


class Refusal(HTTPException):
    """An HTTP error with a ``code`` the page translates."""

    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, detail, headers)
        self.code = code


async def in_thread(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking database work off the event loop."""
    return await anyio.to_thread.run_sync(partial(call, *args, **kwargs))


async def current_user(request: Request) -> User:
    """The signed-in user of the request's session cookie, or 401."""
    store: AnnotationStore = request.app.state.store
    token = request.cookies.get(COOKIE)
    user = await in_thread(store.user_for, token) if token else None
    if user is None:
        raise Refusal(401, "signed_out", "sign in first")
    return user


async def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    """The signed-in user if an admin, else 403."""
    if not user.admin:
        raise Refusal(403, "admin_only", "only an admin may do this")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
AdminUser = Annotated[User, Depends(admin_user)]


def path_number(text: str, what: str) -> int:
    """An id from the path; anything but a plain number in range names nothing (404)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 19) or not 0 < int(text) <= MAX_ID:
        raise Refusal(404, "not_found", f"no such {what}")
    return int(text)


def client_address(request: Request, proxies: Sequence[Network]) -> str:
    """The client's address: the peer's, or behind a trusted proxy, the address the
    proxy saw (the right-most ``X-Forwarded-For`` entry that is not a trusted proxy).

    Entries left of it are whatever the client sent and are never believed; a peer
    that is not a trusted proxy cannot set the address at all.
    """
    peer = request.client.host if request.client else ""
    if not proxies or not _within(peer, proxies):
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _within(hop, proxies):
            return hop
    return hops[0] if hops else peer


def _within(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
