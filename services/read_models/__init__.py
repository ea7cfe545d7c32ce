"""Read models (projections) as SQLAlchemy tables, rebuildable from the event store."""
