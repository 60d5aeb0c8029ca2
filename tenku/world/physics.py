"""Physics of the side-view world: a scene spec -> per-frame positions, angles, velocities, visibility, camera.

Units are metres, seconds, radians; x to the right, y up, the ground at y = 0. Each object is a rigid body whose
bounding square has side `SIZES[size]`; the trajectory reports the centre of that square (bottom + size/2).

Two kinds of motion:
- dynamic (bounce, roll, fall, throw, rest): integrated in fixed substeps of at most `MAX_DT` under gravity, with
  exact ground impacts inside a step (the impact time is the root of the parabola), restitution at bounces, Coulomb
  friction on the ground scaled by `ROLL_DECEL_SCALE` (rolling resistance is far smaller than sliding friction),
  walls at the edges of the camera's range, and circle-circle collisions between objects with restitution;
- scripted (float, spin, orbit): closed forms of time; they push dynamic objects as bodies of infinite mass.

Occluders do not touch the physics; they only decide `visible`. Camera paths live here too, so the judge can read
where the camera was from the same `Trajectory`.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from tenku.world.spec import GRAVITY, SIZES, VIEW_WIDTH, RenderSpec, SceneSpec

MAX_DT = 1 / 120  # s; impacts with the ground are exact, so this bounds object-object contact error; it divides
# 1 / fps for 8, 10, 12, 24 and 30 fps, so at those rates every render of a scene samples one and the same motion
ROLL_DECEL_SCALE = 0.085  # ground deceleration = friction * g * this: 0.5 m/s^2 at the default friction 0.6
REST_SPEED = 0.45  # m/s: an impact slower than this settles on the ground (its next hop would be ~1 cm)
BOUNCE_KEEP_VX = 0.97  # share of horizontal speed kept at each ground impact
WALL_RESTITUTION = 0.6
OBJECT_RESTITUTION = 0.8

PAN_SPEED = 0.5  # m/s of camera travel ...
PAN_MAX = 4.0  # ... but never more than this many metres over a clip (long clips pan slower)
ZOOM_RATIO = 1.5  # zoom_in goes 1 -> 1.5, zoom_out 1.5 -> 1, geometrically in time

FLOAT_SPEED = 0.6  # m/s upward
FLOAT_DRIFT = 0.4  # m/s sideways when a floating object has a direction
FLOAT_SWAY = (0.2, 2.5)  # sway amplitude (m) and period (s)
SPIN_SPEED = -2 * math.pi / 1.5  # rad/s, clockwise on screen: one turn every 1.5 s
ORBIT_RADIUS = 1.0  # m
ORBIT_PERIOD = 3.0  # s, anticlockwise on screen, starting at the circle's bottom

TREE_HEIGHT = 3.0  # m: trunk below a fir of three stacked triangles
WALL_HEIGHT = 1.6  # m: a wall segment hides any object resting behind it
HIDDEN_COVER = 0.5  # an object is not visible when an occluder covers at least this share of its core

DYNAMIC = ("bounce", "roll", "fall", "throw", "rest")
SCRIPTED = ("float", "spin", "orbit")


@dataclass
class Trajectory:
    """Per-frame state. Object arrays have shape (n_objects, F); frame k is at time t[k] = k / fps."""

    t: np.ndarray  # (F,) seconds
    x: np.ndarray  # (n, F) metres, centre of the object's bounding square
    y: np.ndarray  # (n, F) metres above the ground, centre of the bounding square (bottom + size / 2)
    angle: np.ndarray  # (n, F) radians, anticlockwise on screen
    vx: np.ndarray  # (n, F) m/s
    vy: np.ndarray  # (n, F) m/s
    visible: np.ndarray  # (n, F) bool: False while an occluder covers >= HIDDEN_COVER of the object's core
    cover: np.ndarray  # (n, F) float in [0, 1]: the share of the object's core an occluder covers
    size: np.ndarray  # (n,) metres, side of each bounding square
    cam_x: np.ndarray  # (F,) metres, world x at the frame's centre
    zoom: np.ndarray  # (F,) scale factor; 1 shows VIEW_WIDTH metres across

    @property
    def n_objects(self) -> int:
        return self.x.shape[0]

    @property
    def frames(self) -> int:
        return self.t.shape[0]


# --- camera and bounds ------------------------------------------------------------------------------------------


def pan_distance(seconds: float) -> float:
    return min(PAN_SPEED * seconds, PAN_MAX)


def camera_path(camera: str, t: np.ndarray, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(cam_x, zoom) at times t (F,) for a clip `seconds` long. Pans move at constant speed from cam_x = 0."""
    u = np.clip(t / seconds, 0.0, 1.0)
    cam_x = np.zeros_like(t, dtype=np.float64)
    zoom = np.ones_like(t, dtype=np.float64)
    if camera == "pan_right":
        cam_x = pan_distance(seconds) * u
    elif camera == "pan_left":
        cam_x = -pan_distance(seconds) * u
    elif camera == "zoom_in":
        zoom = ZOOM_RATIO**u
    elif camera == "zoom_out":
        zoom = ZOOM_RATIO ** (1.0 - u)
    return cam_x, zoom


