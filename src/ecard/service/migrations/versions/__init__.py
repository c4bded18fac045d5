"""The service schema's revisions, oldest first."""
