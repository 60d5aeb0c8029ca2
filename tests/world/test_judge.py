"""The judge: tracker units on frames drawn here, and the fast subset of benchmarks/judge_validation.py (clean and
corrupted renders). The command line and videos from elsewhere are in test_judge_cli.py.

`draw` is a deliberately different renderer from `render.py` (flat colours, supersampled polygons, its own
background), so these tests check that the judge reads any world-like video, not one renderer's quirks.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tenku.world import judge as jd
from tenku.world import track as tr
from tenku.world.physics import outline, simulate
from tenku.world.spec import (
    COLORS,
    GROUND_FRACTION,
    PALETTES,
    VIEW_WIDTH,
    ObjectQuery,
    ObjectSpec,
    OccluderSpec,
    PromptQuery,
    RenderSpec,
    SceneSpec,
)


def draw(scene: SceneSpec, render: RenderSpec, ss: int = 3) -> np.ndarray:
    """uint8 (F, H, W, 3): the simulated scene, flat-shaded, supersampled `ss` x `ss`, camera included."""
    traj = simulate(scene, render)
    w, h = render.width * ss, render.height * ss
    pal = PALETTES[scene.setting]
    ground_row = h * (1 - GROUND_FRACTION)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    frames = []
    for k in range(render.frames):
        zoom, cam_x = traj.zoom[k], traj.cam_x[k]
        ppm = w / VIEW_WIDTH * zoom
        cy = h / 2 + (ground_row - h / 2) * zoom  # ground row at this zoom (zoom about the frame centre)
        wx = (xx - w / 2) / ppm + cam_x  # world coordinates of every sample
        wy = (cy - yy) / ppm
        img = np.empty((h, w, 3))
        u = np.clip(wy / 5.0, 0, 1)[..., None] * 2  # three stops: horizon, mid, top
        lo, hi = np.where(u < 1, 0, 1), np.minimum(u, 2) - np.where(u < 1, 0, 1)
        stops = np.array([pal["back_horizon"], pal["back_mid"], pal["back_top"], pal["back_top"]], np.float64)
        img[:] = (1 - hi) * stops[lo[..., 0]] + hi * stops[lo[..., 0] + 1]
        gnd = wy < 0
        stripes = (np.floor(wx * 2) % 2 == 0)[..., None]
        gcol = np.where(stripes, np.array(pal["ground_far"]), np.array(pal["ground_near"]))
        img[gnd] = gcol[gnd]
        for i, o in enumerate(scene.objects):
            v = outline(o.shape, traj.size[i])
            a = traj.angle[i, k]
            rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
            v = v @ rot.T + np.array([traj.x[i, k], traj.y[i, k]])
            inside = np.ones((h, w), bool)
            for j in range(len(v)):
                (x0, y0), (x1, y1) = v[j], v[(j + 1) % len(v)]
                inside &= (x1 - x0) * (wy - y0) - (y1 - y0) * (wx - x0) >= 0
            img[inside] = COLORS[o.color]
        for oc in scene.occluders:
            m = (np.abs(wx - oc.x) < oc.width / 2) & (wy >= 0) & (wy < 1.6)
            img[m] = (122, 80, 40)
        img = img.reshape(render.height, ss, render.width, ss, 3).mean(axis=(1, 3))
        frames.append(np.clip(img + 0.5, 0, 255).astype(np.uint8))
    return np.stack(frames)


def one(shape="ball", color="red", motion="bounce", direction="right", x=-2.0, y=0.0, size="medium", **kw):
    return ObjectSpec(shape=shape, color=color, motion=motion, direction=direction, x=x, y=y, size=size, **kw)


def q(**kw) -> PromptQuery:
    return PromptQuery(objects=[ObjectQuery(**kw)])


R = RenderSpec(width=96, height=96, fps=10, seconds=4)


# --- tracker units ---------------------------------------------------------------------------------------------


def test_lab_of_palette_is_far_apart():
    lab = tr.rgb_to_lab(np.array(list(COLORS.values()), np.uint8))
    d = np.linalg.norm(lab[:, None] - lab[None], axis=-1)
    assert d[~np.eye(len(COLORS), dtype=bool)].min() > 20


def test_label_components_separates_touching_colours_and_frames():
    cls = np.full((2, 6, 6), -1, np.int8)
    cls[0, 1:3, 1:3] = 0
    cls[0, 1:3, 3:5] = 1  # touches the first block but has another colour
    cls[0, 4, 0:6] = 0  # a separate run of colour 0
    cls[1, 1:3, 1:3] = 0  # same place, next frame: a new component
    labels, n = tr.label_components(cls)
    assert n == 4
    assert len({labels[0, 1, 1], labels[0, 1, 3], labels[0, 4, 0], labels[1, 1, 1]}) == 4
    assert (labels[0, 1:3, 1:3] == labels[0, 1, 1]).all()


def test_blob_features_tell_shapes_apart():
    scene = SceneSpec(
        setting="studio",
        objects=[
            one("ball", "red", "rest", x=-3, size="large"),
            one("cube", "blue", "rest", x=-1, size="large"),
            one("pyramid", "yellow", "rest", x=1, size="large"),
            one("cylinder", "green", "rest", x=3, size="large"),
        ],
    )
    frames = draw(scene, RenderSpec(width=128, height=96, fps=8, seconds=1))
    rep = jd.judge_query(frames, 8, PromptQuery(objects=[]))
    shapes = {o["color"]: o["shape"] for o in rep.objects}
    assert shapes == {"red": "ball", "blue": "cube", "yellow": "pyramid", "green": "cylinder"}


def test_tracker_follows_two_same_colour_balls_that_cross():
    scene = SceneSpec(
        setting="grass",
        objects=[one("ball", "red", "roll", "right", x=-3.0), one("ball", "red", "bounce", "left", x=2.5)],
    )
    frames = draw(scene, R)
    clip = tr.prepare(frames, R.fps)
    classes, _ = tr.segment(clip)
    blobs = tr.find_blobs(clip, classes)
    tracks = [t for t in tr.link(blobs, clip.shape[2], 12.0) if len(t.blobs) > 10]
    assert len(tracks) == 2
    xs = sorted(t.blobs[0].cx for t in tracks)
    assert xs[0] < clip.shape[2] / 2 < xs[1]


def test_camera_warp_is_the_per_pixel_bilinear_sample():
    """The registration's warp, computed per row and column, equals sampling every pixel on its own."""
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 100, (23, 31))
    c = (15.0, 11.0)
    for p in (np.array([1.0, 0.0]), np.array([1.0, -2.6]), np.array([1.07, 1.3]), np.array([0.9, 40.0])):
        got, inside = tr._warp(img, p, c)
        for y in range(img.shape[0]):
            for x in range(img.shape[1]):
                xs, ys = p[0] * (x - c[0]) + c[0] + p[1], p[0] * (y - c[1]) + c[1]
                assert inside[y, x] == (0 <= xs <= img.shape[1] - 1 and 0 <= ys <= img.shape[0] - 1)
                xs, ys = min(max(xs, 0), img.shape[1] - 1), min(max(ys, 0), img.shape[0] - 1)
                x0, y0 = min(int(np.floor(xs)), img.shape[1] - 2), min(int(np.floor(ys)), img.shape[0] - 2)
                fx, fy = xs - x0, ys - y0
                top = img[y0, x0] * (1 - fx) + img[y0, x0 + 1] * fx
                bot = img[y0 + 1, x0] * (1 - fx) + img[y0 + 1, x0 + 1] * fx
                assert got[y, x] == pytest.approx(top * (1 - fy) + bot * fy, abs=1e-9)


def test_camera_pan_is_measured():
    scene = SceneSpec(setting="grass", objects=[one(motion="rest", x=0.0)], camera="pan_right")
    frames = draw(scene, R)
    clip = tr.prepare(frames, R.fps)
    classes, _ = tr.segment(clip)
    cam = tr.estimate_camera(clip, classes)
    assert cam.measured
    metres = cam.tx[-1] / clip.px_per_metre
    assert metres == pytest.approx(0.5 * 4 * (R.frames - 1) / R.frames, abs=0.3)


# --- the validation benchmark's fast subset --------------------------------------------------------------------


@pytest.fixture(scope="module")
def validation():
    """12 random scenes through benchmarks/judge_validation.py (two of each corruption), clean and corrupted."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "judge_validation.py"
    spec = importlib.util.spec_from_file_location("judge_validation", path)
    bench = importlib.util.module_from_spec(spec)
    sys.modules["judge_validation"] = bench  # its dataclasses look their module up there
    spec.loader.exec_module(bench)
    return bench.validate(12, seed=2024, workers=1)


def test_validation_reruns_one_listed_clip_with_its_corruption(validation):
    bench = __import__("sys").modules["judge_validation"]
    (again,) = bench.validate(0, seed=2024, workers=1, only=[5])
    first = next(r for r in validation if r.index == 5)
    assert (again.index, again.prompt, again.clean, again.corruption) == (5, first.prompt, first.clean, first.corruption)


def test_validation_subset_clean_clips_pass(validation):
    """The full run's target is 99% of criteria; the judge is not there yet (benchmarks/README.md has the measured
    rate and the known misses), so this subset guards against regressions below 90%."""
    passed = [ok for r in validation for ok in r.clean.values()]
    fails = {r.index: {c: r.details[c] for c, ok in r.clean.items() if not ok} for r in validation}
    assert np.mean(passed) >= 0.9, {k: v for k, v in fails.items() if v}


def test_validation_subset_corruptions_are_caught(validation):
    applied = [r for r in validation if r.corruption is not None]
    assert len({r.corruption for r in applied}) >= 4  # most kinds apply to these scenes
    missed = [(r.index, r.corruption, r.prompt) for r in applied if not r.detected]
    assert len(missed) <= len(applied) // 4, missed


# --- rules: what the evidence can tell, played backwards, erased beside another ---------------------------------


def _seen(t, x, bottom, shape="ball", size_m=0.8, fills=None, tapers=None) -> jd.Seen:
    """A found object from its path alone (every sighting clean), for the motion and physics rules."""
    t, x, bottom = (np.asarray(v, np.float64) for v in (t, x, bottom))
    n = len(t)
    blob = dict(color=0, area=50.0, cx=0.0, cy=0.0, x0=0, y0=0, x1=7, y1=7, lab=np.zeros(3, np.float32))
    feats = dict(fill=0.8, compact=0.9, taper=1.0, elong=1.0, orient=0.0, edge=False)
    # the colour-cut sightings' outline swings as the zoomed mattes' does (a turning box's fill swings in both, a
    # turning pyramid's taper too)
    cut = [fills[k % len(fills)] if fills else feats["fill"] for k in range(n)]
    cut_taper = [tapers[k % len(tapers)] if tapers else feats["taper"] for k in range(n)]
    track = tr.Track(
        color=0, blobs=[tr.Blob(frame=k, **blob, **{**feats, "fill": cut[k], "taper": cut_taper[k]}) for k in range(n)]
    )
    ones = np.ones(n, bool)
    s = jd.Seen(
        track=track, color="red", frame=np.arange(n), t=t, x=x, bottom=bottom, height=np.full(n, size_m),
        area=np.full(n, size_m**2), open_view=ones, near_occluder=~ones, clean=ones, bottom_seen=ones,
        cam_x=np.zeros(n), shape=shape, size_m=size_m,
    )
    if fills is not None:
        # zoomed mattes 12 px across: big enough to tell a turn (`judge.TURN_MIN_PX`)
        sil = {**blob, "x1": 11, "y1": 11}
        s.silhouettes = [tr.Blob(frame=k, **sil, **{**feats, "fill": f, "taper": p}) for k, (f, p) in enumerate(zip(fills, tapers))]
    return s


_CAM = tr.Camera.static(100, 32, 32)  # a still camera, for scenes built by hand


def _clip(fps: float):
    """What the physics and consistency rules read of a clip: its rate and scale (a 64-px-wide input, worked at 2x)."""
    from types import SimpleNamespace

    return SimpleNamespace(fps=fps, px_per_metre=16.0, scale=0.5)


def _hops(t: np.ndarray, vy: float, e: float, y0: float = 0.0) -> np.ndarray:
    """Height of a ball's bottom at times t: dropped from y0 (vy 0) or launched at vy, keeping e of it per bounce."""
    y, v, out, now = y0, vy, [], 0.0
    for target in t:
        while now < target - 1e-9:
            step = min(0.002, target - now)
            y, v, now = y + v * step - 0.5 * 9.81 * step * step, v - 9.81 * step, now + step
            if y < 0:
                y, v = 0.0, -v * e
        out.append(y)
    return np.array(out)


def test_a_slide_that_gathers_speed_on_its_own_is_caught_and_one_that_slows_is_not():
    t = np.arange(30) / 10
    x = -3 + 3 * t - 0.5 * t**2  # friction: 3 m/s down to 0
    assert jd._speeds_up(_seen(t, x, np.zeros_like(t))) is None
    found = jd._speeds_up(_seen(t, x[::-1].copy(), np.zeros_like(t)))  # played backwards
    assert found is not None and found[2] > found[1] + jd.SPEED_GAIN
    wall = np.where(t < 1.5, 1.5 - 1.5 * t, 1.5 * (t - 1.5) - 0.75)  # turns at a wall, then keeps its speed
    assert jd._speeds_up(_seen(t, wall, np.zeros_like(t))) is None


def test_one_odd_silhouette_is_no_turn_but_a_spinning_outline_is():
    t = np.arange(20) / 10
    still = _seen(t, np.zeros(20), np.zeros(20), "pyramid", fills=[0.55] * 8, tapers=[0.3] * 7 + [1.6])
    assert jd._rotates(still) is False
    assert jd.motion_matches(still, "rest")[0]
    spin = _seen(t, np.zeros(20), np.zeros(20), "cube", fills=[0.64, 0.95, 0.7, 0.9] * 2, tapers=[1.0] * 8)
    assert jd._rotates(spin) is True
    assert jd.motion_matches(spin, "spin")[0] and not jd.motion_matches(spin, "rest")[0]


def test_a_swinging_matte_alone_is_no_turn_and_a_pyramid_turns_by_its_taper():
    t = np.arange(20) / 10
    # a box's shaded side face against a backdrop of nearly its colour: the mattes swing, the colour cut does not
    box = _seen(t, np.zeros(20), np.zeros(20), "cube", fills=[0.7, 0.94, 0.78, 0.9] * 2, tapers=[1.0] * 8)
    for b in box.track.blobs:
        b.fill = 0.9
    assert jd._rotates(box) is False
    assert jd.motion_matches(box, "rest")[0]
    # a turning triangle fills its box alike; a resting one's fill may swing, its taper holds
    still = _seen(t, np.zeros(20), np.zeros(20), "pyramid", fills=[0.45, 0.6, 0.5, 0.62] * 2, tapers=[0.3] * 8)
    assert jd._rotates(still) is False
    turning = _seen(t, np.zeros(20), np.zeros(20), "pyramid", fills=[0.55] * 8, tapers=[0.3, 1.5, 0.6, 2.5] * 2)
    assert jd._rotates(turning) is True


def test_a_bounce_seen_once_then_hidden_behind_an_occluder_is_a_bounce():
    t = np.arange(40) / 10
    x = -2.0 + 0.8 * t
    bottom = _hops(t, 4.0, 0.7)
    hidden = (t > 0.9) & (t < 2.0)  # behind a wall after the first landing: its next hops go unseen
    keep = ~hidden
    s = _seen(t[keep], x[keep], bottom[keep])
    s.frame = np.flatnonzero(keep)
    for b, fr in zip(s.track.blobs, s.frame):
        b.frame = int(fr)
    edge = np.flatnonzero(np.diff(s.frame) > 1)[0]
    s.near_occluder[edge], s.near_occluder[edge + 1] = True, True
    ok, why = jd.motion_matches(s, "bounce")
    assert ok and "hidden" in why, why
    s.near_occluder[:] = False  # the same gap in the open: the hops are missing, not hidden
    assert not jd.motion_matches(s, "bounce")[0]


def test_a_speck_washed_gray_may_be_a_colour_it_is_tinted_towards():
    t = np.arange(10) / 10
    s = _seen(t, np.zeros(10), np.zeros(10))
    s.color, s.unsure["color"] = "gray", "unsure (only 4 px across; looks gray)"
    for b in s.track.blobs:
        b.lab = np.array([46.0, 1.7, 4.4], np.float32)  # a red can on a teal wall, through H.264
    assert jd._fits(ObjectQuery(shape="ball", color="red"), s)[0] == 1.0
    assert jd._fits(ObjectQuery(shape="ball", color="blue"), s)[0] < 1.0  # leans away from blue
    assert jd._fits(ObjectQuery(shape="ball", color="white"), s)[0] < 1.0  # lightness never washes out


