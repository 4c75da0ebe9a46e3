"""A loaded glTF asset: the JSON document plus its resolved buffers and images.

This is what later stages (budgets, QA, rendering) read. It assumes a model that passed
validation; on broken input its methods raise ValueError or IndexError rather than guess.
A valid model may still leave a buffer without data: glTF lets a .gltf declare a buffer with
no uri (its contents are undefined), and EXT_meshopt_compression's fallback buffers have none
by design. Reading through such a buffer raises `DataMissing`, which readers turn into a
verdict (see budgets.GEOMETRY_MISSING) instead of a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shazam_assets.ingest.delivery.gltf.accessors import (
    TYPE_SIZES,
    Layout,
    SparseLayout,
    column_padding,
    read_elements,
    typed,
)
from shazam_assets.ingest.delivery.gltf.images import (
    ImageInfo,
    ImageInvalid,
    ImageTruncated,
    ImageUnrecognized,
    read_image_info,
)
from shazam_assets.ingest.delivery.gltf.uris import DataUriError, parse_data_uri

_COMPONENT_SIZES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}


class DataMissing(ValueError):
    """An accessor or image is backed by a buffer that holds no data (valid glTF, no bytes)."""

    def __init__(self, buffer: int, view: int) -> None:
        super().__init__(f"buffer {buffer} of bufferView {view} holds no data")
        self.buffer, self.view = buffer, view


def _element_size(component_type: int, type_: str) -> tuple[int, int]:
    """(element length, default stride) in bytes, honouring matrix column padding."""
    size = _COMPONENT_SIZES[component_type]
    padded = column_padding(component_type, type_)
    if padded:
        columns = 2 if type_ == "MAT2" else 3
        return padded * (columns - 1) + size * columns, padded * columns
    return size * TYPE_SIZES[type_], size * TYPE_SIZES[type_]


@dataclass(frozen=True)
class GltfAsset:
    """The parsed document with the bytes of each buffer (None where unresolved)."""

    document: dict[str, Any]
    buffers: tuple[memoryview | None, ...]
    images: tuple[bytes | None, ...] = ()  # bytes of each image as loaded during validation

    def _view(self, index: int) -> tuple[memoryview, dict[str, Any]]:
        view = self.document["bufferViews"][index]
        data = self.buffers[view["buffer"]]
        if data is None:
            raise DataMissing(view["buffer"], index)
        return data, view

    def _sparse(self, sparse: dict[str, Any], component_type: int, type_: str) -> SparseLayout:
        count = sparse["count"]
        idx_spec, val_spec = sparse["indices"], sparse["values"]
        idx_data, idx_view = self._view(idx_spec["bufferView"])
        val_data, val_view = self._view(val_spec["bufferView"])
        indices = typed(
            idx_data,
            idx_spec["componentType"],
            idx_view.get("byteOffset", 0) + idx_spec.get("byteOffset", 0),
            count,
        )
        values = typed(
            val_data, component_type, val_view.get("byteOffset", 0) + val_spec.get("byteOffset", 0),
            count * TYPE_SIZES[type_],
        )  # fmt: skip
        if indices is None or values is None:
            raise ValueError("sparse accessor data does not fit its buffer")
        return SparseLayout(count, indices, values.reshape(count, TYPE_SIZES[type_]))

    def read_accessor(self, index: int) -> np.ndarray:
        """(count, components) array in the accessor's component type (normalized ints stay ints)."""
        spec = self.document["accessors"][index]
        component_type, type_, count = spec["componentType"], spec["type"], spec["count"]
        layout = None
        if "bufferView" in spec:
            data, view = self._view(spec["bufferView"])
            length, default_stride = _element_size(component_type, type_)
            stride = view.get("byteStride", default_stride)
            start = view.get("byteOffset", 0) + spec.get("byteOffset", 0)
            if start + stride * (count - 1) + length > len(data):
                raise ValueError(f"accessor {index} does not fit its buffer")
            layout = Layout(data, start, stride)
        sparse = self._sparse(spec["sparse"], component_type, type_) if "sparse" in spec else None
        return read_elements(
            component_type=component_type, type_=type_, count=count, layout=layout, sparse=sparse
        )

    def image_bytes(self, index: int) -> bytes | None:
        """The encoded image (PNG/JPEG/...) of images[index], or None when unavailable."""
        if index < len(self.images) and self.images[index] is not None:
            return self.images[index]
        image = self.document.get("images", [])[index]
        if isinstance(image.get("uri"), str):
            try:
                decoded = parse_data_uri(image["uri"])
            except DataUriError:
                return None
            return decoded.data if decoded is not None else None
        if "bufferView" in image:
            try:
                data, view = self._view(image["bufferView"])
            except DataMissing:
                return None
            start = view.get("byteOffset", 0)
            return bytes(data[start : start + view["byteLength"]])
        return None

    def image_info(self, index: int) -> ImageInfo | None:
        """Format, size and colour features of images[index] from its header (None if unreadable)."""
        data = self.image_bytes(index)
        if data is None:
            return None
        try:
            return read_image_info(data)
        except (ImageUnrecognized, ImageTruncated, ImageInvalid):
            return None

    def image_size(self, index: int) -> tuple[int, int] | None:
        """(width, height) read from the image header, without decoding pixels."""
        info = self.image_info(index)
        return None if info is None else (info.width, info.height)
