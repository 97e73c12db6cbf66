"""A client library for accessing Apikley sora-2-characters API (tolerant client bundle)"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
