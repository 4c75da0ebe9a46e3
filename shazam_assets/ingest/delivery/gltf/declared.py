"""Caps checked on what a glTF document declares, before any object is built or data read.

The JSON alone says how many nodes, joints and channels there are and how many bytes each
accessor decodes to (count x element size; a sparse accessor without a bufferView declares
its zeros without any bytes behind them). Going over a cap of `limits.LIMITS` stops the
validation with a VALIDATION_LIMIT_* error instead of a run that costs minutes or gigabytes.
"""

from __future__ import annotations

from typing import Any

from shazam_assets.ingest.delivery import limits
from shazam_assets.ingest.delivery.gltf.accessors import TYPE_SIZES
from shazam_assets.ingest.delivery.report import Issue

_COMPONENT_SIZES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
# (collection, member list) pairs whose lengths are summed over the whole document.
_NESTED = (
    ("skins", "joints"),
    ("animations", "channels"),
    ("animations", "samplers"),
    ("meshes", "primitives"),
    ("nodes", "children"),
)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _counts(doc: dict[str, Any]) -> list[Issue]:
    cap = limits.LIMITS.objects_per_collection
    issues = [
        limits.TOO_MANY_OBJECTS(
            f"{len(value):,} {name} are declared; at most {cap:,} are allowed",
            pointer=f"/{name}",
            declared=len(value),
        )
        for name, value in doc.items()
        if isinstance(value, list) and len(value) > cap
    ]
    small = {
        "extensionsUsed": limits.LIMITS.extensions_declared,  # looked up for every object
        "extensionsRequired": limits.LIMITS.extensions_declared,
        "scenes": limits.LIMITS.scenes,
    }  # each scene walks all of its nodes
    issues += [
        limits.TOO_MANY_OBJECTS(
            f"{len(_list(doc.get(name))):,} {name} are declared; at most {cap} are allowed",
            pointer=f"/{name}",
            declared=len(_list(doc.get(name))),
        )
        for name, cap in small.items()
        if len(_list(doc.get(name))) > cap
    ]
    nested_cap = limits.LIMITS.nested_objects
    for outer, inner in _NESTED:
        total = sum(len(_list(o.get(inner))) for o in _list(doc.get(outer)) if isinstance(o, dict))
        if total > nested_cap:
            issues.append(
                limits.TOO_MANY_OBJECTS(
                    f"{outer} declare {total:,} {inner} in all; at most {nested_cap:,} are allowed",
                    pointer=f"/{outer}",
                    declared=total,
                )
            )
    return issues


def accessor_bytes(accessor: Any) -> int:
    """count x element size as declared (0 when the declaration is not well-formed)."""
    if not isinstance(accessor, dict):
        return 0
    count, component_type, type_ = (
        accessor.get("count"),
        accessor.get("componentType"),
        accessor.get("type"),
    )
    size = _COMPONENT_SIZES.get(component_type) if isinstance(component_type, int) else None
    components = TYPE_SIZES.get(type_) if isinstance(type_, str) else None
    if (
        not isinstance(count, int)
        or isinstance(count, bool)
        or count <= 0
        or not size
        or not components
    ):
        return 0
    return count * size * components


def _skinning_uses(doc: dict[str, Any]) -> list[int]:
    """Accessor indices read per skinned primitive (JOINTS_n and WEIGHTS_n, once per use):
    the skinning checks decode them for every primitive that names them."""
    uses = []
    for mesh in _list(doc.get("meshes")):
        for primitive in _list(mesh.get("primitives")) if isinstance(mesh, dict) else []:
            attributes = primitive.get("attributes") if isinstance(primitive, dict) else None
            if isinstance(attributes, dict):
                uses += [
                    v
                    for k, v in attributes.items()
                    if isinstance(k, str)
                    and k.startswith(("JOINTS_", "WEIGHTS_"))
                    and isinstance(v, int)
                ]
    return uses


def _accessor_data(doc: dict[str, Any]) -> list[Issue]:
    sizes = [accessor_bytes(a) for a in _list(doc.get("accessors"))]
    skinning = sum(sizes[i] for i in _skinning_uses(doc) if 0 <= i < len(sizes))
    cap = limits.LIMITS.accessor_bytes
    issues = []
    if sum(sizes) > cap:
        total = sum(sizes)
        largest = max(range(len(sizes)), key=sizes.__getitem__)
        issues.append(
            limits.ACCESSOR_DATA(
                f"accessors declare {total / limits.MB:,.0f} MB of data (accessor {largest}: "
                f"{sizes[largest] / limits.MB:,.0f} MB); at most {cap / limits.MB:,.0f} MB are validated",
                pointer=f"/accessors/{largest}",
                declared_bytes=total,
            )
        )
    if skinning > cap:
        issues.append(
            limits.ACCESSOR_DATA(
                f"skinned primitives read {skinning / limits.MB:,.0f} MB of joints and weights in all "
                f"(shared accessors counted per primitive); at most {cap / limits.MB:,.0f} MB are validated",
                pointer="/meshes",
                declared_bytes=skinning,
            )
        )
    return issues


def _image_views(doc: dict[str, Any]) -> list[Issue]:
    """Images stored in buffer views are copied out of their buffer: their views' declared
    lengths (each view once) must fit the same data cap."""
    views = _list(doc.get("bufferViews"))
    named: set[int] = set()
    for image in _list(doc.get("images")):
        view = image.get("bufferView") if isinstance(image, dict) else None
        if isinstance(view, int):  # an object or a list here is a TYPE_MISMATCH, reported later
            named.add(view)
    total = sum(
        views[i]["byteLength"]
        for i in named
        if 0 <= i < len(views)
        and isinstance(views[i], dict)
        and isinstance(views[i].get("byteLength"), int)
    )
    cap = limits.LIMITS.accessor_bytes
    if total <= cap:
        return []
    return [
        limits.ACCESSOR_DATA(
            f"images in buffer views declare {total / limits.MB:,.0f} MB; at most {cap / limits.MB:,.0f} MB are read",
            pointer="/images",
            declared_bytes=total,
        )
    ]


def check_declared(doc: dict[str, Any]) -> list[Issue]:
    """Every cap that the document's declarations alone can break."""
    return _counts(doc) + _accessor_data(doc) + _image_views(doc)
