"""Typed reads of JSON properties, reporting schema issues the way Khronos does.

Every reader returns a usable value and records what was wrong: a missing required
property, a wrong JSON type, a value out of range. Integers use -1 and floats NaN for
"absent or invalid", mirroring the reference validator so later checks skip broken values
instead of cascading errors. JSON numbers written as 2.0 count as integers (JavaScript cannot
tell them apart); booleans never count as numbers.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable, Iterable
from typing import Any, TypeGuard

from shazam_assets.ingest.delivery.gltf import catalog
from shazam_assets.ingest.delivery.gltf.context import Context

INF = math.inf
NAN = math.nan
_MISSING = object()

GL_INT_RANGES = {
    5120: (-128, 127),
    5121: (0, 255),
    5122: (-32768, 32767),
    5123: (0, 65535),
    5124: (-(2**31), 2**31 - 1),
    5125: (0, 2**32 - 1),
}
GL_TYPE_NAMES = {
    5120: "BYTE", 5121: "UNSIGNED_BYTE", 5122: "SHORT", 5123: "UNSIGNED_SHORT",
    5124: "INT", 5125: "UNSIGNED_INT", 5126: "FLOAT",
}  # fmt: skip


def is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def as_int(value: Any) -> Any:
    """2.0 -> 2 (an integer written as a float); anything else unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def to_float32(value: float) -> float:
    """Round a double to single precision, as Float32List storage does."""
    try:
        stored: float = struct.unpack("<f", struct.pack("<f", value))[0]
        return stored
    except OverflowError:
        return math.copysign(INF, value)


def _raw(obj: dict[str, Any], name: str, ctx: Context, type_name: str) -> Any:
    value = obj.get(name, _MISSING)
    if value is None:
        ctx.add(catalog.TYPE_MISMATCH, f"Property '{name}' is null, not a '{type_name}'", name=name)
    return None if value is _MISSING else value


def _type_mismatch(ctx: Context, name: str, value: Any, type_name: str) -> None:
    ctx.add(
        catalog.TYPE_MISMATCH,
        f"Type mismatch. Property value {value!r} is not a '{type_name}'",
        name=name,
    )


def _undefined(ctx: Context, name: str) -> None:
    ctx.add(catalog.UNDEFINED_PROPERTY, f"Property '{name}' must be defined", name=None)


def check_enum(
    name: str, value: Any, allowed: Iterable[Any], ctx: Context, *, length: bool = False
) -> bool:
    allowed = list(allowed)
    if value in allowed:
        return True
    rule = catalog.ARRAY_LENGTH_NOT_IN_LIST if length else catalog.VALUE_NOT_IN_LIST
    ctx.add(rule, f"Invalid value {value!r}. Valid values are {allowed}", name=name)
    return False


def get_index(obj: dict[str, Any], name: str, ctx: Context, *, required: bool = True) -> int:
    value = as_int(_raw(obj, name, ctx, "integer"))
    if is_int(value):
        if value >= 0:
            return value
        ctx.add(catalog.INVALID_INDEX, "Index must be a non-negative integer", name=name)
    elif value is None:
        if required:
            _undefined(ctx, name)
    else:
        _type_mismatch(ctx, name, value, "integer")
    return -1


def get_bool(obj: dict[str, Any], name: str, ctx: Context) -> bool:
    value = _raw(obj, name, ctx, "boolean")
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    _type_mismatch(ctx, name, value, "boolean")
    return False


def get_uint(
    obj: dict[str, Any],
    name: str,
    ctx: Context,
    *,
    required: bool = False,
    minimum: int = 0,
    maximum: int = -1,
    default: int = -1,
    allowed: Iterable[int] | None = None,
) -> int:
    value = as_int(_raw(obj, name, ctx, "integer"))
    if is_int(value):
        if allowed is not None:
            return value if check_enum(name, value, allowed, ctx) else -1
        if value < minimum or (maximum != -1 and value > maximum):
            ctx.add(catalog.VALUE_NOT_IN_RANGE, f"Value {value} is out of range", name=name)
            return -1
        return value
    if value is None:
        if not required:
            return default
        _undefined(ctx, name)
    else:
        _type_mismatch(ctx, name, value, "integer")
    return -1


def get_float(
    obj: dict[str, Any],
    name: str,
    ctx: Context,
    *,
    required: bool = False,
    minimum: float = -INF,
    excl_min: float = -INF,
    maximum: float = INF,
    excl_max: float = INF,
    default: float = NAN,
    standalone: float = NAN,
) -> float:
    """A number within the bounds; `standalone` is one extra value always allowed."""
    value = _raw(obj, name, ctx, "number")
    if is_number(value):
        if value != standalone and (
            value < minimum or value <= excl_min or value > maximum or value >= excl_max
        ):
            ctx.add(catalog.VALUE_NOT_IN_RANGE, f"Value {value} is out of range", name=name)
            return NAN
        return float(value)
    if value is None:
        if not required:
            return default
        _undefined(ctx, name)
    else:
        _type_mismatch(ctx, name, value, "number")
    return NAN


