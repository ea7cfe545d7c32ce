"""Statistics: the effect monitor and the CBS beleidsinformatie, computed from the event store
as of any moment (never from a read model that could have drifted)."""
