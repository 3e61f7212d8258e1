"""The local web dashboard: a FastAPI app over one ledger (see :func:`create_app`)."""

from .app import create_app

__all__ = ["create_app"]
