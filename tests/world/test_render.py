import numpy as np
import pytest

from tenku.errors import TenkuError
from tenku.world.physics import camera_path
from tenku.world.render import render, render_background, render_with_trajectory, trajectory_pixels, world_to_pixel
from tenku.world.sample import random_scene
from tenku.world.spec import (
    CAMERAS, COLORS, MIN_DELTA_E, OCCLUDER_COLORS, SETTINGS, SHADOW_MAX, ObjectSpec, OccluderSpec, RenderSpec,
    SceneSpec, object_color_variants, srgb_to_lab,
)


def ball(color="red", **kw) -> SceneSpec:
    return SceneSpec(objects=[ObjectSpec(shape="ball", color=color, size="large", **kw)])


@pytest.mark.parametrize("w, h, fps, seconds", [(64, 64, 8, 4), (16, 16, 1, 1), (96, 40, 12.5, 0.5), (20, 180, 3, 2)])
def test_shape_dtype_and_length(w, h, fps, seconds):
    frames = render(random_scene(np.random.default_rng(0)), RenderSpec(width=w, height=h, fps=fps, seconds=seconds))
    assert frames.dtype == np.uint8 and frames.shape == (RenderSpec(fps=fps, seconds=seconds).frames, h, w, 3)


@pytest.mark.parametrize("kw", [{"width": 15}, {"height": 600}, {"seconds": 61}, {"fps": 0}, {"seconds": -1}])
def test_limits_are_clear_errors(kw):
    with pytest.raises(TenkuError):
        render(ball(), RenderSpec(**kw))


def test_deterministic_and_seeded():
    scene = random_scene(np.random.default_rng(5))
    scene.setting = "night"
    spec = RenderSpec(width=48, height=32)
    a, b = render(scene, spec, seed=3), render(scene, spec, seed=3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, render(scene, spec, seed=4))  # the star field follows the seed


def test_world_to_pixel_finds_the_drawn_object():
    scene = ball(motion="roll", direction="right", x=-2.5, vx=2.0)
    spec = RenderSpec(width=96, height=64, fps=8, seconds=3)
    frames, traj = render_with_trajectory(scene, spec)
    col, row = trajectory_pixels(traj, spec)
    lab_red = srgb_to_lab(object_color_variants("red"))
    for f in range(spec.frames):
        c, r = int(round(col[0, f])), int(round(row[0, f]))
        d = np.linalg.norm(lab_red - srgb_to_lab(frames[f, r, c]), axis=-1).min()
        assert d < 3, f  # the pixel at the object's centre shows its colour
        far = frames[f, r, (c + 30) % spec.width]
        assert np.linalg.norm(lab_red - srgb_to_lab(far), axis=-1).min() > MIN_DELTA_E


def test_world_to_pixel_geometry():
    # the frame's centre is at world (cam_x, cam_y); the ground line sits GROUND_FRACTION up from the bottom
    col, row = world_to_pixel(0.0, 0.0, 0.0, 1.0, 64, 64)
    assert col == pytest.approx(31.5) and row == pytest.approx(47.5)
    col, _ = world_to_pixel(1.0, 0.0, 0.0, 2.0, 64, 64)
    assert col == pytest.approx(31.5 + 16)  # 8 px per metre at zoom 1, doubled


def test_occluder_hides_the_object():
    scene = ball(motion="roll", direction="right", x=-3.0, vx=2.2, friction=0.5)
    scene.occluders = [OccluderSpec(kind="wall", x=0.0, width=1.4)]
    spec = RenderSpec(width=64, height=64, fps=16, seconds=4)
    frames, traj = render_with_trajectory(scene, spec)
    lab_red = srgb_to_lab(object_color_variants("red"))
    red_px = np.array([(np.linalg.norm(srgb_to_lab(f.reshape(-1, 3))[:, None] - lab_red, axis=-1).min(1) < 10).sum()
                       for f in frames])
    hidden, full = ~traj.visible[0], red_px.max()
    assert hidden.any() and (~hidden).any()
    assert red_px[traj.cover[0] > 0.99].max() <= 0.1 * full  # fully behind the wall: (almost) no red drawn
    assert red_px[hidden].max() <= 0.6 * full and red_px[~hidden].min() >= 0.4 * full


