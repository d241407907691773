"""Settings of console sign-in (`accounts:` in the settings file)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class OidcSettings(BaseModel):
    """An OpenID Connect provider to sign in with (authorization code flow with PKCE)."""

    issuer: str  # its discovery document is at {issuer}/.well-known/openid-configuration
    client_id: str
    client_secret: SecretStr | None = None  # None: a public client (PKCE only)
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile", "email"])
    button_label: str = "Sign in with SSO"
    # The callback URL registered with the provider; None: this server's own
    # /auth/oidc/callback as the browser reached it.
    redirect_uri: str | None = None


class AccountSettings(BaseModel):
    signup: bool = True  # false: only admins (or `modelport users create`) make accounts
    session_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=300)  # sliding, per use
    # Cookie `Secure` flag: None sets it when the request came over HTTPS.
    cookie_secure: bool | None = None
    # Sign-in attempts per minute, per username and per client address.
    signin_per_minute_user: int = Field(default=10, ge=1)
    signin_per_minute_ip: int = Field(default=30, ge=1)
    oidc: OidcSettings | None = None
