"""PLACEHOLDER until branch h/production merges (it replaces this file whole): the API the
studio calls, answering as if nothing were registered or assigned."""

from __future__ import annotations

from typing import Any

from shazam_assets.platform.errors import ShazamError

STAGES = ("cleanup", "uv", "texturing")


class ProductionError(ShazamError, ValueError):
    pass


def production_state(store: Any, asin: str) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(
        asin=asin, scan=None, assignment=None, stages=dict.fromkeys(STAGES), next_stage=None
    )


def assigned_asins(store: Any, artist_sub: str) -> list[str]:
    return []


def registered_asins(store: Any) -> list[str]:
    return []


def scan_files(store: Any, asin: str) -> list[Any]:
    return []


def assign(store: Any, asin: str, **kwargs: Any) -> Any:
    raise ProductionError("PRODUCTION_NO_SCAN", "placeholder")


def mark_stage(store: Any, asin: str, stage: str, **kwargs: Any) -> Any:
    raise ProductionError("PRODUCTION_NOT_ASSIGNED", "placeholder")
