"""The studio's settings: its identity provider, its session secret and where it is published.

Read from the environment (the Deployment sets them, deploy/k8s/studio):
- SHAZAM_OIDC_ISSUER: the OpenID Connect issuer (Cognito: https://cognito-idp.<region>.amazonaws.com/<pool>);
  its discovery document gives every endpoint and the signing keys.
- SHAZAM_OIDC_CLIENT_ID, SHAZAM_OIDC_CLIENT_SECRET: the studio's (confidential) app client.
- SHAZAM_OIDC_GROUPS_CLAIM: the ID token claim holding the person's groups (default `groups`;
  Cognito's is `cognito:groups`). Groups named as the roles are the roles; others are ignored.
- SHAZAM_STUDIO_SESSION_SECRET: signs the session cookie (32 bytes or more, random).
- SHAZAM_STUDIO_PUBLIC_URL: the URL people open (https://studio.example.com); the OIDC
  redirect URI is `<public url>/auth/callback`. Default: the URL the request came in on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from shazam_assets.platform.errors import ShazamError

MIN_SECRET_BYTES = 32


class StudioConfigError(ShazamError, ValueError):
    """The studio cannot start with these settings (STUDIO_NOT_CONFIGURED)."""


@dataclass(frozen=True)
class StudioConfig:
    issuer: str
    client_id: str
    client_secret: str
    session_secret: str
    groups_claim: str = "groups"
    public_url: str = ""  # empty: the URL each request came in on (loopback use)
    scope: str = "openid email profile"
    # A session never outlives its ID token; this caps it when the token says more.
    max_session: timedelta = timedelta(hours=12)
    # Presigned upload URLs live this long (each part URL; a new one is asked for per part).
    presign_ttl: timedelta = timedelta(minutes=15)
    # Browser uploads are cut into parts of this size (S3's 5 MiB at least; the last is shorter).
    upload_part_bytes: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        missing = [
            name
            for name, value in (
                ("SHAZAM_OIDC_ISSUER", self.issuer),
                ("SHAZAM_OIDC_CLIENT_ID", self.client_id),
                ("SHAZAM_STUDIO_SESSION_SECRET", self.session_secret),
            )
            if not value
        ]
        if missing:
            raise StudioConfigError(
                "STUDIO_NOT_CONFIGURED", f"set {', '.join(missing)} (see `shazam studio --help`)"
            )
        if len(self.session_secret.encode()) < MIN_SECRET_BYTES:
            raise StudioConfigError(
                "STUDIO_NOT_CONFIGURED",
                f"SHAZAM_STUDIO_SESSION_SECRET must be at least {MIN_SECRET_BYTES} bytes",
            )
        if not self.issuer.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise StudioConfigError(
                "STUDIO_NOT_CONFIGURED",
                "SHAZAM_OIDC_ISSUER must be an https:// URL (plain http only on loopback)",
            )

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StudioConfig:
        env = os.environ if environ is None else environ
        return cls(
            issuer=env.get("SHAZAM_OIDC_ISSUER", ""),
            client_id=env.get("SHAZAM_OIDC_CLIENT_ID", ""),
            client_secret=env.get("SHAZAM_OIDC_CLIENT_SECRET", ""),
            session_secret=env.get("SHAZAM_STUDIO_SESSION_SECRET", ""),
            groups_claim=env.get("SHAZAM_OIDC_GROUPS_CLAIM", "") or "groups",
            public_url=env.get("SHAZAM_STUDIO_PUBLIC_URL", "").rstrip("/"),
        )
