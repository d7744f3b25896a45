"""Sign-in through the organisation's OpenID Connect provider (Microsoft Entra ID in most
authorities): the authorization code flow with PKCE, state and nonce
(https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth).

The provider only says who the person is. What they may see comes from their scorecard account
(``pathways users``), matched on a configurable claim and bound to the provider's subject at first
sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]


class SignInFailed(Exception):
    """The provider's answer could not be trusted or used (the message says why, for the log)."""


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    username: str | None
    name: str | None


@dataclass(frozen=True)
class Request:
    url: str
    state: str
    nonce: str
    code_verifier: str


class OidcClient:
    def __init__(self, issuer: str, client_id: str, client_secret: str | None, username_claim: str = "email",
                 timeout: float = 10.0):
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.username_claim = username_claim
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)
        self._metadata: dict | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    def metadata(self) -> dict:
        with self._lock:
            if self._metadata is None or time.time() - self._metadata_at > 3600:
                r = self._http.get(f"{self.issuer}/.well-known/openid-configuration")
                r.raise_for_status()
                meta = r.json()
                if meta.get("issuer", "").rstrip("/") != self.issuer:
                    raise SignInFailed(f"the provider's discovery document names issuer {meta.get('issuer')!r}, "
                                       f"not {self.issuer!r}")
                self._metadata, self._metadata_at, self._keys = meta, time.time(), None
            return self._metadata

    def _key_set(self, refresh: bool = False) -> KeySet:
        meta = self.metadata()
        with self._lock:
            if self._keys is None or refresh:
                r = self._http.get(meta["jwks_uri"])
                r.raise_for_status()
                self._keys = KeySet.import_key_set(r.json())
            return self._keys

    def start(self, redirect_uri: str) -> Request:
        """Where to send the browser, and what must come back."""
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urlencode({"response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri,
                           "scope": "openid profile email", "state": state, "nonce": nonce,
                           "code_challenge": challenge, "code_challenge_method": "S256"})
        endpoint = self.metadata()["authorization_endpoint"]
        return Request(f"{endpoint}{'&' if '?' in endpoint else '?'}{query}", state, nonce, verifier)

    def finish(self, code: str, redirect_uri: str, nonce: str, code_verifier: str) -> Identity:
        """Exchange the code at the token endpoint and validate the ID token (signature, issuer,
        audience, expiry, nonce)."""
        meta = self.metadata()
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": code_verifier, "client_id": self.client_id}
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth = None
        if self.client_secret:
            if "client_secret_basic" in methods:
                auth = (self.client_id, self.client_secret)
            else:
                data["client_secret"] = self.client_secret
        r = self._http.post(meta["token_endpoint"], data=data, auth=auth, headers={"Accept": "application/json"})
        if r.status_code != 200:
            raise SignInFailed(f"the token endpoint answered {r.status_code}: {r.text[:200]}")
        id_token = r.json().get("id_token")
        if not id_token:
            raise SignInFailed("the token endpoint returned no ID token")
        claims = self._validate(id_token, nonce)
        username = claims.get(self.username_claim)
        if self.username_claim == "email" and claims.get("email_verified") is False:
            username = None
        return Identity(self.issuer, str(claims["sub"]), str(username) if username else None, claims.get("name"))

    def _validate(self, id_token: str, nonce: str) -> dict:
        try:
            return validate_id_token(id_token, self._key_set(), self.issuer, self.client_id, nonce)
        except SignInFailed:  # the provider may have rotated its keys since we fetched them
            return validate_id_token(id_token, self._key_set(refresh=True), self.issuer, self.client_id, nonce)


def validate_id_token(id_token: str, keys: KeySet, issuer: str, client_id: str, nonce: str) -> dict:
    """The ID token's claims if it is signed by one of the provider's keys with an asymmetric
    algorithm, issued by ``issuer`` to ``client_id`` for this sign-in (``nonce``) and in date;
    otherwise SignInFailed (OpenID Connect Core 1.0, section 3.1.3.7)."""
    try:
        token = jwt.decode(id_token, keys, algorithms=SIGNING_ALGORITHMS)
        jwt.JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "value": issuer},
            sub={"essential": True},
            aud={"essential": True, "value": client_id},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
    except (JoseError, ValueError, TypeError) as e:
        raise SignInFailed(f"the ID token is not valid: {e}") from e
    claims = token.claims
    aud = claims.get("aud")
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != client_id:
        raise SignInFailed("the ID token was issued to another party (azp)")
    return claims
