import numpy as np
import pytest

from tenku.world.physics import (
    DYNAMIC, GRAVITY, PAN_SPEED, ZOOM_RATIO, lowest_extent, simulate, world_bounds,
)
from tenku.world.render import world_to_pixel
from tenku.world.sample import check_scene, random_scene
from tenku.world.spec import SIZES, ObjectSpec, OccluderSpec, RenderSpec, SceneSpec

SPEC = RenderSpec(width=64, height=64, fps=30, seconds=4)


def one(**kw) -> SceneSpec:
    return SceneSpec(objects=[ObjectSpec(**{"shape": "ball", "color": "red", **kw})])


def test_dropped_ball_follows_free_fall_until_first_bounce():
    y0 = 2.5
    tr = simulate(one(motion="fall", y=y0, restitution=0.6), SPEC)
    r = SIZES["medium"] / 2
    t_hit = np.sqrt(2 * y0 / GRAVITY)
    before = tr.t < t_hit
    assert before.sum() > 10
    np.testing.assert_allclose(tr.y[0, before], y0 + r - GRAVITY * tr.t[before] ** 2 / 2, atol=1e-9)
    after = (tr.t > t_hit) & (tr.t < t_hit + 0.05)
    assert (tr.vy[0, after] > 0).all()  # it bounced up


def test_bounce_peaks_decrease_and_nothing_goes_below_ground():
    tr = simulate(one(motion="bounce", y=0.0, vy=6.0, restitution=0.75), RenderSpec(fps=60, seconds=6))
    y = tr.y[0]
    peaks = [y[i] for i in range(1, len(y) - 1) if y[i] > y[i - 1] and y[i] >= y[i + 1] and y[i] > 0.45]
    assert len(peaks) >= 3
    assert all(b < a for a, b in zip(peaks, peaks[1:]))
    assert y.min() >= SIZES["medium"] / 2 - 1e-9


@pytest.mark.parametrize("seed", range(40))
def test_no_object_below_ground_in_random_scenes(seed):
    scene = random_scene(np.random.default_rng(seed))
    tr = simulate(scene, SPEC)
    for i, o in enumerate(scene.objects):
        low = lowest_extent(o.shape, SIZES[o.size], tr.angle[i]) if o.motion == "spin" else SIZES[o.size] / 2
        assert (tr.y[i] - low).min() >= -1e-6, (o.motion, (tr.y[i] - low).min())
    lo, hi = world_bounds(scene.camera, SPEC.seconds)
    dynamic = np.array([o.motion in DYNAMIC for o in scene.objects])
    x, half = tr.x[dynamic], tr.size[dynamic, None] / 2
    assert (x - half >= lo - 1e-6).all() and (x + half <= hi + 1e-6).all()  # walls hold


def test_roll_slows_down_and_stops():
    tr = simulate(one(motion="roll", direction="right", x=-3.0, vx=2.0), RenderSpec(fps=20, seconds=6))
    speed = np.abs(tr.vx[0])
    assert speed[0] == pytest.approx(2.0)
    assert (np.diff(speed) <= 1e-12).all() and speed[-1] == 0.0
    assert np.diff(tr.x[0]).min() >= 0  # never turns back
    assert tr.angle[0, -1] < -1.0  # a ball rolling right turns clockwise


@pytest.mark.parametrize("motion", ["roll", "bounce", "throw"])
@pytest.mark.parametrize("direction", ["left", "right"])
@pytest.mark.parametrize("camera", ["static", "pan_left", "pan_right", "zoom_in"])
def test_direction_words_move_the_object_that_way_on_screen(motion, direction, camera):
    from tenku.world.sample import complete
    from tenku.world.spec import ObjectQuery, PromptQuery

    q = PromptQuery(objects=[ObjectQuery(shape="ball", color="red", motion=motion, direction=direction)], camera=camera)
    scene = complete(q, np.random.default_rng(0))
    tr = simulate(scene, SPEC)
    col, _ = world_to_pixel(tr.x[0], tr.y[0], tr.cam_x, tr.zoom, 64, 64)
    sign = 1 if direction == "right" else -1
    assert sign * (col[-1] - col[0]) > 5  # pixels, on screen


