"""The world's vocabulary and its scene spec: JSON-serialisable dataclasses.

The world is a side view: x runs left to right, y up from the ground, in metres. The visible area at zoom 1 is
`VIEW_WIDTH` metres wide, ground level sits at `GROUND_FRACTION` of the frame's height from the bottom, and the
height of the view follows from the frame's aspect ratio. Everything here is data; physics lives in
`physics.py`, drawing in `render.py`, words in `captions.py` and `parse.py`, judging in `judge.py`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

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
# grass: blue sky over green grass; night: dark sky with stars over dark ground; beach: sunset sky over sand;
# room: an indoor wall over a wooden floor; studio: plain light-gray backdrop and floor

OCCLUDERS: tuple[str, ...] = ("tree", "wall")
CAMERAS: tuple[str, ...] = ("static", "pan_left", "pan_right", "zoom_in", "zoom_out")

VIEW_WIDTH = 8.0  # metres visible across the frame at zoom 1
GROUND_FRACTION = 0.25  # ground line height, as a fraction of the frame height from the bottom
GRAVITY = 9.81  # m/s^2

MIN_PIXELS = 16
MAX_PIXELS = 512
MAX_SECONDS = 60.0


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

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SceneSpec":
        return cls(
            setting=data["setting"],
            objects=[ObjectSpec(**o) for o in data.get("objects", [])],
            occluders=[OccluderSpec(**o) for o in data.get("occluders", [])],
            camera=data.get("camera", "static"),
        )

    @classmethod
    def from_json(cls, text: str) -> "SceneSpec":
        return cls.from_dict(json.loads(text))


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
