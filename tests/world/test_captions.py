import numpy as np
import pytest

from tenku.world.captions import captions, long_caption
from tenku.world.parse import parse_prompt
from tenku.world.sample import random_scene


def mismatches(scene, text, full):
    """How the parse of `text` disagrees with `scene`; `full`: every attribute must be stated."""
    q = parse_prompt(text)
    errs = [("unknown", q.unknown_words)] if q.unknown_words else []
    if len(q.objects) != len(scene.objects):
        return errs + [("objects", len(q.objects), len(scene.objects))]
    for o, qo in zip(scene.objects, q.objects):
        for k in ("shape", "color", "size", "motion", "direction"):
            got, want = getattr(qo, k), getattr(o, k)
            want = None if (k == "direction" and want == "none") else want
            if got is None and want is not None and (full or k != "size"):
                errs.append((k, "missing", want))
            elif got is not None and got != want:
                errs.append((k, got, want))
    if q.setting != scene.setting and (full or q.setting is not None):
        errs.append(("setting", q.setting, scene.setting))
    if (q.camera or "static") != scene.camera:
        errs.append(("camera", q.camera, scene.camera))
    if q.occluder != (scene.occluders[0].kind if scene.occluders else None):
        errs.append(("occluder", q.occluder))
    return errs


@pytest.mark.parametrize("core", [False, True])
def test_every_caption_parses_back_to_its_scene(core):
    rng = np.random.default_rng(123 + core)
    bad = []
    for _ in range(150):
        scene = random_scene(rng, core=core)
        for text in captions(scene, rng):
            if e := mismatches(scene, text, full=False):
                bad.append((text, e))
        if e := mismatches(scene, long_caption(scene), full=True):
            bad.append((long_caption(scene), e))
    assert not bad, bad[:5]


def test_phrasings_vary():
    rng = np.random.default_rng(0)
    words = set()
    for _ in range(60):
        scene = random_scene(rng)
        caps = captions(scene, rng)
        assert len(caps) == len(set(caps)) >= 4
        for c in caps:
            words.update(c.lower().replace(",", " ").replace(".", " ").split())
    for synonyms in (("ball", "sphere", "orb"), ("cube", "box", "block"), ("bounces", "hops"), ("rolls", "slides"),
                     ("leftward", "towards"), ("lawn", "field", "meadow")):
        assert set(synonyms) <= words, synonyms


def test_long_caption_is_detailed_and_fixed():
    scene = random_scene(np.random.default_rng(7))
    text = long_caption(scene)
    assert text == long_caption(scene) and len(text.split()) > 25
    assert "camera" in text and "scene is set" in text


def test_captions_are_deterministic():
    scene = random_scene(np.random.default_rng(1))
    assert captions(scene, np.random.default_rng(5)) == captions(scene, np.random.default_rng(5))
