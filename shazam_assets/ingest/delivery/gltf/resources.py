"""Load buffers and images: GLB chunk, data: URIs, or files of the delivery.

External files are fetched through a `Resolver` (relative, percent-decoded path in, bytes or
None out) so the validator never touches the file system itself and can read from a ZIP or an
object store just as well. References that would leave the delivery are refused unread.
"""

from __future__ import annotations

from collections.abc import Callable

from shazam_assets.ingest.delivery.gltf import catalog, images, objects
from shazam_assets.ingest.delivery.gltf.context import Context
from shazam_assets.ingest.delivery.gltf.document import Model
from shazam_assets.ingest.delivery.gltf.extension_objects import ExtensionObject
from shazam_assets.ingest.delivery.gltf.uris import delivery_path

Resolver = Callable[[str], "bytes | None"]


def fetch(uri: str, resolve: Resolver, ctx: Context) -> bytes | None:
    """Read an external reference, reporting why it could not be read.

    References with a query or fragment are not files of the delivery; like the reference
    validator's command line, they are left unread (NON_RELATIVE_URI was reported already).
    """
    path = delivery_path(uri)
    if path is None:
        ctx.add(
            catalog.URI_OUTSIDE_DELIVERY,
            f"URI {uri!r} points outside the delivery; it was not read",
            name="uri",
        )
        return None
    if "?" in uri or "#" in uri:
        return None
    try:
        data = resolve(path)
    except (OSError, ValueError) as exc:
        ctx.add(catalog.IO_ERROR, f"Cannot read {path!r}: {exc}", name="uri")
        return None
    if data is None:
        ctx.add(catalog.IO_ERROR, f"File not found: {path!r}", name="uri")
    return data


def _is_glb_buffer(buffer: objects.Buffer, index: int, ctx: Context) -> bool:
    return ctx.is_glb and index == 0 and not buffer.has_uri


def _buffer_data(
    buffer: objects.Buffer, index: int, glb_bin: bytes | None, resolve: Resolver, ctx: Context
) -> bytes | None:
    if buffer.byte_length == -1:
        return None
    if buffer.uri is not None:
        return fetch(buffer.uri, resolve, ctx)
    if buffer.data is not None:
        return bytes(buffer.data)
    if _is_glb_buffer(buffer, index, ctx):
        if glb_bin is None:
            ctx.add(
                catalog.BUFFER_MISSING_GLB_DATA, "Buffer refers to an unresolved GLB binary chunk"
            )
        return glb_bin
    return None


def load_buffers(
    model: Model, glb_bin: bytes | None, resolve: Resolver, ctx: Context
) -> list[bytes | None]:
    """Attach each buffer's data; returns what was read, even when too short to be used."""
    ctx.path.clear()
    raw: list[bytes | None] = []
    with ctx.at("buffers"):
        for i, buffer in enumerate(model.buffers):
            data = None
            if buffer is not None:
                with ctx.at(i):
                    data = _buffer_data(buffer, i, glb_bin, resolve, ctx)
                    _attach(buffer, i, data, ctx)
            raw.append(data)
    return raw


def _attach(buffer: objects.Buffer, index: int, data: bytes | None, ctx: Context) -> None:
    if data is None:
        return
    if len(data) < buffer.byte_length:
        ctx.add(
            catalog.BUFFER_BYTE_LENGTH_MISMATCH,
            f"Actual data byte length ({len(data)}) is less than the declared buffer byte length ({buffer.byte_length})",
        )
        return
    if _is_glb_buffer(buffer, index, ctx):
        padded = buffer.byte_length + (-buffer.byte_length & 3)
        if len(data) > padded:
            ctx.add(
                catalog.BUFFER_GLB_CHUNK_TOO_BIG,
                f"GLB-stored BIN chunk contains {len(data) - padded} extra padding byte(s)",
            )
    if buffer.data is None:
        buffer.data = data


def _image_data(
    image: objects.Image, resolve: Resolver, ctx: Context, sliced: dict[tuple[int, int, int], bytes]
) -> tuple[bytes | None, str]:
    """(bytes, where) of an image; `where` names the property an issue points at."""
    if image.extensions:
        return None, "uri"
    if image.uri is not None:
        return fetch(image.uri, resolve, ctx), "uri"
    if image.data is not None:
        return bytes(image.data), "uri"
    view = image.buffer_view
    if view is not None and view.buffer is not None and view.buffer.data is not None:
        data = view.buffer.data
        if (
            view.byte_offset >= 0
            and view.byte_length >= 0
            and view.byte_offset + view.byte_length <= len(data)
        ):
            key = (id(data), view.byte_offset, view.byte_length)  # copied once, however many images
            if key not in sliced:
                sliced[key] = bytes(data[view.byte_offset : view.byte_offset + view.byte_length])
            return sliced[key], "bufferView"
    return None, "bufferView"


