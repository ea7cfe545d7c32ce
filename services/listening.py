"""The socket an ingest or query process serves on: its own port, or one port shared by several
processes of a kind (`radar run`, RADAR_API_PORTS=shared)."""

from __future__ import annotations

import socket

from services.settings import Settings


def api_socket(settings: Settings, process: str) -> socket.socket:
    """This ingest or query process's listening socket, as the settings place it."""
    return shared_socket(
        settings.host, settings.own_api_port(process), settings.shares_api_port(process)
    )


def shared_socket(host: str, port: int, shared: bool) -> socket.socket:
    """An API port, bound with SO_REUSEPORT when several processes of one kind serve it: each
    process is a child of `radar run` of its own (restarted and given up on alone, its own
    metrics), and the kernel spreads new connections over their sockets. While one is down
    the others keep answering. (uvicorn's --workers would put a second supervisor under
    `radar run`'s, with its own restart rules and one metrics registry per worker behind a
    single port.) The kernel lets only processes of the same user share the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        listening.bind((host, port))
    except OSError:
        listening.close()
        raise
    listening.listen(2048)
    return listening
