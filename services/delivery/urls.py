"""Which receiver URLs a webhook may have: HTTPS only, to a host that is not the radar's own.

A registration makes the radar send requests where someone said; without these checks it could
be pointed at the services beside it (server-side request forgery). Loopback is refused unless
RADAR_WEBHOOKS_ALLOW_LOOPBACK says otherwise (tests, make run); link-local (cloud metadata),
multicast and unspecified addresses always. A host name is not resolved here: a deployment
also limits the deliverer's egress (its network policy), since a name can resolve elsewhere
later.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from services.delivery.tables import MAX_URL_LENGTH
from services.errors import Refusal, invalid_field

LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _refusal(reason: str) -> Refusal:
    return invalid_field("url", reason)


def checked_url(url: str, allow_loopback: bool) -> str:
    """The URL as registered, or a Refusal naming the field `url` and why (never its value)."""
    if len(url) > MAX_URL_LENGTH:
        raise _refusal(f"must be at most {MAX_URL_LENGTH} characters")
    if not url.isascii() or not url.isprintable() or " " in url:
        raise _refusal("must be printable ASCII without spaces (percent-encode the rest)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refusal("is not a URL") from None
    if parts.scheme != "https":
        raise _refusal("must be an https:// URL (deliveries are only sent over TLS)")
    host = (parts.hostname or "").lower()
    if not host:
        raise _refusal("must name a host")
    if parts.username is not None or parts.password is not None:
        raise _refusal("must not carry a user name or password (sign with a secret instead)")
    if parts.fragment:
        raise _refusal("must not have a fragment")
    if port == 0:
        raise _refusal("must not name port 0")
    address = _address(host)
    loopback = host in LOOPBACK_NAMES or host.endswith(".localhost")
    if address is not None:
        if address.is_link_local or address.is_multicast or address.is_unspecified:
            raise _refusal("must not be a link-local, multicast or unspecified address")
        loopback = loopback or address.is_loopback
    if loopback and not allow_loopback:
        raise _refusal(
            "must not be on the radar's own host (loopback is allowed only where "
            "RADAR_WEBHOOKS_ALLOW_LOOPBACK=true)"
        )
    return url