def get_string(
    obj: dict[str, Any],
    name: str,
    ctx: Context,
    *,
    required: bool = False,
    allowed: Iterable[str] | None = None,
    default: str | None = None,
    pattern: re.Pattern[str] | None = None,
) -> str | None:
    value = _raw(obj, name, ctx, "string")
    if isinstance(value, str):
        if allowed is not None:
            check_enum(name, value, allowed, ctx)
        elif pattern is not None and not pattern.search(value):
            ctx.add(
                catalog.PATTERN_MISMATCH,
                f"Value {value!r} does not match regexp pattern {pattern.pattern!r}",
                name=name,
            )
            return None
        return value
    if value is None:
        if not required:
            return default
        _undefined(ctx, name)
    else:
        _type_mismatch(ctx, name, value, "string")
    return None


def get_map(
    obj: dict[str, Any], name: str, ctx: Context, *, required: bool = False
) -> dict[str, Any] | None:
    """The object under `name`; {} when absent (None when required, or wrong type and required)."""
    value = _raw(obj, name, ctx, "object")
    if isinstance(value, dict):
        return value
    if value is None:
        if required:
            _undefined(ctx, name)
            return None
    else:
        _type_mismatch(ctx, name, value, "object")
        if required:
            return None
    return {}


def get_object(
    obj: dict[str, Any],
    name: str,
    ctx: Context,
    parse: Callable[[dict[str, Any], Context], Any],
    *,
    required: bool = False,
) -> Any:
    """Parse the object under `name` with `parse`, descending into it for pointers."""
    value = _raw(obj, name, ctx, "object")
    if isinstance(value, dict):
        with ctx.at(name):
            return parse(value, ctx)
    if value is None:
        if required:
            _undefined(ctx, name)
    else:
        _type_mismatch(ctx, name, value, "object")
    return None


def get_indices_list(
    obj: dict[str, Any], name: str, ctx: Context, *, required: bool = False
) -> list[int] | None:
    """A list of indices; invalid entries become -1 (and are reported), duplicates reported."""
    value = _raw(obj, name, ctx, "array")
    if isinstance(value, list):
        if not value:
            ctx.add(catalog.EMPTY_ENTITY, "Entity cannot be empty", name=name)
            return None
        out: list[int] = []
        seen: set[int] = set()
        with ctx.at(name):
            for i, item in enumerate(value):
                item = as_int(item)
                if is_int(item) and item >= 0:
                    if item in seen:
                        ctx.add(catalog.DUPLICATE_ELEMENTS, "Duplicate element", index=i)
                    seen.add(item)
                    out.append(item)
                else:
                    ctx.add(catalog.INVALID_INDEX, "Index must be a non-negative integer", index=i)
                    out.append(-1)
        return out
    if value is None:
        if required:
            _undefined(ctx, name)
    else:
        _type_mismatch(ctx, name, value, "array")
    return None


def _index_map(
    value: dict[str, Any], ctx: Context, check_key: Callable[[str], None]
) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, item in value.items():
        check_key(key)
        item = as_int(item)
        if is_int(item) and item >= 0:
            out[key] = item
        else:
            out[key] = -1
            ctx.add(catalog.INVALID_INDEX, "Index must be a non-negative integer", name=key)
    return out


def get_indices_map(
    obj: dict[str, Any], name: str, ctx: Context, check_key: Callable[[str], None]
) -> dict[str, int] | None:
    """A required {semantic: index} object such as primitive.attributes."""
    value = _raw(obj, name, ctx, "object")
    if isinstance(value, dict):
        if not value:
            ctx.add(catalog.EMPTY_ENTITY, "Entity cannot be empty", name=name)
            return None
        with ctx.at(name):
            return _index_map(value, ctx, check_key)
    if value is None:
        _undefined(ctx, name)
    else:
        _type_mismatch(ctx, name, value, "object")
    return None


def get_indices_maps_list(
    obj: dict[str, Any], name: str, ctx: Context, check_key: Callable[[str], None]
) -> list[dict[str, int]] | None:
    """An optional list of {semantic: index} objects such as primitive.targets."""
    value = _raw(obj, name, ctx, "array")
    if isinstance(value, list):
        if not value:
            ctx.add(catalog.EMPTY_ENTITY, "Entity cannot be empty", name=name)
            return None
        out: list[dict[str, int]] = []
        broken = False
        with ctx.at(name):
            for i, item in enumerate(value):
                if not isinstance(item, dict):
                    ctx.add(
                        catalog.ARRAY_TYPE_MISMATCH, f"Array element {item!r} is not a 'object'"
                    )
                    broken = True
                elif not item:
                    ctx.add(catalog.EMPTY_ENTITY, "Entity cannot be empty", index=i)
                    broken = True
                else:
                    with ctx.at(i):
                        out.append(_index_map(item, ctx, check_key))
        return None if broken else out
    if value is not None:
        _type_mismatch(ctx, name, value, "array")
    return None