def test_bounce_is_read_from_its_hops_whatever_its_drift_and_fall_from_its_start():
    t = np.arange(40) / 10
    fast = _seen(t, -3 + 2.0 * t, _hops(t, 5.0, 0.75))  # sideways as fast as a throw, hopping lower each time
    assert jd.motion_matches(fast, "bounce")[0]
    dropped = _seen(t, 0.3 * t, _hops(t, 0.0, 0.5, y0=2.4))
    assert jd.motion_matches(dropped, "fall")[0]
    assert not jd.motion_matches(fast, "fall")[0]  # it opens on the ground, going up
    still = _seen(t, np.zeros(40), np.zeros(40))
    assert not jd.motion_matches(still, "bounce")[0] and not jd.motion_matches(still, "fall")[0]


def test_a_fall_played_backwards_breaks_physics():
    scene = SceneSpec(setting="grass", objects=[one("ball", "red", "fall", "none", x=0.0, y=2.4, size="large", restitution=0.5)])
    frames = draw(scene, R)
    query = q(shape="ball", color="red", motion="fall")
    assert jd.judge_query(frames, R.fps, query).criterion("physics").passed
    back = jd.judge_query(frames[::-1].copy(), R.fps, query).criterion("physics")
    assert not back.passed, back.detail


def test_an_object_erased_beside_another_is_missed_but_one_beside_it_all_along_is_not():
    pair = SceneSpec(
        setting="studio",
        objects=[one("ball", "red", "rest", x=-0.4, size="medium"), one("cube", "blue", "rest", x=0.4, size="medium")],
    )
    alone = SceneSpec(setting="studio", objects=[pair.objects[1]])
    frames, without = draw(pair, R), draw(alone, R)
    assert jd.judge_query(frames, R.fps, PromptQuery(objects=[])).criterion("consistency").passed
    erased = np.concatenate([frames[:20], without[20:]])
    crit = jd.judge_query(erased, R.fps, PromptQuery(objects=[])).criterion("consistency")
    assert not crit.passed and "red" in crit.detail, crit.detail


def test_a_shape_too_small_to_tell_is_unsure_and_a_clear_wrong_one_still_fails():
    tiny = SceneSpec(setting="grass", objects=[one("ball", "red", "rest", x=0.0, size="small")])
    frames = draw(tiny, RenderSpec(width=64, height=64, fps=8, seconds=2))  # 0.5 m: 4 px across
    crit = jd.judge_query(frames, 8, q(shape="cube", color="red")).criterion("objects")
    assert crit.passed and "shape unsure" in crit.detail, crit.detail
    big = SceneSpec(setting="grass", objects=[one("cube", "red", "rest", x=0.0, size="large")])
    frames = draw(big, RenderSpec(width=96, height=96, fps=8, seconds=2))  # 1.2 m: 14 px across
    crit = jd.judge_query(frames, 8, q(shape="ball", color="red")).criterion("objects")
    assert not crit.passed and "shape cube" in crit.detail, crit.detail


def test_a_gentle_roll_played_backwards_gathers_speed_over_seconds():
    """Friction slows a roll by ~0.5 m/s^2: less than `SPEED_GAIN` in one second, so only a longer window sees the
    backwards clip speed up."""
    t = np.arange(40) / 10
    x = -3 + 2.2 * t - 0.25 * t**2  # 0.5 m/s^2: 2.2 m/s down to 0.25 m/s
    assert jd._speeds_up(_seen(t, x, np.zeros_like(t))) is None
    found = jd._speeds_up(_seen(t, x[::-1].copy(), np.zeros_like(t)))
    assert found is not None and found[2] > found[1] + jd.STEADY_GAIN, found


def test_a_fast_roll_played_backwards_gathers_a_fraction_of_its_speed_and_is_caught():
    """A roll at 3 m/s that friction slows to 2.4 m/s: backwards it never doubles its speed, but over a second and
    more the parabola fits it closely and it gains half a metre a second."""
    t = np.arange(13) / 10
    x = 3.0 * t - 0.25 * t**2  # 3.0 -> 2.35 m/s over 1.2 s
    assert jd._speeds_up(_seen(t, x, np.zeros_like(t))) is None
    found = jd._speeds_up(_seen(t, x[::-1].copy(), np.zeros_like(t)))
    assert found is not None and found[2] > found[1] + jd.STEADY_GAIN, found
    jittery = x[::-1] + np.where(np.arange(13) % 2, 0.06, -0.06)  # tracked to 6 cm: too rough to call it steady
    assert jd._speeds_up(_seen(t, jittery, np.zeros_like(t))) is None


def test_a_roll_that_turns_at_a_wall_in_a_missing_frame_is_no_speed_up():
    """A ball rolls into a wall and back, slowing all the while; the frame of the hit is missing (beside the wall),
    so the path left is a parabola's vertex: slow at first, faster after. Not a speed-up (a rendered clip's)."""
    frames = np.r_[np.arange(19, 23), np.arange(24, 33)]  # frame 23, at the wall, not seen
    x = np.array([2.62, 2.82, 3.05, 3.23, 3.27, 3.17, 3.07, 2.98, 2.90, 2.82, 2.75, 2.69, 2.63])
    s = _seen(frames / 8, x, np.zeros(len(x)))
    s.frame = frames
    assert jd._speeds_up(s) is None


def test_a_one_frame_misread_on_the_ground_mid_flight_does_not_split_a_hop():
    """At 12 fps a ball rising through 0.7 m cannot be on the ground a frame later and at 1.1 m the frame after: that
    reading is another blob taken for it, and cutting the arc there would read as a bounce that gained height."""
    t = np.arange(30) / 12
    bottom = _hops(t, 5.0, 0.6)
    assert jd.hops(_seen(t, np.zeros_like(t), bottom), every=True)
    bad = bottom.copy()
    bad[3] = 0.0  # rising at ~4 m/s through frames 2 and 4
    s = _seen(t, np.zeros_like(t), bad)
    assert jd._dips(s, np.arange(30))[3] and jd._dips(s, np.arange(30)).sum() == 1
    assert len(jd.hops(s, every=True)) == len(jd.hops(_seen(t, np.zeros_like(t), bottom), every=True))
    scene = jd.Scene(clip=_clip(fps=12.0), objects=[s], camera=_CAM, ground=0.0, occluder=None, faint=None,
                     classes=None, fragments=0)
    report = jd.judge_physics(PromptQuery(objects=[q(motion="bounce").objects[0]]), scene, [(1.0, s, [])])
    assert report.passed, report.detail


def test_a_smooth_speed_up_while_a_moving_object_touches_it_is_a_push():
    t = np.arange(40) / 10
    x = -3 + 0.1 * t + 0.5 * t**2  # gathers speed ...
    pushed = _seen(t, x, np.zeros_like(t))
    pusher = _seen(t, x - 0.9, np.zeros_like(t))  # ... shoved along by an object right behind it
    assert jd._speeds_up(pushed) is not None
    assert jd._speeds_up(pushed, [pushed, pusher]) is None
    far = _seen(t, x - 3.0, np.full_like(t, 2.0))
    assert jd._speeds_up(pushed, [pushed, far]) is not None


def test_a_leap_beside_a_moving_neighbour_is_excused_only_if_the_neighbour_could_have_lifted_it():
    """Discs push along the line of centres: a neighbour beside a resting object that rises straight up (a dropped
    ball played backwards) did not launch it; one that knocks it sideways as it lifts it, or one below it, may have."""
    t = np.arange(40) / 10
    rest_then_up = np.where(t < 2.0, 0.0, 4.0 * (t - 2.0) - 4.9 * (t - 2.0) ** 2).clip(0)
    straight = _seen(t, np.zeros(40), rest_then_up)
    beside = _seen(t, 1.0 - 0.4 * t + 0.8, np.zeros(40))  # rolls past on the right, centre level with its own
    assert jd._jumps_from_rest(straight, [straight]) is not None
    assert jd._jumps_from_rest(straight, [straight, beside]) is not None
    knocked = _seen(t, np.where(t < 2.0, 0.0, -1.5 * (t - 2.0)), rest_then_up)  # flies off to the left as it rises
    assert jd._jumps_from_rest(knocked, [knocked, beside]) is None
    below = _seen(t, np.full(40, 0.1), np.where(t < 2.0, -0.4, rest_then_up - 0.9))  # centre well under its own
    assert jd._jumps_from_rest(straight, [straight, below]) is None


def test_a_small_object_on_a_plain_backdrop_through_h264_is_no_pan():
    """H.264 smears a few-pixel object's rim and shadow past the colour test; that rim, moving with the object, must
    not pass for background texture (a 6-px pyramid bouncing right once read as a 5 m pan)."""
    from tenku.video import read_video, write_video
    from tenku.world.render import render_with_trajectory

    scene = SceneSpec(setting="studio", objects=[one("pyramid", "purple", "bounce", "right", x=-0.34, y=0.0, vx=1.18)])
    spec = RenderSpec(width=64, height=64, fps=10, seconds=4)
    frames, _ = render_with_trajectory(scene, spec, seed=0)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        write_video(Path(tmp) / "c.mp4", frames, spec.fps)
        frames, fps = read_video(Path(tmp) / "c.mp4")
    clip = tr.prepare(frames[:, :64, :64], fps)
    classes, _ = tr.segment(clip)
    cam = tr.estimate_camera(clip, classes)
    assert not cam.measured or abs(cam.tx).max() / clip.px_per_metre < 0.3, cam.tx


def _track_over(frames, cx: float, width: int = 8) -> jd.Seen:
    """A found object seen in `frames` at column cx (working pixels), for the counting rule."""
    s = _seen(np.asarray(frames) / 10, np.zeros(len(frames)), np.zeros(len(frames)))
    s.frame = np.asarray(frames)
    for b, f in zip(s.track.blobs, frames):
        b.frame, b.x0, b.x1 = int(f), int(cx - width / 2), int(cx + width / 2 - 1)
    return s


def test_one_object_cut_in_two_by_a_trunk_counts_once_and_two_objects_twice():
    before, after = _track_over(range(0, 16), 60), _track_over(range(15, 40), 52)  # one shared frame: pieces
    assert jd._max_alive([before, after]) == 1
    left, right = _track_over(range(0, 40), 20), _track_over(range(10, 40), 90)  # 30 frames, far apart
    assert jd._max_alive([left, right]) == 2
    whole, piece = _track_over(range(0, 30), 62), _track_over(range(24, 30), 64, width=4)
    for b in whole.track.blobs[24:]:
        b.x1 = 61  # cut by a trunk for six frames: its left half here, the right half in `piece`
    assert jd._max_alive([whole, piece]) == 1
    twin = _track_over(range(24, 30), 75)  # a second object beside it for those frames
    assert jd._max_alive([whole, twin]) == 2


def test_direction_is_where_it_set_off_before_a_collision_turned_it():
    t = np.arange(30) / 10
    x = np.where(t < 0.6, 0.3 * t, 0.18 - 2.0 * (t - 0.6))  # sets off right at 0.3 m/s, knocked left at 0.6 s
    s = _seen(t, x, np.zeros(30))
    hitter = _seen(t, np.where(t < 0.6, 2.5 - 3.5 * t, 0.4 + 0.5 * (t - 0.6)), np.zeros(30))
    assert jd.direction_of(s)[0] == "left"  # its first 0.3 m excursion is after the knock
    assert jd.direction_of(s, [s, hitter])[0] == "right"
    far = _seen(t, np.full(30, 5.0), np.zeros(30))
    assert jd.direction_of(s, [s, far])[0] == "left"  # nothing touched it: the knock is its own motion


def _outline(fill: float, compact: float, elong: float, taper: float = 1.0, n: int = 8) -> jd.Seen:
    t = np.arange(20) / 10
    s = _seen(t, np.zeros(20), np.zeros(20), shape=None, fills=[fill] * n, tapers=[taper] * n)
    for b in s.silhouettes:
        b.compact, b.elong = compact, elong
    return s


def test_a_tilted_cube_is_no_ellipse_but_a_stretched_ball_is_and_a_cut_outline_is_unsure():
    assert jd.classify_shape(_outline(0.83, 0.61, 0.89)) == "cube"  # a floating cube, tilted: fills its box like pi/4
    assert jd.classify_shape(_outline(0.78, 0.72, 0.78)) == "ball"  # a ball in a frame resized to 4:3
    assert jd.classify_shape(_outline(0.69, 0.48, 0.86, taper=2.05)) is None  # its bottom half hidden in every view


