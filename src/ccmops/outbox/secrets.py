"""Secrets kept encrypted at rest (issue 34): Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) with a
key derived from the deployment's secret key, so a copy of the database alone does not reveal them."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from ccmops.errors import ConfigurationError


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"ccmops-secrets:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


EHR_KEY = (
    "the EHR connection's key cannot be read with this deployment's secret key (was it changed?): generate "
    "a new key pair and register its JWKS with the EHR again"
)


def unseal(token: str, unreadable: str = EHR_KEY) -> str:
    """The secret; `unreadable` says what to do when this deployment's key cannot open it."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ConfigurationError(unreadable) from None
