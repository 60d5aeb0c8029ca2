"""Random scenes, and full scenes completed from what a prompt asks for.

Sampling happens in two steps: attributes (shape, colour, size, motion, direction, setting, camera, occluder), then
a layout (start positions, velocities, restitution, friction, the occluder's place). A layout is accepted only when
a simulation shows the scene does what its words say: objects moving left or right move that way *on screen*
(camera included) and in the world (a judge removes the camera's motion: a roll pushed back by a collision while a
zoom carries it the right way on screen is no roll to the left), a fall never rises above where it was dropped, a
bounce leaves the ground more than once, a throw sets off fast on screen, objects at rest stay put, objects start
apart, every object is visible for most of the clip, and
an occluder really has an object pass behind it and come out again. Otherwise the layout is drawn again.
"""

from __future__ import annotations

import numpy as np

from tenku.world.physics import ZOOM_RATIO, camera_path, simulate
from tenku.world.spec import (
    CAMERAS,
    COLORS,
    MOTIONS,
    OCCLUDERS,
    SETTINGS,
    SHAPES,
    SIZES,
    VIEW_WIDTH,
    ObjectQuery,
    ObjectSpec,
    OccluderSpec,
    PromptQuery,
    RenderSpec,
    SceneSpec,
)

CORE_MOTIONS = ("bounce", "roll", "fall", "throw", "rest")
CORE_SETTINGS = ("grass", "room", "studio")
HORIZONTAL = ("roll", "throw")  # motions that always travel left or right
UNDIRECTED = ("spin", "orbit", "rest")  # motions for which a direction means nothing
MIN_SCREEN_TRAVEL = 0.8  # metres (at zoom 1) an object with a direction must move that way on screen
MIN_WORLD_TRAVEL = 0.5  # ... and in the world, net, with its first excursion of FIRST_MOVE that way too
FIRST_MOVE = 0.3  # metres: the judge reads a direction as the sense of the first excursion this long
MIN_THROW_SPEED = 1.5  # m/s sideways on screen (at zoom 1) over a throw's first 0.4 s: slower, it reads as a bounce
FALL_RISE = 0.1  # metres a falling object may rise above where it was dropped (knocked up by a throw, it is no fall)
SCENE_TRIES = 20  # random scenes whose layout never passes the check are drawn again from the start
LAYOUT_TRIES = 40
CHECK_FPS = 10.0  # the layout check simulates at this rate: enough to see every crossing


def random_scene(rng: np.random.Generator, core: bool = False, seconds: float = 4.0) -> SceneSpec:
    """A random scene of 1-4 objects (core: 1-2 objects, core motions and settings, static camera, no occluder).

    A crowded draw whose layout never does what its words say (`layout` gives up and returns its last try) is
    dropped and the whole scene drawn again, so every random scene's caption is true of its clip.
    """
    for _ in range(SCENE_TRIES):
        scene = _random_scene(rng, core, seconds)
        if not check_scene(scene, seconds):
            break
    return scene


def _random_scene(rng: np.random.Generator, core: bool, seconds: float) -> SceneSpec:
    n = int(rng.integers(1, 3 if core else 5))
    setting = str(rng.choice(CORE_SETTINGS if core else SETTINGS))
    if core or rng.random() < 0.5:
        camera = "static"
    else:
        camera = str(rng.choice(CAMERAS[1:]))
    occluder = None if core or rng.random() >= 0.25 else str(rng.choice(OCCLUDERS))
    colors = rng.choice(list(COLORS), size=n, replace=False)
    objects = []
    for i in range(n):
        motion = str(rng.choice(CORE_MOTIONS if core else MOTIONS))
        objects.append(
            ObjectQuery(shape=str(rng.choice(SHAPES)), color=str(colors[i]), size=str(rng.choice(list(SIZES))), motion=motion)
        )
    query = PromptQuery(objects=objects, setting=setting, camera=camera, occluder=occluder)
    return complete(query, rng, seconds=seconds)


