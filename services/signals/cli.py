"""`radar ingest` serves the ingest API; `radar publish` sends a file of signals through the
publisher SDK, as an organisation would."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import orjson
import typer
import uvicorn

from publisher_sdk.client import PublisherClient, mutual_tls_context
from services import bootstrap, collector, metrics, signals_topic
from services.listening import api_socket
from services.logs import command_settings
from services.tls import uvicorn_tls


def ingest() -> None:
    """Serve the ingest API."""
    settings = command_settings("ingest")
    metrics.serve(settings.host, settings.own_metrics_port("ingest"), "ingest")
    signals_topic.ensure_signals_topic_meanwhile(settings)  # answers 503 until Kafka has it
    config = uvicorn.Config(
        bootstrap.ingest_app(settings),
        log_config=None,
        access_log=False,  # services.logs.RequestLines writes the request lines, masked
        server_header=False,  # API-53: the answers do not name the server software
        **uvicorn_tls(settings),  # HTTPS, and mutual TLS, when configured
    )
    listening = api_socket(settings, "ingest")
    collector.tune_for_throughput()
    uvicorn.Server(config).run(sockets=[listening])


def publish(
    signals_file: Annotated[Path, typer.Argument(help="JSON lines, one signal per line.")],
    url: Annotated[str, typer.Option(help="The ingest API.")] = "http://127.0.0.1:8081",
    token_file: Annotated[Path, typer.Option(help="File holding the publisher's token.")] = Path(
        "publisher.token"
    ),
    batch_size: Annotated[int, typer.Option(min=1, max=1000)] = 500,
    plain_identifiers: Annotated[
        bool,
        typer.Option(help="Send BSNs and addresses in clear (development radars only)."),
    ] = False,
    client_cert: Annotated[
        Path | None,
        typer.Option(help="Mutual TLS: the organisation's certificate (PEM), its token's."),
    ] = None,
    client_key: Annotated[
        Path | None, typer.Option(help="Mutual TLS: the key of --client-cert (PEM).")
    ] = None,
    ca_cert: Annotated[
        Path | None, typer.Option(help="Mutual TLS: the CA (PEM) that signed the radar's server.")
    ] = None,
) -> None:
    """Publish signals with retries, identifiers sealed to the radar's key; print one line per
    signal that was not delivered."""
    token = token_file.read_text(encoding="utf-8").strip()
    lines = signals_file.read_text(encoding="utf-8").splitlines()
    signals = [orjson.loads(line) for line in lines if line.strip()]
    tls = None
    if client_cert is not None or client_key is not None or ca_cert is not None:
        if client_cert is None or client_key is None or ca_cert is None:
            raise typer.BadParameter("mutual TLS needs --client-cert, --client-key and --ca-cert")
        tls = mutual_tls_context(str(ca_cert), str(client_cert), str(client_key))
    with PublisherClient(
        url, token, batch_size=batch_size, seal_identifiers=not plain_identifiers, tls=tls
    ) as client:
        results = client.publish(signals)
    counts = Counter(result.status for result in results)
    for result in results:
        if not result.delivered:
            typer.echo(orjson.dumps(asdict(result)).decode())
    typer.echo(", ".join(f"{count} {status}" for status, count in sorted(counts.items())))
    raise typer.Exit(0 if all(r.delivered for r in results) else 1)