def world_bounds(camera: str, seconds: float) -> tuple[float, float]:
    """The walls: the left and right edges of everything the camera shows at zoom 1 over the clip."""
    lo, hi = -VIEW_WIDTH / 2, VIEW_WIDTH / 2
    if camera == "pan_right":
        hi += pan_distance(seconds)
    elif camera == "pan_left":
        lo -= pan_distance(seconds)
    return lo, hi


# --- shapes and occluders ---------------------------------------------------------------------------------------


def outline(shape: str, size: float) -> np.ndarray:
    """Silhouette vertices (k, 2), metres, about the bounding square's centre, unrotated. Ball: a 16-gon."""
    h = size / 2
    if shape == "ball":
        a = np.linspace(0, 2 * np.pi, 16, endpoint=False)
        return np.stack([h * np.cos(a), h * np.sin(a)], axis=1)
    if shape == "cube":  # front square of side 0.78 s, top and side faces 0.22 s deep (oblique view)
        a, d = 0.78 * size, 0.22 * size
        return np.array([(-h, -h), (-h + a, -h), (h, -h + d), (h, h), (-h + d, h), (-h, -h + a)])
    if shape == "pyramid":
        return np.array([(-h, -h), (h, -h), (-0.05 * size, h)])
    if shape == "cylinder":
        w = 0.35 * size
        return np.array([(-w, -h), (w, -h), (w, h), (-w, h)])
    raise ValueError(f"unknown shape {shape!r}")


def lowest_extent(shape: str, size: float, angle: np.ndarray) -> np.ndarray:
    """Distance from the centre down to the lowest point of the rotated silhouette, for each angle."""
    if shape == "ball":
        return np.full_like(angle, size / 2, dtype=np.float64)
    v = outline(shape, size)  # (k, 2)
    ys = v[:, 0][None] * np.sin(angle)[:, None] + v[:, 1][None] * np.cos(angle)[:, None]  # (F, k)
    return -ys.min(axis=1)


def occluder_polygons(kind: str, x: float, width: float) -> list[tuple[str, np.ndarray]]:
    """Occluder silhouette as named convex polygons (part, (k, 2) world vertices), drawn in list order."""
    if kind == "wall":
        h = width / 2
        return [("wall", np.array([(x - h, 0.0), (x + h, 0.0), (x + h, WALL_HEIGHT), (x - h, WALL_HEIGHT)]))]
    if kind == "tree":
        tw = 0.1 * width
        parts = [("trunk", np.array([(x - tw, 0.0), (x + tw, 0.0), (x + tw, 0.45), (x - tw, 0.45)]))]
        for base, top, half in ((0.3, 1.7, 0.5), (0.95, 2.35, 0.41), (1.6, TREE_HEIGHT, 0.32)):
            parts.append(("leaves", np.array([(x - half * width, base), (x + half * width, base), (x, top)])))
        return parts
    raise ValueError(f"unknown occluder {kind!r}")


