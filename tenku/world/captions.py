"""Scene specs -> captions: several phrasings for training, and one long descriptive caption.

Varied wording (synonyms, word order, short and detailed forms) keeps a text-conditioned model from learning one
template; every caption still names each object's colour, shape and motion, its direction when it has one, a moving
camera and an occluder, so the text always pins down what the video shows. Sizes, settings and a static camera are
sometimes left out, as people leave them out. Every caption parses back (`parse.parse_prompt`) to the scene's own
attributes: tests/world/test_captions.py checks that round trip on hundreds of random scenes.
"""

from __future__ import annotations

import numpy as np

from tenku.world.spec import ObjectSpec, SceneSpec

SHAPE_SYNONYMS = {"ball": ("ball", "sphere", "orb"), "cube": ("cube", "box", "block"), "pyramid": ("pyramid",),
                  "cylinder": ("cylinder", "can")}
PLURAL = {"box": "boxes"}
SIZE_SYNONYMS = {"small": ("small", "little", "tiny"), "medium": ("medium", "medium-sized", "medium size"),
                 "large": ("large", "big", "huge")}
NUMBERS = {2: "two", 3: "three", 4: "four"}

# (singular verb, plural verb, participle) per motion
VERBS = {
    "bounce": (("bounces", "bounce", "bouncing"), ("hops", "hop", "hopping"), ("bounces along", "bounce along", "bouncing along")),
    "roll": (("rolls", "roll", "rolling"), ("rolls along", "roll along", "rolling along")),
    "slide": (("slides", "slide", "sliding"), ("glides", "glide", "gliding"), ("slides along", "slide along", "sliding along")),
    "fall": (("falls", "fall", "falling"), ("drops", "drop", "dropping"), ("falls down", "fall down", "falling down"),
             ("is dropped", "are dropped", "being dropped")),
    "throw": (("is thrown", "are thrown", "being thrown"), ("is tossed", "are tossed", "being tossed"),
              ("flies in an arc", "fly in an arc", "flying in an arc")),
    "float": (("floats up", "float up", "floating up"), ("rises like a balloon", "rise like balloons", "rising like a balloon"),
              ("drifts upward", "drift upward", "drifting upward")),
    "spin": (("spins", "spin", "spinning"), ("spins in place", "spin in place", "spinning in place"),
             ("rotates", "rotate", "rotating"), ("twirls", "twirl", "twirling")),
    "orbit": (("circles", "circle", "circling"), ("orbits", "orbit", "orbiting"),
              ("moves in a circle", "move in a circle", "moving in a circle")),
    "rest": (("rests", "rest", "resting"), ("sits still", "sit still", "sitting still"),
             ("stays still", "stay still", "staying still")),
}
# motions whose direction is said after a second verb: "floats up and drifts to the left"
DRIFT_VERBS = ("drifts", "drift", "drifting")
DIRECTIONS = {
    "right": ("to the right", "rightward", "towards the right", "toward the right", "from left to right", "right"),
    "left": ("to the left", "leftward", "towards the left", "toward the left", "from right to left", "left"),
}
SETTINGS = {
    "grass": ("on green grass", "on a lawn", "in a field", "in a meadow", "on grass under a blue sky", "in a grassy field"),
    "night": ("at night", "under the stars", "on dark ground under a starry sky", "at night under the stars"),
    "beach": ("on a beach at sunset", "on the sand at sunset", "on a sandy beach", "at the seaside at dusk"),
    "room": ("in a room", "indoors", "on a wooden floor", "in a room with a wooden floor", "inside a room"),
    "studio": ("in a studio", "against a plain studio backdrop", "in a plain studio"),
}
SETTINGS_LONG = {
    "grass": "on green grass under a blue sky",
    "night": "at night, on dark ground under a starry sky",
    "beach": "on a sandy beach at sunset",
    "room": "in a room with a teal wall and a wooden floor",
    "studio": "in a studio, against a plain khaki backdrop",
}
CAMERAS = {
    "static": ("the camera is static", "static camera", "the camera stays still"),
    "pan_left": ("the camera pans left", "the camera pans to the left", "the camera is panning left"),
    "pan_right": ("the camera pans right", "the camera pans to the right", "the camera is panning right"),
    "zoom_in": ("the camera zooms in", "the camera slowly zooms in", "the camera is zooming in"),
    "zoom_out": ("the camera zooms out", "the camera slowly zooms out", "the camera is zooming out"),
}
OCCLUDER_PASS = ("passes behind a {k}", "goes behind a {k}", "passes behind a {k} and reappears")
OCCLUDER_PASS_PLURAL = ("pass behind a {k}", "go behind a {k}", "pass behind a {k} and reappear")
MOTION_DETAIL = {  # long captions: what the motion looks like, in words the parser knows as fillers
    "bounce": "losing height with each bounce",
    "roll": "and gradually slows down",
    "slide": "and gradually slows down",
    "fall": "from high up, bouncing lower each time until it comes to rest",
    "throw": "in a high arc, then lands",
    "float": "slowly, swaying gently",
    "spin": "in place",
    "orbit": "around a point in the air",
    "rest": "on the ground",
}


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _verb_key(o: ObjectSpec) -> str:
    """Rolling is sliding for shapes that cannot roll."""
    return "slide" if o.motion == "roll" and o.shape in ("cube", "pyramid") else o.motion