def test_a_frozen_clip_shows_a_static_camera_whatever_the_prompt_says():
    scene = SceneSpec(setting="grass", objects=[one(motion="roll", x=-2.0)], camera="pan_right")
    frames = draw(scene, R)
    frozen = np.repeat(frames[R.frames // 2][None], R.frames, axis=0)
    clip = tr.prepare(frozen, R.fps)
    cam = tr.estimate_camera(clip, tr.segment(clip)[0])
    assert cam.measured and abs(cam.tx).max() < 0.5
    query = PromptQuery(objects=[ObjectQuery(shape="ball", color="red", motion="roll")], camera="pan_right")
    crit = jd.judge_query(frozen, R.fps, query).criterion("motion")
    assert not crit.passed and "camera static" in crit.detail, crit.detail


def test_faint_specks_are_no_washed_out_object_but_a_faint_patch_is():
    """Stars, a sky's blue near the horizon and edge fringes scatter single faint pixels over the search window; an
    object that video coding washed out leaves a patch."""
    faint = np.full((1, 30, 30), -1, np.int8)
    faint[0, [3, 12, 25], [4, 20, 9]] = 2  # three stars
    scene = jd.Scene(
        clip=_clip(fps=10.0), objects=[], camera=_CAM, ground=0.0, occluder=None, faint=faint, classes=None, fragments=0
    )
    assert jd._faint_at(scene, 2, 15.0, 15.0, 15.0, 15.0, 0) is None
    faint[0, 14:17, 10:13] = 2  # a 3x3 patch
    assert jd._faint_at(scene, 2, 15.0, 15.0, 15.0, 15.0, 0) == pytest.approx((11.0, 15.0))
    assert jd._faint_at(scene, 2, 15.0, 15.0, 15.0, 15.0, 0, area=100.0) is None  # a ninth of it: too little


def test_small_occluder_coloured_patches_hide_nothing():
    mask = np.zeros((1, 20, 20), bool)
    mask[0, 2:12, 2:6] = True  # a trunk
    mask[0, 15, 10:12] = True  # two pixels where an object's edge meets a dark ground
    kept = tr.large_patches(mask, 10)
    assert kept[0, 2:12, 2:6].all() and not kept[0, 15].any()


def test_an_object_erased_at_the_frames_edge_is_missed_but_one_leaving_through_it_is_not():
    """Touching the frame's edge excuses vanishing only for an object that could have left: one partly out already,
    or moving out; an object in full view there that is gone the next frame was erased."""
    edge = SceneSpec(setting="grass", objects=[one("cube", "red", "rest", x=-3.75, size="medium")])
    frames, empty = draw(edge, R), draw(SceneSpec(setting="grass", objects=[]), R)
    assert jd.judge_query(frames, R.fps, PromptQuery(objects=[])).criterion("consistency").passed
    erased = np.concatenate([frames[:20], empty[20:]])
    crit = jd.judge_query(erased, R.fps, PromptQuery(objects=[])).criterion("consistency")
    assert not crit.passed and "vanishes" in crit.detail, crit.detail
    leaving = SceneSpec(setting="grass", objects=[one("ball", "red", "roll", "left", x=-2.0, vx=-2.5, size="medium")])
    crit = jd.judge_query(draw(leaving, R), R.fps, PromptQuery(objects=[])).criterion("consistency")
    assert crit.passed, crit.detail


def test_a_path_in_shuffled_order_is_rough_and_a_bounce_or_a_wobble_in_place_is_not():
    t = np.arange(32) / 8  # 8 fps: the roughest a real bounce gets
    x, bottom = -3 + 0.8 * t, _hops(t, 5.0, 0.75)
    ppm = 96 / VIEW_WIDTH
    smooth = jd._jitter(_seen(t, x, bottom), ppm)
    assert smooth is not None and smooth < jd.JITTER / 2, smooth
    order = np.random.default_rng(0).permutation(32)
    rough = jd._jitter(_seen(t, x[order], bottom[order]), ppm)
    assert rough is not None and rough > jd.JITTER, rough
    t24 = np.arange(96) / 24  # the same clip at 24 fps by repeating frames: still, then a jump, still ...
    repeated = jd._jitter(_seen(t24, np.repeat(x, 3), np.repeat(bottom, 3)), ppm)
    assert repeated is not None and repeated < jd.JITTER / 2, repeated
    wobble = np.random.default_rng(1).normal(0, 0.08, 32)  # a spinning cube's centroid, shuffled or not
    assert jd._jitter(_seen(t, wobble, np.zeros(32)), ppm) is None


def test_a_fall_whose_bottom_hides_behind_another_object_for_a_moment_is_still_a_fall():
    t = np.arange(32) / 8
    bottom = _hops(t, 0.0, 0.5, y0=1.8)
    s = _seen(t, np.full(32, 2.2), bottom)
    assert jd.motion_matches(s, "fall")[0]
    s.bottom = bottom.copy()
    s.bottom[1] += 0.4  # its lower part behind a cube: the bottom reads high, as if it rose
    assert not jd.motion_matches(s, "fall")[0]  # without knowing the bottom was hidden, that is a rise
    s.bottom_seen[1] = False
    assert jd.motion_matches(s, "fall")[0]


def test_a_hop_that_ends_on_top_of_a_hidden_object_is_no_slow_free_fall():
    t = np.arange(48) / 12
    arc = np.maximum(0.6 + 2.0 * t - 4.905 * t**2, 0.3)  # lands on something 0.3 m high and lies there
    bottom = np.round(np.where(t < 1.5, arc, 0.0) * 16) / 16  # one working pixel is 1/16 m
    s = _seen(t, np.zeros(48), bottom, size_m=1.2)
    scene = jd.Scene(
        clip=_clip(fps=12.0), objects=[s], camera=_CAM, ground=0.0, occluder=None, faint=None,
        classes=None, fragments=0,
    )
    report = jd.judge_physics(PromptQuery(objects=[]), scene, [])
    assert report.passed, report.detail
    assert not any((bottom[a] == 0.3125).sum() >= 3 for a in jd.flights(s))


def test_an_outline_too_small_for_its_shape_tells_no_turn_and_its_size_only_up_to_the_shape():
    t = np.arange(20) / 10
    tiny = _seen(t, np.zeros(20), np.zeros(20), "pyramid", fills=[0.55, 0.8] * 4, tapers=[0.3, 1.0] * 4)
    assert jd._rotates(tiny) is True  # a 4-px apex that comes and goes reads as turning ...
    tiny.unsure["shape"] = "unsure (only 4 px across; looks like a pyramid)"
    assert jd._rotates(tiny) is None  # ... unless the outline is known to be too small to tell
    assert jd.motion_matches(tiny, "rest")[0] and jd.motion_matches(tiny, "spin")[0]
    tiny.size, tiny.sizes = "small", {"small", "medium"}  # a medium pyramid's area is a small cube's
    assert jd._fits(ObjectQuery(shape="pyramid", size="medium"), tiny)[0] == 1.0
    assert jd._fits(ObjectQuery(shape="pyramid", size="large"), tiny)[0] < 1.0


def test_a_float_seen_clearly_only_while_it_leaves_the_ground_is_a_float():
    t = np.arange(40) / 10
    s = _seen(t, np.zeros(40), 0.6 * t, size_m=1.2)  # rises at 0.6 m/s from the ground
    s.clean[20:] = False  # then drifts into a crowd: no clean sighting in its last two seconds
    assert jd.motion_matches(s, "float")[0]
    s.bottom[15:20] = 0.0  # back on the ground while in clear view: no float
    assert not jd.motion_matches(s, "float")[0]


def test_an_object_that_fades_and_then_goes_behind_another_is_hidden_not_gone():
    s = _seen(np.arange(3) / 10, np.zeros(3), np.zeros(3))
    for b in s.track.blobs:
        b.cx, b.cy, b.x0, b.x1, b.y0, b.y1, b.area = 4.0, 4.0, 2, 6, 2, 6, 25.0
    faint = np.full((6, 20, 20), -1, np.int8)
    faint[3, 2:7, 2:7] = 0  # frame 3: only faintly there
    classes = np.full((6, 20, 20), -1, np.int8)
    scene = jd.Scene(
        clip=_clip(fps=10.0), objects=[s], camera=_CAM, ground=0.0, occluder=np.zeros((6, 20, 20), bool), faint=faint,
        classes=classes, fragments=0,
    )
    assert jd._faint_follow(scene, s, 2, 1) == (3, False)  # then gone in the open
    classes[4, 0:9, 0:9] = 3  # frame 4: another object's pixels where it was
    assert jd._faint_follow(scene, s, 2, 1) == (3, True)


def test_a_blob_whose_colour_is_nowhere_in_the_input_has_no_silhouette():
    """Upsampling mixes edge colours into a blob that no input pixel has: its re-cut is None, not a crash."""
    frame = np.full((1, 32, 32, 3), 200, np.uint8)
    clip = tr.Clip(rgb=frame, lab=tr.rgb_to_lab(frame), source=frame, fps=8.0, scale=1.0, stride=1)
    blob = tr.Blob(frame=0, color=tr.COLOR_NAMES.index("red"), area=9.0, cx=10.0, cy=10.0, x0=9, y0=9, x1=11, y1=11,
                   lab=np.zeros(3, np.float32), fill=1.0, compact=0.6, taper=1.0, elong=1.0, orient=0.0, edge=False)
    assert tr.silhouette(clip, blob) is None


def test_an_upright_cylinder_rounded_by_anti_aliasing_is_no_stretched_ball():
    # measured on a 10-px resting cylinder through H.264: an ellipse-like outline, but far narrower than a resize
    # to another aspect ratio ever squeezes a ball
    assert jd.classify_shape(_outline(0.82, 0.61, 0.61)) == "cylinder"
    assert jd.classify_shape(_outline(0.78, 0.72, 0.78)) == "ball"  # a ball in a frame resized to 4:3 still is


def _swinging(fills: list[float], px: int, compact: float = 0.7, elong: float = 0.93) -> jd.Seen:
    s = _outline(0.8, compact, elong, n=len(fills))
    for b, f in zip(s.silhouettes, fills):
        b.fill, b.x1, b.y1 = f, px - 1, px - 1
    return s


def test_a_turning_outline_big_enough_to_see_is_no_ball():
    swing = [0.94, 0.67, 0.71, 0.82, 0.76, 0.69, 0.82, 0.72]  # a 14-px spinning cube's mattes (seed 0, clip 21)
    assert jd.classify_shape(_swinging(swing, 14)) == "cube"
    assert jd.classify_shape(_swinging([0.78, 0.79, 0.77, 0.8, 0.78, 0.79, 0.78, 0.77], 14)) == "ball"
    assert jd.classify_shape(_swinging(swing, 8)) == "ball"  # at 8 px H.264 swings a ball's fill as much


def test_a_resting_object_may_read_off_for_a_few_frames_but_not_move_off():
    t = np.arange(40) / 10
    x = np.full(40, 1.4)
    x[[12, 13, 27]] = [1.9, 2.0, 0.9]  # another object passes in front of it: its centre jumps for three frames
    assert jd.motion_matches(_seen(t, x, np.zeros(40)), "rest")[0]
    moved = np.where(t < 2.0, 1.4, 1.4 + 0.6 * (t - 2.0))  # it slides off after 2 s
    assert not jd.motion_matches(_seen(t, moved, np.zeros(40)), "rest")[0]


def test_an_outline_of_a_few_pixels_is_too_small_to_tell_a_turn():
    t = np.arange(6) / 10  # too few sightings to tell a turn by (`_rotates`): the mattes decide
    tapers = [0.27, 0.34, 0.55, 0.54, 0.27, 0.43, 0.54, 0.54]  # a resting 7-px pyramid's mattes (seed 0, clip 33)
    still = _seen(t, np.zeros(6), np.zeros(6), "pyramid", fills=[0.6] * 8, tapers=tapers)
    assert jd._rotates(still) is True  # at 12 px that apex swing would be a turn ...
    for b in still.silhouettes:
        b.x1 = b.y1 = 6
    assert jd._rotates(still) is None  # ... at 7 px it is anti-aliasing
    assert jd.motion_matches(still, "rest")[0]


def test_an_object_that_slips_behind_another_for_a_few_frames_does_not_blink_out():
    # a 6x8 px gray object moves right 5 px a frame behind a pink one standing at columns 18-27 (seed 0, clip 397
    # through H.264): a washed-out sliver of it shows beside the pink one (faint, too thin for `segment`), then
    # nothing, then a sliver again
    f, h, w = 5, 20, 50
    gray, pink = tr.COLOR_NAMES.index("gray"), tr.COLOR_NAMES.index("pink")
    classes = np.full((f, h, w), -1, np.int8)
    faint = np.full((f, h, w), -1, np.int8)
    classes[:, 6:14, 18:28] = pink
    faint[:, 6:14, 18:28] = pink
    blob = dict(color=gray, area=48.0, cy=9.5, y0=6, y1=13, lab=np.zeros(3, np.float32), fill=1.0, compact=0.6,
                taper=1.0, elong=0.75, orient=0.0, edge=False)
    a = tr.Blob(frame=0, cx=10.5, x0=8, x1=13, **blob)
    b = tr.Blob(frame=4, cx=30.5, x0=28, x1=33, **blob)
    classes[0, 6:14, 8:14] = classes[4, 6:14, 28:34] = gray
    faint[1, 6:14, 13:15] = faint[3, 6:14, 28:30] = gray  # the slivers: 16 faint pixels, 2 px wide
    s = _seen(np.arange(2) / 10, np.zeros(2), np.zeros(2))
    s.track = tr.Track(color=gray, blobs=[a, b])
    scene = jd.Scene(clip=_clip(fps=10.0), objects=[s], camera=_CAM, ground=0.0, occluder=np.zeros((f, h, w), bool), faint=faint,
                     classes=classes, fragments=0)
    assert jd._accounted_between(scene, s, 0)
    classes[:, 6:14, 18:28] = -1  # no pink object: the gray one blinks out in the open
    faint[:, 6:14, 18:28] = -1
    assert not jd._accounted_between(scene, s, 0)


def test_an_object_that_vanishes_beside_an_occluder_went_behind_it_only_if_the_occluder_is_where_it_was_going():
    # a whole 6x6 px object moving right 5 px a frame, last seen at frame 2 beside occluder-coloured pixels; the
    # world's trees and walls stand where it goes, an object's own trunk-brown dark side (seed 0, clip 183: an
    # orange ball at night, erased) lies beside it and stays behind when it is erased
    f, h, w = 4, 20, 40
    blob = dict(color=0, area=36.0, cy=9.5, y0=7, y1=12, lab=np.zeros(3, np.float32), fill=1.0, compact=0.6,
                taper=1.0, elong=1.0, orient=0.0, edge=False)
    s = _seen(np.arange(3) / 10, np.zeros(3), np.zeros(3))
    s.track = tr.Track(color=0, blobs=[tr.Blob(frame=k, cx=3.5 + 5 * k, x0=1 + 5 * k, x1=6 + 5 * k, **blob) for k in range(3)])
    s.near_occluder = np.array([False, False, True])

    def scene(occluder: np.ndarray) -> jd.Scene:
        return jd.Scene(clip=_clip(fps=10.0), objects=[s], camera=_CAM, ground=0.0, occluder=occluder, faint=np.full((f, h, w), -1, np.int8),
                        classes=np.full((f, h, w), -1, np.int8), fragments=0)

    trunk = np.zeros((f, h, w), bool)
    trunk[:, :, 17:25] = True  # a trunk right where it was going
    assert jd._hidden_edge(s, 2, scene(trunk), 1, last=True)
    shade = np.zeros((f, h, w), bool)
    shade[:, 13:16, 10:17] = True  # brown pixels under its edge, none where it was going
    assert not jd._hidden_edge(s, 2, scene(shade), 1, last=True)
    assert jd._hidden_edge(s, 2, scene(shade), 1)  # inside a track, beside an occluder is excuse enough for a gap


def test_a_turn_the_frame_rate_aliases_is_still_a_turn():
    # a cube turning 30 degrees a frame is square-on one frame in three: the 8 mattes happened to catch it once
    t = np.arange(27) / 8
    aliased = _seen(t, np.zeros(27), np.zeros(27), "cube", fills=[0.65, 0.68, 0.9, 0.66, 0.64, 0.67, 0.66, 0.69],
                    tapers=[1.0] * 8)
    for k, blob in enumerate(aliased.track.blobs):
        blob.fill = 0.9 if k % 3 == 0 else 0.65
    assert jd._rotates(aliased) is True and jd.motion_matches(aliased, "spin")[0]
    still = _seen(t, np.zeros(27), np.zeros(27), "cube", fills=[0.9] * 8, tapers=[1.0] * 8)
    for k, blob in enumerate(still.track.blobs):  # two odd frames where a neighbour merged with its outline
        blob.fill = 0.62 if k in (5, 17) else 0.9
    assert jd._rotates(still) is False and jd.motion_matches(still, "rest")[0]


def test_a_small_object_ringed_by_its_blend_with_the_ground_is_kept_but_a_big_ones_fringe_is_not():
    cls = np.full((1, 12, 14), -1, np.int8)
    cls[0, 3:8, 2:6] = 6  # a small pink object, 4 px wide: no pixel 2 deep inside it
    cls[0, 2:10, 1] = cls[0, 2:10, 6] = cls[0, 8:10, 1:7] = 9  # ringed by gray, where pink mixes with a wooden floor
    fit = np.where(cls == 6, 2.0, 12.0)  # pink's pixels sit on a reference colour, the blend's between two
    assert (tr.drop_fringes(cls, 2) < 0).all()  # without colour fits, both read as each other's fringe
    kept = tr.drop_fringes(cls, 2, fit=fit)
    assert (kept[cls == 6] == 6).all() and (kept[cls == 9] < 0).all()
    big = np.full((1, 16, 16), -1, np.int8)
    big[0, 2:14, 2:14] = 8  # a large black ball, solid inside
    big[0, 1, 1:15] = big[0, 14, 1:15] = big[0, 1:15, 1] = big[0, 1:15, 14] = 9  # its gray anti-aliased ring
    kept = tr.drop_fringes(big, 1, fit=np.where(big == 9, 1.0, 3.0))  # however well the ring fits gray
    assert (kept[big == 8] == 8).all() and (kept[big == 9] < 0).all()


def test_a_bounce_played_backwards_gains_height_even_where_its_bottom_was_hidden():
    t = np.arange(40) / 10
    back = _hops(t, 5.0, 0.7)[::-1].copy()  # hops growing: 0.3, 0.6, 1.3 m (reversed)
    hidden = (t > 1.4) & (t < 3.0)  # behind something low: the middle hops' bottoms read high (never low)
    s = _seen(t, np.zeros(40), np.where(hidden, back + 0.05, back), size_m=0.8)
    s.bottom_seen = ~hidden
    s.clean = ~hidden

    def physics(seen):
        scene = jd.Scene(clip=_clip(fps=10.0), objects=[seen], camera=_CAM, ground=0.0, occluder=None,
                         faint=None, classes=None, fragments=0)
        return jd.judge_physics(PromptQuery(objects=[q(motion="bounce").objects[0]]), scene, [(1.0, seen, [])])

    report = physics(s)
    assert not report.passed and "bounces higher" in report.detail, report.detail
    forward = _seen(t, np.zeros(40), np.where(hidden[::-1], back[::-1] + 0.05, back[::-1]), size_m=0.8)
    forward.bottom_seen = forward.clean = ~hidden[::-1]
    assert physics(forward).passed, physics(forward).detail


def test_the_clips_own_setting_decides_what_is_background():
    # a black object tinted by video coding towards a day sky's blue sits nearer the night sky's navy than black:
    # against every setting's colours it is background, against the clip's own it is a black object
    day = draw(SceneSpec(setting="grass", objects=[one("ball", "red", "rest", x=0.0)]), RenderSpec(width=64, height=64, fps=8, seconds=1))
    night = draw(SceneSpec(setting="night", objects=[one("ball", "red", "rest", x=0.0)]), RenderSpec(width=64, height=64, fps=8, seconds=1))
    assert tr.settings_seen(tr.prepare(day, 8).rgb) == ("grass",)
    assert tr.settings_seen(tr.prepare(night, 8).rgb) == ("night",)
    navy_black = np.array([[[18, 18, 38]]], np.uint8)
    d_obj, d_bg, _ = tr.color_distances(navy_black)
    assert d_bg[0, 0] < d_obj[0, 0].min()
    d_obj, d_bg, _ = tr.color_distances(navy_black, ("grass",))
    assert d_obj[0, 0].argmin() == list(COLORS).index("black") and d_obj[0, 0].min() < d_bg[0, 0]
    noise = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)  # no setting's colours
    assert tr.settings_seen(noise) == tuple(PALETTES)


def _gap_scene(cover_first: float) -> tuple[jd.Scene, jd.Seen]:
    """A still 8x8 object (colour 0) seen at frames 0 and 5, another object (colour 1) over its box in frames 2-4 and
    over `cover_first` of it (its right side) in frame 1: it slips behind its neighbour a frame before it vanishes."""
    f, h, w = 6, 32, 32
    classes = np.full((f, h, w), -1, np.int8)
    classes[[0, 5], 10:18, 10:18] = 0
    classes[2:5, 8:20, 8:20] = 1
    cols = int(round(cover_first * 9))
    if cols:
        classes[1, 9:18, 18 - cols : 18] = 1
    blob = dict(color=0, area=64.0, cx=13.5, cy=13.5, x0=10, y0=10, x1=17, y1=17, lab=np.zeros(3, np.float32),
                fill=1.0, compact=0.64, taper=1.0, elong=1.0, orient=0.0, edge=False)
    track = tr.Track(color=0, blobs=[tr.Blob(frame=k, **blob) for k in (0, 5)])
    s = _seen(np.array([0.0, 0.5]), np.zeros(2), np.zeros(2))
    s.track, s.frame = track, np.array([0, 5])
    scene = jd.Scene(clip=_clip(fps=10.0), objects=[s], camera=_CAM, ground=0.0,
                     occluder=np.zeros((f, h, w), bool), faint=classes.copy(), classes=classes, fragments=0)
    return scene, s


def test_a_gap_may_open_on_a_frame_half_behind_the_neighbour_it_then_hides_behind():
    """A few-pixel object slipping behind another shows a sliver the codec washes out: the gap's first frame has only
    part of its box covered, the next ones all of it. Half the cover there is enough; an object in the open is not."""
    assert jd._accounted_between(*_gap_scene(0.4), 0)  # a third of its box covered in frame 1, all of it after
    assert not jd._accounted_between(*_gap_scene(0.1), 0)  # frame 1 in the open: it blinked out


def test_a_fall_seen_cleanly_only_once_it_lies_on_the_ground_still_fell():
    """Beside another object all the way down, a falling object has no clean sighting until it lands; its bottom
    shows, though, and that is how far it went."""
    t = np.arange(40) / 10
    bottom = np.maximum(2.4 - 4.905 * t**2, 0.0)
    s = _seen(t, np.zeros(40), bottom)
    s.clean = t >= 1.0
    s.open_view = s.clean.copy()
    assert jd.motion_matches(s, "fall")[0], jd.motion_matches(s, "fall")
    s.bottom_seen = s.clean.copy()  # nothing shows it off the ground: it may have lain there all along
    assert not jd.motion_matches(s, "fall")[0]


# rendered clips of the judge validation (seed 0) whose 10-16 px shapes the outline features misread through H.264
_SMALL_SHAPES = {
    "spinning ball beside a spinning cube": (
        '{"camera": "static", "collisions": true, "objects": [{"color": "red", "direction": "none", "friction": 0.628, '
        '"motion": "spin", "restitution": 0.75, "shape": "cube", "size": "medium", "vx": 0.0, "vy": 0.0, "x": 3.038, '
        '"y": 0.0}, {"color": "orange", "direction": "none", "friction": 0.516, "motion": "spin", "restitution": 0.75, '
        '"shape": "ball", "size": "medium", "vx": 0.0, "vy": 0.0, "x": -0.842, "y": 0.0}], "occluders": [], '
        '"setting": "studio"}',
        12.0,
        (96, 96),
    ),
    "resting ball on grass": (
        '{"camera": "static", "collisions": false, "objects": [{"color": "green", "direction": "right", "friction": '
        '0.687, "motion": "throw", "restitution": 0.543, "shape": "ball", "size": "medium", "vx": 2.031, "vy": 4.639, '
        '"x": -2.358, "y": 0.212}, {"color": "pink", "direction": "none", "friction": 0.616, "motion": "rest", '
        '"restitution": 0.75, "shape": "ball", "size": "medium", "vx": 0.0, "vy": 0.0, "x": 1.202, "y": 0.0}], '
        '"occluders": [], "setting": "grass"}',
        12.0,
        (96, 96),
    ),
    "rolling ball passing a wall, two cubes": (
        '{"camera": "zoom_in", "collisions": true, "objects": [{"color": "orange", "direction": "none", "friction": '
        '0.599, "motion": "float", "restitution": 0.75, "shape": "cube", "size": "medium", "vx": 0.0, "vy": 0.0, "x": '
        '-0.735, "y": 0.321}, {"color": "green", "direction": "none", "friction": 0.654, "motion": "spin", '
        '"restitution": 0.75, "shape": "cube", "size": "small", "vx": 0.0, "vy": 0.0, "x": 1.921, "y": 0.0}, {"color": '
        '"white", "direction": "left", "friction": 0.561, "motion": "roll", "restitution": 0.75, "shape": "ball", '
        '"size": "medium", "vx": -1.99, "vy": 0.0, "x": 0.867, "y": 0.0}], "occluders": [{"kind": "wall", "width": '
        '1.036, "x": -0.07}], "setting": "grass"}',
        12.0,
        (128, 72),
    ),
}


@pytest.mark.parametrize("case", sorted(_SMALL_SHAPES))
def test_ten_pixel_balls_and_cubes_through_h264_are_told_apart_by_the_outline_that_fits(case, tmp_path):
    from tenku.video import read_video, write_video
    from tenku.world.render import render

    text, fps, (w, h) = _SMALL_SHAPES[case]
    scene = SceneSpec.from_json(text)
    spec = RenderSpec(width=w, height=h, fps=fps, seconds=4.0)
    frames, fps = read_video(write_video(tmp_path / "c.mp4", render(scene, spec, seed=0), spec.fps))
    seen = jd.look(tr.prepare(frames, fps)).objects
    shapes = {s.color: s.shape for s in seen}
    assert shapes == {o.color: o.shape for o in scene.objects}


def test_a_disc_matte_fits_a_ball_and_a_turned_cube_matte_a_cube():
    # mattes of 9-px outlines, area-sampled 8x8, the cube turned 20 degrees; the other outline fits clearly worse
    def matte(shape, turn):
        n, ss, size = 15, 8, 9.0
        g = (np.arange(n * ss) + 0.5) / ss - n / 2
        X, Y = np.meshgrid(g, -g)
        c, s = np.cos(turn), np.sin(turn)
        lx, ly = c * X + s * Y, -s * X + c * Y
        v = outline(shape, size)
        inside = np.ones_like(X, bool)
        for j in range(len(v)):
            (x0, y0), (x1, y1) = v[j], v[(j + 1) % len(v)]
            inside &= (x1 - x0) * (ly - y0) - (y1 - y0) * (lx - x0) >= 0
        return inside.reshape(n, ss, n, ss).mean((1, 3))

    ball, cube = matte("ball", 0.0), matte("cube", np.deg2rad(20))
    assert jd._template_error(ball, "ball") * 2 < jd._template_error(ball, "cube")
    assert jd._template_error(cube, "cube") * 2 < jd._template_error(cube, "ball")


def test_black_patches_of_a_tree_never_seen_in_the_open_are_no_second_black_object(tmp_path):
    # a rendered clip of the judge validation (seed 0, #443): through H.264 the tree's shaded leaves read as a black
    # patch that never leaves the tree, and the judge counted "2 black balls at once"
    from tenku.video import read_video, write_video
    from tenku.world.render import render

    scene = SceneSpec.from_json(
        '{"camera": "static", "collisions": true, "objects": [{"color": "gray", "direction": "none", "friction": '
        '0.573, "motion": "fall", "restitution": 0.583, "shape": "pyramid", "size": "medium", "vx": 0.0, "vy": 0.0, '
        '"x": 1.466, "y": 1.856}, {"color": "black", "direction": "none", "friction": 0.6, "motion": "orbit", '
        '"restitution": 0.75, "shape": "ball", "size": "small", "vx": 0.0, "vy": 0.0, "x": -2.085, "y": 0.127}], '
        '"occluders": [{"kind": "tree", "width": 1.041, "x": -0.015}], "setting": "beach"}'
    )
    spec = RenderSpec(width=64, height=64, fps=12.0, seconds=4.0)
    frames, fps = read_video(write_video(tmp_path / "c.mp4", render(scene, spec, seed=443), spec.fps))
    query = PromptQuery(
        objects=[ObjectQuery(shape=o.shape, color=o.color, size=o.size, motion=o.motion) for o in scene.objects],
        setting=scene.setting,
        camera=scene.camera,
        occluder="tree",
    )
    blacks = [s for s in jd.look(tr.prepare(frames, fps)).objects if s.color == "black"]
    assert len(blacks) == 2 and sum(jd._occluder_bound(s) for s in blacks) == 1  # the patch is still found ...
    report = jd.judge_query(frames, fps, query)
    assert "at once" not in report.criterion("objects").detail  # ... but not counted


def _query_of(scene: SceneSpec) -> PromptQuery:
    return PromptQuery(
        objects=[ObjectQuery(shape=o.shape, color=o.color, size=o.size, motion=o.motion) for o in scene.objects],
        setting=scene.setting,
        camera=scene.camera,
        occluder=scene.occluders[0].kind if scene.occluders else None,
    )


def test_a_dark_speck_at_a_night_frames_border_is_no_second_object_of_its_colour(tmp_path):
    # the judge validation's seed 11 clip 193: through H.264, 4 input pixels at the left border read black for 9
    # frames beside a large black cube, and the judge counted "2 black cubes at once"
    scene = SceneSpec.from_json(
        '{"camera": "zoom_in", "collisions": false, "objects": [{"color": "blue", "direction": "none", "friction": '
        '0.581, "motion": "spin", "restitution": 0.75, "shape": "ball", "size": "small", "vx": 0.0, "vy": 0.0, "x": '
        '0.454, "y": 0.0}, {"color": "black", "direction": "left", "friction": 0.657, "motion": "roll", "restitution": '
        '0.75, "shape": "cube", "size": "large", "vx": -1.703, "vy": 0.0, "x": 1.895, "y": 0.0}, {"color": "white", '
        '"direction": "none", "friction": 0.608, "motion": "orbit", "restitution": 0.75, "shape": "ball", "size": '
        '"large", "vx": 0.0, "vy": 0.0, "x": -0.668, "y": 0.355}, {"color": "orange", "direction": "none", "friction": '
        '0.689, "motion": "rest", "restitution": 0.75, "shape": "pyramid", "size": "large", "vx": 0.0, "vy": 0.0, "x": '
        '-2.036, "y": 0.0}], "occluders": [], "setting": "night"}'
    )
    from tenku.world.render import render

    spec = RenderSpec(width=64, height=64, fps=8.0, seconds=4.0)
    frames, fps = _through_h264(tmp_path / "c.mp4", render(scene, spec, seed=193), spec.fps)
    scene_seen = jd.look(tr.prepare(frames, fps))
    blacks = [s for s in scene_seen.objects if s.color == "black"]
    assert len(blacks) == 2 and sum(jd._speck(scene_seen, s) for s in blacks) == 1  # the speck is still found ...
    objects = jd.judge_query(frames, fps, _query_of(scene)).criterion("objects")
    assert objects.passed and "at once" not in objects.detail  # ... but not counted


@pytest.mark.parametrize("i", [121, 237])
def test_a_narrow_outline_that_a_cubes_fits_better_than_a_cans_is_no_can_but_unsure(i, tmp_path):
    # the judge validation's seed 11 clips 121 (a bouncing 8x10-px cube) and 237 (a thrown cube beside a falling
    # can, 128x72): through H.264 the cubes' outlines read 0.75-0.8 as wide as tall, which alone says can. (Clip
    # 237's cube flies past a brick wall: since the wall's pixels no longer count as its rows' background in the
    # silhouette's matte, its outline reads whole, and a cube.)
    scene = SceneSpec.from_json(_NARROW_CUBES[i])
    from tenku.world.render import render

    w, h = (64, 64) if i == 121 else (128, 72)
    spec = RenderSpec(width=w, height=h, fps=8.0, seconds=4.0)
    frames, fps = _through_h264(tmp_path / "c.mp4", render(scene, spec, seed=i), spec.fps)
    seen = {s.color: s for s in jd.look(tr.prepare(frames, fps)).objects}
    cube = next(o.color for o in scene.objects if o.shape == "cube")
    if i == 121:
        assert seen[cube].shape is None and "fits no shape clearly" in seen[cube].unsure["shape"]
    else:
        assert seen[cube].shape == "cube"
    if i == 237:
        assert seen["black"].shape == "cylinder"  # the can beside it, whose outline fits a can's, stays a can
    assert jd.judge_query(frames, fps, _query_of(scene)).criterion("objects").passed


_NARROW_CUBES = {
    121: '{"camera": "static", "collisions": true, "objects": [{"color": "white", "direction": "none", "friction": '
    '0.641, "motion": "rest", "restitution": 0.75, "shape": "ball", "size": "large", "vx": 0.0, "vy": 0.0, "x": 2.756, '
    '"y": 0.0}, {"color": "pink", "direction": "none", "friction": 0.627, "motion": "bounce", "restitution": 0.788, '
    '"shape": "cube", "size": "large", "vx": 0.0, "vy": 4.446, "x": 1.269, "y": 0.0}], "occluders": [], "setting": '
    '"room"}',
    237: '{"camera": "zoom_out", "collisions": true, "objects": [{"color": "orange", "direction": "right", "friction": '
    '0.671, "motion": "throw", "restitution": 0.567, "shape": "cube", "size": "large", "vx": 1.728, "vy": 5.348, "x": '
    '-1.648, "y": 0.511}, {"color": "black", "direction": "left", "friction": 0.694, "motion": "fall", "restitution": '
    '0.547, "shape": "cylinder", "size": "medium", "vx": -0.573, "vy": 0.0, "x": 0.563, "y": 2.5}], "occluders": '
    '[{"kind": "wall", "width": 1.766, "x": 0.871}], "setting": "beach"}',
}


_SPECK = (
    '{"camera": "pan_right", "collisions": true, "objects": [{"color": "blue", "direction": "none", "friction": 0.52, '
    '"motion": "rest", "restitution": 0.75, "shape": "cylinder", "size": "large", "vx": 0.0, "vy": 0.0, "x": 3.624, '
    '"y": 0.0}, {"color": "gray", "direction": "left", "friction": 0.655, "motion": "fall", "restitution": 0.483, '
    '"shape": "pyramid", "size": "small", "vx": -0.414, "vy": 0.0, "x": 2.155, "y": 2.405}], "occluders": [], '
    '"setting": "room"}'
)


def _case_with_one_erased(scene_json: str, spec: RenderSpec, seed: int, drop: int, erase: slice):
    """A validation clip rendered (uint8 frames) and the same with object `drop` erased over the frames `erase`."""
    from tenku.world.render import render

    rendered = render(SceneSpec.from_json(scene_json), spec, seed=seed)
    without = SceneSpec.from_json(scene_json)
    without.objects = [o for i, o in enumerate(without.objects) if i != drop]
    erased = rendered.copy()
    erased[erase] = render(without, spec, seed=seed)[erase]
    return rendered, erased


def _through_h264(path, frames: np.ndarray, fps: float) -> tuple[np.ndarray, float]:
    from tenku.video import read_video, write_video

    return read_video(write_video(path, frames, fps))


def _erased_through_h264(tmp_path, scene_json: str, spec: RenderSpec, seed: int, drop: int, erase: slice):
    """`_case_with_one_erased`, both clips through H.264: (rendered frames, erased frames, fps)."""
    rendered, erased = _case_with_one_erased(scene_json, spec, seed, drop=drop, erase=erase)
    frames, fps = _through_h264(tmp_path / "c.mp4", rendered, spec.fps)
    return frames, _through_h264(tmp_path / "e.mp4", erased, spec.fps)[0], fps


def test_a_two_pixel_speck_washed_out_for_a_few_frames_does_not_blink_but_one_gone_for_a_second_does(tmp_path):
    # a rendered clip of the judge validation (seed 0, #201): through H.264 the small gray pyramid, 2 px across at
    # 64x64, is lost whole (no faint pixels either) for a frame here and there; the judge called it a blink
    spec = RenderSpec(width=64, height=64, fps=12.0, seconds=4.0)
    rendered, erased = _case_with_one_erased(_SPECK, spec, 201, drop=1, erase=slice(18, 30))
    frames, fps = _through_h264(tmp_path / "c.mp4", rendered, spec.fps)
    seen = jd.look(tr.prepare(frames, fps))
    gray = next(s for s in seen.objects if s.color == "gray")
    assert (np.diff(gray.frame) > 1).any()  # the codec loses it now and then ...
    assert jd.judge_consistency(seen).passed  # ... which is no blink
    # the speck erased for a second in the middle (those frames rendered without it) is a blink
    frames, fps = _through_h264(tmp_path / "e.mp4", erased, spec.fps)
    detail = jd.judge_consistency(jd.look(tr.prepare(frames, fps))).detail
    assert "gray" in detail and "blinks out" in detail


def test_colour_at_half_resolution_is_told_from_the_frames(tmp_path):
    from tenku.video import read_video, write_video
    from tenku.world.render import render

    scene = SceneSpec(objects=[ObjectSpec(shape="ball", color="red", size="medium", motion="rest", x=0.0)])
    spec = RenderSpec(width=96, height=96, fps=8.0, seconds=1.0)
    rendered = render(scene, spec, seed=0)
    assert not jd.chroma_halved(rendered)  # the renderer's own frames: full colour resolution
    frames, _ = read_video(write_video(tmp_path / "c.mp4", rendered, spec.fps))
    assert jd.chroma_halved(frames)  # H.264, yuv420p
    assert not jd.chroma_halved(np.full((3, 16, 16, 3), 128, np.uint8))  # flat: nothing to tell from


def _blob(frame: int, color: str, cx: float, cy: float, side: float) -> tr.Blob:
    h = side / 2
    return tr.Blob(
        frame=frame, color=tr.COLOR_NAMES.index(color), area=side * side, cx=cx, cy=cy, x0=int(cx - h), y0=int(cy - h),
        x1=int(cx + h), y1=int(cy + h), lab=np.zeros(3, np.float32), fill=1.0, compact=0.64, taper=1.0, elong=1.0,
        orient=0.0, edge=False,
    )


def test_a_small_coloured_object_washed_gray_keeps_its_track_and_its_gray_ring_is_no_object():
    # an orange speck crosses the sky; in frame 3 only its gray ring is left (its colour averaged away by video that
    # keeps one colour sample per 2x2 pixels), in frame 5 a gray ring hugs it; a gray can rests on the ground
    gray = tr.COLOR_NAMES.index("gray")
    frames = []
    for k in range(8):
        fb = [_blob(k, "gray", 100.0, 100.0, 7)]
        x = 20.0 + 6 * k
        fb += [_blob(k, "gray", x, 50.0, 9)] if k == 3 else [_blob(k, "orange", x, 50.0, 7)]
        if k == 5:
            fb.append(_blob(k, "gray", x, 56.0, 6))  # the ring's lower half, touching the speck
        frames.append(fb)
    washed = tr.link(frames, 128, 30.0, wash_into=gray, wash_px=14.0)
    orange = next(t for t in washed if t.color == tr.COLOR_NAMES.index("orange"))
    assert len(orange.blobs) == 8 and [b.washed for b in orange.blobs].count(True) == 1 and orange.blobs[3].washed
    can = next(t for t in washed if t.color == gray)
    assert len(can.blobs) == 8 and all(b.cy == 100.0 for b in can.blobs)  # no ring joined the can
    assert len(washed) == 2
    # in full-colour video nothing washes out: the gray ring is a gray sighting
    plain = tr.link(frames, 128, 30.0)
    assert len(next(t for t in plain if t.color == tr.COLOR_NAMES.index("orange")).blobs) == 7


_WASHED = (
    '{"camera": "zoom_out", "collisions": true, "objects": [{"color": "gray", "direction": "left", "friction": 0.57, '
    '"motion": "roll", "restitution": 0.75, "shape": "cylinder", "size": "small", "vx": -1.844, "vy": 0.0, '
    '"x": 1.143, "y": 0.0}, {"color": "orange", "direction": "none", "friction": 0.559, "motion": "orbit", '
    '"restitution": 0.75, "shape": "ball", "size": "small", "vx": 0.0, "vy": 0.0, "x": -1.659, "y": 0.398}], '
    '"occluders": [], "setting": "grass"}'
)


def test_a_gray_can_on_the_horizons_gray_line_is_followed_and_missed_once_erased(tmp_path):
    # the judge validation's seed 0, #279: through H.264 at 64x64 the line where blue sky meets green grass averages
    # to gray and swallowed a small gray can rolling along it, and the 4-px orange ball's gray rings took the can's
    # place: the can read as blinking out, and once erased halfway it was not missed
    spec = RenderSpec(width=64, height=64, fps=8.0, seconds=4.0)
    frames, erased, fps = _erased_through_h264(tmp_path, _WASHED, spec, 279, drop=0, erase=slice(16, None))
    report = jd.judge_video(frames, fps, "a small gray can rolls to the left and a small orange ball circles in the air on grass")
    assert report.passed, report.criteria
    detail = jd.judge_consistency(jd.look(tr.prepare(erased, fps))).detail
    assert "gray" in detail, detail


def test_a_throw_knocked_back_in_the_air_keeps_its_launch_speed():
    """Seed 0 clip 257: a can thrown at 1.9 m/s hit another 0.25 s into its clean arc and came back; the sideways
    speed is read up to the turn. A one-sighting arc has none."""
    t = np.arange(12) / 12
    x = np.where(t < 0.25, 1.9 * t, 1.9 * 0.25 - 1.0 * (t - 0.25))
    s = _seen(t, x, 1.0 + 3.0 * t - 4.905 * t**2)
    arc = np.arange(6)  # the first 0.42 s: out at 1.9 m/s, back at 1.0 m/s after 0.25 s
    assert jd._launch_vx(s, arc) == pytest.approx(1.9, abs=0.05)
    assert jd._launch_vx(s, arc[:1]) == 0.0


def _faint_scene(f: int, h: int = 20, w: int = 30) -> tuple[jd.Scene, np.ndarray, np.ndarray, np.ndarray]:
    """A hand-built scene with empty class, faint and occluder maps of f frames (filled in by the test)."""
    classes, faint = np.full((f, h, w), -1, np.int8), np.full((f, h, w), -1, np.int8)
    occluder = np.zeros((f, h, w), bool)
    scene = jd.Scene(clip=_clip(fps=10.0), objects=[], camera=_CAM, ground=0.0, occluder=occluder, faint=faint,
                     classes=classes, fragments=0)
    return scene, classes, faint, occluder


def _still_track(frames, x0: int = 4, y0: int = 6, side: int = 7) -> jd.Seen:
    s = _seen(np.asarray(frames) / 10, np.zeros(len(frames)), np.zeros(len(frames)))
    c = x0 + (side - 1) / 2
    blob = dict(color=0, area=float(side * side), cx=c, cy=y0 + (side - 1) / 2, x0=x0, y0=y0, x1=x0 + side - 1,
                y1=y0 + side - 1, lab=np.zeros(3, np.float32), fill=1.0, compact=0.7, taper=1.0, elong=1.0, orient=0.0,
                edge=False)
    s.track = tr.Track(color=0, blobs=[tr.Blob(frame=k, **blob) for k in frames])
    s.frame = np.asarray(frames)
    return s


def test_a_sliver_peeping_over_another_object_went_behind_it():
    # seed 0 clip 428: a 7-px white ball bounces behind a gray one; only its top shows faintly, then nothing. The
    # sliver's centre sits near the top of the ball's box, so the box around it is mostly sky; the ball itself,
    # lower down, is all behind the gray one
    scene, classes, faint, _ = _faint_scene(4)
    s = _still_track([0, 1])
    faint[2, 6:8, 4:11] = 0  # frame 2: a 2-row sliver, 14 faint pixels, at the top of its box
    classes[2, 8:20, 2:14] = classes[3, 8:20, 2:14] = 3  # the other object, from row 8 down
    assert jd._faint_follow(scene, s, 1, 1) == (2, True)
    classes[3] = -1  # the other object gone in frame 3: the sliver was the last of it, in the open
    assert jd._faint_follow(scene, s, 1, 1) == (2, False)


def test_one_frame_without_a_faint_object_between_two_with_it_is_no_end_and_no_blink():
    # seed 0 clips 381 and 281: a small object washed out by video coding shows faintly in four frames of five
    scene, classes, faint, _ = _faint_scene(7)
    speck = _still_track([0, 6], x0=6, y0=8, side=3)  # a 3x3 speck (2 input px^2)
    faint[[1, 2, 4, 5], 8:11, 6:9] = 0  # frame 3 shows nothing where it is
    assert jd._accounted_between(scene, speck, 0)
    faint[4] = -1  # two frames without it: it blinked out
    assert not jd._accounted_between(scene, speck, 0)
    faint[[1, 2, 4, 5], 6:13, 4:11] = 0
    faint[3] = -1
    big = _still_track([0, 6])  # a 7x7 object (12 input px^2) is no speck: one frame without it is a blink
    assert not jd._accounted_between(scene, big, 0)
    faint[4] = -1
    first = _still_track([0])
    assert jd._faint_follow(scene, first, 0, 1)[0] == 2  # followed to frame 2 only: 3 and 4 are empty
    faint[4, 6:13, 4:11] = 0
    # frame 3 shows background where it is: an erased object, not followed past it (seed 0 clip 279) ...
    assert jd._faint_follow(scene, first, 0, 1)[0] == 2
    faint[3, 6:13, 4:8] = 2  # ... but another object's mixed edge over half its box: it was under it
    assert jd._faint_follow(scene, first, 0, 1)[0] == 5  # over the one frame to the last faint one
    faint[3] = -1
    assert jd._faint_follow(scene, _still_track([0], x0=6, y0=8, side=3), 0, 1)[0] == 5  # a speck: on its own


def test_an_object_coming_out_beside_a_trunk_of_a_small_upscaled_clip_came_from_behind_it():
    # seed 0 clip 51, 64x64 worked at 2x: a pink can appears with four working pixels (two input ones) of the trunk's
    # dark, faint edge between it and the trunk
    scene, classes, _, occluder = _faint_scene(3)
    s = _still_track([1, 2], x0=12)
    s.near_occluder = np.zeros(2, bool)
    classes[1:, 6:13, 12:19] = 0
    occluder[:, :, :8] = True  # the trunk ends 4 px before the can's first column
    assert jd._hidden_edge(s, 0, scene, -1)
    occluder[:, :, 6:8] = False  # 6 px off (3 input pixels, beyond the mixed edge): it appeared in the open
    assert not jd._hidden_edge(s, 0, scene, -1)


def test_a_small_object_touching_colours_across_the_frame_from_a_big_one_is_no_rim_of_it():
    # seed 0 clip 391: a yellow can at night touches its own dark lid and sides in every frame and is far smaller
    # than a purple cube across the frame; a rim lies beside the object it rings
    def track(color: str, cx: float, side: float, touch: float) -> tr.Track:
        blobs = [_blob(k, color, cx, 20.0, side) for k in range(10)]
        for b in blobs:
            b.touch = touch
        return tr.Track(color=tr.COLOR_NAMES.index(color), blobs=blobs)

    cube, can = track("purple", 100.0, 24.0, 0.0), track("yellow", 20.0, 8.0, 0.6)
    assert not jd._fringe(can, [cube, can])
    rim = track("black", 100.0, 8.0, 1.0)  # a dark rim piece on the cube's side, two pixels thin
    for b in rim.blobs:
        b.y0, b.y1 = 32, 33
    assert jd._fringe(rim, [cube, rim])


def test_a_solid_object_flying_beside_a_bigger_one_is_no_rim_of_it():
    # seed 6 clip 241, 64x64 worked at 2x: a large purple ball in flight beside a large red cube touches it in
    # nearly every frame and shows under 2/3 of the cube's size (the cube hides part of it), but it is a solid
    # patch 5-8 input pixels each way, where the rims dropped on seed 0 were 2 px thin or hollow
    cube = tr.Track(color=tr.COLOR_NAMES.index("red"), blobs=[_blob(k, "red", 60.0 + k, 40.0, 26.0) for k in range(10)])
    ball = tr.Track(color=tr.COLOR_NAMES.index("purple"), blobs=[_blob(k, "purple", 40.0 + k, 42.0, 14.0) for k in range(10)])
    for b in ball.blobs:
        b.touch, b.fill = 0.3, 0.8
    assert not jd._fringe(ball, [cube, ball], scale=0.5)
    for b in ball.blobs:  # the same patch hollow (a ring of mixed colour): a rim
        b.fill = 0.4
    assert jd._fringe(ball, [cube, ball], scale=0.5)
    for b in ball.blobs:  # ... or solid but 3 input pixels thin
        b.fill, b.y0, b.y1 = 0.8, 40, 45
    assert jd._fringe(ball, [cube, ball], scale=0.5)


def test_the_ground_line_under_a_zoom_is_read_where_frame_0_has_it():
    # seed 0 clip 393: a room zooming in; the wall meets the floor lower in each frame, and a median over the first
    # eight frames put the line 3 px below frame 0's, so every object on the floor read 0.2 m up
    f, h, w = 8, 64, 64
    cam = tr.Camera.static(f, h, w)
    cam.s = 1.0 - 0.04 * np.arange(f)  # frame t -> frame 0 scale: zooming in
    lab = np.empty((f, h, w, 3), np.float32)
    rgb = np.zeros((f, h, w, 3), np.uint8)
    clip = tr.Clip(rgb=rgb, lab=lab, source=rgb, fps=8.0, scale=1.0, stride=1)
    g0 = round(clip.ground_row)
    for t in range(f):
        row = int(round(cam.from_frame0(t, g0)))
        lab[t, :row], lab[t, row:] = (54.0, -29.0, -1.0), (37.0, 17.0, 33.0)  # teal wall over a wooden floor
    classes = np.full((f, h, w), -1, np.int8)
    assert abs(jd._ground_row(clip, classes, cam) - g0) <= 1.0
    assert abs(jd._ground_row(clip, classes) - g0) > 1.0  # read over every frame, as before


def test_a_resting_pyramid_whose_mattes_swing_holds_its_apex_in_every_sighting():
    # seed 6 clips 69 and 167: resting 10-px pyramids through H.264; eight zoomed mattes' log tapers spread by
    # 0.46-0.59, more than `TURN_TAPER`, while their colour-cut sightings keep their apex; a spinning pyramid's
    # sightings swing (spread 1.05 and up on seeds 0 and 6)
    t = np.arange(20) / 10
    mattes = [0.2, 0.35, 0.22, 0.38, 0.2, 0.36, 0.21, 0.37]  # log spread about 0.55
    resting = _seen(t, np.zeros(20), np.zeros(20), "pyramid", fills=[0.55] * 8, tapers=mattes)
    for b in resting.track.blobs:
        b.taper = 0.3
    assert jd._rotates(resting) is False and jd.motion_matches(resting, "rest")[0]
    spinning = _seen(t, np.zeros(20), np.zeros(20), "pyramid", fills=[0.55] * 8, tapers=mattes)
    for k, b in enumerate(spinning.track.blobs):
        b.taper = [0.25, 0.6, 1.2, 0.5][k % 4]  # its sightings swing: the apex turns
    assert jd._rotates(spinning) is True and jd.motion_matches(spinning, "spin")[0]


def _scene_json(objects: list[dict], **scene) -> str:
    """A scene's JSON from its objects and scene-level fields."""
    return json.dumps({**scene, "objects": objects})


_PASSING = _scene_json(
    [
        dict(
            color="gray", shape="pyramid", size="small", motion="orbit", direction="none",
            x=-0.3, y=0.331, vx=0.0, vy=0.0, friction=0.624, restitution=0.75,
        ),
        dict(
            color="blue", shape="ball", size="medium", motion="spin", direction="none",
            x=-1.65, y=0.0, vx=0.0, vy=0.0, friction=0.527, restitution=0.75,
        ),
        dict(
            color="purple", shape="pyramid", size="medium", motion="fall", direction="none",
            x=1.506, y=2.244, vx=0.0, vy=0.0, friction=0.626, restitution=0.465,
        ),
        dict(
            color="red", shape="pyramid", size="small", motion="throw", direction="left",
            x=1.581, y=0.274, vx=-1.944, vy=4.854, friction=0.663, restitution=0.565,
        ),
    ],
    camera="zoom_out", collisions=False, occluders=[], setting="grass",
)


def test_an_object_erased_as_it_passes_another_one_never_comes_back_out(tmp_path):
    # the judge validation's seed 6, #213, 128x72 through H.264: a small red pyramid thrown left is erased at 1.6 s
    # as it passes a blue ball; its track ends touching the ball and covered by it, as if it went behind it, but at
    # 1.9 m/s it should have come out the other side long before the clip ends
    spec = RenderSpec(width=128, height=72, fps=8.0, seconds=4.0)
    frames, erased, fps = _erased_through_h264(tmp_path, _PASSING, spec, 213, drop=3, erase=slice(13, None))
    assert jd.judge_consistency(jd.look(tr.prepare(frames, fps), "zoom_out")).passed
    detail = jd.judge_consistency(jd.look(tr.prepare(erased, fps), "zoom_out")).detail
    assert "red pyramid goes behind another object" in detail, detail


def test_an_object_erased_behind_an_occluder_never_comes_back_out(tmp_path):
    # a red ball rolling right at 3 m/s goes behind a 1 m wall at 0.8 s and is erased from then on: it should have
    # come out the other side within a second; the same clip unerased passes (it does come out)
    scene = _scene_json(
        [
            dict(color="red", shape="ball", size="medium", motion="roll", direction="right",
                 x=-2.5, y=0.0, vx=3.0, vy=0.0, friction=0.55, restitution=0.75),
            dict(color="blue", shape="cube", size="medium", motion="rest", direction="none",
                 x=2.2, y=0.0, vx=0.0, vy=0.0, friction=0.6, restitution=0.75),
        ],
        camera="static", collisions=False, occluders=[dict(kind="wall", width=1.0, x=0.0)], setting="grass",
    )
    spec = RenderSpec(width=128, height=72, fps=12.0, seconds=4.0)
    frames, erased, fps = _erased_through_h264(tmp_path, scene, spec, 5, drop=0, erase=slice(11, None))
    assert jd.judge_consistency(jd.look(tr.prepare(frames, fps))).passed
    seen = jd.look(tr.prepare(erased, fps))
    red = next(s for s in seen.objects if s.color == "red")
    assert red.near_occluder[-1]  # its track ends at the wall, as if it went behind it ...
    detail = jd.judge_consistency(seen).detail
    assert "red ball goes behind an occluder at 0.8 s and never comes back" in detail, detail  # ... for good


def test_an_object_erased_while_resting_half_behind_another_vanishes_in_place(tmp_path):
    # the judge validation's seed 10, #135, 128x72 through H.264: a large yellow can lands half behind a red cube
    # and is erased from 2.1 s on; its track ends shrunk and touching the cube, as if it went behind it, but
    # neither moved: it cannot have slid out of sight in one frame
    scene = _scene_json(
        [
            dict(color="yellow", shape="cylinder", size="large", motion="fall", direction="left",
                 x=0.694, y=1.999, vx=-0.401, vy=0.0, friction=0.63, restitution=0.545),
            dict(color="pink", shape="cube", size="medium", motion="roll", direction="right",
                 x=-1.856, y=0.0, vx=2.085, vy=0.0, friction=0.631, restitution=0.75),
            dict(color="red", shape="cube", size="large", motion="bounce", direction="none",
                 x=-0.675, y=0.0, vx=0.0, vy=4.221, friction=0.592, restitution=0.71),
        ],
        camera="zoom_out", collisions=False, occluders=[], setting="grass",
    )
    spec = RenderSpec(width=128, height=72, fps=8.0, seconds=4.0)
    frames, erased, fps = _erased_through_h264(tmp_path, scene, spec, 135, drop=0, erase=slice(17, None))
    assert jd.judge_consistency(jd.look(tr.prepare(frames, fps), "zoom_out")).passed
    seen = jd.look(tr.prepare(erased, fps), "zoom_out")
    yellow = next(s for s in seen.objects if s.color == "yellow")
    assert jd._hidden_edge(yellow, len(yellow.frame) - 1, seen, 1, last=True)  # it reads as gone behind the cube ...
    detail = jd.judge_consistency(seen).detail
    assert "yellow cylinder vanishes in place at 2.0 s" in detail, detail  # ... but nothing moved over it


def test_a_pale_horizon_is_no_faint_trace_of_an_erased_object(tmp_path):
    # seed 10, #123, 64x64 through H.264: a large gray can resting on the horizon is erased at 1.5 s; the pale sky
    # at the horizon reads faint gray in a 1-px line across the whole search window, which the judge followed as
    # the can "still there, faintly" to the clip's end
    scene = _scene_json(
        [
            dict(color="gray", shape="cylinder", size="large", motion="rest", direction="none",
                 x=-0.803, y=0.0, vx=0.0, vy=0.0, friction=0.56, restitution=0.75),
            dict(color="blue", shape="ball", size="medium", motion="rest", direction="none",
                 x=1.8, y=0.0, vx=0.0, vy=0.0, friction=0.56, restitution=0.75),  # a scene keeps one object
        ],
        camera="static", collisions=True, occluders=[], setting="grass",
    )
    spec = RenderSpec(width=64, height=64, fps=10.0, seconds=4.0)
    frames, erased, fps = _erased_through_h264(tmp_path, scene, spec, 123, drop=0, erase=slice(15, None))
    assert jd.judge_consistency(jd.look(tr.prepare(frames, fps))).passed
    detail = jd.judge_consistency(jd.look(tr.prepare(erased, fps))).detail
    assert "gray cylinder vanishes out of nowhere at 1.4 s" in detail, detail


def test_a_thin_line_across_the_faint_window_is_stripped_but_what_stands_on_it_stays():
    # seed 0 clip 471 through H.264: a small gray pyramid's faint pixels stand on the horizon's faint gray line,
    # which runs across the whole search window; the line goes, the pyramid stays
    mask = np.zeros((12, 40), bool)
    mask[10, :] = True  # the horizon, 1 px high, across the window
    for r, (a, b) in zip(range(5, 10), [(22, 23), (21, 24), (21, 25), (20, 26), (20, 26)]):
        mask[r, a:b] = True  # the pyramid on it
    lines = jd._faint_lines(mask, 40.0, 12.0)
    assert lines[10].all() and not lines[:10].any()
    thick = np.zeros((12, 40), bool)
    thick[2:10, :] = True  # 8 rows of 12 across the window: no thin line, a faint object filling it
    assert not jd._faint_lines(thick, 40.0, 12.0).any()


# --- round 15: the judge validation's seed 13 ------------------------------------------------------------------------

_SEED13 = {
    314: '{"camera": "static", "collisions": true, "objects": [{"color": "purple", "direction": "none", "friction": '
    '0.563, "motion": "spin", "restitution": 0.75, "shape": "cube", "size": "large", "vx": 0.0, "vy": 0.0, "x": 3.091, '
    '"y": 0.0}], "occluders": [], "setting": "beach"}',
    331: '{"camera": "static", "collisions": false, "objects": [{"color": "purple", "direction": "none", "friction": '
    '0.576, "motion": "orbit", "restitution": 0.75, "shape": "cylinder", "size": "small", "vx": 0.0, "vy": 0.0, "x": '
    '-0.613, "y": 0.117}, {"color": "red", "direction": "none", "friction": 0.559, "motion": "rest", "restitution": '
    '0.75, "shape": "ball", "size": "medium", "vx": 0.0, "vy": 0.0, "x": 2.08, "y": 0.0}, {"color": "blue", '
    '"direction": "left", "friction": 0.683, "motion": "fall", "restitution": 0.471, "shape": "pyramid", "size": '
    '"medium", "vx": -0.44, "vy": 0.0, "x": 1.048, "y": 2.473}, {"color": "green", "direction": "none", "friction": '
    '0.699, "motion": "spin", "restitution": 0.75, "shape": "ball", "size": "large", "vx": 0.0, "vy": 0.0, "x": '
    '-2.617, "y": 0.0}], "occluders": [{"kind": "tree", "width": 1.637, "x": 1.174}], "setting": "night"}',
    450: '{"camera": "pan_left", "collisions": true, "objects": [{"color": "orange", "direction": "none", "friction": '
    '0.524, "motion": "orbit", "restitution": 0.75, "shape": "cube", "size": "medium", "vx": 0.0, "vy": 0.0, "x": '
    '-3.228, "y": 0.299}, {"color": "purple", "direction": "none", "friction": 0.648, "motion": "spin", "restitution": '
    '0.75, "shape": "ball", "size": "medium", "vx": 0.0, "vy": 0.0, "x": -4.081, "y": 0.0}, {"color": "black", '
    '"direction": "none", "friction": 0.588, "motion": "rest", "restitution": 0.75, "shape": "ball", "size": "large", '
    '"vx": 0.0, "vy": 0.0, "x": 1.74, "y": 0.0}, {"color": "blue", "direction": "right", "friction": 0.602, "motion": '
    '"bounce", "restitution": 0.769, "shape": "pyramid", "size": "small", "vx": 0.789, "vy": 5.745, "x": -2.361, '
    '"y": 0.0}], "occluders": [], "setting": "studio"}',
    236: '{"camera": "static", "collisions": false, "objects": [{"color": "white", "direction": "right", "friction": '
    '0.56, "motion": "bounce", "restitution": 0.796, "shape": "ball", "size": "large", "vx": 0.952, "vy": 5.083, "x": '
    '-2.12, "y": 0.0}, {"color": "blue", "direction": "left", "friction": 0.597, "motion": "bounce", "restitution": '
    '0.707, "shape": "pyramid", "size": "medium", "vx": -0.651, "vy": 5.748, "x": 2.434, "y": 0.0}, {"color": "yellow", '
    '"direction": "none", "friction": 0.523, "motion": "rest", "restitution": 0.75, "shape": "pyramid", "size": '
    '"medium", "vx": 0.0, "vy": 0.0, "x": 1.516, "y": 0.0}, {"color": "purple", "direction": "none", "friction": 0.649, '
    '"motion": "rest", "restitution": 0.75, "shape": "ball", "size": "large", "vx": 0.0, "vy": 0.0, "x": -0.642, "y": '
    '0.0}], "occluders": [], "setting": "grass"}',
    67: '{"camera": "pan_right", "collisions": true, "objects": [{"color": "pink", "direction": "left", "friction": '
    '0.662, "motion": "throw", "restitution": 0.501, "shape": "cylinder", "size": "small", "vx": -2.102, "vy": 5.2, '
    '"x": 4.027, "y": 0.508}, {"color": "purple", "direction": "left", "friction": 0.537, "motion": "throw", '
    '"restitution": 0.494, "shape": "cube", "size": "large", "vx": -1.65, "vy": 5.368, "x": 3.107, "y": 0.536}], '
    '"occluders": [], "setting": "room"}',
}


def _validation_clip(table: dict[int, str], i: int, spec: RenderSpec, tmp_path=None) -> tuple[SceneSpec, np.ndarray, float]:
    """Clip i of a judge validation seed whose scenes `table` holds: (scene, frames, fps), through H.264 when
    `tmp_path` is given."""
    from tenku.world.render import render

    scene = SceneSpec.from_json(table[i])
    frames = render(scene, spec, seed=i)
    if tmp_path is None:
        return scene, frames, spec.fps
    return (scene, *_through_h264(tmp_path / f"{i}.mp4", frames, spec.fps))


def _seed13(i: int, spec: RenderSpec, tmp_path=None) -> tuple[SceneSpec, np.ndarray, float]:
    """Seed 13 clip i of the judge validation (`_validation_clip`)."""
    return _validation_clip(_SEED13, i, spec, tmp_path)


def test_a_spin_in_place_played_in_order_repeats_its_outline_and_one_shuffled_does_not():
    # seed 13 clip 314: a large cube spinning in place on a beach, its frames shuffled; nothing travels, so no path
    # is rough, and each frame shows the cube at some turn, so only the order of the turns tells
    scene, frames, fps = _seed13(314, RenderSpec(width=96, height=96, fps=10.0, seconds=4.0))
    shuffled = frames[np.random.default_rng(0).permutation(len(frames))]
    seen = jd.look(tr.prepare(frames, fps))
    assert jd._turn_order(seen, seen.objects[0]) > 2 * jd.TURN_ORDER_Z
    assert jd.judge_query(frames, fps, _query_of(scene)).criterion("consistency").passed
    bad = jd.judge_query(shuffled, fps, _query_of(scene)).criterion("consistency")
    assert not bad.passed and "turns in no order" in bad.detail
    # an object whose outline does not turn is not asked to: a ball's never changes
    from tenku.world.render import render

    ball = jd.look(tr.prepare(render(SceneSpec(objects=[one("ball", "purple", "spin", "none", x=1.0)], setting="beach"),
                                     RenderSpec(width=96, height=96, fps=10.0, seconds=4.0), seed=0), 10.0))
    assert jd._turn_order(ball, ball.objects[0]) is None


def test_a_fall_beside_a_tree_played_backwards_leaps_from_rest_though_its_bottom_never_shows(tmp_path):
    # seed 13 clip 331: a pyramid dropped beside a tree, next to its trunk all clip (so its bottom is never "seen"),
    # played backwards: it lies still, slides off and leaps 2 m up. Its readings on the ground are on the ground
    # (a hidden lower part only raises them) and its top less its size bounds how high it went
    scene, frames, fps = _seed13(331, RenderSpec(width=128, height=72, fps=8.0, seconds=4.0), tmp_path)
    query = _query_of(scene)
    assert jd.judge_query(frames, fps, query).criterion("physics").passed
    back = jd.judge_query(frames[::-1].copy(), fps, query).criterion("physics")
    assert not back.passed and "leaps" in back.detail


def test_an_object_flying_out_through_the_frames_edge_leaves_it_rather_than_vanishes():
    # seed 13 clip 450: a small pyramid bouncing out at the right at 6 px a frame; its last whole sighting stops a
    # pixel short of the edge and the next frame's sliver is no object
    scene, frames, fps = _seed13(450, RenderSpec(width=128, height=72, fps=8.0, seconds=4.0))
    consistency = jd.judge_query(frames, fps, _query_of(scene)).criterion("consistency")
    assert consistency.passed, consistency.detail
    # the same pyramid erased in mid-frame still vanishes
    from dataclasses import replace

    from tenku.world.render import render_trajectory

    spec = RenderSpec(width=128, height=72, fps=8.0, seconds=4.0)
    traj = simulate(scene, spec)
    without = SceneSpec.from_json(scene.to_json())
    without.objects = without.objects[:3]
    keep = [0, 1, 2]
    sub = replace(traj, **{k: getattr(traj, k)[keep] for k in ("x", "y", "angle", "vx", "vy", "visible", "cover", "size")})
    erased = frames.copy()
    erased[10:] = render_trajectory(without, spec, sub)[10:]
    assert not jd.judge_query(erased, fps, _query_of(scene)).criterion("consistency").passed


def test_the_direction_of_an_object_thrown_against_another_is_where_it_set_off(tmp_path):
    # seed 13 clip 67: a small can thrown to the left side by side with a large cube, touching it from the first
    # frame until the cube knocks it back to the right; its first clean sighting is after the knock
    scene, frames, fps = _seed13(67, RenderSpec(width=96, height=96, fps=8.0, seconds=4.0), tmp_path)
    motion = jd.judge_query(frames, fps, _query_of(scene)).criterion("motion")
    assert motion.passed, motion.detail


def test_objects_hidden_from_clean_view_most_of_the_time_still_may_not_leap_to_and_fro():
    # seed 13 clip 236, shuffled: two bouncing objects overlapped by their neighbours in all but a few frames, so no
    # clean stretch is long enough for the path's roughness; every sighting shows them leaping 1-3 m a frame to and fro
    scene, frames, fps = _seed13(236, RenderSpec(width=128, height=72, fps=8.0, seconds=4.0))
    seen = jd.look(tr.prepare(frames, fps))
    assert all(jd._teleports(s) == 0 for s in seen.objects)
    assert jd.judge_query(frames, fps, _query_of(scene)).criterion("consistency").passed
    shuffled = frames[np.random.default_rng(0).permutation(len(frames))]
    bad = jd.judge_query(shuffled, fps, _query_of(scene)).criterion("consistency")
    assert not bad.passed and "leaps back and forth" in bad.detail


# --- round 16: the judge validation's seed 15 ------------------------------------------------------------------------

_SEED15 = {
    6: '{"camera": "zoom_out", "collisions": false, "objects": [{"color": "orange", "direction": "left", "friction": '
    '0.631, "motion": "bounce", "restitution": 0.72, "shape": "cylinder", "size": "medium", "vx": -0.701, "vy": '
    '4.704, "x": 1.522, "y": 0.0}, {"color": "black", "direction": "left", "friction": 0.632, "motion": "fall", '
    '"restitution": 0.462, "shape": "cylinder", "size": "large", "vx": -0.55, "vy": 0.0, "x": 1.189, "y": 2.069}, '
    '{"color": "green", "direction": "none", "friction": 0.545, "motion": "fall", "restitution": 0.529, "shape": '
    '"ball", "size": "medium", "vx": 0.0, "vy": 0.0, "x": -0.911, "y": 2.116}], "occluders": [], "setting": "night"}',
    194: '{"camera": "static", "collisions": false, "objects": [{"color": "pink", "direction": "right", "friction": 0.572,'
    ' "motion": "throw", "restitution": 0.459, "shape": "pyramid", "size": "large", "vx": 1.736, "vy": 4.534, "x": '
    '-2.492, "y": 0.519}, {"color": "purple", "direction": "none", "friction": 0.53, "motion": "bounce", '
    '"restitution": 0.818, "shape": "ball", "size": "medium", "vx": 0.0, "vy": 5.554, "x": -1.531, "y": 0.0}], '
    '"occluders": [], "setting": "studio"}',
    140: '{"camera": "static", "collisions": false, "objects": [{"color": "gray", "direction": "none", "friction": 0.659, '
    '"motion": "fall", "restitution": 0.525, "shape": "ball", "size": "large", "vx": 0.0, "vy": 0.0, "x": 2.186, "y":'
    ' 2.117}, {"color": "pink", "direction": "right", "friction": 0.513, "motion": "roll", "restitution": 0.75, '
    '"shape": "ball", "size": "large", "vx": 1.94, "vy": 0.0, "x": -3.016, "y": 0.0}, {"color": "yellow", '
    '"direction": "none", "friction": 0.535, "motion": "rest", "restitution": 0.75, "shape": "pyramid", "size": '
    '"medium", "vx": 0.0, "vy": 0.0, "x": 2.662, "y": 0.0}], "occluders": [{"kind": "wall", "width": 1.53, "x": '
    '-1.763}], "setting": "grass"}',
    431: '{"camera": "zoom_out", "collisions": true, "objects": [{"color": "pink", "direction": "right", "friction": '
    '0.655, "motion": "float", "restitution": 0.75, "shape": "cylinder", "size": "large", "vx": 0.35, "vy": 0.0, "x":'
    ' -0.74, "y": 0.271}, {"color": "purple", "direction": "none", "friction": 0.544, "motion": "spin", '
    '"restitution": 0.75, "shape": "ball", "size": "medium", "vx": 0.0, "vy": 0.0, "x": 1.256, "y": 0.0}], '
    '"occluders": [{"kind": "tree", "width": 1.685, "x": -2.424}], "setting": "night"}',
    479: '{"camera": "static", "collisions": true, "objects": [{"color": "green", "direction": "none", "friction": 0.596, '
    '"motion": "orbit", "restitution": 0.75, "shape": "cube", "size": "large", "vx": 0.0, "vy": 0.0, "x": -1.309, '
    '"y": 0.397}, {"color": "blue", "direction": "left", "friction": 0.615, "motion": "throw", "restitution": 0.484, '
    '"shape": "cylinder", "size": "medium", "vx": -1.751, "vy": 4.651, "x": 3.04, "y": 0.301}, {"color": "yellow", '
    '"direction": "none", "friction": 0.677, "motion": "orbit", "restitution": 0.75, "shape": "cube", "size": '
    '"medium", "vx": 0.0, "vy": 0.0, "x": 1.338, "y": 0.238}, {"color": "white", "direction": "right", "friction": '
    '0.577, "motion": "throw", "restitution": 0.586, "shape": "cylinder", "size": "small", "vx": 1.741, "vy": 5.236, '
    '"x": -3.13, "y": 0.339}], "occluders": [], "setting": "night"}',
}


def _seed15(i: int, spec: RenderSpec, tmp_path=None) -> tuple[SceneSpec, np.ndarray, float]:
    """Seed 15 clip i of the judge validation (`_validation_clip`)."""
    return _validation_clip(_SEED15, i, spec, tmp_path)


def test_a_bounce_that_lands_behind_a_larger_object_for_good_has_its_other_hops_hidden_not_missing():
    # seed 15 clip 6: a can bounces once, then a large can that falls in front of it (no collisions) hides it to the
    # clip's end; one hop seen, the rest behind the other object, as behind a tree
    scene, frames, fps = _seed15(6, RenderSpec(width=64, height=64, fps=10.0, seconds=4.0))
    seen = jd.look(tr.prepare(frames, fps), camera_hint="zoom_out")
    can = next(s for s in seen.objects if s.color == "orange")
    behind = jd._behind_at_end(seen, can)
    assert behind >= jd.HIDDEN_HOP_S
    assert not jd.motion_matches(can, "bounce")[0] and jd.motion_matches(can, "bounce", behind)[0]
    motion = jd.judge_query(frames, fps, _query_of(scene)).criterion("motion")
    assert motion.passed, motion.detail


def test_a_throw_seen_high_beside_another_object_is_high():
    # seed 15 clip 194: a large pyramid thrown 1.6 m high past a bouncing ball, apart from it only at launch and
    # after landing; its bottom shows beside the ball on the way up
    scene, frames, fps = _seed15(194, RenderSpec(width=64, height=64, fps=10.0, seconds=4.0))
    seen = jd.look(tr.prepare(frames, fps))
    pyramid = next(s for s in seen.objects if s.color == "pink")
    apart = pyramid.track.series("touch") == 0
    early = pyramid.t < 1.0
    assert not (apart & early & (pyramid.bottom > 0.6)).any()  # apart from the ball it is never seen high early on
    ok, why = jd.motion_matches(pyramid, "throw")
    assert ok, why
    assert jd.judge_query(frames, fps, _query_of(scene)).criterion("motion").passed


def test_a_walls_pixels_are_no_background_in_a_silhouettes_matte():
    # seed 15 clip 140: a pink ball rolls past a brick wall, which filled most of its rows in the matte's crop, so the
    # sky beside the ball read as pink (from brick, the sky lies towards pink) and the outline as a wide cube's
    scene, frames, fps = _seed15(140, RenderSpec(width=96, height=96, fps=12.0, seconds=4.0))
    clip = tr.prepare(frames, fps)
    seen = jd.look(clip)
    ball = next(s for s in seen.objects if s.color == "pink")
    assert ball.shape == "ball"
    blob = next(b for b in ball.track.blobs if b.frame == 26)
    plain, screened = tr.silhouette(clip, blob), tr.silhouette(clip, blob, occluder=seen.occluder[26])
    assert plain.width * plain.px > 1.4 * screened.width * screened.px
    assert abs(screened.width - screened.height) <= 0.1 * screened.width  # round: as wide as tall
    assert jd.judge_query(frames, fps, _query_of(scene)).criterion("objects").passed


def test_an_unprompted_track_never_in_open_view_is_not_held_to_rest_then_leap(tmp_path):
    # seed 15 clip 431: at night the tree's dark shading is followed as small black objects beside it, never in
    # open view, their bottoms jumping about with the tree's outline
    scene, frames, fps = _seed15(431, RenderSpec(width=96, height=96, fps=12.0, seconds=4.0), tmp_path)
    seen = jd.look(tr.prepare(frames, fps), camera_hint="zoom_out")
    ghosts = [s for s in seen.objects if s.color == "black"]
    assert ghosts and not any(s.open_view.any() for s in ghosts)
    assert any(jd._jumps_from_rest(s, seen.objects) is not None for s in ghosts)  # the rule alone would fail it
    physics = jd.judge_query(frames, fps, _query_of(scene)).criterion("physics")
    assert physics.passed, physics.detail


def test_a_kick_from_above_into_the_ground_may_send_an_object_higher(tmp_path):
    # seed 15 clip 479: a can thrown left hits a small can from above just as it lands; it flies back to the left
    # 1.2 m high, higher than its hop before
    scene, frames, fps = _seed15(479, RenderSpec(width=96, height=96, fps=12.0, seconds=4.0), tmp_path)
    physics = jd.judge_query(frames, fps, _query_of(scene)).criterion("physics")
    assert physics.passed, physics.detail


_SEED16 = {  # the judge validation's seed 16, by clip
    177: '{"camera": "static", "collisions": false, "objects": [{"color": "blue", "direction": "none", "friction": 0.605, '
    '"motion": "fall", "restitution": 0.562, "shape": "cylinder", "size": "large", "vx": 0.0, "vy": 0.0, "x": 0.011, '
    '"y": 2.454}, {"color": "green", "direction": "right", "friction": 0.586, "motion": "fall", "restitution": 0.536,'
    ' "shape": "ball", "size": "medium", "vx": 0.68, "vy": 0.0, "x": -1.519, "y": 2.347}, {"color": "yellow", '
    '"direction": "left", "friction": 0.573, "motion": "bounce", "restitution": 0.808, "shape": "ball", "size": '
    '"medium", "vx": -0.607, "vy": 4.344, "x": 1.384, "y": 0.0}, {"color": "white", "direction": "none", "friction": '
    '0.61, "motion": "fall", "restitution": 0.514, "shape": "cube", "size": "medium", "vx": 0.0, "vy": 0.0, "x": '
    '2.455, "y": 2.339}], "occluders": [], "setting": "studio"}',
}


def test_an_object_erased_in_front_of_another_vanishes_in_place_though_the_other_shows_more(tmp_path):
    # the judge validation's seed 16, #177, 128x72 through H.264: a green ball comes to rest in front of a large can
    # that has just landed, and is erased from 2.9 s on. The can's centre jumps 7 px as more of it shows where the
    # ball was, which read as the can moving over the ball; as it moved into the frame before, it was still
    spec = RenderSpec(width=128, height=72, fps=12.0, seconds=4.0)
    frames, erased, fps = _erased_through_h264(tmp_path, _SEED16[177], spec, 177, drop=1, erase=slice(35, None))
    assert jd.judge_consistency(jd.look(tr.prepare(frames, fps))).passed
    detail = jd.judge_consistency(jd.look(tr.prepare(erased, fps))).detail
    assert "green ball vanishes in place" in detail, detail


_SEED17 = {  # the judge validation's seed 17, by clip
    61: '{"camera": "pan_left", "collisions": true, "objects": [{"color": "gray", "direction": "right", "friction": '
    '0.674, "motion": "bounce", "restitution": 0.803, "shape": "pyramid", "size": "large", "vx": 0.664, "vy": 4.741, '
    '"x": -3.118, "y": 0.0}, {"color": "blue", "direction": "left", "friction": 0.505, "motion": "throw", '
    '"restitution": 0.47, "shape": "ball", "size": "medium", "vx": -2.453, "vy": 5.087, "x": 2.21, "y": 0.513}, '
    '{"color": "black", "direction": "right", "friction": 0.569, "motion": "float", "restitution": 0.75, "shape": '
    '"pyramid", "size": "medium", "vx": 0.365, "vy": 0.0, "x": -1.656, "y": 0.153}, {"color": "purple", "direction": '
    '"none", "friction": 0.595, "motion": "float", "restitution": 0.75, "shape": "pyramid", "size": "medium", "vx": '
    '0.0, "vy": 0.0, "x": -0.236, "y": 0.219}], "occluders": [], "setting": "grass"}',
    62: '{"camera": "static", "collisions": true, "objects": [{"color": "purple", "direction": "right", "friction": '
    '0.525, "motion": "fall", "restitution": 0.59, "shape": "cylinder", "size": "small", "vx": 0.536, "vy": 0.0, "x": '
    '-0.807, "y": 2.198}, {"color": "white", "direction": "right", "friction": 0.621, "motion": "bounce", '
    '"restitution": 0.722, "shape": "cylinder", "size": "small", "vx": 0.741, "vy": 5.072, "x": -2.872, "y": 0.0}], '
    '"occluders": [{"kind": "wall", "width": 1.397, "x": -1.556}], "setting": "beach"}',
    58: '{"camera": "static", "collisions": false, "objects": [{"color": "purple", "direction": "none", "friction": '
    '0.597, "motion": "rest", "restitution": 0.75, "shape": "cube", "size": "small", "vx": 0.0, "vy": 0.0, "x": 0.077, '
    '"y": 0.0}, {"color": "white", "direction": "right", "friction": 0.509, "motion": "roll", "restitution": 0.75, '
    '"shape": "pyramid", "size": "small", "vx": 2.081, "vy": 0.0, "x": -1.442, "y": 0.0}, {"color": "red", '
    '"direction": "right", "friction": 0.669, "motion": "throw", "restitution": 0.585, "shape": "cube", "size": '
    '"small", "vx": 2.147, "vy": 4.815, "x": -2.899, "y": 0.437}, {"color": "gray", "direction": "left", "friction": '
    '0.66, "motion": "fall", "restitution": 0.49, "shape": "cube", "size": "large", "vx": -0.526, "vy": 0.0, "x": '
    '2.107, "y": 2.367}], "occluders": [], "setting": "room"}',
    98: '{"camera": "static", "collisions": false, "objects": [{"color": "orange", "direction": "none", "friction": '
    '0.69, "motion": "rest", "restitution": 0.75, "shape": "cylinder", "size": "large", "vx": 0.0, "vy": 0.0, "x": '
    '0.23, "y": 0.0}, {"color": "gray", "direction": "left", "friction": 0.611, "motion": "bounce", "restitution": '
    '0.804, "shape": "cube", "size": "small", "vx": -0.857, "vy": 4.372, "x": 2.437, "y": 0.0}, {"color": "black", '
    '"direction": "right", "friction": 0.615, "motion": "bounce", "restitution": 0.721, "shape": "ball", "size": '
    '"medium", "vx": 0.602, "vy": 5.172, "x": -1.857, "y": 0.0}], "occluders": [{"kind": "wall", "width": 1.575, '
    '"x": 1.084}], "setting": "beach"}',
    398: '{"camera": "zoom_out", "collisions": true, "objects": [{"color": "green", "direction": "right", "friction": '
    '0.654, "motion": "float", "restitution": 0.75, "shape": "pyramid", "size": "small", "vx": 0.447, "vy": 0.0, "x": '
    '-0.499, "y": 0.208}, {"color": "yellow", "direction": "right", "friction": 0.598, "motion": "fall", '
    '"restitution": 0.534, "shape": "ball", "size": "medium", "vx": 0.575, "vy": 0.0, "x": -1.287, "y": 2.139}, '
    '{"color": "white", "direction": "right", "friction": 0.602, "motion": "bounce", "restitution": 0.779, "shape": '
    '"ball", "size": "small", "vx": 0.859, "vy": 5.026, "x": -1.98, "y": 0.0}], "occluders": [], "setting": "grass"}',
    474: '{"camera": "zoom_in", "collisions": false, "objects": [{"color": "red", "direction": "left", "friction": '
    '0.679, "motion": "fall", "restitution": 0.581, "shape": "ball", "size": "small", "vx": -0.49, "vy": 0.0, "x": '
    '1.321, "y": 2.089}, {"color": "pink", "direction": "left", "friction": 0.577, "motion": "fall", "restitution": '
    '0.533, "shape": "cylinder", "size": "large", "vx": -0.553, "vy": 0.0, "x": 0.686, "y": 2.516}, {"color": '
    '"orange", "direction": "right", "friction": 0.517, "motion": "throw", "restitution": 0.457, "shape": "cylinder", '
    '"size": "large", "vx": 1.772, "vy": 4.74, "x": -2.023, "y": 0.215}], "occluders": [{"kind": "tree", "width": '
    '2.014, "x": 1.26}], "setting": "room"}',
}


def test_a_fall_knocked_back_sets_off_the_way_it_drifted_above_the_frames_top():
    # seed 17 clip 398: a ball dropped from above the frame drifting right is hit by a bouncing ball 0.33 s in and
    # knocked left; its drift before the hit shows only in sightings cut by the frame's top edge
    scene, frames, fps = _validation_clip(_SEED17, 398, RenderSpec(width=128, height=72, fps=12.0, seconds=4.0))
    seen = jd.look(tr.prepare(frames, fps), camera_hint="zoom_out")
    ball = next(s for s in seen.objects if s.color == "yellow")
    assert jd.direction_of(ball, seen.objects)[0] == "right"
    ball.x_seen = None  # clean sightings alone: the knock back is the first move seen
    assert jd.direction_of(ball, seen.objects)[0] == "left"
    motion = jd.judge_query(frames, fps, _query_of(scene)).criterion("motion")
    assert motion.passed, motion.detail


def test_a_fall_behind_a_tree_seen_only_once_it_rolls_out_is_a_fall(monkeypatch):
    # seed 17 clip 474: a small ball dropped behind a tree shows first 1.8 s in, rolling out at its foot
    scene, frames, fps = _validation_clip(_SEED17, 474, RenderSpec(width=96, height=96, fps=10.0, seconds=4.0))
    motion = jd.judge_query(frames, fps, _query_of(scene)).criterion("motion")
    assert motion.passed, motion.detail
    monkeypatch.setattr(jd, "HIDDEN_FALL_S", 10.0)
    motion = jd.judge_query(frames, fps, _query_of(scene)).criterion("motion")
    assert not motion.passed and "small red ball: not a fall" in motion.detail


def test_a_resting_object_never_clean_is_not_raised_by_a_ball_rolling_in_front_of_it():
    # seed 17 clip 98: a can resting beside a wall all clip; a ball rolls in front of its foot and what shows of the
    # can reads 0.7 m up. Its sightings with nothing over it lie still on the ground
    scene, frames, fps = _validation_clip(_SEED17, 98, RenderSpec(width=128, height=72, fps=8.0, seconds=4.0))
    seen = jd.look(tr.prepare(frames, fps))
    can = next(s for s in seen.objects if s.color == "orange")
    assert can.clean.sum() < 3 and np.ptp(can.bottom) > 0.5
    assert jd.motion_matches(can, "rest")[0]
    motion = jd.judge_query(frames, fps, _query_of(scene)).criterion("motion")
    assert motion.passed, motion.detail


def test_an_object_sliding_behind_another_is_accounted_for_where_friction_kept_it(monkeypatch):
    # seed 17 clip 58: a pyramid slides right 1 s behind a cube thrown the same way, slowing as it goes, so its
    # linear place in the gap runs ahead of where the cube hides it
    scene, frames, fps = _validation_clip(_SEED17, 58, RenderSpec(width=96, height=96, fps=12.0, seconds=4.0))
    assert jd.judge_consistency(jd.look(tr.prepare(frames, fps))).passed
    monkeypatch.setattr(jd, "GAP_SLACK", 0.0)
    detail = jd.judge_consistency(jd.look(tr.prepare(frames, fps))).detail
    assert "white pyramid blinks out" in detail, detail


def test_a_bounce_seen_going_behind_a_wall_and_coming_out_has_its_other_hops_hidden():
    # seed 17 clip 62: a can's first arc shows, then it bounces on behind a wall for 2 s: seen beside the wall three
    # frames going in and four coming out (its bottom cut off), missing in between, in the open either side
    scene, frames, fps = _validation_clip(_SEED17, 62, RenderSpec(width=128, height=72, fps=8.0, seconds=4.0))
    seen = jd.look(tr.prepare(frames, fps))
    can = next(s for s in seen.objects if s.color == "white")
    assert not can.near_occluder[0] and not can.near_occluder[-1]
    assert jd._hidden_after(can, 0) >= 2.0
    assert jd.motion_matches(can, "bounce")[0]


def test_a_ball_thrown_onto_a_floating_pyramids_tip_touches_it_by_the_pyramids_height(tmp_path, monkeypatch):
    # seed 17 clip 61, 64x64 through H.264: a ball thrown left lands on the tip of a floating pyramid and flies up
    # higher than its arc before. By its area the pyramid reads as a small cube (0.52 m), too small to reach the
    # ball; its sightings stand 0.62 m tall, and by that it does
    scene, frames, fps = _validation_clip(_SEED17, 61, RenderSpec(width=64, height=64, fps=8.0, seconds=4.0), tmp_path)
    physics = jd.judge_query(frames, fps, _query_of(scene)).criterion("physics")
    assert physics.passed, physics.detail
    monkeypatch.setattr(jd, "_extent", lambda s: s.size_m)
    physics = jd.judge_query(frames, fps, _query_of(scene)).criterion("physics")
    assert not physics.passed and "blue ball bounces higher" in physics.detail, physics.detail


_SEED18 = {  # the judge validation's seed 18, by clip
    69: '{"camera": "static", "collisions": false, "objects": [{"color": "blue", "direction": "none", "friction": '
    '0.698, "motion": "bounce", "restitution": 0.713, "shape": "pyramid", "size": "large", "vx": 0.0, "vy": 5.14, '
    '"x": -0.929, "y": 0.0}, {"color": "green", "direction": "none", "friction": 0.534, "motion": "orbit", '
    '"restitution": 0.75, "shape": "ball", "size": "small", "vx": 0.0, "vy": 0.0, "x": 2.01, "y": 0.234}, {"color":'
    ' "pink", "direction": "left", "friction": 0.531, "motion": "bounce", "restitution": 0.793, "shape": "cube", '
    '"size": "small", "vx": -0.996, "vy": 4.874, "x": 1.231, "y": 0.0}, {"color": "white", "direction": "none", '
    '"friction": 0.6, "motion": "fall", "restitution": 0.587, "shape": "pyramid", "size": "medium", "vx": 0.0, '
    '"vy": 0.0, "x": -0.361, "y": 1.982}], "occluders": [], "setting": "studio"}',
    236: '{"camera": "static", "collisions": true, "objects": [{"color": "red", "direction": "right", "friction": 0.684,'
    ' "motion": "float", "restitution": 0.75, "shape": "ball", "size": "large", "vx": 0.484, "vy": 0.0, "x": '
    '-1.455, "y": 0.181}, {"color": "orange", "direction": "none", "friction": 0.503, "motion": "spin", '
    '"restitution": 0.75, "shape": "ball", "size": "medium", "vx": 0.0, "vy": 0.0, "x": 0.174, "y": 0.0}, {"color":'
    ' "white", "direction": "none", "friction": 0.646, "motion": "float", "restitution": 0.75, "shape": "pyramid", '
    '"size": "small", "vx": 0.0, "vy": 0.0, "x": -2.449, "y": 0.04}, {"color": "yellow", "direction": "right", '
    '"friction": 0.646, "motion": "throw", "restitution": 0.502, "shape": "ball", "size": "large", "vx": 2.112, '
    '"vy": 4.638, "x": -3.272, "y": 0.334}], "occluders": [], "setting": "beach"}',
    339: '{"camera": "static", "collisions": true, "objects": [{"color": "blue", "direction": "none", "friction": 0.633,'
    ' "motion": "orbit", "restitution": 0.75, "shape": "cylinder", "size": "small", "vx": 0.0, "vy": 0.0, "x": '
    '-1.483, "y": 0.355}, {"color": "gray", "direction": "right", "friction": 0.577, "motion": "roll", '
    '"restitution": 0.75, "shape": "ball", "size": "large", "vx": 2.383, "vy": 0.0, "x": -2.567, "y": 0.0}], '
    '"occluders": [], "setting": "beach"}',
    388: '{"camera": "static", "collisions": true, "objects": [{"color": "green", "direction": "none", "friction": '
    '0.507, "motion": "orbit", "restitution": 0.75, "shape": "pyramid", "size": "large", "vx": 0.0, "vy": 0.0, "x":'
    ' 2.323, "y": 0.215}, {"color": "orange", "direction": "right", "friction": 0.608, "motion": "throw", '
    '"restitution": 0.592, "shape": "cylinder", "size": "large", "vx": 2.004, "vy": 4.593, "x": -2.27, "y": 0.233},'
    ' {"color": "white", "direction": "left", "friction": 0.566, "motion": "float", "restitution": 0.75, "shape": '
    '"ball", "size": "small", "vx": -0.418, "vy": 0.0, "x": 0.757, "y": 0.381}], "occluders": [{"kind": "wall", '
    '"width": 1.538, "x": -0.832}], "setting": "night"}',
}


def test_a_ball_wedged_between_two_rising_balloons_is_carried_up(monkeypatch):
    # seed 18 clip 236: a ball thrown right lands between a rising ball and a rising pyramid, is pushed sideways by
    # both (the pushes cancel, its sideways speed barely changes) and carried 0.6 m higher than its hop before
    scene, frames, fps = _validation_clip(_SEED18, 236, RenderSpec(width=128, height=72, fps=12.0, seconds=4.0))
    physics = jd.judge_query(frames, fps, _query_of(scene)).criterion("physics")
    assert physics.passed, physics.detail
    monkeypatch.setattr(jd, "CARRY_N", 10**6)
    physics = jd.judge_query(frames, fps, _query_of(scene)).criterion("physics")
    assert not physics.passed and "yellow ball bounces higher" in physics.detail, physics.detail


def test_a_throw_knocked_back_out_of_view_sets_off_the_way_it_went_before(monkeypatch):
    # seed 18 clip 388: a can thrown right flies 0.3 m in its first three sightings, is knocked back behind a wall,
    # and is first seen again going left
    scene, frames, fps = _validation_clip(_SEED18, 388, RenderSpec(width=128, height=72, fps=12.0, seconds=4.0))
    query = _query_of(scene)
    for q, o in zip(query.objects, scene.objects):
        q.direction = o.direction
    motion = jd.judge_query(frames, fps, query).criterion("motion")
    assert motion.passed, motion.detail
    monkeypatch.setattr(jd, "LOST_S", 100.0)
    motion = jd.judge_query(frames, fps, query).criterion("motion")
    assert not motion.passed and "large orange cylinder: goes left" in motion.detail, motion.detail


def test_a_cube_that_bounced_behind_a_pyramid_is_looked_for_down_to_the_ground(tmp_path):
    # seed 18 clip 69, through H.264: a small cube falls behind a pyramid, bounces there out of view and comes back
    # up lower than it went in; its fall from the last velocity, stopped at the ground, is behind the pyramid
    scene, frames, fps = _validation_clip(_SEED18, 69, RenderSpec(width=96, height=96, fps=12.0, seconds=4.0), tmp_path)
    seen = jd.look(tr.prepare(frames, fps))
    assert jd.judge_consistency(seen).passed
    seen.ground = 0.0  # no ground to stop it: it falls on past where it comes back, or stops there
    detail = jd.judge_consistency(seen).detail
    assert "pink object blinks out" in detail, detail


def test_a_specks_one_frame_change_of_size_that_reverts_is_the_codecs(tmp_path, monkeypatch):
    # seed 18 clip 339, 64x64 through H.264: a 6-pixel can's area reads 25, 9, 30 working pixels in three frames
    scene, frames, fps = _validation_clip(_SEED18, 339, RenderSpec(width=64, height=64, fps=12.0, seconds=4.0), tmp_path)
    seen = jd.look(tr.prepare(frames, fps))
    assert jd.judge_consistency(seen).passed
    monkeypatch.setattr(jd, "BLIP_PX2", 0.0)
    detail = jd.judge_consistency(seen).detail
    assert "blue cube changes size" in detail, detail


_SEED19 = {  # the judge validation's seed 19, by clip
    15: '{"camera": "static", "collisions": true, "objects": [{"color": "pink", "direction": "none", "friction": 0.506,'
    ' "motion": "orbit", "restitution": 0.75, "shape": "cube", "size": "large", "vx": 0.0, "vy": 0.0, "x": 0.763, '
    '"y": 0.226}, {"color": "white", "direction": "none", "friction": 0.632, "motion": "rest", "restitution": 0.75,'
    ' "shape": "pyramid", "size": "small", "vx": 0.0, "vy": 0.0, "x": -1.627, "y": 0.0}], "occluders": [], '
    '"setting": "beach"}',
    81: '{"camera": "pan_right", "collisions": true, "objects": [{"color": "purple", "direction": "left", "friction": '
    '0.645, "motion": "throw", "restitution": 0.453, "shape": "ball", "size": "large", "vx": -1.707, "vy": 4.825, '
    '"x": 3.541, "y": 0.4}, {"color": "blue", "direction": "none", "friction": 0.697, "motion": "spin", '
    '"restitution": 0.75, "shape": "pyramid", "size": "medium", "vx": 0.0, "vy": 0.0, "x": -0.827, "y": 0.0}, '
    '{"color": "orange", "direction": "none", "friction": 0.657, "motion": "spin", "restitution": 0.75, "shape": '
    '"cube", "size": "medium", "vx": 0.0, "vy": 0.0, "x": -1.858, "y": 0.0}], "occluders": [], "setting": "grass"}',
    85: '{"camera": "static", "collisions": false, "objects": [{"color": "orange", "direction": "none", "friction": '
    '0.632, "motion": "orbit", "restitution": 0.75, "shape": "pyramid", "size": "large", "vx": 0.0, "vy": 0.0, "x":'
    ' 0.224, "y": 0.256}, {"color": "blue", "direction": "right", "friction": 0.638, "motion": "bounce", '
    '"restitution": 0.734, "shape": "cube", "size": "large", "vx": 0.914, "vy": 5.012, "x": -2.761, "y": 0.0}, '
    '{"color": "white", "direction": "none", "friction": 0.696, "motion": "bounce", "restitution": 0.79, "shape": '
    '"cube", "size": "large", "vx": 0.0, "vy": 4.871, "x": 2.178, "y": 0.0}, {"color": "gray", "direction": "none",'
    ' "friction": 0.695, "motion": "float", "restitution": 0.75, "shape": "ball", "size": "large", "vx": 0.0, "vy":'
    ' 0.0, "x": -1.095, "y": 0.034}], "occluders": [], "setting": "room"}',
}


def test_an_orbit_erased_as_it_leaves_the_frames_top_would_have_come_back_round(tmp_path, monkeypatch):
    # seed 19 clip 15, 128x72 through H.264: a large cube circling in the air leaves through the frame's top 1.4 s
    # in, and is erased from then on; a third of a turn later its circle would have brought it back into view
    spec = RenderSpec(width=128, height=72, fps=10.0, seconds=4.0)
    frames, erased, fps = _erased_through_h264(tmp_path, _SEED19[15], spec, 15, drop=0, erase=slice(15, None))
    assert jd.judge_consistency(jd.look(tr.prepare(frames, fps))).passed
    detail = jd.judge_consistency(jd.look(tr.prepare(erased, fps))).detail
    assert "pink cube vanishes at the frame's edge" in detail, detail
    monkeypatch.setattr(jd, "ROUND_N", 10**6)
    assert jd.judge_consistency(jd.look(tr.prepare(erased, fps))).passed


def test_a_spinner_erased_beside_a_ball_rolling_away_vanishes_in_place(tmp_path):
    # seed 19 clip 81, 96x96 through H.264: a blue pyramid spinning in place is erased 2.5 s in as a large purple
    # ball rolls away from it. The ball draws back from its box (it cannot have slid over it), and the ball's edge,
    # blending with the sky into faint blue, is no trace of the pyramid
    from dataclasses import replace

    from tenku.world.render import render_trajectory, render_with_trajectory

    spec = RenderSpec(width=96, height=96, fps=8.0, seconds=4.0)
    scene = SceneSpec.from_json(_SEED19[81])
    rendered, traj = render_with_trajectory(scene, spec, seed=81)
    keep = [0, 2]  # the others move as they did with it there (the validation's removal)
    without = SceneSpec.from_json(_SEED19[81])
    without.objects = [without.objects[j] for j in keep]
    sub = replace(traj, **{n: getattr(traj, n)[keep] for n in ("x", "y", "angle", "vx", "vy", "visible", "cover", "size")})
    erased = rendered.copy()
    erased[20:] = render_trajectory(without, spec, sub)[20:]
    frames, fps = _through_h264(tmp_path / "c.mp4", rendered, spec.fps)
    erased = _through_h264(tmp_path / "e.mp4", erased, spec.fps)[0]
    assert jd.judge_consistency(jd.look(tr.prepare(frames, fps))).passed
    seen = jd.look(tr.prepare(erased, fps))
    pyramid = next(s for s in seen.objects if s.color == "blue")
    assert jd._faint_follow(seen, pyramid, len(pyramid.frame) - 1, 1)[1]  # followed faintly "behind" the ball
    detail = jd.judge_consistency(seen).detail
    assert "blue pyramid vanishes in place" in detail, detail


def test_a_circle_seen_leaving_the_frame_and_coming_back_a_turn_later_counts_its_turn(tmp_path):
    # seed 19 clip 85, 64x64 through H.264: a large pyramid circles 1.3 turns in 4 s; its circle's top lies above
    # the frame, where it is out of view for 0.9 s. Across that gap its angle moves on by most of a turn, which an
    # unwrap that takes every step as under half a turn reads as going back
    scene, frames, fps = _validation_clip(_SEED19, 85, RenderSpec(width=64, height=64, fps=12.0, seconds=4.0), tmp_path)
    seen = jd.look(tr.prepare(frames, fps))
    pyramid = next(s for s in seen.objects if s.color == "orange")
    assert np.diff(pyramid.t).max() > 0.5 and jd.motion_matches(pyramid, "orbit")[0]
    y = pyramid.bottom + pyramid.size_m / 2
    assert not jd._circles(pyramid.x, y)[0]  # without the times: 0.29 turns
    motion = jd.judge_query(frames, fps, _query_of(scene)).criterion("motion")
    assert motion.passed, motion.detail


def test_turns_across_a_gap_follow_the_paths_pace():
    t = np.r_[np.arange(0, 1, 0.1), np.arange(2.5, 3.5, 0.1)]  # a gap of 1.6 s: 0.64 turns
    ang = np.angle(np.exp(1j * 2 * np.pi * 0.4 * t))  # 0.4 turns a second, wrapped
    assert abs(jd._turned(ang, t) - 0.4 * (t[-1] - t[0])) < 1e-6
    assert abs(jd._turned(-ang, t) - 0.4 * (t[-1] - t[0])) < 1e-6  # the other way round, as many turns
    assert abs(np.unwrap(ang)[-1] - ang[0]) / (2 * np.pi) < 0.5  # what np.unwrap makes of it


_SEED21 = {  # the judge validation's seed 21, by clip
    55: '{"camera": "static", "collisions": true, "objects": [{"color": "yellow", "direction": "none", "friction": '
    '0.665, "motion": "spin", "restitution": 0.75, "shape": "ball", "size": "small", "vx": 0.0, "vy": 0.0, "x": '
    '-1.937, "y": 0.0}, {"color": "red", "direction": "left", "friction": 0.553, "motion": "bounce", "restitution":'
    ' 0.808, "shape": "cube", "size": "medium", "vx": -0.776, "vy": 5.78, "x": 2.734, "y": 0.0}], "occluders": '
    '[{"kind": "tree", "width": 1.342, "x": 1.803}], "setting": "studio"}',
}


def test_a_bounce_played_backwards_that_gains_little_each_hop_gains_over_two(tmp_path, monkeypatch):
    # seed 21 clip 55, 96x96 through H.264, played backwards: a cube's hops read 0.34, 0.53 and 0.72 m, each within
    # the slack of the one before (a pixel's worth, a tenth of its size), then go on growing behind a tree
    from tenku.world.render import render

    spec = RenderSpec(width=96, height=96, fps=10.0, seconds=4.0)
    scene = SceneSpec.from_json(_SEED21[55])
    rendered = render(scene, spec, seed=55)
    frames, fps = _through_h264(tmp_path / "c.mp4", rendered, spec.fps)
    assert jd.judge_query(frames, fps, _query_of(scene)).criterion("physics").passed
    backwards = _through_h264(tmp_path / "r.mp4", rendered[::-1].copy(), spec.fps)[0]
    physics = jd.judge_query(backwards, fps, _query_of(scene)).criterion("physics")
    assert not physics.passed and "red cube bounces higher (0.34 m then 0.72 m)" in physics.detail, physics.detail
    monkeypatch.setattr(jd, "HOP_REACH", 1)
    assert jd.judge_query(backwards, fps, _query_of(scene)).criterion("physics").passed
