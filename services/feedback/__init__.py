"""Terugmelding (issue 17): the signal-status feed and the page "Mijn signalen" of a
publishing organisation, about its own signals only (rules in radar/feedback.py)."""