def _groups(scene: SceneSpec) -> list[tuple[ObjectSpec, int]]:
    """Consecutive identical objects are said once with a number: "two red balls bounce"."""
    out: list[tuple[ObjectSpec, int]] = []
    for o in scene.objects:
        key = (o.shape, o.color, o.size, o.motion, o.direction)
        if out and (out[-1][0].shape, out[-1][0].color, out[-1][0].size, out[-1][0].motion, out[-1][0].direction) == key:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((o, 1))
    return out


def _noun_phrase(o: ObjectSpec, count: int, rng: np.random.Generator, size: bool, article: bool = True) -> str:
    noun = _pick(rng, SHAPE_SYNONYMS[o.shape])
    if count > 1:
        noun = PLURAL.get(noun, noun + "s")
    color = ("grey" if rng.random() < 0.3 else "gray") if o.color == "gray" else o.color
    words = [_pick(rng, SIZE_SYNONYMS[o.size])] if size else []
    words += [color, noun]
    if count > 1:
        words.insert(0, NUMBERS[count])
    elif article:
        words.insert(0, "an" if words[0][0] in "aeiou" else "a")
    return " ".join(words)


def _verb_phrase(o: ObjectSpec, count: int, form: int, rng: np.random.Generator) -> str:
    """form 0: singular verb, 1: plural verb, 2: participle. Includes the direction when it has one."""
    verb = _pick(rng, VERBS[_verb_key(o)])[form]
    if o.direction not in ("left", "right"):
        return verb + (" in place" if o.motion == "bounce" and rng.random() < 0.5 else "")
    where = _pick(rng, DIRECTIONS[o.direction])
    if o.motion in ("float", "fall"):
        drift = ("moves", "move", "moving") if verb.startswith("drift") else DRIFT_VERBS
        return f"{verb} and {drift[form]} {where}"
    return f"{verb} {where}"


def _occluder_crosser(scene: SceneSpec) -> int | None:
    from tenku.world.sample import _crosser

    return _crosser(scene) if scene.occluders else None


def _clause(scene: SceneSpec, group: tuple[ObjectSpec, int], index: int, rng: np.random.Generator, size: bool,
            participle: bool) -> str:
    o, count = group
    form = 2 if participle else (1 if count > 1 else 0)
    text = f"{_noun_phrase(o, count, rng, size)} {_verb_phrase(o, count, form, rng)}"
    if scene.occluders and index == _occluder_crosser(scene):
        passes = _pick(rng, OCCLUDER_PASS if count == 1 else OCCLUDER_PASS_PLURAL).format(k=scene.occluders[0].kind)
        if participle:
            passes = passes.replace("passes", "passing").replace("goes", "going").replace("reappears", "reappearing")
        text += f" and {passes}"
    return text


