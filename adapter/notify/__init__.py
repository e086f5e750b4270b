"""Pushing results out to subscribers: the rest-hook client, the notification signature, and the
sealing of the subscribers' secrets at rest. Knows nothing of the store, the service or the API;
the composition root wires it in (docs/http-api.md, "Subscriptions")."""

from adapter.notify.resthook import Delivery, RestHook
from adapter.notify.sealing import SecretBox, load_or_create_key
from adapter.notify.signing import SIGNATURE_HEADER, TOLERANCE_SECONDS, sign, verify

__all__ = [
    "SIGNATURE_HEADER",
    "TOLERANCE_SECONDS",
    "Delivery",
    "RestHook",
    "SecretBox",
    "load_or_create_key",
    "sign",
    "verify",
]
