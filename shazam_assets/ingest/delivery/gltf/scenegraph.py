"""Link the scene graph (nodes, skins, animations, scenes) and check it as a whole.

After every reference is resolved the hierarchy is checked globally: no node may be its own
ancestor, a skinned mesh must sit where its joints are, and objects nothing refers to are
reported as unused.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from shazam_assets.ingest.delivery.gltf import catalog, objects
from shazam_assets.ingest.delivery.gltf.context import FLOAT, Context
from shazam_assets.ingest.delivery.gltf.document import Model, item
from shazam_assets.ingest.delivery.gltf.extension_objects import ExtensionObject
from shazam_assets.ingest.delivery.gltf.link import (
    ANIMATION_INPUT_FORMAT,
    ANIMATION_OUTPUT_FORMATS,
    IBM,
    OTHER,
    TRS,
    use_accessor,
    use_view,
)

_IBM_FORMAT = ("MAT4", FLOAT, False)


def _resolve_nodes(
    indices: list[int], name: str, model: Model, ctx: Context
) -> list[tuple[int, int, objects.Node]]:
    """(position, index, node) of each resolvable index; unresolved ones are reported."""
    found = []
    with ctx.at(name):
        for position, index in enumerate(indices):
            if index == -1:
                continue
            node = item(model.nodes, index)
            if node is None:
                ctx.add(
                    catalog.UNRESOLVED_REFERENCE, f"Unresolved reference: {index}", index=position
                )
                continue
            node.used = True
            found.append((position, index, node))
    return found


def _reference(ctx: Context, name: str, index: int, target: objects.Usable | None) -> None:
    if index == -1:
        return
    if target is None:
        ctx.add(catalog.UNRESOLVED_REFERENCE, f"Unresolved reference: {index}", name=name)
    else:
        target.used = True


def _check_node_mesh(node: objects.Node, mesh: objects.Mesh, ctx: Context) -> None:
    """Morph weights and skinning must agree between a node and its mesh."""
    if mesh.primitives is None:
        return
    first = mesh.primitives[0] if mesh.primitives else None
    targets = first.linked_targets if first is not None else None
    if node.weights is not None and (targets is None or len(targets) != len(node.weights)):
        message = (
            f"The length of weights array ({len(node.weights)}) does not match the morph targets"
        )
        ctx.add(catalog.NODE_WEIGHTS_INVALID, message, name="weights")
    if node.weights is None and mesh.weights is not None:
        mesh.weights_used = True
    key = id(mesh)
    if key not in ctx.mesh_skinning:  # once per mesh, however many nodes draw it
        joints = [p.joints_count for p in mesh.primitives if p is not None]
        ctx.mesh_skinning[key] = (all(c == 0 for c in joints), any(c != 0 for c in joints))
    none_skinned, any_skinned = ctx.mesh_skinning[key]
    if node.skin is not None and none_skinned:
        ctx.add(
            catalog.NODE_SKIN_WITH_NON_SKINNED_MESH,
            "Node has skin defined, but mesh has no joints data",
        )
    elif node.skin is None and any_skinned:
        ctx.add(
            catalog.NODE_SKINNED_MESH_WITHOUT_SKIN,
            "Node uses skinned mesh, but has no skin defined",
        )


def link_node(node: objects.Node, model: Model, ctx: Context) -> None:
    node.camera = item(model.cameras, node.camera_index)
    node.skin = item(model.skins, node.skin_index)
    node.mesh = item(model.meshes, node.mesh_index)
    _reference(ctx, "camera", node.camera_index, node.camera)
    _reference(ctx, "skin", node.skin_index, node.skin)
    _reference(ctx, "mesh", node.mesh_index, node.mesh)
    if node.mesh is not None:
        _check_node_mesh(node, node.mesh, ctx)
    if node.children_indices is not None:
        node.children = [None] * len(node.children_indices)
        for position, index, child in _resolve_nodes(node.children_indices, "children", model, ctx):
            node.children[position] = child
            if child.parent is not None:
                with ctx.at("children"):
                    message = f"Value overrides parent of node {index}"
                    ctx.add(catalog.NODE_PARENT_OVERRIDE, message, index=position)
            child.parent = node
    light = node.extensions.get("KHR_lights_punctual")
    if isinstance(light, ExtensionObject):
        with ctx.at("extensions", "KHR_lights_punctual"):
            _link_light(light.values["light"], model, ctx)


def _link_light(index: int, model: Model, ctx: Context) -> None:
    root = model.extensions.get("KHR_lights_punctual")
    if not isinstance(root, ExtensionObject):
        ctx.add(
            catalog.UNSATISFIED_DEPENDENCY,
            "Dependency failed. '/extensions/KHR_lights_punctual' must be defined",
        )
        return
    if index == -1:
        return
    if index < len(root.items):
        root.used[index] = True
    else:
        ctx.add(catalog.UNRESOLVED_REFERENCE, f"Unresolved reference: {index}", name="light")


def link_skin(skin: objects.Skin, model: Model, ctx: Context) -> None:
    ibm = item(model.accessors, skin.ibm_index)
    skeleton = item(model.nodes, skin.skeleton_index)
    if skin.joints_indices is not None:
        skin.joints = [None] * len(skin.joints_indices)
        resolved = _resolve_nodes(skin.joints_indices, "joints", model, ctx)
        for position, _, joint in resolved:
            skin.joints[position] = joint
            joint.is_joint = True
        skin.common_roots = common_roots([joint for _, _, joint in resolved], ctx.node_roots)
        if not skin.common_roots:
            ctx.add(catalog.SKIN_NO_COMMON_ROOT, "Joints do not have a common root", name="joints")
    if skin.ibm_index != -1:
        if ibm is None:
            ctx.add(
                catalog.UNRESOLVED_REFERENCE,
                f"Unresolved reference: {skin.ibm_index}",
                name="inverseBindMatrices",
            )
        else:
            _link_ibm(skin, ibm, ctx)
    if skin.skeleton_index != -1:
        if skeleton is None:
            ctx.add(
                catalog.UNRESOLVED_REFERENCE,
                f"Unresolved reference: {skin.skeleton_index}",
                name="skeleton",
            )
        elif not any(skeleton is r for r in skin.common_roots):
            ctx.add(
                catalog.SKIN_SKELETON_INVALID, "Skeleton node is not a common root", name="skeleton"
            )


def _ancestors(node: objects.Node) -> list[objects.Node]:
    """The node, its parent, and so on up to the root (or once around a loop)."""
    walk: list[objects.Node] = []
    seen: set[int] = set()
    walker: objects.Node | None = node
    while walker is not None and id(walker) not in seen:
        seen.add(id(walker))
        walk.append(walker)
        walker = walker.parent
    return walk


def _root(node: objects.Node, memo: dict[int, int]) -> int:
    """id of the node's topmost ancestor (or of one node of the loop its walk ends on); all
    nodes walked are remembered, so every node is walked once per model."""
    path: list[objects.Node] = []
    seen: set[int] = set()
    walker = node
    while True:
        key = id(walker)
        if key in memo:
            root = memo[key]
            break
        if key in seen or walker.parent is None:  # a loop closed here, or the top
            root = key
            break
        seen.add(key)
        path.append(walker)
        walker = walker.parent
    for member in path:
        memo[id(member)] = root
    memo[id(walker)] = root
    return root


def _last_segment(joints: list[objects.Node], roots: dict[int, int]) -> int:
    """Where the reference's last intersection starts. It starts over from the joint after
    one whose ancestors share nothing with the intersection so far, which happens exactly
    when that joint's root differs from the first joint's (a root, or a whole loop, is an
    ancestor of every node below it): found from the roots alone, without walking."""
    seed, i = 0, 1
    while i < len(joints):
        if _root(joints[i], roots) != _root(joints[seed], roots):
            if i + 1 >= len(joints):
                return len(joints)
            seed, i = i + 1, i + 2
        else:
            i += 1
    return seed


def common_roots(
    joints: list[objects.Node], memo: dict[int, int] | None = None
) -> list[objects.Node]:
    """The nodes that are ancestors (or self) of every joint, lowest first.

    The reference intersects every joint's ancestor list, starting over from the next joint
    when the intersection becomes empty (`_last_segment` finds where it last did). Ancestor
    sets are closed upwards, so the intersection is always the tail of the first joint's
    list from some position on: each further joint only moves that position, found by
    walking up from the joint to the first node of the list, with every node off the list
    remembered (walked once). Linear.
    """
    roots: list[objects.Node] = []
    k = _last_segment(joints, {} if memo is None else memo)
    while k < len(joints):
        walk = _ancestors(joints[k])
        position = {id(n): p for p, n in enumerate(walk)}
        top = walk[-1].parent  # where a loop closes, if the walk ended on one
        loop_start = position[id(top)] if top is not None else len(walk)
        start, k = 0, k + 1
        meets: dict[int, objects.Node | None] = {}
        while k < len(joints) and start < len(walk):
            meet = _meet(joints[k], position, meets)
            p = -1 if meet is None else position[id(meet)]
            start = len(walk) if p < 0 else max(start, min(p, loop_start) if p >= loop_start else p)
            k += 1
        roots = walk[start:]
        if roots or k >= len(joints):
            return roots
    return roots


def _meet(
    joint: objects.Node, position: dict[int, int], meets: dict[int, objects.Node | None]
) -> objects.Node | None:
    """The first node on the joint's way up that is in `position` (None if none is)."""
    path: list[int] = []
    seen: set[int] = set()
    walker: objects.Node | None = joint
    while walker is not None and id(walker) not in position:
        key = id(walker)
        if key in meets:
            walker = meets[key]
            break
        if key in seen:
            walker = None
            break
        seen.add(key)
        path.append(key)
        walker = walker.parent
    for key in path:
        meets[key] = walker
    return walker


