"""Prompts -> what they ask of the world (`parse_prompt`), and a full scene that does it (`scene_from_prompt`).

The parser reads free English around the world's vocabulary and keeps only what the prompt says: nothing is
guessed, and every content word it does not know lands in `unknown_words`. It works in two passes:

1. phrases: multi-word expressions ("on green grass", "to the left", "floats up", "the camera pans left",
   "sits still", "passes behind a tree") are matched longest first and replaced by one meaning each, so that the
   "green" of "green grass" is never an object's colour and the "left" of "pans left" never an object's direction;
2. a left-to-right walk over the remaining words: numbers, sizes and colours wait for the next shape noun, which
   makes that many objects; a motion or direction word after the noun goes to the objects of the current
   subject ("a red ball and a blue cube bounce" -> both bounce); one before the noun waits for it ("a bouncing red
   ball"). The first motion and direction said of an object win.
"""

from __future__ import annotations

import re

import numpy as np

from tenku.errors import PromptError
from tenku.world.sample import complete
from tenku.world.spec import COLORS, MAX_OBJECTS, MOTIONS, SHAPES, SIZES, ObjectQuery, PromptQuery, SceneSpec

# --- vocabulary -------------------------------------------------------------------------------------------------

COLOR_WORDS = {c: c for c in COLORS} | {"grey": "gray", "violet": "purple"}
SIZE_WORDS = {
    "small": "small", "little": "small", "tiny": "small", "mini": "small",
    "medium": "medium", "mid": "medium", "midsized": "medium",
    "large": "large", "big": "large", "huge": "large", "giant": "large",
}
SHAPE_WORDS = {  # singular; plurals are derived
    "ball": "ball", "sphere": "sphere", "orb": "ball",
    "cube": "cube", "box": "cube", "block": "cube",
    "pyramid": "pyramid",
    "cylinder": "cylinder", "can": "cylinder",
}
SHAPE_WORDS["sphere"] = "ball"
PLURALS = {"boxes": "box", "spheres": "sphere"}  # irregular enough to list; others add an s

MOTION_WORDS = {
    "bounce": ["bounce", "bounces", "bouncing", "bounced", "hop", "hops", "hopping", "hopped", "bouncy", "jump", "jumps", "jumping"],
    "roll": ["roll", "rolls", "rolling", "rolled", "slide", "slides", "sliding", "slid", "glides", "gliding"],
    "fall": ["fall", "falls", "falling", "fell", "drop", "drops", "dropping", "dropped", "tumbles"],
    "throw": ["thrown", "throw", "throws", "tossed", "toss", "tosses", "lobbed", "launched", "arcs", "arcing"],
    "float": ["float", "floats", "floating", "floated", "rise", "rises", "rising", "rose", "hovers"],
    "spin": ["spin", "spins", "spinning", "spun", "rotate", "rotates", "rotating", "twirl", "twirls", "twirling"],
    "orbit": ["orbit", "orbits", "orbiting", "circle", "circles", "circling", "loops", "looping"],
    "rest": ["rest", "rests", "resting", "sits", "sit", "sitting", "stationary", "motionless", "idle", "lies"],
}
MOVE_WORDS = {  # verbs of going somewhere that say no motion of their own: "moving leftward", "passes behind"
    "move", "moves", "moving", "moved", "go", "goes", "going", "travels", "travel", "travelling", "traveling",
    "heads", "heading", "drifts", "drift", "drifting", "passes", "pass", "passing", "crosses", "crossing", "flies",
    "flying", "fly", "comes", "coming", "lands", "landing", "settles", "settling", "ends", "stays", "stay", "stands",
    "standing", "turns", "makes", "keeps",
}
DIRECTION_WORDS = {
    "left": "left", "leftward": "left", "leftwards": "left",
    "right": "right", "rightward": "right", "rightwards": "right",
}
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "pair": 2, "three": 3, "four": 4, "five": 5,
                "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "several": 3}
