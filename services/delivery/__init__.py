"""Webhooks (issue 17, push as well as pull): an organisation's registrations for one feed kind,
the deliverer that POSTs each feed item to them, signed, at least once, and the dead letters an
operator lists and replays."""