def _link_ibm(skin: objects.Skin, ibm: objects.Accessor, ctx: Context) -> None:
    use_accessor(ibm, IBM, "inverseBindMatrices", ctx)
    if ibm.buffer_view is not None:
        use_view(ibm.buffer_view, IBM, "inverseBindMatrices", ctx)
    with ctx.at("inverseBindMatrices"):
        if ibm.buffer_view is not None and ibm.buffer_view.byte_stride != -1:
            ctx.add(
                catalog.SKIN_IBM_ACCESSOR_WITH_BYTESTRIDE, "IBM buffer views cannot have byteStride"
            )
        if ibm.format != _IBM_FORMAT:
            ctx.add(catalog.SKIN_IBM_INVALID_FORMAT, f"Invalid IBM accessor format {ibm.format}")
        else:
            ibm.checks.ibms.append(ctx.pointer())
        if skin.joints is not None and ibm.count < len(skin.joints):
            ctx.add(
                catalog.INVALID_IBM_ACCESSOR_COUNT,
                f"IBM accessor must have at least {len(skin.joints)} elements",
            )


def _link_sampler(sampler: objects.AnimationSampler, model: Model, ctx: Context) -> None:
    sampler.input = item(model.accessors, sampler.input_index)
    sampler.output = item(model.accessors, sampler.output_index)
    for name, index, accessor in (
        ("input", sampler.input_index, sampler.input),
        ("output", sampler.output_index, sampler.output),
    ):
        if index == -1:
            continue
        if accessor is None:
            ctx.add(catalog.UNRESOLVED_REFERENCE, f"Unresolved reference: {index}", name=name)
            continue
        use_accessor(
            accessor, "AnimationInput" if name == "input" else "AnimationOutput", name, ctx
        )
        if accessor.buffer_view is not None:
            use_view(accessor.buffer_view, OTHER, name, ctx)
            if accessor.buffer_view.byte_stride != -1:
                ctx.add(
                    catalog.ANIMATION_SAMPLER_ACCESSOR_WITH_BYTESTRIDE,
                    "Animation data cannot have byteStride",
                    name=name,
                )
        if name == "input":
            with ctx.at("input"):
                _check_input(sampler, accessor, ctx)
        elif accessor.cubic is None:
            accessor.cubic = sampler.interpolation == "CUBICSPLINE"


