"""The HTML of the product and catalogue pages (Jinja2 templates in `templates/`).

Rendering is deterministic (no clock, no store URL), so the same release always gives the
same bytes: that is how publishing again knows it has nothing to do.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

from shazam_assets.platform import web
from shazam_assets.publish.release import Release

TEMPLATES = Path(__file__).resolve().parent / "templates"
SEARCH_API = "/search"  # what `shazam serve` answers; the catalogue works without it
USDZ_TYPE = "model/vnd.usdz+zip"
# UN/CEFACT unit codes, as schema.org's QuantitativeValue.unitCode wants them
UNIT_CODES = {"m": "MTR", "cm": "CMT", "mm": "MMT", "in": "INH", "ft": "FOT"}

# Every page carries the policy of SHAZAM's web apps in a <meta> element too, so a host that
# sends no CSP header (S3 website hosting, a bucket behind a plain CDN) still runs no script but
# SHAZAM's own. `frame-ancestors` only works as a header (browsers ignore it in <meta>).
PAGE_POLICY = "; ".join(
    d for d in web.CONTENT_SECURITY_POLICY.split("; ") if not d.startswith("frame-ancestors")
)

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)
_env.globals["page_policy"] = PAGE_POLICY


def _dimension_values(dimensions: dict[str, Any] | None) -> list[float] | None:
    values = [(dimensions or {}).get(k) for k in ("width", "height", "depth")]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return None
    return [float(v) for v in values]  # type: ignore[arg-type]


def format_dimensions(dimensions: dict[str, Any] | None) -> str:
    """Width, height and depth joined by multiplication signs with the unit ('0.2 x 0.09 x
    0.08 m', with U+00D7 for x), or '' when the delivery gave none."""
    values = _dimension_values(dimensions)
    if values is None:
        return ""
    unit = str((dimensions or {}).get("unit") or "")
    return " \u00d7 ".join(f"{v:g}" for v in values) + f" {unit}".rstrip()


def _script_json(data: Any) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' can end it early."""
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def structured_data(release: Release) -> dict[str, Any]:
    """schema.org 3DModel: what search engines read about the model (URLs page-relative)."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",  # a vocabulary name in JSON-LD, never fetched
        "@type": "3DModel",
        "name": release.title,
        "identifier": release.asin,
        "version": str(release.version),
        "image": release.poster,
        "encoding": [
            {
                "@type": "MediaObject",
                "contentUrl": release.model,
                "encodingFormat": release.model_format,
            }
        ],
    }
    if release.usdz is not None:
        data["encoding"].append(
            {"@type": "MediaObject", "contentUrl": release.usdz, "encodingFormat": USDZ_TYPE}
        )
    values = _dimension_values(release.dimensions)
    if values is not None:
        unit = str((release.dimensions or {}).get("unit") or "m")
        for name, value in zip(("width", "height", "depth"), values, strict=True):
            data[name] = {
                "@type": "QuantitativeValue",
                "value": value,
                "unitCode": UNIT_CODES.get(unit, unit),
                "unitText": unit,
            }
    return data


def _viewer_models(release: Release) -> dict[str, str]:
    """What the viewer may load, for product.js: each channel's derivative and the master.
    The `src` in the markup is the desktop derivative (or the master), so the page shows a
    model even before its script runs."""
    return {**release.derivatives, "master": release.model}


def render_product_page(release: Release, *, site: dict[str, str]) -> bytes:
    """The product page of `release`; `site` maps roles to the shared files' URLs."""
    return (
        _env.get_template("product.html")
        .render(
            release=release,
            site=site,
            dimensions=format_dimensions(release.dimensions),
            models=_viewer_models(release),
            json_ld=_script_json(structured_data(release)),
        )
        .encode()
    )


def render_not_found_page() -> bytes:
    """The page a shopper gets, with status 404, for a URL where nothing is published: served
    at any depth, so it names no file of the page tree (its one link is the root, `/`)."""
    return _env.get_template("not_found.html").render().encode()


def render_catalogue_page(
    products: Sequence[dict[str, Any]], *, site: dict[str, str], search_api: str = SEARCH_API
) -> bytes:
    """The catalogue page listing `products` (catalog.json's entries) with a search box."""
    return (
        _env.get_template("catalogue.html")
        .render(products=products, site=site, search_api=search_api)
        .encode()
    )
