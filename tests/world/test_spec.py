import math

import numpy as np
import pytest

from tenku.errors import TenkuError
from tenku.world.spec import (
    COLORS, HIGHLIGHT_MAX, SHADE_MIN, ObjectSpec, OccluderSpec, RenderSpec, SceneSpec, object_color_variants, srgb_to_lab,
)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"width": 15}, "width must be between 16 and 512"),
        ({"height": 513}, "height must be between 16 and 512"),
        ({"width": 64.0}, "whole number"),
        ({"fps": 0}, "fps must be a positive number"),
        ({"fps": -3.0}, "fps must be a positive number"),
        ({"fps": math.nan}, "fps must be a positive number"),
        ({"seconds": 0}, "seconds must be a positive number"),
        ({"seconds": 60.5}, "seconds must be at most 60"),
        ({"width": 512, "height": 512, "fps": 240, "seconds": 60}, "GiB"),
    ],
)
def test_render_spec_rejects_bad_values(kwargs, message):
    with pytest.raises(TenkuError, match=message):
        RenderSpec(**kwargs).check()


def test_render_spec_edges_and_frames():
    assert RenderSpec(width=16, height=512, fps=0.5, seconds=60).check().frames == 30
    assert RenderSpec(fps=8, seconds=4).frames == 32
    assert RenderSpec(fps=8, seconds=0.01).frames == 1
    spec = RenderSpec(width=128, height=64)
    assert spec.view_height == pytest.approx(4.0) and spec.cam_y == pytest.approx(1.0)


def test_scene_json_round_trip_and_check():
    scene = SceneSpec(
        setting="night", camera="pan_left", collisions=False,
        objects=[ObjectSpec(shape="cube", color="gray", size="large", motion="roll", direction="left", x=1.5, vx=-2.0)],
        occluders=[OccluderSpec(kind="tree", x=0.3, width=1.2)],
    )
    assert SceneSpec.from_json(scene.to_json()) == scene
    assert scene.check() is scene
    scene.objects[0].color = "teal"
    with pytest.raises(TenkuError, match="unknown colour 'teal'"):
        scene.check()


def test_lab_reference_values():
    np.testing.assert_allclose(srgb_to_lab([255, 255, 255]), [100, 0, 0], atol=0.05)
    np.testing.assert_allclose(srgb_to_lab([0, 0, 0]), [0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(srgb_to_lab([255, 0, 0]), [53.24, 80.09, 67.20], atol=0.1)  # the standard sRGB red


def test_lab_of_uint8_frames_equals_lab_of_their_values():
    """uint8 frames take a lookup table for the sRGB curve: the same numbers as the formula on their values."""
    rgb = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    np.testing.assert_array_equal(srgb_to_lab(rgb), srgb_to_lab(rgb.astype(np.float64)))
    np.testing.assert_array_equal(srgb_to_lab(np.arange(256, dtype=np.uint8)[:, None].repeat(3, 1)),
                                  srgb_to_lab(np.arange(256.0)[:, None].repeat(3, 1)))


def test_color_variants_span_shading():
    v = object_color_variants("red")
    base = np.array(COLORS["red"], float)
    assert np.allclose(v.min(axis=0)[0], base[0] * SHADE_MIN)
    assert np.allclose(v.max(axis=0)[1], base[1] * (1 - HIGHLIGHT_MAX) + 255 * HIGHLIGHT_MAX)
