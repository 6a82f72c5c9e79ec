"""ccmops's key pair for a practice's EHR (SMART Backend Services, `private_key_jwt`): generated here with
`cryptography` (P-384 for ES384, RSA 3072 for RS384); the public half is published as a JWKS for the EHR to fetch;
the private half never leaves ccmops and is kept encrypted (`outbox.secrets`)."""

from __future__ import annotations

import hashlib
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from ccmops.errors import InvalidInput

ALGORITHMS = ("ES384", "RS384")


def generate(algorithm: str) -> tuple[str, dict, str]:
    """A new key pair: (private key PEM, public JWK, key id)."""
    if algorithm not in ALGORITHMS:
        raise InvalidInput(f"algorithm: expected ES384 or RS384, got {algorithm!r}")
    if algorithm == "ES384":
        private = ec.generate_private_key(ec.SECP384R1())
        jwk = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    kid = hashlib.sha256(json.dumps(jwk, sort_keys=True).encode()).hexdigest()[:32]
    return pem, {**jwk, "kid": kid, "alg": algorithm, "use": "sig", "key_ops": ["verify"]}, kid


def jwks(public_jwk: dict) -> dict:
    return {"keys": [public_jwk] if public_jwk else []}
