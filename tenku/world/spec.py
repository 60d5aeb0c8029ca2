"""The world's vocabulary and its scene spec: JSON-serialisable dataclasses.

The world is a side view: x runs left to right, y up from the ground, in metres. The visible area at zoom 1 is
`VIEW_WIDTH` metres wide, ground level sits at `GROUND_FRACTION` of the frame's height from the bottom, and the
height of the view follows from the frame's aspect ratio. Everything here is data; physics lives in
`physics.py`, drawing in `render.py`, words in `captions.py` and `parse.py`, judging in `judge.py`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tenku.errors import TenkuError

# --- vocabulary ------------------------------------------------------------------------------------------------

# Object colours, sRGB. Chosen far apart in hue/lightness so the judge can tell them apart after video coding.
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "orange": (245, 140, 30),
    "yellow": (245, 220, 40),
    "green": (40, 180, 60),
    "blue": (40, 90, 230),
    "purple": (140, 60, 200),
    "pink": (250, 130, 190),
    "white": (245, 245, 245),
    "black": (25, 25, 25),
    "gray": (128, 128, 128),
}

SHAPES: tuple[str, ...] = ("ball", "cube", "pyramid", "cylinder")

# Object sizes: the object's height (and width) in metres.
SIZES: dict[str, float] = {"small": 0.5, "medium": 0.8, "large": 1.2}

# bounce: launched and bouncing under gravity, losing height each bounce, drifting in `direction`
# roll: rolling (ball, cylinder) or sliding (cube, pyramid) along the ground, slowed by friction
# fall: dropped from high up, bouncing to rest
# throw: thrown in an arc from one side towards `direction`
# float: rising slowly like a balloon, swaying
# spin: turning in place on the ground
# orbit: circling a fixed point in the air
# rest: still on the ground
MOTIONS: tuple[str, ...] = ("bounce", "roll", "fall", "throw", "float", "spin", "orbit", "rest")
DIRECTIONS: tuple[str, ...] = ("left", "right", "none")

SETTINGS: tuple[str, ...] = ("grass", "night", "beach", "room", "studio")
# grass: blue sky over olive-green grass; night: navy sky with stars over dark green ground; beach: sunset sky
# (violet, maroon, salmon) over sand; room: a teal wall over a wooden floor; studio: a plain khaki backdrop and floor

OCCLUDERS: tuple[str, ...] = ("tree", "wall")
CAMERAS: tuple[str, ...] = ("static", "pan_left", "pan_right", "zoom_in", "zoom_out")

VIEW_WIDTH = 8.0  # metres visible across the frame at zoom 1
GROUND_FRACTION = 0.25  # ground line height, as a fraction of the frame height from the bottom
GRAVITY = 9.81  # m/s^2

MIN_PIXELS = 16
MAX_PIXELS = 512
MAX_SECONDS = 60.0
MAX_FRAME_BYTES = 4 * 2**30  # a clip's uint8 frames must fit in memory: F * H * W * 3 bytes at most this

# --- colours the judge needs -----------------------------------------------------------------------------------
# The renderer shades an object's colour c as  mix(c * f, white, h)  with f in [SHADE_MIN, 1] (side faces, rims)
# and h in [0, HIGHLIGHT_MAX] (ball highlight, lit top faces); ground shadows multiply the ground by a factor in
# [1 - SHADOW_MAX, 1]. Every background pixel of a rendered empty scene (sky, ground, stars, stripes, gradients,
# shadowed ground) and every occluder colour lies at least MIN_DELTA_E (CIE76, CIELAB) from every shaded variant
# of every object colour, so the judge can find objects by colour. tests/world/test_render.py measures it.
SHADE_MIN = 0.78
HIGHLIGHT_MAX = 0.25
SHADOW_MAX = 0.3
MIN_DELTA_E = 20.0

# Per setting, sRGB. The backdrop ("back_*": sky or wall) is a vertical 3-stop gradient from the horizon up to
# SKY_SPAN metres; the ground is a gradient from "ground_far" (at the ground line) to "ground_near" (GROUND_SPAN
# metres below it), with stripes/planks/ripples drawn as mixes of the same two colours. "detail": stars (night).
# Colours were searched in CIELAB to stay >= 22 from the object variants (>= 20 is the tested promise).
PALETTES: dict[str, dict[str, tuple[int, int, int]]] = {
    "grass": {
        "back_horizon": (145, 182, 234), "back_mid": (120, 175, 226), "back_top": (95, 169, 219),
        "ground_far": (107, 119, 47), "ground_near": (80, 102, 33),
    },
    "night": {
        "back_horizon": (30, 36, 80), "back_mid": (20, 23, 66), "back_top": (10, 10, 52),
        "ground_far": (28, 80, 24), "ground_near": (18, 66, 18), "detail": (225, 237, 177),
    },
    "beach": {
        "back_horizon": (250, 180, 165), "back_mid": (76, 31, 48), "back_top": (60, 45, 110),
        "ground_far": (220, 195, 140), "ground_near": (200, 180, 125),
    },
    "room": {
        "back_horizon": (55, 140, 128), "back_mid": (61, 148, 135), "back_top": (67, 156, 142),
        "ground_far": (130, 80, 35), "ground_near": (110, 62, 25),
    },
    "studio": {
        "back_horizon": (150, 135, 80), "back_mid": (150, 135, 80), "back_top": (150, 135, 80),
        "ground_far": (150, 135, 80), "ground_near": (125, 110, 45),
    },
}
OCCLUDER_COLORS: dict[str, dict[str, tuple[int, int, int]]] = {
    "tree": {"trunk": (104, 65, 29), "leaves": (45, 85, 40), "leaves_shade": (36, 76, 32)},
    "wall": {"brick": (122, 80, 40), "mortar": (100, 64, 32)},
}
SKY_SPAN = 5.0  # metres above the ground line where the backdrop gradient reaches "back_top"
GROUND_SPAN = 2.0  # metres below the ground line where the ground gradient reaches "ground_near"


def _linear(c: np.ndarray) -> np.ndarray:
    """sRGB values in 0..1 -> linear light."""
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


_LINEAR = _linear(np.arange(256, dtype=np.float64) / 255.0)  # uint8 frames look their 256 values up


def srgb_to_lab(rgb: Any) -> np.ndarray:
    """sRGB (..., 3) in 0..255 -> CIELAB (..., 3) under D65: the space where colour distances are measured."""
    rgb = np.asarray(rgb)
    lin = _LINEAR[rgb] if rgb.dtype == np.uint8 else _linear(rgb.astype(np.float64) / 255.0)  # the same values
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def object_color_variants(color: str, steps: int = 6) -> np.ndarray:
    """The sRGB colours (k, 3) float an object of `color` can show: every shade factor x highlight mix."""
    base = np.asarray(COLORS[color], dtype=np.float64)
    f = np.linspace(SHADE_MIN, 1.0, steps)[:, None, None]
    h = np.linspace(0.0, HIGHLIGHT_MAX, steps)[None, :, None]
    return ((base * f) * (1 - h) + 255.0 * h).reshape(-1, 3)


# --- scene spec ------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class ObjectSpec:
    shape: str
    color: str
    size: str = "medium"
    motion: str = "rest"
    direction: str = "none"  # horizontal drift for bounce/roll/throw/float/fall; spin/orbit sense is not a direction
    x: float = 0.0  # start position, metres from the view centre
    y: float = 0.0  # start height of the object's bottom above the ground, metres
    vx: float = 0.0  # start velocity, m/s (set by `physics.initial_state` from motion and direction when 0)
    vy: float = 0.0
    restitution: float = 0.75  # share of vertical speed kept at a bounce
    friction: float = 0.6  # ground friction coefficient for roll/slide


@dataclass(kw_only=True)
class OccluderSpec:
    kind: str  # "tree" or "wall"
    x: float = 0.0  # centre, metres from the view centre
    width: float = 1.0  # metres


@dataclass(kw_only=True)
class SceneSpec:
    setting: str = "grass"
    objects: list[ObjectSpec] = field(default_factory=list)  # 1 to 4, drawn back to front in list order
    occluders: list[OccluderSpec] = field(default_factory=list)  # drawn in front of the objects
    camera: str = "static"
    collisions: bool = True  # False: objects pass in front of one another, as if at different depths

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SceneSpec":
        return cls(
            setting=data["setting"],
            objects=[ObjectSpec(**o) for o in data.get("objects", [])],
            occluders=[OccluderSpec(**o) for o in data.get("occluders", [])],
            camera=data.get("camera", "static"),
            collisions=data.get("collisions", True),
        )

    @classmethod
    def from_json(cls, text: str) -> "SceneSpec":
        return cls.from_dict(json.loads(text))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def check(self) -> "SceneSpec":
        """Raise `TenkuError` on values outside the vocabulary; return self."""
        _one_of("setting", self.setting, SETTINGS)
        _one_of("camera", self.camera, CAMERAS)
        if not 1 <= len(self.objects) <= MAX_OBJECTS:
            raise TenkuError(f"a scene holds 1 to {MAX_OBJECTS} objects, got {len(self.objects)}")
        for o in self.objects:
            _one_of("shape", o.shape, SHAPES)
            _one_of("colour", o.color, tuple(COLORS))
            _one_of("size", o.size, tuple(SIZES))
            _one_of("motion", o.motion, MOTIONS)
            _one_of("direction", o.direction, DIRECTIONS)
        for oc in self.occluders:
            _one_of("occluder", oc.kind, OCCLUDERS)
        return self


MAX_OBJECTS = 4


def _one_of(what: str, value: str, known: tuple[str, ...]) -> None:
    if value not in known:
        raise TenkuError(f"unknown {what} {value!r}; known: {', '.join(known)}")


@dataclass(kw_only=True)
class RenderSpec:
    """How a scene becomes pixels: size, rate and length. Any size 16..512 px, any aspect, up to 60 s."""

    width: int = 64
    height: int = 64
    fps: float = 8.0
    seconds: float = 4.0

    @property
    def frames(self) -> int:
        return max(1, round(self.seconds * self.fps))

    def check(self) -> "RenderSpec":
        """Raise `TenkuError` naming the first bad field; return self so calls chain."""
        for name in ("width", "height"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
                raise TenkuError(f"{name} must be a whole number of pixels, got {v!r}")
            if not MIN_PIXELS <= v <= MAX_PIXELS:
                raise TenkuError(f"{name} must be between {MIN_PIXELS} and {MAX_PIXELS} pixels, got {v}")
        if not (isinstance(self.fps, (int, float)) and math.isfinite(self.fps) and self.fps > 0):
            raise TenkuError(f"fps must be a positive number, got {self.fps!r}")
        if not (isinstance(self.seconds, (int, float)) and math.isfinite(self.seconds) and self.seconds > 0):
            raise TenkuError(f"seconds must be a positive number, got {self.seconds!r}")
        if self.seconds > MAX_SECONDS:
            raise TenkuError(f"seconds must be at most {MAX_SECONDS:g}, got {self.seconds:g}")
        nbytes = self.frames * self.width * self.height * 3
        if nbytes > MAX_FRAME_BYTES:
            raise TenkuError(
                f"{self.frames} frames of {self.width}x{self.height} need {nbytes / 2**30:.1f} GiB; "
                f"lower fps, seconds or size (at most {MAX_FRAME_BYTES / 2**30:.0f} GiB)"
            )
        return self

    @property
    def view_height(self) -> float:
        """Metres visible from bottom to top at zoom 1 (the width is always VIEW_WIDTH)."""
        return VIEW_WIDTH * self.height / self.width

    @property
    def cam_y(self) -> float:
        """World height (metres) at the frame's centre; zoom scales about this point."""
        return (0.5 - GROUND_FRACTION) * self.view_height


# --- what a prompt asks for ------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class ObjectQuery:
    """One object a prompt mentions; None means the prompt did not say."""

    shape: str | None = None
    color: str | None = None
    size: str | None = None
    motion: str | None = None
    direction: str | None = None


@dataclass(kw_only=True)
class PromptQuery:
    """What `parse.parse_prompt` found in free text: only what the prompt mentions, never guessed."""

    objects: list[ObjectQuery] = field(default_factory=list)
    setting: str | None = None
    camera: str | None = None
    occluder: str | None = None  # "tree" or "wall" when the prompt says the object passes behind one
    unknown_words: list[str] = field(default_factory=list)  # content words the world does not know, by name