def get_float_list(
    obj: dict[str, Any],
    name: str,
    ctx: Context,
    *,
    lengths: Iterable[int] | None = None,
    minimum: float = -INF,
    maximum: float = INF,
    single: bool = False,
    default: list[float] | None = None,
) -> list[float] | None:
    value = _raw(obj, name, ctx, "array")
    if isinstance(value, list):
        if not value:
            ctx.add(catalog.EMPTY_ENTITY, "Entity cannot be empty", name=name)
            return None
        if lengths is not None and not check_enum(name, len(value), lengths, ctx, length=True):
            return None
        out: list[float] = []
        broken = False
        for i, item in enumerate(value):
            if is_number(item):
                if math.isinf(item) or item < minimum or item > maximum:
                    with ctx.at(name):
                        ctx.add(
                            catalog.VALUE_NOT_IN_RANGE, f"Value {item} is out of range", index=i
                        )
                    broken = True
                out.append(to_float32(float(item)) if single else float(item))
            else:
                ctx.add(
                    catalog.ARRAY_TYPE_MISMATCH,
                    f"Array element {item!r} is not a 'number'",
                    name=name,
                )
                broken = True
        return None if broken else out
    if value is None:
        return list(default) if default is not None else None
    _type_mismatch(ctx, name, value, "array")
    return None


def get_gl_int_list(
    obj: dict[str, Any], name: str, ctx: Context, component_type: int, length: int
) -> list[int] | None:
    """accessor.min/max of an integer accessor: `length` integers within the type's range."""
    value = _raw(obj, name, ctx, "array")
    if isinstance(value, list):
        if len(value) != length:
            ctx.add(
                catalog.ARRAY_LENGTH_NOT_IN_LIST,
                f"Invalid array length {len(value)}. Valid: [{length}]",
                name=name,
            )
            return None
        low, high = GL_INT_RANGES[component_type]
        out: list[int] = []
        broken = False
        for item in value:
            item = as_int(item)
            if is_int(item):
                if item < low or item > high:
                    ctx.add(
                        catalog.INVALID_GL_VALUE,
                        f"Invalid value {item} for GL type '{GL_TYPE_NAMES[component_type]}'",
                        name=name,
                    )
                    broken = True
                out.append(item)
            else:
                ctx.add(
                    catalog.ARRAY_TYPE_MISMATCH,
                    f"Array element {item!r} is not a 'integer'",
                    name=name,
                )
                broken = True
        return None if broken else out
    if value is not None:
        _type_mismatch(ctx, name, value, "array")
    return None


def get_string_list(obj: dict[str, Any], name: str, ctx: Context) -> list[str] | None:
    value = _raw(obj, name, ctx, "array")
    if isinstance(value, list):
        if not value:
            ctx.add(catalog.EMPTY_ENTITY, "Entity cannot be empty", name=name)
            return None
        broken = False
        seen: set[str] = set()
        with ctx.at(name):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    if item in seen:
                        ctx.add(catalog.DUPLICATE_ELEMENTS, "Duplicate element", index=i)
                    seen.add(item)
                else:
                    ctx.add(
                        catalog.ARRAY_TYPE_MISMATCH,
                        f"Array element {item!r} is not a 'string'",
                        index=i,
                    )
                    broken = True
        return None if broken else list(value)
    if value is not None:
        _type_mismatch(ctx, name, value, "array")
    return None


def get_map_list(obj: dict[str, Any], name: str, ctx: Context) -> list[dict[str, Any]] | None:
    """A required, non-empty list of objects (mesh.primitives, animation.channels...)."""
    value = _raw(obj, name, ctx, "array")
    if isinstance(value, list):
        if not value:
            ctx.add(catalog.EMPTY_ENTITY, "Entity cannot be empty", name=name)
            return None
        broken = False
        for item in value:
            if not isinstance(item, dict):
                ctx.add(
                    catalog.ARRAY_TYPE_MISMATCH,
                    f"Array element {item!r} is not a 'object'",
                    name=name,
                )
                broken = True
        return None if broken else value
    if value is None:
        _undefined(ctx, name)
    else:
        _type_mismatch(ctx, name, value, "array")
    return None


def get_extras(obj: dict[str, Any], ctx: Context) -> Any:
    extras = obj.get("extras")
    if extras is not None and not isinstance(extras, dict):
        ctx.add(catalog.NON_OBJECT_EXTRAS, "Prefer JSON Objects for extras", name="extras")
    return extras


def check_members(obj: dict[str, Any], members: Iterable[str], ctx: Context) -> None:
    known = set(members) | {"extensions", "extras"}
    for key in obj:
        if key not in known:
            ctx.add(catalog.UNEXPECTED_PROPERTY, "Unexpected property", name=key)
