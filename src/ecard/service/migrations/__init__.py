"""The Alembic chain of the service's own tables (accounts, sessions, sign-in events), with its
own version table so it evolves apart from the workflow's chain in the same database."""
