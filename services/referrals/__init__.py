"""Referrals of suspected offences to the OM/police (issue 17): read model, feed, route."""