def complete(query: PromptQuery, rng: np.random.Generator, seconds: float = 4.0) -> SceneSpec:
    """A full scene with everything `query` says; what it leaves open is drawn from `rng`.

    Unsaid camera means static and unsaid occluder means none (a prompt that mentions neither asks for neither);
    unsaid shape, colour (distinct from the colours named), size, motion and direction are drawn.
    """
    setting = query.setting or str(rng.choice(SETTINGS))
    camera = query.camera or "static"
    objects = [ObjectQuery(**vars(o)) for o in query.objects] or [ObjectQuery()]
    taken = {o.color for o in objects if o.color}
    if query.occluder and not any(o.motion in HORIZONTAL + ("bounce", "float", None) for o in objects):
        pass  # nothing can pass behind it; it still stands in the scene
    elif query.occluder and not any(o.motion in HORIZONTAL for o in objects):
        for o in objects:  # someone must pass behind the occluder: the first object free to move rolls
            if o.motion is None:
                o.motion = "roll"
                break
    specs = []
    for o in objects:
        color = o.color
        if color is None:
            free = [c for c in COLORS if c not in taken] or list(COLORS)
            color = str(rng.choice(free))
            taken.add(color)
        motion = o.motion
        if motion is None:
            choices = [m for m in MOTIONS if m not in UNDIRECTED] if o.direction in ("left", "right") else list(MOTIONS)
            motion = str(rng.choice(choices))
        direction = o.direction
        if motion in UNDIRECTED:
            direction = "none" if direction in (None, "none") else direction
        elif direction is None:
            direction = _draw_direction(motion, rng)
        specs.append(
            ObjectSpec(
                shape=o.shape or str(rng.choice(SHAPES)),
                color=color,
                size=o.size or str(rng.choice(list(SIZES))),
                motion=motion,
                direction=direction,
            )
        )
    scene = SceneSpec(setting=setting, objects=specs, camera=camera)
    return layout(scene, rng, occluder=query.occluder, seconds=seconds)


def _draw_direction(motion: str, rng: np.random.Generator) -> str:
    if motion in HORIZONTAL:
        return str(rng.choice(["left", "right"]))
    if motion == "bounce":
        return str(rng.choice(["left", "right", "none"]))
    return str(rng.choice(["left", "right", "none"], p=[0.2, 0.2, 0.6]))  # fall, float


# --- layout -----------------------------------------------------------------------------------------------------


def _place(o: ObjectSpec, rng: np.random.Generator, cam_mid: float, zoom: float, pan_v: float) -> None:
    """Start position, velocity, restitution and friction for one object from its motion and direction.

    Positions are drawn in screen metres around the camera's mid-clip position and scaled by 1 / the largest zoom,
    so objects start where the camera will see them. An object heading the way the camera pans (at pan_v m/s)
    gets the camera's speed on top, so that it still moves that way on screen.
    """
    s = {"left": -1.0, "right": 1.0}.get(o.direction, 0.0)
    u = rng.uniform
    o.y, o.vx, o.vy, o.restitution, o.friction = 0.0, 0.0, 0.0, 0.75, float(u(0.5, 0.7))
    if o.motion == "roll":
        x, o.vx = -s * u(0.8, 3.2), s * u(1.7, 2.4)
    elif o.motion == "bounce":
        x = -s * u(0.5, 3.0) if s else u(-2.5, 2.5)
        o.vx, o.vy, o.restitution = s * u(0.6, 1.0), u(4.2, 5.8), u(0.7, 0.82)
    elif o.motion == "fall":
        x = -s * u(0.8, 2.2) if s else u(-2.5, 2.5)
        o.y, o.vx, o.restitution = u(1.8, 2.6), s * u(0.4, 0.7), u(0.45, 0.6)
    elif o.motion == "throw":
        x, o.y = -s * u(1.8, 3.3), u(0.2, 0.6)
        o.vx, o.vy, o.restitution = s * u(1.6, 2.2), u(4.5, 5.5), u(0.45, 0.6)
    elif o.motion == "float":
        x, o.y = (-s * u(0.5, 2.0) if s else u(-2.5, 2.5)), u(0.0, 0.4)
        o.vx = s * u(0.35, 0.5)
    elif o.motion == "orbit":
        x, o.y = u(-2.5, 2.5), u(0.1, 0.4)
    else:  # spin, rest
        x = u(-3.2, 3.2)
    o.x = cam_mid + x / zoom
    if s and o.motion not in UNDIRECTED and s * pan_v > 0:
        o.vx += pan_v * (1.5 if o.motion == "roll" else 1.0)  # a roll slows down, so it needs more
    o.x, o.y, o.vx, o.vy = (round(float(v), 3) for v in (o.x, o.y, o.vx, o.vy))
    o.restitution, o.friction = round(float(o.restitution), 3), round(float(o.friction), 3)