def _check_input(
    sampler: objects.AnimationSampler, accessor: objects.Accessor, ctx: Context
) -> None:
    if accessor.format != ANIMATION_INPUT_FORMAT:
        ctx.add(
            catalog.ANIMATION_SAMPLER_INPUT_ACCESSOR_INVALID_FORMAT,
            f"Invalid input accessor format {accessor.format}",
        )
    else:
        accessor.checks.animation_inputs.append(ctx.pointer())
    if accessor.max is None or accessor.min is None:
        ctx.add(
            catalog.ANIMATION_SAMPLER_INPUT_ACCESSOR_WITHOUT_BOUNDS,
            "accessor.min and max must be defined",
        )
    if sampler.interpolation == "CUBICSPLINE" and accessor.count < 2:
        ctx.add(
            catalog.ANIMATION_SAMPLER_INPUT_ACCESSOR_TOO_FEW_ELEMENTS,
            "CUBICSPLINE needs at least 2 keyframes",
        )


def _morph_targets(node: objects.Node | None) -> list[dict[str, objects.Accessor]] | None:
    mesh = node.mesh if node is not None else None
    if mesh is None or not mesh.primitives or mesh.primitives[0] is None:
        return None
    return mesh.primitives[0].linked_targets


def _check_target(
    channel: objects.AnimationChannel, model: Model, ctx: Context
) -> objects.Node | None:
    assert channel.target is not None
    node_index, path = channel.target
    node = item(model.nodes, node_index)
    if node_index == -1:
        return node
    with ctx.at("target"):
        if node is None:
            ctx.add(
                catalog.UNRESOLVED_REFERENCE, f"Unresolved reference: {node_index}", name="node"
            )
            return None
        node.used = True
        if path in TRS:
            if node.matrix is not None:
                ctx.add(
                    catalog.ANIMATION_CHANNEL_TARGET_NODE_MATRIX,
                    "Cannot animate TRS of a node with a matrix",
                )
            if node.skin is not None:
                ctx.add(
                    catalog.ANIMATION_CHANNEL_TARGET_NODE_SKIN,
                    "Animated TRS will not affect a skinned mesh",
                    name="path",
                )
        elif path == "weights" and _morph_targets(node) is None:
            ctx.add(
                catalog.ANIMATION_CHANNEL_TARGET_NODE_WEIGHTS_NO_MORPHS,
                "The mesh has no morph targets",
            )
    return node


