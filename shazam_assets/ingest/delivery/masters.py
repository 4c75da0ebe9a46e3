"""A delivery is a master: uncompressed geometry and textures that every later stage can read.

glTF allows geometry and textures to be stored compressed (Draco, meshopt, KTX2/Basis
Universal). Those files are valid, but budgets, QA and renders read vertices and pixels, and
SHAZAM makes the compressed copies for each sales channel itself, from the master. So a
compressed master is refused on purpose, with a code that says which compression and how to
deliver instead, rather than being measured wrongly (Draco's placeholder accessors read as
zeros) or crashing a later stage. WebP textures (EXT_texture_webp) are accepted: Pillow
decodes them wherever pixels are read. The policy is in docs/delivery-spec.md.
"""

from __future__ import annotations

from typing import Any

from shazam_assets.ingest.delivery.report import Issue, RuleBook

rules = RuleBook("master")

_DELIVER_MASTER = (
    "Deliver the uncompressed master: export without {what}. SHAZAM makes compressed copies "
    "for the channels that need them."
)

COMPRESSED_GEOMETRY = rules.error(
    "GLTF_COMPRESSED_GEOMETRY",
    "The model's geometry is compressed (Draco or meshopt)",
    hint=_DELIVER_MASTER.format(
        what="Draco or meshopt compression (gltfpack -c, Draco export option)"
    ),
)
COMPRESSED_TEXTURE = rules.error(
    "GLTF_COMPRESSED_TEXTURE",
    "The model's textures are GPU-compressed (KTX2 / Basis Universal)",
    hint=_DELIVER_MASTER.format(what="KTX2 textures; use PNG or JPEG (WebP is accepted)"),
)

# Extension -> the rule that refuses it. Names as registered by Khronos.
REFUSED_EXTENSIONS = {
    "KHR_draco_mesh_compression": COMPRESSED_GEOMETRY,
    "EXT_meshopt_compression": COMPRESSED_GEOMETRY,
    "KHR_meshopt_compression": COMPRESSED_GEOMETRY,
    "KHR_texture_basisu": COMPRESSED_TEXTURE,
}
_KTX2_MIME = "image/ktx2"


def check_master(document: dict[str, Any]) -> list[Issue]:
    """One issue per compression extension the model declares, and one per KTX2 image
    (a KTX2 image without the extension is refused too: nothing downstream decodes it)."""
    issues: list[Issue] = []
    used = document.get("extensionsUsed")
    for index, name in enumerate(used if isinstance(used, list) else []):
        rule = REFUSED_EXTENSIONS.get(name) if isinstance(name, str) else None
        if rule is not None:
            issues.append(
                rule(f"the model uses {name}", pointer=f"/extensionsUsed/{index}", extension=name)
            )
    images = document.get("images")
    declared = any(i.code == COMPRESSED_TEXTURE.code for i in issues)
    for index, image in enumerate(images if isinstance(images, list) else []):
        if not declared and _is_ktx2(image):
            issues.append(COMPRESSED_TEXTURE(f"image {index} is KTX2", pointer=f"/images/{index}"))
    return issues


def _is_ktx2(image: Any) -> bool:
    if not isinstance(image, dict):
        return False
    uri = image.get("uri")
    return image.get("mimeType") == _KTX2_MIME or (
        isinstance(uri, str) and uri.lower().split("?")[0].endswith(".ktx2")
    )
