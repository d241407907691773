"""Sign-in through an OpenID Connect provider: the authorization code flow with PKCE, `state`
and `nonce` (OpenID Connect Core 1.0, RFC 7636).

The flow's secrets (state, nonce, PKCE verifier) travel in a short-lived HS256-signed cookie,
so any replica can finish a flow another began. The id_token's signature is checked against
the provider's JWKS (fetched again once when it names a key not seen yet: the provider
rotated), and its `iss`, `aud`, `exp` and `nonce`; the account is found by (issuer, subject)
or made, its username taken from `preferred_username` or the e-mail address.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import jwt

from .auth_settings import OidcSettings
from .users import UsernameTaken, UserRecord, UserStore

FLOW_SECONDS = 600  # a sign-in started must finish within this
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


class OidcFailed(Exception):
    """The provider, its answer or the browser's flow cannot be trusted; says why."""


@dataclass(frozen=True, slots=True)
class Started:
    url: str  # where to send the browser
    flow: str  # the signed cookie holding the flow's secrets


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class OidcClient:
    def __init__(self, settings: OidcSettings, http: httpx.AsyncClient, flow_key: bytes) -> None:
        self._settings = settings
        self._http = http
        self._flow_key = flow_key
        self._discovery: dict[str, Any] | None = None
        self._jwks: jwt.PyJWKSet | None = None

    @property
    def issuer(self) -> str:
        return self._settings.issuer.rstrip("/")

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            reply = await self._http.get(url, timeout=10)
            reply.raise_for_status()
            body = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcFailed(f"the provider did not answer {url} ({type(exc).__name__})") from None
        if not isinstance(body, dict):
            raise OidcFailed(f"the provider's {url} is not a JSON object")
        return body

    async def discovery(self) -> dict[str, Any]:
        if self._discovery is None:
            found = await self._get_json(self.issuer + "/.well-known/openid-configuration")
            if str(found.get("issuer", "")).rstrip("/") != self.issuer:
                raise OidcFailed("the discovery document names another issuer")
            for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(found.get(field), str):
                    raise OidcFailed(f"the discovery document has no {field}")
            self._discovery = found
        return self._discovery

    async def start(self, redirect_uri: str) -> Started:
        found = await self.discovery()
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._settings.client_id,
                "redirect_uri": redirect_uri,
                "scope": " ".join(self._settings.scopes),
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        flow = jwt.encode(
            {
                "state": state,
                "nonce": nonce,
                "verifier": verifier,
                "redirect_uri": redirect_uri,
                "exp": int(time.time()) + FLOW_SECONDS,
            },
            self._flow_key,
            algorithm="HS256",
        )
        endpoint = found["authorization_endpoint"]
        return Started(f"{endpoint}{'&' if '?' in endpoint else '?'}{query}", flow)

    def _flow(self, cookie: str, state: str) -> dict[str, Any]:
        try:
            flow: dict[str, Any] = jwt.decode(cookie, self._flow_key, algorithms=["HS256"])
        except jwt.PyJWTError:
            raise OidcFailed("the sign-in flow expired or was not started here") from None
        if not secrets.compare_digest(str(flow.get("state", "")), state):
            raise OidcFailed("the state does not match the sign-in flow")
        return flow

    async def finish(self, cookie: str, state: str, code: str) -> dict[str, Any]:
        """The verified id_token claims of the flow `cookie` began, answered with `code`."""
        flow = self._flow(cookie, state)
        found = await self.discovery()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": flow["redirect_uri"],
            "code_verifier": flow["verifier"],
            "client_id": self._settings.client_id,
        }
        secret = self._settings.client_secret
        headers = {}
        if secret is not None:  # client_secret_basic: both parts form-encoded (RFC 6749 2.3.1)
            parts = (self._settings.client_id, secret.get_secret_value())
            pair = ":".join(quote(part, safe="") for part in parts)
            headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        try:
            reply = await self._http.post(
                found["token_endpoint"], data=form, headers=headers, timeout=10
            )
            tokens = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcFailed(f"the token endpoint failed ({type(exc).__name__})") from None
        if reply.status_code != 200 or not isinstance(tokens, dict):
            error = tokens.get("error") if isinstance(tokens, dict) else None
            raise OidcFailed(f"the token endpoint refused the code ({error or reply.status_code})")
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise OidcFailed("the token endpoint gave no id_token")
        claims = await self._verify(id_token)
        if not secrets.compare_digest(str(claims.get("nonce", "")), flow["nonce"]):
            raise OidcFailed("the id_token's nonce is not this flow's")
        return claims

    async def _key(self, kid: str | None) -> jwt.PyJWK:
        for fresh in (False, True):
            if self._jwks is None or fresh:
                found = await self.discovery()
                try:
                    self._jwks = jwt.PyJWKSet.from_dict(await self._get_json(found["jwks_uri"]))
                except jwt.PyJWTError:
                    raise OidcFailed("the provider's JWKS holds no usable key") from None
            for key in self._jwks.keys:
                if kid is None or key.key_id == kid:
                    return key
        raise OidcFailed("the id_token is signed with a key the provider does not publish")

    async def _verify(self, id_token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
            key = await self._key(header.get("kid"))
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=ALGORITHMS,
                audience=self._settings.client_id,
                issuer=self._settings.issuer,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
                leeway=30,
            )
        except jwt.PyJWTError as exc:
            raise OidcFailed(f"the id_token is not valid ({exc})") from None
        return claims


async def account_for(
    users: UserStore, issuer: str, claims: dict[str, Any], *, signup: bool
) -> UserRecord:
    """The account of these claims: found by (issuer, subject), else made (while sign-up
    is open: closing it closes it to the provider's users too)."""
    subject = str(claims["sub"])
    found = await users.by_oidc(issuer, subject)
    if found is not None:
        return found
    if not signup:
        raise OidcFailed("sign-up is closed and no account is linked to this identity")
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    wanted = claims.get("preferred_username") or (email or "").split("@")[0] or "user"
    for _ in range(3):  # another sign-in may take the free name first
        name = await users.free_username(str(wanted))
        try:
            return await users.create(
                name,
                email=email,
                display_name=str(claims.get("name") or "")[:200] or None,
                oidc=(issuer, subject),
            )
        except UsernameTaken:
            again = await users.by_oidc(issuer, subject)
            if again is not None:  # the same person's other sign-in made it
                return again
    raise OidcFailed("no free username could be made")
