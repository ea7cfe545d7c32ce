"""`radar deliver` over the test feed of tests/support/feed_table.py, as its own process (the
chaos test SIGKILLs it mid-delivery and starts it again): the same deliverer the composition
root builds, from the RADAR_* environment, with the test feed as its only source."""

from __future__ import annotations

from services import bootstrap
from services.logs import command_settings
from tests.support.feed_table import TableFeed


def main() -> None:
    settings = command_settings("deliver")
    feed = TableFeed(bootstrap.Parts(settings).engine)
    deliverer = bootstrap.deliverer(settings, [feed])
    deliverer.run(bootstrap.stop_on_signals(), settings.deliverer_idle_seconds)


if __name__ == "__main__":
    main()