def test_occluded_object_disappears_and_reappears():
    scene = one(motion="roll", direction="right", x=-3.0, vx=2.2, friction=0.5)
    scene.occluders = [OccluderSpec(kind="wall", x=0.0, width=1.2)]
    vis = simulate(scene, SPEC).visible[0]
    off = np.flatnonzero(~vis)
    assert off.size >= 3 and vis[: off[0]].all() and vis[off[-1] + 1 :].all()
    assert vis[off[-1] + 1 :].size >= 3


def test_objects_collide():
    scene = SceneSpec(objects=[
        ObjectSpec(shape="ball", color="red", motion="roll", direction="right", x=-2.0, vx=2.0),
        ObjectSpec(shape="ball", color="blue", motion="roll", direction="left", x=2.0, vx=-2.0),
    ])
    tr = simulate(scene, SPEC)
    assert tr.vx[0, -1] <= 0 <= tr.vx[1, -1] and tr.x[0].max() < tr.x[1].min()  # they bounced apart
    scene.collisions = False
    tr = simulate(scene, SPEC)
    assert tr.x[0, -1] > tr.x[1, -1]  # passed through each other


def test_camera_paths():
    for camera, check in [
        ("pan_right", lambda tr: tr.cam_x[-1] == pytest.approx(PAN_SPEED * tr.t[-1])),
        ("pan_left", lambda tr: tr.cam_x[-1] == pytest.approx(-PAN_SPEED * tr.t[-1])),
        ("zoom_in", lambda tr: tr.zoom[0] == 1 and tr.zoom[-1] == pytest.approx(ZOOM_RATIO ** (tr.t[-1] / 4))),
        ("zoom_out", lambda tr: tr.zoom[0] == pytest.approx(ZOOM_RATIO) and tr.zoom[-1] < tr.zoom[0]),
    ]:
        scene = one(motion="rest")
        scene.camera = camera
        assert check(simulate(scene, SPEC)), camera


def test_simulation_is_deterministic():
    scene = random_scene(np.random.default_rng(3))
    a, b = simulate(scene, SPEC), simulate(scene, SPEC)
    for name in ("x", "y", "angle", "vx", "vy", "visible"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_random_scenes_do_what_they_say():
    rng = np.random.default_rng(11)
    bad = [p for _ in range(80) if (p := check_scene(random_scene(rng)))]
    assert not bad, bad  # layouts are redrawn until they pass, and scenes whose layouts never do are dropped


def test_a_zoom_cannot_stand_in_for_the_motion_itself():
    # a zoom out pulls everything right of centre leftwards on screen: a "roll to the left" that crawls right in
    # the world still moves left on screen, but its caption is false (a judge removes the camera's motion)
    scene = one(motion="roll", direction="left", x=2.5, vx=0.15)
    scene.camera = "zoom_out"
    problems = check_scene(scene)
    assert "object 0 does not move left in the world" in problems
    assert "object 0 does not move left on screen" not in problems
    scene.objects[0].vx = -2.0
    assert check_scene(scene) == []


def test_every_rate_samples_the_same_motion():
    # the layout check simulates at 10 fps; a render at 8 or 12 fps must show the motion it accepted
    for k in range(6):
        scene = random_scene(np.random.default_rng(100 + k))
        trajs = {fps: simulate(scene, RenderSpec(width=64, height=64, fps=fps, seconds=4)) for fps in (8, 10, 12)}
        for fps, tr in trajs.items():  # whole seconds are frames at every rate
            at = np.round(np.arange(5) * fps).astype(int)[:-1]
            np.testing.assert_allclose(tr.x[:, at], trajs[10].x[:, np.arange(4) * 10], atol=1e-9)
            np.testing.assert_allclose(tr.y[:, at], trajs[10].y[:, np.arange(4) * 10], atol=1e-9)
