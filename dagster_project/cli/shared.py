"""What every group of `shazam` commands shares: exit codes, the one-line refusal, the store
and Dagster instance the environment names, and argument types.

Imports here stay light (click and the platform's small modules): `shazam validate` must start
in a fraction of a second, so the store (boto3) and Dagster are imported when first used.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from shazam_assets.platform import settings
from shazam_assets.platform.asin import asin_problem

if TYPE_CHECKING:
    from shazam_assets.platform.storage import ObjectStore

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXIT_REJECTED = 1
EXIT_CANNOT_RUN = 2


class CannotRun(click.ClickException):
    exit_code = EXIT_CANNOT_RUN


class _Hours(click.ParamType):
    """A finite, non-negative number of hours ('nan' and 'inf' parse as floats, then break
    timedelta arithmetic far from the command line)."""

    name = "hours"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            hours = float(value)
        except (TypeError, ValueError):
            hours = math.nan
        if not (math.isfinite(hours) and 0 <= hours <= 24 * 365 * 100):
            self.fail(f"{value!r} is not a number of hours (0 or more)", param, ctx)
        return hours


HOURS = _Hours()

ALLOWED_HOST_OPTION = click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A Host name the app is reached by (repeatable); others are refused. Loopback names "
    "and --host are always allowed; with --host 0.0.0.0 and no --allowed-host, every name is.",
)


def apply_default_env(base: settings.Settings = settings.DEFAULTS) -> settings.Settings:
    """Fill unset SHAZAM_* / DAGSTER_HOME variables with the checkout's embedded defaults, and
    create the embedded default store: the one store made on purpose (any other local root
    must exist, so a mistyped one is refused instead of becoming a new empty store)."""
    from shazam_assets.platform.storage import open_store

    current = settings.apply_embedded(PROJECT_ROOT, os.environ, base)
    embedded_store = settings.embedded(PROJECT_ROOT).store_url
    if embedded_store is not None and current.store_url == embedded_store:
        open_store(embedded_store, create=True)
    return current


def open_configured_store() -> ObjectStore:
    """The store SHAZAM_STORE_URL names (the embedded default by default)."""
    from shazam_assets.platform.storage import open_store

    return open_store(apply_default_env().store_url or "")


def checked_asin(value: str) -> str:
    if problem := asin_problem(value):
        raise CannotRun(f"ASIN_INVALID: {problem}")
    return value


def dagster_instance() -> Any:
    """The instance of DAGSTER_HOME (embedded default: .shazam/dagster_home with SQLite)."""
    import dagster as dg

    apply_default_env()
    return dg.DagsterInstance.get()