def polygon_sdf(poly: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Signed distance (negative inside) from points to a convex anticlockwise polygon: the largest edge distance.

    Exact inside and along edges, a slight underestimate near outside corners: fine for coverage and tests.
    """
    d = None
    k = len(poly)
    for i in range(k):
        (x0, y0), (x1, y1) = poly[i], poly[(i + 1) % k]
        ex, ey = x1 - x0, y1 - y0
        n = math.hypot(ex, ey)
        nx, ny = ey / n, -ex / n  # outward normal of an anticlockwise polygon
        di = (px - x0) * nx + (py - y0) * ny
        d = di if d is None else np.maximum(d, di)
    return d


# Sample points of an object's "core" (a disc of radius 0.38 s), as multiples of its size: visibility is the share
# of these an occluder covers, which tracks what the renderer shows without rendering.
_CORE = np.concatenate(
    [[(0.0, 0.0)]]
    + [[(r * math.cos(a), r * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 8, endpoint=False) + r] for r in (0.19, 0.38)]
)


def occlusion(scene: SceneSpec, x: np.ndarray, y: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Covered share (n, F) of each object's core, from centres x, y (n, F) and sizes (n,)."""
    cover = np.zeros_like(x)
    if not scene.occluders:
        return cover
    px = x[..., None] + size[:, None, None] * _CORE[:, 0]  # (n, F, k)
    py = y[..., None] + size[:, None, None] * _CORE[:, 1]
    inside = np.zeros(px.shape, dtype=bool)
    for oc in scene.occluders:
        for _, poly in occluder_polygons(oc.kind, oc.x, oc.width):
            inside |= polygon_sdf(poly, px, py) < 0
    return inside.mean(axis=-1)


# --- initial state ----------------------------------------------------------------------------------------------


def initial_velocity(motion: str, direction: str, vx: float, vy: float) -> tuple[float, float]:
    """Start velocity: the spec's own when it sets one, else the default for the motion and direction."""
    if vx or vy:
        return vx, vy
    sign = {"left": -1.0, "right": 1.0}.get(direction, 0.0)
    return {
        "bounce": (0.8 * sign, 5.0),
        "roll": (2.2 * sign, 0.0),
        "fall": (0.3 * sign, 0.0),
        "throw": (2.0 * sign, 5.5),
    }.get(motion, (0.0, 0.0))


# --- simulation -------------------------------------------------------------------------------------------------


class _Body:
    """One dynamic object's state: plain floats, since a handful of bodies step fastest without numpy."""

    __slots__ = ("x", "y", "vx", "vy", "angle", "r", "m", "e", "decel", "grounded", "rolls", "scripted")

    def __init__(self, x, y, vx, vy, r, e, decel, rolls, scripted=False):
        self.x, self.y, self.vx, self.vy, self.angle = x, y, vx, vy, 0.0  # y: bottom height
        self.r, self.m, self.e, self.decel, self.rolls, self.scripted = r, (2 * r) ** 3, e, decel, rolls, scripted
        self.grounded = y <= 0.0 and vy <= 0.0

    def ground_slide(self, dt: float) -> None:
        """Decelerate along the ground by friction for dt seconds, stopping exactly when the speed reaches 0."""
        v = self.vx
        if v == 0.0:
            return
        if self.decel * dt >= abs(v):
            dist = v * v / (2 * self.decel) * math.copysign(1.0, v)
            self.vx = 0.0
        else:
            a = -math.copysign(self.decel, v)
            dist = v * dt + 0.5 * a * dt * dt
            self.vx = v + a * dt
        self.x += dist
        if self.rolls:
            self.angle -= dist / self.r

    def step(self, dt: float) -> None:
        """Advance dt seconds: exact parabolas between ground impacts, friction while on the ground."""
        while dt > 0.0:
            if self.grounded:
                self.ground_slide(dt)
                return
            # time until the bottom reaches the ground: y + vy t - g t^2 / 2 = 0
            t_hit = (self.vy + math.sqrt(max(self.vy * self.vy + 2 * GRAVITY * max(self.y, 0.0), 0.0))) / GRAVITY
            t = min(t_hit, dt)
            self.x += self.vx * t
            self.y += self.vy * t - 0.5 * GRAVITY * t * t
            self.vy -= GRAVITY * t
            if self.rolls:
                self.angle -= self.vx * t / self.r
            dt -= t
            if t_hit <= t:  # impact: reflect with restitution, settle when too slow to hop
                self.y = 0.0
                self.vy = -self.e * self.vy
                self.vx *= BOUNCE_KEEP_VX
                if self.vy < REST_SPEED:
                    self.vy, self.grounded = 0.0, True


def _scripted(o, size: float, t: np.ndarray, phase: float) -> tuple[np.ndarray, ...]:
    """Closed-form (x, y_centre, angle) for float, spin and orbit at times t."""
    h = size / 2
    zeros = np.zeros_like(t)
    if o.motion == "float":
        sign = {"left": -1.0, "right": 1.0}.get(o.direction, 0.0)
        amp, period = FLOAT_SWAY
        drift = o.vx if o.vx else sign * FLOAT_DRIFT  # the spec's vx, when set, is the sideways drift
        x = o.x + drift * t + amp * np.sin(2 * np.pi * t / period + phase) - amp * np.sin(phase)
        y = o.y + h + FLOAT_SPEED * t
        return x, y, 0.12 * np.sin(2 * np.pi * t / period + phase)
    if o.motion == "spin":
        angle = SPIN_SPEED * t
        lift = max(o.y, 0.0)
        return o.x + zeros, lift + lowest_extent(o.shape, size, angle), angle
    if o.motion == "orbit":
        theta = 2 * np.pi * t / ORBIT_PERIOD
        cy = o.y + h + ORBIT_RADIUS
        return o.x + ORBIT_RADIUS * np.sin(theta), cy - ORBIT_RADIUS * np.cos(theta), zeros
    raise ValueError(f"{o.motion!r} is not a scripted motion")


def simulate(scene: SceneSpec, render: RenderSpec) -> Trajectory:
    """Simulate `scene` for the frames of `render` (F = render.frames, at t = k / fps).

    A function of the scene alone, sampled at the render's frame times: a floating object's sway phase comes from
    the scene itself, and the fixed step `MAX_DT` divides the frame interval of the usual rates, so the check that
    accepted a layout (`sample.check_scene`, at its own rate) sees the motion every render of it shows.
    """
    n, frames = len(scene.objects), render.frames
    t = np.arange(frames, dtype=np.float64) / render.fps
    sizes = np.array([SIZES[o.size] for o in scene.objects], dtype=np.float64)
    rng = np.random.default_rng(zlib.crc32(scene.to_json().encode()))
    phases = rng.uniform(0, 2 * np.pi, size=n)

    # 1. scripted objects: closed forms at every substep time (they push dynamic ones)
    substeps = max(1, math.ceil(1.0 / (render.fps * MAX_DT)))
    dt = 1.0 / (render.fps * substeps)
    t_fine = np.arange((frames - 1) * substeps + 1, dtype=np.float64) * dt
    scripted = {}
    for i, o in enumerate(scene.objects):
        if o.motion in SCRIPTED:
            scripted[i] = _scripted(o, sizes[i], t_fine, phases[i])

    # 2. bodies: every object takes part in collisions; scripted ones follow their closed form
    lo, hi = world_bounds(scene.camera, render.seconds)
    bodies = []
    for i, o in enumerate(scene.objects):
        r = sizes[i] / 2
        if i in scripted:
            bodies.append(_Body(o.x, 0.0, 0.0, 0.0, r, 0.0, 0.0, False, scripted=True))
            continue
        vx, vy = initial_velocity(o.motion, o.direction, o.vx, o.vy)
        decel = o.friction * GRAVITY * ROLL_DECEL_SCALE
        bodies.append(_Body(o.x, max(o.y, 0.0), vx, vy, r, o.restitution, decel, o.shape == "ball"))

    out = np.zeros((5, n, frames))  # x, y, angle, vx, vy
    prev = {i: (s[0][0], s[1][0]) for i, s in scripted.items()}
    for k in range(len(t_fine)):
        if k > 0:
            for i, b in enumerate(bodies):
                if b.scripted:
                    x, yc, ang = (s[k] for s in scripted[i])
                    b.vx, b.vy = (x - prev[i][0]) / dt, (yc - prev[i][1]) / dt
                    prev[i] = (x, yc)
                    b.x, b.y, b.angle = x, yc - b.r, ang
                else:
                    b.step(dt)
            if n > 1 and scene.collisions:
                _collide(bodies)
            for b in bodies:  # after collisions, so that no push leaves a body outside the walls
                if not b.scripted:
                    _walls(b, lo, hi)
        elif scripted:
            for i, (xs, ys, angs) in scripted.items():
                bodies[i].x, bodies[i].y, bodies[i].angle = xs[0], ys[0] - bodies[i].r, angs[0]
        if k % substeps == 0:
            j = k // substeps
            for i, b in enumerate(bodies):
                out[:, i, j] = (b.x, b.y + b.r, b.angle, b.vx, b.vy)

    cam_x, zoom = camera_path(scene.camera, t, render.seconds)
    x, y, angle, vx, vy = out
    cover = occlusion(scene, x, y, sizes)
    return Trajectory(
        t=t, x=x, y=y, angle=angle, vx=vx, vy=vy, visible=cover < HIDDEN_COVER, cover=cover,
        size=sizes, cam_x=cam_x, zoom=zoom,
    )


def _walls(b: _Body, lo: float, hi: float) -> None:
    if b.x - b.r < lo and b.vx < 0:
        b.x, b.vx = lo + b.r, -b.vx * WALL_RESTITUTION
    elif b.x + b.r > hi and b.vx > 0:
        b.x, b.vx = hi - b.r, -b.vx * WALL_RESTITUTION


def _collide(bodies: list[_Body]) -> None:
    """Circle-circle contacts: an impulse along the normal with restitution, then push the pair apart."""
    for i in range(len(bodies)):
        a = bodies[i]
        for j in range(i + 1, len(bodies)):
            b = bodies[j]
            if a.scripted and b.scripted:
                continue
            dx, dy = b.x - a.x, (b.y + b.r) - (a.y + a.r)
            dist, reach = math.hypot(dx, dy), a.r + b.r
            if dist >= reach or dist == 0.0:
                continue
            nx, ny = dx / dist, dy / dist
            wa = 0.0 if a.scripted else 1.0 / a.m  # inverse masses; scripted bodies do not yield
            wb = 0.0 if b.scripted else 1.0 / b.m
            vrel = (b.vx - a.vx) * nx + (b.vy - a.vy) * ny
            if vrel < 0:
                jmp = -(1 + OBJECT_RESTITUTION) * vrel / (wa + wb)
                a.vx, a.vy = a.vx - jmp * wa * nx, a.vy - jmp * wa * ny
                b.vx, b.vy = b.vx + jmp * wb * nx, b.vy + jmp * wb * ny
            push = (reach - dist) / (wa + wb)
            a.x, a.y = a.x - push * wa * nx, max(a.y - push * wa * ny, 0.0)
            b.x, b.y = b.x + push * wb * nx, max(b.y + push * wb * ny, 0.0)
            for body in (a, b):  # a body knocked upwards leaves the ground
                if not body.scripted and body.vy > 0:
                    body.grounded = False
                elif not body.scripted and body.grounded:
                    body.vy = 0.0
