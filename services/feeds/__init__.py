"""Feeds back to the parties (issue 17): what concerns one receiving organisation, read by
cursor through the gate (services/feeds/routes.py) or pushed to its webhook."""
