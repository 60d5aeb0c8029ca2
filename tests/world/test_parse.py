import numpy as np
import pytest

from tenku.errors import PromptError
from tenku.world.parse import parse_prompt, scene_from_prompt
from tenku.world.sample import check_scene


def obj(text, i=0):
    return parse_prompt(text).objects[i]


@pytest.mark.parametrize(
    "text, attrs",
    [
        ("a small red ball bounces to the right", dict(shape="ball", color="red", size="small", motion="bounce", direction="right")),
        ("a little grey box rolling left", dict(shape="cube", color="gray", size="small", motion="roll", direction="left")),
        ("a huge gray cylinder moving leftward", dict(shape="cylinder", color="gray", size="large", motion=None, direction="left")),
        ("a medium blue block is thrown", dict(shape="cube", color="blue", size="medium", motion="throw")),
        ("an orange sphere is tossed towards the right", dict(motion="throw", direction="right")),
        ("a pink orb drops", dict(motion="fall")), ("a big white ball falls", dict(motion="fall", size="large")),
        ("a yellow pyramid floats up", dict(motion="float")), ("a ball rises like a balloon", dict(motion="float")),
        ("a tiny black cube spins", dict(motion="spin", size="small")), ("a purple ball circles", dict(motion="orbit")),
        ("a green ball orbits", dict(motion="orbit")), ("a red cube sits still", dict(motion="rest")),
        ("a red cube rests", dict(motion="rest")), ("a bouncing red ball", dict(motion="bounce", color="red")),
        ("a ball slides from right to left", dict(motion="roll", direction="left")),
    ],
)
def test_objects(text, attrs):
    o = obj(text)
    for k, v in attrs.items():
        assert getattr(o, k) == v, (k, o)
    assert parse_prompt(text).unknown_words == []


@pytest.mark.parametrize(
    "text, setting",
    [("a red ball on green grass", "grass"), ("a ball in a meadow", "grass"), ("a ball at night", "night"),
     ("a ball under the stars", "night"), ("a ball on a beach at sunset", "beach"), ("a ball in a room", "room"),
     ("a ball indoors", "room"), ("a ball in a studio", "studio")],
)
def test_settings(text, setting):
    q = parse_prompt(text)
    assert q.setting == setting and q.objects[0].color in (None, "red")  # "green" of green grass is no colour


@pytest.mark.parametrize(
    "text, camera",
    [("a ball rolls right while the camera pans left", "pan_left"), ("zooming in on a ball", "zoom_in"),
     ("a ball; the camera zooms out", "zoom_out"), ("static camera, a ball", "static"),
     ("a ball, the camera pans to the right", "pan_right"), ("a ball", None)],
)
def test_camera(text, camera):
    q = parse_prompt(text)
    assert q.camera == camera
    if "rolls right" in text:
        assert q.objects[0].direction == "right"  # the camera's "left" stays the camera's


def test_occluders_counts_and_clauses():
    q = parse_prompt("a red ball passes behind a tree")
    assert q.occluder == "tree" and len(q.objects) == 1 and q.unknown_words == []
    assert parse_prompt("a cube rolls behind the wall").occluder == "wall"
    q = parse_prompt("two red balls bounce and a blue cube rolls to the left")
    assert [(o.shape, o.color, o.motion, o.direction) for o in q.objects] == [
        ("ball", "red", "bounce", None), ("ball", "red", "bounce", None), ("cube", "blue", "roll", "left")]
    q = parse_prompt("a red ball and a blue cube bounce")
    assert [o.motion for o in q.objects] == ["bounce", "bounce"]
    assert len(parse_prompt("three spheres").objects) == 3 and len(parse_prompt("blue boxes").objects) == 2


def test_unknown_words_are_named_not_guessed():
    q = parse_prompt("a teal dragon bounces happily")
    assert q.unknown_words == ["teal", "dragon", "happily"]
    assert q.objects == [] or all(o.color is None for o in q.objects)


@pytest.mark.parametrize(
    "text, message",
    [("a teal ball", "unknown word 'teal' in the prompt; known colours are: red,"),
     ("a red cone", "known shapes are: ball, cube"), ("a red ball dances", "known motions are: bounce"),
     ("", "empty"), ("five red balls", "at most 4")],
)
def test_scene_from_prompt_errors(text, message):
    with pytest.raises(PromptError, match=message):
        scene_from_prompt(text)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "text",
    ["a red ball bounces to the right on green grass", "two blue cubes slide left at night",
     "a small yellow pyramid and a big pink ball rolling right in a room while the camera pans right",
     "a white cylinder passes behind a tree", "a black ball is thrown to the left, zooming in",
     "a purple ball floats up on a beach at sunset", "a gray cube sits still in a studio"],
)
def test_scene_from_prompt_does_what_it_says(text, seed):
    q = parse_prompt(text)
    scene = scene_from_prompt(text, seed=seed)
    assert len(scene.objects) == len(q.objects)
    for o, qo in zip(scene.objects, q.objects):
        for k in ("shape", "color", "size", "motion", "direction"):
            if getattr(qo, k) is not None:
                assert getattr(o, k) == getattr(qo, k)
    assert scene.setting == (q.setting or scene.setting) and scene.camera == (q.camera or "static")
    assert [oc.kind for oc in scene.occluders] == ([q.occluder] if q.occluder else [])
    assert check_scene(scene) == []
    if seed == 0:
        assert scene_from_prompt(text, seed=0) == scene  # deterministic
    colors = [o.color for o in scene.objects]
    if all(qo.color is None for qo in q.objects):
        assert len(set(colors)) == len(colors)
