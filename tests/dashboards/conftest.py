"""Fixtures of the portal tests: the shared Ravello data home."""

from tests.ravello import ravello, ravello_home  # noqa: F401
