"""`shazam studio`: the signed-in web app for artists, reviewers, leads and operators."""

from __future__ import annotations

import contextlib
import os
import secrets

import click

from dagster_project.cli.shared import ALLOWED_HOST_OPTION, CannotRun, open_configured_store


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@ALLOWED_HOST_OPTION
@click.option("--port", default=8421, show_default=True, type=int)
@click.option(
    "--dev-identity-provider",
    is_flag=True,
    help="Sign in locally: run a real OpenID provider on loopback (oidc-provider-mock) with one "
    "person per role, and use it instead of SHAZAM_OIDC_*.",
)
def studio(
    host: str, allowed_hosts: tuple[str, ...], port: int, dev_identity_provider: bool
) -> None:
    """Serve the studio: sign-in, production tracking, browser uploads, delivery status, review.

    \b
    Production reads its identity provider from the environment:
      SHAZAM_OIDC_ISSUER, SHAZAM_OIDC_CLIENT_ID, SHAZAM_OIDC_CLIENT_SECRET,
      SHAZAM_OIDC_GROUPS_CLAIM (Cognito: cognito:groups), SHAZAM_STUDIO_SESSION_SECRET,
      SHAZAM_STUDIO_PUBLIC_URL.
    \b
    On a laptop, sign in without any set-up:
      shazam studio --dev-identity-provider
    then open http://127.0.0.1:8421/ and pick a person on the provider's page: ada@example.com
    or arno@example.com (artists), rita@example.com (reviewer), leo@example.com (lead),
    otto@example.com (operator). Roles come from the ID token's groups claim.
    """
    from shazam_assets.studio.app import serve
    from shazam_assets.studio.config import StudioConfig, StudioConfigError

    store = open_configured_store()
    with contextlib.ExitStack() as stack:
        if dev_identity_provider:
            from shazam_assets.studio.dev_provider import DEV_PEOPLE, running_provider

            issuer = stack.enter_context(running_provider())
            config = StudioConfig(
                issuer=issuer,
                client_id="shazam-studio-dev",
                client_secret=secrets.token_urlsafe(24),
                session_secret=secrets.token_urlsafe(48),
            )
            click.echo(f"OpenID provider (development) on {issuer}; sign in as one of:")
            for person in DEV_PEOPLE:
                roles = ", ".join(person["groups"]) or "no role"
                click.echo(f"  {person['sub']:<20} {roles}")
        else:
            try:
                config = StudioConfig.from_env()
            except StudioConfigError as exc:
                raise CannotRun(
                    f"{exc}; or run `shazam studio --dev-identity-provider` to sign in locally"
                ) from None
        click.echo(
            f"Studio on http://{host}:{port}/ (store {os.environ['SHAZAM_STORE_URL']}, "
            f"identity provider {config.issuer})"
        )
        serve(store, config, host=host, port=port, allowed_hosts=allowed_hosts)


COMMANDS = (studio,)
