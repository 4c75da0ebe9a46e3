"""glTF 2.0 / GLB structural validation with the Khronos glTF-Validator's verdict.

Pure Python and numpy. `validate_gltf` returns the loaded `GltfAsset` and a list of issues
whose codes are the Khronos codes prefixed with `GLTF_` (see `rules`); a file is valid when
no issue is an ERROR, exactly when the official validator reports zero errors.
"""

from __future__ import annotations

from shazam_assets.ingest.delivery.gltf.asset import DataMissing, GltfAsset
from shazam_assets.ingest.delivery.gltf.catalog import rules
from shazam_assets.ingest.delivery.gltf.resources import Resolver
from shazam_assets.ingest.delivery.gltf.validator import (
    folder_resolver,
    validate_gltf,
    validate_gltf_path,
)

__all__ = [
    "DataMissing",
    "GltfAsset",
    "Resolver",
    "folder_resolver",
    "rules",
    "validate_gltf",
    "validate_gltf_path",
]
