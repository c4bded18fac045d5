"""Alembic migrations of the workflow store, shipped in the package and run by
:class:`ecard.workflow.store.Store` on open (``upgrade head``)."""