def _read_info(data: bytes, seen: dict[int, images.ImageInfo | Exception]) -> images.ImageInfo:
    """The header of `data`, read once per bytes object (many images may share one)."""
    if id(data) not in seen:
        try:
            seen[id(data)] = images.read_image_info(data)
        except (images.ImageUnrecognized, images.ImageTruncated, images.ImageInvalid) as exc:
            seen[id(data)] = exc
    found = seen[id(data)]
    if isinstance(found, Exception):
        raise found
    return found


def _image_info(
    data: bytes, ctx: Context, seen: dict[int, images.ImageInfo | Exception]
) -> images.ImageInfo | None:
    try:
        info = _read_info(data, seen)
    except images.ImageUnrecognized:
        ctx.add(catalog.IMAGE_UNRECOGNIZED_FORMAT, "Image format not recognized")
        return None
    except images.ImageTruncated:
        ctx.add(catalog.IMAGE_UNEXPECTED_EOS, "Unexpected end of image stream")
        return None
    except images.ImageInvalid as exc:
        ctx.add(catalog.IMAGE_DATA_INVALID, f"Image data is invalid. {exc}")
        return None
    if info.mime_type not in ctx.image_mime_types:
        ctx.add(
            catalog.IMAGE_NON_ENABLED_MIME_TYPE,
            f"{info.mime_type!r} MIME type requires an extension",
        )
    return info


def load_images(model: Model, resolve: Resolver, ctx: Context) -> list[bytes | None]:
    """Read every image's header; returns the image bytes for the asset."""
    ctx.path.clear()
    out: list[bytes | None] = []
    sliced: dict[tuple[int, int, int], bytes] = {}
    seen: dict[int, images.ImageInfo | Exception] = {}
    with ctx.at("images"):
        for i, image in enumerate(model.images):
            data = None
            if image is not None:
                with ctx.at(i):
                    data, where = _image_data(image, resolve, ctx, sliced)
                    if data is not None:
                        _check_image(image, data, where, ctx, seen)
            out.append(data)
    return out


def _check_image(
    image: objects.Image,
    data: bytes,
    where: str,
    ctx: Context,
    seen: dict[int, images.ImageInfo | Exception],
) -> None:
    info = _image_info(data, ctx, seen)
    if info is None:
        return
    if image.mime_type is not None and image.mime_type != info.mime_type:
        ctx.add(
            catalog.IMAGE_MIME_TYPE_INVALID,
            f"Recognized image format {info.mime_type!r} does not match declared image format {image.mime_type!r}",
            name=where,
        )
    if not (_is_pot(info.width) and _is_pot(info.height)):
        ctx.add(
            catalog.IMAGE_NPOT_DIMENSIONS,
            f"Image has non-power-of-two dimensions: {info.width}x{info.height}",
        )
    if info.unsupported_features:
        ctx.add(
            catalog.IMAGE_FEATURES_UNSUPPORTED,
            "Image contains unsupported features (colour space, pixels, animation)",
        )
    image.info = info


def _is_pot(value: int) -> bool:
    return value != 0 and value & (value - 1) == 0


def _mime(image: objects.Image | None) -> str | None:
    """The declared MIME type of an image (even an empty one), else the one its header showed."""
    if image is None:
        return None
    if image.mime_type is not None:
        return image.mime_type
    return image.info.mime_type if image.info is not None else None


def check_textures(model: Model, ctx: Context) -> None:
    """A texture's source must be PNG or JPEG; an EXT_texture_webp source must be WebP."""
    ctx.path.clear()
    with ctx.at("textures"):
        for i, texture in enumerate(model.textures):
            mime = _mime(texture.source) if texture is not None else None
            if mime is not None and mime not in ("image/jpeg", "image/png"):
                with ctx.at(i):
                    message = f"Invalid MIME type {mime!r} for the texture source"
                    ctx.add(catalog.TEXTURE_INVALID_IMAGE_MIME_TYPE, message, name="source")
        for i, texture in enumerate(model.textures):
            webp = texture.extensions.get("EXT_texture_webp") if texture is not None else None
            if isinstance(webp, ExtensionObject):
                mime = _mime(webp.values.get("image"))
                if mime is not None and mime != "image/webp":
                    with ctx.at(i, "extensions", "EXT_texture_webp"):
                        message = f"Invalid MIME type {mime!r} for a WebP texture source"
                        ctx.add(catalog.TEXTURE_INVALID_IMAGE_MIME_TYPE, message, name="source")
