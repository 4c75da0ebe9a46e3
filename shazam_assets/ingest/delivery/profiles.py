"""Commerce budgets, one named profile per sales channel, all numbers in one place.

Sources (see ../shared/docs/field-notes.md and docs/delivery-spec.md):
- Khronos 3D Commerce Real-time Asset Creation Guidelines 1.0: <= 100k triangles for web and
  mobile AR, power-of-two textures of 1k-2k, ideally < 5 MB, metres, +Y up, metal/rough PBR.
- Amazon vendor guides (secondary copies): < 150k triangles (one spec allows 200k), textures
  2048-4096, real-world assembled scale.
- Google Merchant Center: textures up to 2K, 10 MB recommended, 15 MB maximum.
- Shopify: files over 15 MB get optimized; ~100k triangles recommended (unofficial).

A limit named ``max_*`` rejects the delivery (ERROR); one named ``warn_*`` only warns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shazam_assets.ingest.delivery.zipsafety import ZipLimits
from shazam_assets.platform.errors import ShazamError

MB = 1024 * 1024


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    max_triangles: int
    warn_triangles: int
    max_texture_px: int  # longest side of any texture
    warn_texture_px: int
    require_pot_textures: bool  # non-power-of-two textures: ERROR when True, WARNING otherwise
    max_model_bytes: int  # the model file plus its external buffers and textures
    warn_model_bytes: int
    dimension_tolerance: float = 0.10  # relative difference allowed between model and manifest
    min_photo_px: int = 512  # shortest side of a reference photo below which we warn
    max_degenerate_fraction: float = 0.01  # share of zero-area triangles that rejects the model
    zip: ZipLimits = field(default_factory=ZipLimits)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="amazon",
            description="Amazon product pages and View in 3D/AR (the default).",
            max_triangles=200_000,
            warn_triangles=150_000,
            max_texture_px=4096,
            warn_texture_px=2048,
            require_pot_textures=False,
            max_model_bytes=15 * MB,
            warn_model_bytes=5 * MB,
        ),
        Profile(
            name="khronos-3dc",
            description="Khronos 3D Commerce guidelines for web and mobile AR.",
            max_triangles=100_000,
            warn_triangles=100_000,
            max_texture_px=2048,
            warn_texture_px=2048,
            require_pot_textures=True,
            max_model_bytes=15 * MB,
            warn_model_bytes=5 * MB,
        ),
        Profile(
            name="google-merchant",
            description="Google Merchant Center 3D product links.",
            max_triangles=200_000,
            warn_triangles=100_000,
            max_texture_px=2048,
            warn_texture_px=2048,
            require_pot_textures=False,
            max_model_bytes=15 * MB,
            warn_model_bytes=10 * MB,
        ),
        Profile(
            name="shopify",
            description="Shopify 3D models (files above 15 MB get optimized by Shopify).",
            max_triangles=200_000,
            warn_triangles=100_000,
            max_texture_px=4096,
            warn_texture_px=2048,
            require_pot_textures=False,
            max_model_bytes=50 * MB,
            warn_model_bytes=15 * MB,
        ),
    )
}

DEFAULT_PROFILE = "amazon"


class UnknownProfile(ShazamError, ValueError):
    """No profile of that name; the message lists the choices."""

    code = "PROFILE_UNKNOWN"

    def __init__(self, message: str) -> None:
        super().__init__(self.code, message)


def get_profile(name: str | None) -> Profile:
    """The named profile (the default when None); a clear error listing the choices otherwise."""
    key = name or DEFAULT_PROFILE
    try:
        return PROFILES[key]
    except KeyError:
        choices = ", ".join(sorted(PROFILES))
        raise UnknownProfile(f"unknown profile {key!r}; choose one of: {choices}") from None