def _place_all(scene: SceneSpec, rng: np.random.Generator, seconds: float) -> None:
    """Place every object, redrawing each a few times so that none starts on top of an earlier one."""
    cam_x, zoom = camera_path(scene.camera, np.array([0.0, seconds / 2, seconds]), seconds)
    z = ZOOM_RATIO if scene.camera.startswith("zoom") else 1.0
    pan_v = float(cam_x[2] - cam_x[0]) / seconds
    for i, o in enumerate(scene.objects):
        for _ in range(12):
            _place(o, rng, float(cam_x[1]), z, pan_v)
            if not any(_touching(o, p) for p in scene.objects[:i]):
                break


def _touching(a: ObjectSpec, b: ObjectSpec) -> bool:
    """Whether two objects' start discs (radius size / 2, plus a 0.1 m gap) overlap."""
    ra, rb = SIZES[a.size] / 2, SIZES[b.size] / 2
    return float(np.hypot(a.x - b.x, (a.y + ra) - (b.y + rb))) < ra + rb + 0.1


def layout(scene: SceneSpec, rng: np.random.Generator, occluder: str | None = None, seconds: float = 4.0) -> SceneSpec:
    """Place the objects (and an occluder of kind `occluder`) until the scene passes `check_scene`.

    Half the tries keep collisions between objects on; when none of those works (crowded scenes whose collisions
    would turn a roll around or push a resting object), the scene turns collisions off and tries again.
    """
    spec = RenderSpec(width=64, height=64, fps=CHECK_FPS, seconds=seconds)
    for k in range(LAYOUT_TRIES):
        scene.collisions = k < LAYOUT_TRIES // 2
        _place_all(scene, rng, seconds)
        scene.occluders = []
        if occluder:
            scene.occluders = [_place_occluder(scene, occluder, spec, rng)]
        if not check_scene(scene, seconds):
            return scene
    return scene  # rare: the last draw, which may bend a word (say, a throw that leaves the view)


OCCLUDER_CROSSERS = ("roll", "throw", "bounce")  # in order of preference: low movers pass behind best


def _crosser(scene: SceneSpec) -> int | None:
    movers = [i for i, o in enumerate(scene.objects) if o.motion in OCCLUDER_CROSSERS and o.direction in ("left", "right")]
    return min(movers, key=lambda j: OCCLUDER_CROSSERS.index(scene.objects[j].motion)) if movers else None