STOP_WORDS = set(
    """the on in is of and at to over under with its it their they them are while as by from into onto across along
    for then very slowly quickly gently fast softly steadily smoothly up down around near next which that this there
    some both each other another one's is are was were be being been has have having just also again high higher
    low lower above below before after until through toward towards away back forth side sides place air frame
    screen view video clip scene shot footage ground floor surface time itself themselves short long distance few
    times bit way path arc round all who whose where when than out off against beside behind
    like balloon balloons sky while front lit under beneath"""
    .split()
)
FILLER_WORDS = {  # content words the world knows and does not need: its own descriptions and styling
    "losing", "loses", "height", "bounce", "each", "every", "hop", "gradually", "slows", "slowing", "speed",
    "eventually", "finally", "comes", "stop", "stops", "halt", "rest", "still", "gravity", "motion", "moving",
    "direction", "horizontally", "vertically", "upward", "upwards", "downward", "downwards", "sideways", "gentle",
    "steady", "smooth", "curved", "curve", "parabolic", "trajectory", "lightly", "slightly", "peak", "peaks", "lower",
    "repeatedly", "settle", "quietly", "calmly", "simple", "plain", "solid", "shaded", "colored", "coloured",
    "object", "objects", "shape", "shapes", "cinematic", "beautiful", "realistic", "animation", "rendered",
    "position", "spot", "same", "staying", "remains", "remain", "remaining", "steadily", "wobbling", "swaying",
    "sways", "swaying", "gliding", "bright", "shiny", "pale", "deep", "warm", "soft", "distant", "horizon",
    "lies", "lying", "flat", "wide", "hidden", "briefly", "reappears", "reappearing", "emerges", "emerging",
    "view", "visible", "out", "sight", "foreground", "shown", "seen", "centre", "center", "middle", "point",
    "fixed", "whole", "time", "during", "throughout", "entire", "tall", "standing", "stands", "moment", "set",
    "size", "sized", "reappear", "emerge", "hides", "scene", "land", "lands",
}

# Multi-word phrases -> (kind, value), matched longest first. Kinds: setting, camera, occluder, dir, motion,
# count, filler. "pan:<dir>" and "zoom:<in|out>" are camera values; a bare pan/zoom word waits for its direction.
PHRASES: dict[tuple[str, ...], tuple[str, str | int]] = {}


def _add(kind: str, value, *phrases: str) -> None:
    for p in phrases:
        PHRASES[tuple(p.split())] = (kind, value)


_add("setting", "grass", "green grass", "grass", "grassy", "lawn", "field", "meadow", "park", "blue sky",
     "sunny day", "grassy field", "green field", "green meadow", "green lawn")
_add("setting", "night", "night", "at night", "nighttime", "night sky", "starry night", "starry sky", "starry",
     "stars", "under the stars", "dark ground", "moonlit", "midnight", "dark night")
_add("setting", "beach", "beach", "sand", "sandy", "sunset", "shore", "seaside", "dusk", "sandy beach")
_add("setting", "room", "room", "indoors", "indoor", "inside", "wooden floor", "wood floor", "living room",
     "teal wall", "teal walls")
_add("setting", "studio", "studio", "backdrop", "plain backdrop", "plain background", "khaki backdrop")
_add("occluder", "tree", "tree", "trees", "fir", "fir tree", "pine tree", "pine")
_add("occluder", "wall", "wall", "walls", "brick wall", "wall segment")
for _d in ("left", "right"):
    _add("dir", _d, f"to the {_d}", f"towards the {_d}", f"toward the {_d}", f"{_d}ward", f"{_d}wards",
         f"to its {_d}", f"{_d} side")
_add("dir", "right", "from left to right", "left to right")
_add("dir", "left", "from right to left", "right to left")
_add("filler", None, "like a balloon", "like balloons", "like a feather")
_add("motion", "float", "floats up", "floats upward", "rises up", "drifts up", "drifts upward",
     "floating up", "floating upward", "rising up", "drifting up", "drifting upward", "float up", "float upward",
     "rise up")
_add("motion", "rest", "sits still", "stays still", "lies still", "stands still", "is still", "sit still",
     "stay still", "sitting still", "standing still", "lying still", "does not move", "do not move",
     "at rest", "not moving", "are still", "keeps still", "keep still", "staying still", "remains still",
     "remain still")
_add("motion", "orbit", "goes around", "goes round", "in a circle", "in circles", "moves in a circle",
     "go around", "going around", "moving in a circle")
_add("motion", "throw", "is thrown", "are thrown", "flies in an arc", "in an arc", "is tossed", "are tossed",
     "fly in an arc", "flying in an arc")
_add("motion", "spin", "spins in place", "turns around", "spinning in place", "spin in place")
_add("count", 2, "a pair of", "pair of")
for _w in ("pans", "pan", "panning", "panned", "pans across", "sweeps", "sweeping", "tracks", "tracking"):
    _add("camera", "pan", _w)
for _w in ("zoom", "zooms", "zooming", "zoomed"):
    _add("camera", "zoom:in", f"{_w} in", f"{_w} closer")
    _add("camera", "zoom:out", f"{_w} out", f"{_w} away")
    _add("camera", "zoom", _w)