def _check_output(
    channel: objects.AnimationChannel,
    sampler: objects.AnimationSampler,
    node: objects.Node | None,
    ctx: Context,
) -> None:
    assert channel.target is not None and sampler.output is not None
    path, output = channel.target[1], sampler.output
    cubic = sampler.interpolation == "CUBICSPLINE"
    if path == "rotation" and output.components == 4:
        output.checks.quaternions.append((ctx.pointer("sampler"), cubic))
    valid = ANIMATION_OUTPUT_FORMATS.get(path or "")
    if valid is not None and output.format not in valid:
        ctx.add(
            catalog.ANIMATION_SAMPLER_OUTPUT_ACCESSOR_INVALID_FORMAT,
            f"Invalid output format {output.format}",
            name="sampler",
        )
    source = sampler.input
    if source is None or source.count == -1 or output.count == -1 or sampler.interpolation is None:
        return
    expected = source.count * (3 if cubic else 1)
    if path == "weights":
        targets = _morph_targets(node)
        expected *= len(targets) if targets is not None else 0
    elif path not in TRS:
        expected = 0
    if expected != 0 and expected != output.count:
        ctx.add(
            catalog.ANIMATION_SAMPLER_OUTPUT_ACCESSOR_INVALID_COUNT,
            f"Animation sampler output accessor of count {expected} expected. Found {output.count}",
            name="sampler",
        )