def test_backgrounds_stay_apart_from_object_colours():
    """Every background pixel of empty scenes, shadowed ground and occluder colours: >= MIN_DELTA_E from objects."""
    objects = srgb_to_lab(np.concatenate([object_color_variants(c, steps=8) for c in COLORS]))  # (k, 3)
    worst = {}
    for setting in SETTINGS:
        colors = []
        for camera in CAMERAS:
            for w, h in ((64, 64), (96, 40), (33, 71)):
                scene = SceneSpec(setting=setting, camera=camera)
                spec = RenderSpec(width=w, height=h, fps=4, seconds=2)
                frames = render_background(scene, spec, seed=1)
                colors.append(np.unique(frames.reshape(-1, 3), axis=0))
                cam_x, zoom = camera_path(camera, np.arange(spec.frames) / spec.fps, spec.seconds)
                _, horizon = world_to_pixel(0.0, 0.0, cam_x, zoom, w, h)  # (F,) the ground line's row
                ground = frames[np.arange(h)[None, :] > horizon[:, None]].reshape(-1, 3).astype(float)  # shadows fall on ground only
                for shade in (1 - SHADOW_MAX, 1 - SHADOW_MAX / 2):
                    colors.append(np.unique(np.rint(ground * shade), axis=0))
        lab = srgb_to_lab(np.unique(np.concatenate(colors), axis=0))
        worst[setting] = np.linalg.norm(lab[:, None] - objects[None], axis=-1).min()
    for kind, pal in OCCLUDER_COLORS.items():
        ends = np.array(list(pal.values()), float)
        mixes = [a * (1 - t) + b * t for a in ends for b in ends for t in np.linspace(0, 1, 6)]
        lab = srgb_to_lab(np.array(mixes))
        worst[kind] = np.linalg.norm(lab[:, None] - objects[None], axis=-1).min()
    assert min(worst.values()) >= MIN_DELTA_E, worst


def test_settings_look_different():
    spec = RenderSpec(width=32, height=32, fps=1, seconds=1)
    means = [render_background(SceneSpec(setting=s), spec).mean(axis=(0, 1, 2)) for s in SETTINGS]
    d = np.linalg.norm(np.array(means)[:, None] - np.array(means)[None], axis=-1)
    assert d[~np.eye(len(SETTINGS), dtype=bool)].min() > 10


def test_pan_moves_the_background():
    scene = SceneSpec(setting="grass", camera="pan_right")
    frames = render_background(scene, RenderSpec(width=64, height=64, fps=8, seconds=4)).astype(float)
    ground = frames[:, 56]  # a ground row with mown stripes
    shift = 0.5 * 3.875 * 8  # PAN_SPEED m/s * last frame time * 8 px/m
    np.testing.assert_allclose(ground[-1, :40], ground[0, int(shift) : int(shift) + 40], atol=12)
    assert np.abs(ground[-1] - ground[0]).max() > 5


def test_anti_aliased_edges():
    frames = render(ball(motion="rest", x=0.13), RenderSpec(width=64, height=64, fps=1, seconds=1))
    row = frames[0, 40].astype(int)  # across the ball
    red = np.array(COLORS["red"])
    mix = [(px - red) for px in row]
    partial = [i for i in range(64) if 10 < np.abs(mix[i]).sum() and np.abs(row[i] - row[i - 1]).sum() > 5
               and np.abs(row[i] - row[(i + 1) % 64]).sum() > 5]
    assert partial  # edge pixels between the ball and the background, not a hard jump