def _place_occluder(scene: SceneSpec, kind: str, spec: RenderSpec, rng: np.random.Generator) -> OccluderSpec:
    """Put the occluder where the best mover is lowest in the middle of its path, so it passes behind it."""
    width = round(float(rng.uniform(1.0, 1.4) * max(1.0, max(SIZES[o.size] for o in scene.objects) / 0.8)), 3)
    i = _crosser(scene)
    if i is not None:
        traj = simulate(scene, spec)
        x, y = traj.x[i], traj.y[i]
        progress = (x - x[0]) / ((x[-1] - x[0]) or 1.0)
        middle = np.flatnonzero((progress > rng.uniform(0.2, 0.35)) & (progress < rng.uniform(0.55, 0.7)))
        k = middle[np.argmin(y[middle])] if middle.size else len(x) // 2
        return OccluderSpec(kind=kind, x=round(float(x[k]), 3), width=width)
    taken = [o.x for o in scene.objects]
    x = 0.0
    for _ in range(20):  # nobody can pass behind it: stand it where it hides no one
        x = float(rng.uniform(-3.0, 3.0))
        if all(abs(x - t) > width / 2 + 0.8 for t in taken):
            break
    return OccluderSpec(kind=kind, x=round(x, 3), width=width)


def check_scene(scene: SceneSpec, seconds: float = 4.0) -> list[str]:
    """What a simulation shows the scene getting wrong against its own words; empty when it is right."""
    spec = RenderSpec(width=64, height=64, fps=CHECK_FPS, seconds=seconds)
    traj = simulate(scene, spec)
    problems = []
    sx = (traj.x - traj.cam_x) * traj.zoom  # (n, F) screen position in metres from the centre at zoom 1
    half_view = VIEW_WIDTH / 2
    for i, o in enumerate(scene.objects):
        r = traj.size[i] / 2
        for j in range(i):
            if _touching(o, scene.objects[j]):
                problems.append(f"objects {j} and {i} start touching")
        sign = {"left": -1.0, "right": 1.0}.get(o.direction, 0.0)
        if sign and o.motion not in UNDIRECTED:
            if sign * (sx[i, -1] - sx[i, 0]) < MIN_SCREEN_TRAVEL:
                problems.append(f"object {i} does not move {o.direction} on screen")
            x = traj.x[i]
            away = np.flatnonzero(np.abs(x - x[0]) >= FIRST_MOVE)
            if sign * (x[-1] - x[0]) < MIN_WORLD_TRAVEL or not away.size or sign * (x[away[0]] - x[0]) < 0:
                problems.append(f"object {i} does not move {o.direction} in the world")
        elif o.motion in ("bounce", "fall") and np.ptp(traj.x[i]) > 0.6:
            problems.append(f"object {i} drifts though it has no direction")
        bottom = traj.y[i] - r
        if o.motion == "fall" and bottom.max() > bottom[0] + FALL_RISE:
            problems.append(f"object {i} rises though it falls")
        if o.motion == "bounce" and np.sum(np.diff((bottom > 0.1).astype(int)) == 1) + int(bottom[0] > 0.1) < 2:
            problems.append(f"object {i} leaves the ground once at most though it bounces")
        if o.motion == "throw":
            head = max(2, int(round(0.4 * CHECK_FPS)))
            if abs(np.polyfit(traj.t[:head], sx[i, :head], 1)[0]) < MIN_THROW_SPEED:
                problems.append(f"object {i} sets off too slowly on screen for a throw")
        if o.motion == "rest" and (np.ptp(traj.x[i]) > 0.05 or np.ptp(traj.y[i]) > 0.05):
            problems.append(f"object {i} is pushed though it rests")
        in_view = (np.abs(sx[i]) < half_view - r) & traj.visible[i]
        if in_view.mean() < 0.5:
            problems.append(f"object {i} is out of view or hidden for most of the clip")
    if scene.occluders and _crosser(scene) is not None:
        if not any(_hides_and_reveals(v) for v in traj.visible):
            problems.append("no object passes behind the occluder and comes out again")
    return problems


def _hides_and_reveals(visible: np.ndarray) -> bool:
    """True when the visibility series goes on -> off -> on."""
    off = np.flatnonzero(~visible)
    return off.size > 0 and visible[: off[0]].any() and visible[off[-1] + 1 :].any()