def link_animation(animation: objects.Animation, model: Model, ctx: Context) -> None:
    samplers, channels = animation.samplers, animation.channels
    for i, channel in enumerate(channels or []):
        if isinstance(channel.target_extensions.get("KHR_animation_pointer"), ExtensionObject):
            with ctx.at("channels", i, "target", "extensions", "KHR_animation_pointer"):
                _check_pointer(channel, model, ctx)
    if samplers is None or channels is None:
        return
    with ctx.at("samplers"):
        for i, sampler in enumerate(samplers):
            with ctx.at(i):
                _link_sampler(sampler, model, ctx)
    later = _same_targets(channels)
    with ctx.at("channels"):
        for i, channel in enumerate(channels):
            with ctx.at(i):
                node = _check_target(channel, model, ctx) if channel.target is not None else None
                if channel.sampler_index != -1:
                    linked = item(samplers, channel.sampler_index)
                    if linked is None:
                        ctx.add(
                            catalog.UNRESOLVED_REFERENCE,
                            f"Unresolved reference: {channel.sampler_index}",
                            name="sampler",
                        )
                    else:
                        linked.used = True
                        if channel.target is not None and linked.output is not None:
                            _check_output(channel, linked, node, ctx)
                if channel.target is not None:
                    _report_duplicates(i, later.get(channel.target, ()), ctx)
    with ctx.at("samplers"):
        for i, sampler in enumerate(samplers):
            if not sampler.used:
                ctx.add(catalog.UNUSED_OBJECT, "This object may be unused", index=i)


def _same_targets(
    channels: list[objects.AnimationChannel],
) -> dict[tuple[int, str | None], list[int]]:
    """Channel indices per target (in order), for targets animated more than once: one pass."""
    groups: dict[tuple[int, str | None], list[int]] = {}
    for i, channel in enumerate(channels):
        target = channel.target
        if target is not None and target[0] != -1:
            groups.setdefault(target, []).append(i)
    return {target: indices for target, indices in groups.items() if len(indices) > 1}


def _report_duplicates(i: int, group: Sequence[int], ctx: Context) -> None:
    """Channel i has the same target as every later channel of its group (the reference
    reports each pair); past the issue cap the pairs are counted, not listed."""
    if not group:
        return
    later = group[bisect.bisect_right(group, i) :]
    for n, j in enumerate(later):
        if ctx.full(catalog.ANIMATION_DUPLICATE_TARGETS):
            ctx.drop(catalog.ANIMATION_DUPLICATE_TARGETS, len(later) - n)
            return
        ctx.add(
            catalog.ANIMATION_DUPLICATE_TARGETS,
            f"Animation channel has the same target as channel {j}",
            name="target",
        )


def _check_pointer(channel: objects.AnimationChannel, model: Model, ctx: Context) -> None:
    assert channel.target is not None
    node_index, path = channel.target
    ctx.add(
        catalog.INCOMPLETE_EXTENSION_SUPPORT,
        "Validation support for KHR_animation_pointer is incomplete",
    )
    if item(model.nodes, node_index) is not None:
        ctx.add(
            catalog.KHR_ANIMATION_POINTER_ANIMATION_CHANNEL_TARGET_NODE,
            "The target node must be undefined",
        )
    if path != "pointer":
        ctx.add(
            catalog.KHR_ANIMATION_POINTER_ANIMATION_CHANNEL_TARGET_PATH,
            f"The target path must be 'pointer', not {path!r}",
        )