def _occluder_sentence(scene: SceneSpec, rng: np.random.Generator) -> str:
    """An occluder nobody was said to pass behind still gets named."""
    if not scene.occluders or _occluder_crosser(scene) is not None:
        return ""
    return f" There is a {scene.occluders[0].kind} in the foreground."


def captions(scene: SceneSpec, rng: np.random.Generator, n: int = 6) -> list[str]:
    """`n` different phrasings of `scene` (duplicates dropped), drawn with `rng`."""
    groups = _groups(scene)
    starts = [sum(c for _, c in groups[:k]) for k in range(len(groups))]
    out: list[str] = []
    for k in range(n * 3):
        if len(out) >= n:
            break
        style = k % 4  # 0 sentence, 1 setting first, 2 participles, 3 short
        size = bool(rng.random() < (0.25 if style == 3 else 0.7))
        clauses = [_clause(scene, g, starts[j], rng, size, participle=style in (2, 3)) for j, g in enumerate(groups)]
        body = _join(clauses, rng)
        say_setting = style != 3 or rng.random() < 0.5
        setting = _pick(rng, SETTINGS[scene.setting]) if say_setting else ""
        cam = ""
        if scene.camera != "static" or rng.random() < 0.25:
            cam = _pick(rng, CAMERAS[scene.camera])
        if style == 1 and setting:
            text = f"{setting[0].upper()}{setting[1:]}, {body[0].lower()}{body[1:]}"
        else:
            text = f"{body} {setting}".strip()
        if cam:
            text += _pick(rng, (f", while {cam}", f". {cam[0].upper()}{cam[1:]}", f" as {cam}"))
        if style == 3:
            text = text.replace(" the camera ", " camera ")
        else:
            text = text[0].upper() + text[1:] + "."
        text += _occluder_sentence(scene, rng)
        if text not in out:
            out.append(text)
    return out


def _join(clauses: list[str], rng: np.random.Generator) -> str:
    if len(clauses) == 1:
        return clauses[0]
    sep = _pick(rng, ("; ", ", while ", ". "))
    if sep == ". ":
        return ". ".join(c[0].upper() + c[1:] for c in clauses)
    return sep.join(clauses[:-1]) + (", and " if sep == "; " else sep) + clauses[-1]


def long_caption(scene: SceneSpec) -> str:
    """One detailed descriptive caption naming every attribute of the scene (Sora-style re-captioning)."""
    rng = np.random.default_rng(0)  # fixed: the long caption is a function of the scene
    sentences = []
    groups = _groups(scene)
    starts = [sum(c for _, c in groups[:k]) for k in range(len(groups))]
    for j, (o, count) in enumerate(groups):
        np_ = _noun_phrase(o, count, rng, size=True)
        verb = VERBS[_verb_key(o)][0][1 if count > 1 else 0]
        detail = MOTION_DETAIL[_verb_key(o)]
        if o.direction in ("left", "right") and o.motion not in ("float", "fall"):
            text = f"{np_} {verb} {DIRECTIONS[o.direction][0]}, {detail}"
        elif o.direction in ("left", "right"):
            text = f"{np_} {verb} {detail}, and {DRIFT_VERBS[1 if count > 1 else 0]} {DIRECTIONS[o.direction][0]}"
        else:
            text = f"{np_} {verb}{',' if o.motion == 'bounce' else ''} {detail}"
        if scene.occluders and starts[j] == _occluder_crosser(scene):
            k = scene.occluders[0].kind
            text += f". On the way, {'it passes' if count == 1 else 'they pass'} behind a {k}, hidden for a moment, and {'reappears' if count == 1 else 'reappear'}"
        sentences.append(text[0].upper() + text[1:] + ".")
    setting = SETTINGS_LONG[scene.setting]
    sentences.append(f"The scene is set {setting}.")
    cam = CAMERAS[scene.camera][0]
    sentences.append(cam[0].upper() + cam[1:] + ("" if scene.camera == "static" else " during the clip") + ".")
    return " ".join(sentences) + _occluder_sentence(scene, rng)
