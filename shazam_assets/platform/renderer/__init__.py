"""The studio renderer: physically based product pictures with open3d's Filament, headless.

`StudioRenderer` draws a .glb/.gltf the way a product photo studio would: glTF metal/rough
materials (base colour, metallic-roughness, occlusion, normal and emissive textures, alpha
MASK and BLEND, KHR_materials_emissive_strength),
lit only by a procedural studio room (`environment.py`, image-based lighting, no sun), on a
white or transparent background, with linear tone mapping at exposure 1 like the Khronos
sample viewer that renders the 3D Commerce reference pictures. It is used by the 360°
turntable stage; `bench/bench_render_quality.py` scores it against the Khronos references.

What this module works around in open3d 0.20 (each checked by a test or the benchmark):
- `read_triangle_model` hands the whole metallicRoughness image to roughness, metalness and
  occlusion alike, and merges primitives per material. We read the glTF with trimesh instead
  and build open3d's packed occlusion/roughness/metal texture ourselves (R = occlusion.R,
  G = metallicRoughness.G, B = metallicRoughness.B), one open3d geometry per primitive.
- Its default post-processing tone-maps (white comes out grey). We set linear colour grading,
  so radiance 1 is white and the sRGB transfer is applied once; the IBL intensity is set so
  that open3d's fixed camera exposure (f/16, 1/125 s, ISO 100) amounts to exposure 1.
- Alpha: MASK textures get their alpha thresholded at alphaCutoff (0 or 255); MASK and BLEND
  use open3d's `defaultLitTransparency` shader, and every primitive stays its own geometry so
  Filament can sort blended ones. NOT yet verified: whether that shader's "transparent"
  blending keeps reflections where alpha is 0 (open3d's source shows `defaultLit` as
  "fade", which would scale reflections with alpha; switching is a one-line change in
  `renderer._albedo`, to be measured).
- Meshes without vertex colours are tinted 0.5 grey by its shaders: we set white ones.
- Its mesh upload derives tangent frames from the normals alone (Filament's Frisvad basis;
  neither the legacy nor the tensor TriangleMesh path takes tangents), and its shaders take
  no emissive texture (`MaterialRecord.emissive_color` is not read by defaultLit either).
  Normal maps are therefore re-encoded per primitive from the glTF tangent frame (TANGENT,
  else derived from the UVs) into open3d's, baked in UV space (`normal_maps.py`; a test
  checks mapped tilts against tilted geometry normals). Emission is a second pass: emissive
  parts drawn by unlit twins with the room light off, added in linear light
  (`StudioRenderer._glow`); models without emission never pay for it.
- trimesh drops the normal texture's `scale`, KHR_materials_emissive_strength and TANGENT;
  `gltf_extras.py` reads them from the file.
- open3d and Filament print engine banners to stdout when a renderer is created; we
  discard stdout meanwhile (`renderer._quiet_stdout`).
- Filament's engine is a process-wide singleton. Measured in 0.20: re-creating an
  OffscreenRenderer after deleting one works, but two alive at once make the process abort
  at exit. So one OffscreenRenderer serves the whole process (`renderer._Slot`): reused while
  the size stays, replaced when another size is asked for; StudioRenderers open at the same
  time take turns and re-upload their model when they get it back.
- Filament slows to a crawl past about a thousand renderables (its handle arena overflows):
  primitives that share a look are drawn as one geometry (`renderer._batch_key`), so a
  model placing one mesh with 3,000 nodes is one part.
Open3D's renderer is not thread-safe: use a StudioRenderer from one thread.

Reading the file (`source.py`): the glTF JSON is parsed with the standard library, URIs are
percent-decoded, and a model that requires what the renderer cannot draw (Draco, meshopt,
KTX2) or that trimesh cannot load is refused with a `RenderError` code, never a KeyError.
Every render job (turntable, still, QA views) runs in its own process under a deadline
(`watchdog.run_with_deadline`): past it the process is killed and the caller gets
RENDER_TIMEOUT, so no model can hang a worker.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from shazam_assets.platform.renderer.errors import RenderCrashed, RenderError

if TYPE_CHECKING:
    from shazam_assets.platform.renderer.environment import studio_ibl_path
    from shazam_assets.platform.renderer.model import (
        Camera,
        ModelInfo,
        gltf_cameras,
        load_model_info,
        turntable_cameras,
    )
    from shazam_assets.platform.renderer.renderer import RENDERER_VERSION, StudioRenderer
    from shazam_assets.platform.renderer.watchdog import run_with_deadline

# The rest is imported on first use (PEP 562): trimesh, scipy and open3d cost about a second,
# and every Dagster run process loads the code location, which names this package's errors.
_LAZY = {
    "studio_ibl_path": "environment",
    "Camera": "model",
    "ModelInfo": "model",
    "gltf_cameras": "model",
    "load_model_info": "model",
    "turntable_cameras": "model",
    "RENDERER_VERSION": "renderer",
    "StudioRenderer": "renderer",
    "run_with_deadline": "watchdog",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)


__all__ = [
    "RENDERER_VERSION",
    "Camera",
    "ModelInfo",
    "RenderCrashed",
    "RenderError",
    "StudioRenderer",
    "gltf_cameras",
    "load_model_info",
    "run_with_deadline",
    "studio_ibl_path",
    "turntable_cameras",
]