_add("camera", "zoom:in", "pushes in")
_add("camera", "zoom:out", "pulls back", "pulls out")
_add("camera", "static", "static camera", "fixed camera", "still camera", "locked camera", "steady camera",
     "camera is static", "camera is still", "camera is fixed", "camera stays still", "camera stays fixed",
     "camera does not move", "camera holds still", "static shot", "locked off", "static", "stationary camera",
     "camera is stationary", "camera stays put", "camera is locked")
_add("camera", "camera", "camera", "the camera", "camera view")
_MAX_PHRASE = max(len(p) for p in PHRASES)

# unknown words that look like things the world could have: named in the error with the right list
FOREIGN = {
    "colours": {"teal", "cyan", "magenta", "brown", "maroon", "navy", "gold", "golden", "silver", "beige",
                "turquoise", "lime", "indigo", "crimson", "scarlet", "olive", "tan", "lavender", "aqua"},
    "shapes": {"cone", "star", "torus", "donut", "ring", "disc", "disk", "cat", "dog", "car", "person", "man",
               "woman", "bird", "dragon", "cuboid", "prism", "egg", "triangle", "square", "rectangle", "tetrahedron"},
    "motions": {"walks", "walking", "runs", "running", "swims", "swimming", "dances",
                "dancing", "explodes", "melts", "shatters", "flips", "wobbles", "shakes", "vibrates", "grows",
                "shrinks", "teleports", "crawls", "swings", "sinks", "slithers", "zigzags"},
}

_TOKEN = re.compile(r"[a-z]+|\d+|[,.;:!?]")
BOUNDARY = {",", ".", ";", ":", "!", "?", "and", "while", "as", "then", "whilst", "but", "with", "where"}


def _tokens(text: str) -> list[str]:
    text = text.lower().replace("-", " ").replace("'s", "").replace("\u2019s", "")
    return _TOKEN.findall(text)


def _shape(word: str) -> tuple[str, bool] | None:
    """(shape, plural) for a shape noun, singular or plural."""
    if word in SHAPE_WORDS:
        return SHAPE_WORDS[word], False
    singular = PLURALS.get(word, word[:-1] if word.endswith("s") else None)
    if singular in SHAPE_WORDS:
        return SHAPE_WORDS[singular], True
    return None


_MOTION_OF = {w: m for m, words in MOTION_WORDS.items() for w in words}


def _classify(tokens: list[str]) -> list[tuple[str, object, str]]:
    """Tokens -> (kind, value, word) items, phrases matched longest first."""
    items, i = [], 0
    while i < len(tokens):
        for n in range(min(_MAX_PHRASE, len(tokens) - i), 0, -1):
            key = tuple(tokens[i : i + n])
            if key in PHRASES:
                kind, value = PHRASES[key]
                items.append((kind, value, " ".join(key)))
                i += n
                break
        else:
            w = tokens[i]
            i += 1
            if w in BOUNDARY or not w.isalpha() and not w.isdigit():
                items.append(("boundary", w, w))
            elif w.isdigit():
                items.append(("count", int(w), w))
            elif w in NUMBER_WORDS:
                items.append(("count", NUMBER_WORDS[w], w))
            elif w in COLOR_WORDS:
                items.append(("color", COLOR_WORDS[w], w))
            elif w in SIZE_WORDS:
                items.append(("size", SIZE_WORDS[w], w))
            elif _shape(w):
                items.append(("shape", _shape(w), w))
            elif w in _MOTION_OF:
                items.append(("motion", _MOTION_OF[w], w))
            elif w in DIRECTION_WORDS:
                items.append(("dir", DIRECTION_WORDS[w], w))
            elif w in MOVE_WORDS:
                items.append(("move", None, w))
            elif w in STOP_WORDS or w in FILLER_WORDS:
                items.append(("filler", None, w))
            else:
                items.append(("unknown", None, w))
    return items