def link_scene(scene: objects.Scene, model: Model, ctx: Context) -> None:
    if scene.nodes_indices is None:
        return
    for position, index, node in _resolve_nodes(scene.nodes_indices, "nodes", model, ctx):
        if node.parent is not None:
            with ctx.at("nodes"):
                ctx.add(
                    catalog.SCENE_NON_ROOT_NODE, f"Node {index} is not a root node", index=position
                )
        _add_scene(node, scene)


def _add_scene(root: objects.Node, scene: objects.Scene) -> None:
    """Mark `root` and its descendants as part of `scene` (loops are cut)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if not node.scenes or node.scenes[-1] is not scene:  # scenes are linked one at a time
            node.scenes.append(scene)
        if node.children is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(child for child in node.children if child is not None)


def check_nodes(model: Model, ctx: Context) -> None:
    """Whole-graph checks: empty nodes, loops, skinned mesh placement."""
    looped = set(node_cycles(model.nodes))
    with ctx.at("nodes"):
        for i, node in enumerate(model.nodes):
            if node is None:
                continue
            if (
                not node.is_joint and node.children is None and node.mesh is None and node.camera is None
                and not node.extensions and node.extras is None
            ):  # fmt: skip
                ctx.add(catalog.NODE_EMPTY, "Empty node encountered", index=i)
            if id(node) in looped:
                ctx.add(catalog.NODE_LOOP, "Node is a part of a node loop", index=i)
            if node.skin is not None:
                _check_skinned(node, i, ctx)


def node_cycles(nodes: list[objects.Node | None]) -> dict[int, int]:
    """id(node) -> cycle number, for every node on a parent loop. Linear: each node is
    walked once (every node has at most one parent, so the walks form chains and cycles)."""
    state: dict[int, int] = {}  # id -> walk number while walking, then -1 when done
    cycles: dict[int, int] = {}
    for walk, start in enumerate(nodes):
        path: list[objects.Node] = []
        walker = start
        while walker is not None and id(walker) not in state:
            state[id(walker)] = walk
            path.append(walker)
            walker = walker.parent
        if walker is not None and state[id(walker)] == walk:  # closed a loop in this walk
            first = next(k for k, n in enumerate(path) if n is walker)
            for member in path[first:]:
                cycles[id(member)] = walk
        for member in path:
            state[id(member)] = -1
    return cycles


def _check_skinned(node: objects.Node, index: int, ctx: Context) -> None:
    if node.parent is not None:
        ctx.add(
            catalog.NODE_SKINNED_MESH_NON_ROOT, "Node with a skinned mesh is not root", index=index
        )
    if node.has_transform:
        ctx.add(
            catalog.NODE_SKINNED_MESH_LOCAL_TRANSFORMS,
            "Local transforms will not affect a skinned mesh",
            index=index,
        )
    top = next((root for root in node.skin.common_roots if root.parent is None), None)
    if top is not None and not {id(s) for s in node.scenes} <= {id(t) for t in top.scenes}:
        ctx.add(
            catalog.NODE_SKIN_NO_SCENE, "The scene does not contain the joint nodes", index=index
        )


def check_unused(model: Model, ctx: Context) -> None:
    ctx.path.clear()
    for name, items in (
        ("accessors", model.accessors), ("buffers", model.buffers), ("bufferViews", model.buffer_views),
        ("cameras", model.cameras), ("images", model.images), ("materials", model.materials),
        ("meshes", model.meshes), ("nodes", model.nodes), ("samplers", model.samplers),
        ("skins", model.skins), ("textures", model.textures),
    ):  # fmt: skip
        with ctx.at(name):
            for i, obj in enumerate(items):
                if obj is not None and not obj.used:
                    ctx.add(catalog.UNUSED_OBJECT, "This object may be unused", index=i)
    with ctx.at("meshes"):
        for i, mesh in enumerate(model.meshes):
            if (
                mesh is not None
                and mesh.weights is not None
                and mesh.used
                and not mesh.weights_used
            ):
                with ctx.at(i):
                    ctx.add(
                        catalog.UNUSED_MESH_WEIGHTS,
                        "The static morph target weights are always overridden",
                        name="weights",
                    )
