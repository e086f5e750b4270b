"""The FHIR HTTP API (FastAPI): build it with :func:`create_app`."""

from adapter.api.app import create_app

__all__ = ["create_app"]