def parse_prompt(text: str) -> PromptQuery:
    """What `text` asks of the world: objects with the attributes it names, setting, camera, occluder.

    Only what is said: an attribute the prompt does not name stays None. Plurals without a number mean two.
    """
    query = PromptQuery()
    pending: dict = {}  # attributes waiting for their noun: count, color, size, motion, direction
    subjects: list[int] = []  # objects of the clause's subject, which the next verb applies to
    targets: list[int] = []  # objects the last verb applied to, which a following direction applies to
    after_verb = False
    camera_ctx = pan_wait = zoom_wait = False

    def flush_pending() -> None:
        """Adjectives left without a noun ("the ball is red") describe the current objects, or a shapeless one."""
        nonlocal pending
        attrs = {k: v for k, v in pending.items() if k in ("color", "size", "motion", "direction")}
        if attrs:
            group = targets or subjects
            if not group:
                query.objects.append(ObjectQuery())
                group = [len(query.objects) - 1]
            for k, v in attrs.items():
                for j in group:
                    if getattr(query.objects[j], k) is None:
                        setattr(query.objects[j], k, v)
        pending = {}

    def apply(kind: str, value: str) -> None:
        nonlocal targets, after_verb
        building = any(k in pending for k in ("count", "color", "size"))
        if building:  # before the noun: "a bouncing red ball", "a leftward rolling ball"
            pending.setdefault(kind, value)
            return
        if kind == "motion":
            group = subjects or targets
        else:  # a direction follows its verb: "bounces to the right"
            group = targets if (after_verb and targets) else (subjects or targets)
        if not group:
            pending.setdefault(kind, value)
            return
        for j in group:
            if getattr(query.objects[j], kind) is None:
                setattr(query.objects[j], kind, value)
        targets, after_verb = list(group), True

    for kind, value, word in _classify(_tokens(text)):
        if kind == "boundary":
            camera_ctx = pan_wait = zoom_wait = False
            if "count" not in pending:
                flush_pending()
            continue
        if kind == "camera":
            camera_ctx = True
            if value == "pan":
                pan_wait = True
            elif value == "zoom":
                zoom_wait = True
            elif value.startswith("zoom:"):
                query.camera = query.camera or f"zoom_{value[5:]}"
            elif value == "static":
                query.camera = query.camera or "static"
            continue
        if kind == "dir" and pan_wait:  # "pans to the left": the camera's direction, not an object's
            query.camera = query.camera or f"pan_{value}"
            pan_wait = False
            continue
        if kind == "filler" and zoom_wait and word in ("in", "out"):
            query.camera = query.camera or f"zoom_{word}"
            continue
        if kind == "motion" and camera_ctx and value == "rest":  # "the camera stays still"
            query.camera = query.camera or "static"
            continue
        if kind == "setting":
            query.setting = query.setting or value
            pending.pop("count", None)
        elif kind == "occluder":
            query.occluder = query.occluder or value
            pending.pop("count", None)
        elif kind == "count":
            pending["count"] = value
        elif kind in ("color", "size"):
            pending.setdefault(kind, value)
        elif kind == "shape":
            shape, plural = value
            count = pending.pop("count", 2 if plural else 1)
            if after_verb:
                subjects, after_verb = [], False
            new = []
            for _ in range(count):
                query.objects.append(ObjectQuery(shape=shape, **{k: pending.get(k) for k in ("color", "size", "motion", "direction")}))
                new.append(len(query.objects) - 1)
            pending = {}
            subjects += new
            targets = new
        elif kind == "motion":
            apply("motion", value)
        elif kind == "dir":
            apply("direction", value)
        elif kind == "move":
            if not any(k in pending for k in ("count", "color", "size")) and (subjects or targets):
                group = subjects if subjects and not after_verb else (targets or subjects)
                targets, after_verb = list(group), True
        elif kind == "filler" and value is None and " " in word:
            pass
        elif kind == "unknown" and word not in query.unknown_words:
            query.unknown_words.append(word)
    flush_pending()
    return query


def scene_from_prompt(text: str, seed: int = 0, seconds: float = 4.0) -> SceneSpec:
    """A full scene that does everything `text` says; what it leaves open is drawn from `seed`.

    Raises `PromptError` for an empty prompt, unknown words (named, with the world's words for their kind), or more
    than MAX_OBJECTS objects. Unsaid camera means static and unsaid occluder none; see `sample.complete`.
    """
    if not text or not text.strip():
        raise PromptError("the prompt is empty; describe a scene, e.g. 'a red ball bounces to the right on grass'")
    query = parse_prompt(text)
    if query.unknown_words:
        raise PromptError(_unknown_message(query.unknown_words))
    if len(query.objects) > MAX_OBJECTS:
        raise PromptError(f"the prompt asks for {len(query.objects)} objects; the world holds at most {MAX_OBJECTS}")
    return complete(query, np.random.default_rng(seed), seconds=seconds)


def _unknown_message(words: list[str]) -> str:
    w = words[0]
    quoted = ", ".join(repr(x) for x in words)
    noun = "word" if len(words) == 1 else "words"
    known = {
        "colours": ", ".join(COLORS),
        "shapes": ", ".join(SHAPES),
        "motions": ", ".join(MOTIONS),
    }
    for kind, foreign in FOREIGN.items():
        if w in foreign:
            return f"unknown {noun} {quoted} in the prompt; known {kind} are: {known[kind]}"
    return (
        f"unknown {noun} {quoted} in the prompt; the world knows colours ({known['colours']}), shapes "
        f"({known['shapes']}), sizes ({', '.join(SIZES)}) and motions ({known['motions']})"
    )
