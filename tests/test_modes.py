"""The creative modes (tenku/modes.py) on a debug checkpoint with a 17-frame window (conftest: modes_pipe).

The debug model is trained for two steps, so its videos are noise: these tests check layouts, lengths, that held
frames stay as given (latent and pixel level), the seam arithmetic and every bad-input message, not quality
(benchmarks/modes_quality.py measures that on a trained model).
"""

import json

import numpy as np
import pytest
import torch

from tenku.errors import TenkuError, VideoError
from tenku.modes import (
    Card, Roller, Timeline, backward_pad, blend_seam, check_cards, latent_held, load_board, loop_ratio, next_window,
    prev_window, seam_ratio,
)
from tenku.pipeline import GeneratedVideo
from tenku.video import Video

STEPS = dict(steps=1)
S = 16  # the debug checkpoint's frame size

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest: tiny tensors, busy machines

@pytest.fixture
def record(modes_pipe, monkeypatch):
    """Every `_generate` call's held mask, known latents and output, and every decoded window."""
    calls = []
    generate = modes_pipe._generate

    def spy(*args, known=None, known_mask=None, **kwargs):
        out = generate(*args, known=known, known_mask=known_mask, **kwargs)
        calls.append({"mask": None if known_mask is None else known_mask[0].tolist(), "known": known, "out": out})
        return out

    monkeypatch.setattr(modes_pipe, "_generate", spy)
    return calls


def clip(n=17, size=S, seed=0) -> Video:
    """A smooth synthetic clip: a bright square drifting right over a gradient."""
    rng = np.random.default_rng(seed)
    base = np.linspace(40, 200, size, dtype=np.float32)[None, :, None] * np.ones((size, 1, 3), np.float32)
    base = base + rng.uniform(-20, 20, 3)
    frames = np.repeat(base[None], n, axis=0)
    for i in range(n):
        x = 2 + i
        frames[i, 10:18, x : x + 8] = (230, 40, 40)
    return Video(frames=np.clip(frames, 0, 255).astype(np.uint8), fps=8)


# --- layout (pure functions) -------------------------------------------------------------------------------------


def test_next_window_layouts():
    empty = np.zeros(49, bool)
    assert next_window(empty, 17, 9, 4, 4).new == (0, 17) and next_window(empty, 17, 9, 4, 4).length == 17
    given = empty.copy()
    given[:17] = True  # rolling: 9 frames of context (2 latent frames), 8 new
    w = next_window(given, 17, 9, 4, 4)
    assert (w.start, w.length, w.new) == (8, 17, (17, 25))
    connect = np.zeros(17, bool)
    connect[:5], connect[13:] = True, True  # context, 8 new, 4 held at the end
    w = next_window(connect, 17, 9, 4, 4)
    assert (w.start, w.length, w.new) == (0, 17, (5, 13))
    backward = np.zeros(21, bool)
    backward[9:] = True  # 9 new frames at the start, then the input: the window arrives at its first latent frame
    w = next_window(backward, 17, 9, 4, 4)
    assert (w.start, w.length, w.new) == (0, 13, (0, 9))
    far = np.zeros(40, bool)
    far[:9], far[36:] = True, True  # too far to arrive in one window: go part way, keep alignment
    w = next_window(far, 17, 9, 4, 4)
    assert w.new[0] == 9 and (w.new[1] - w.new[0]) % 4 == 0 and w.new[1] <= 32
    w = next_window(given, 17, 9, 4, 4, stop=21)  # a prompt change at frame 21: the new frames stop there
    assert w.new == (17, 21) and w.length == 13


def test_every_layout_fills_and_arrives():
    """Random gaps sized as the modes size them always fill, holding the far end whenever a window reaches it."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        ctx, gap, end = int(rng.integers(1, 30)), 4 * int(rng.integers(1, 12)), 4 * int(rng.integers(1, 3))
        given = np.zeros(ctx + gap + end, bool)
        given[:ctx], given[ctx + gap :] = True, True
        arrived = False
        while not given.all():
            w = next_window(given, 17, 9, 4, 4)
            assert w.length % 4 == 1 and w.length <= 17 and given[w.start : w.new[0]].all()
            window = np.zeros(w.length, bool)
            window[: min(w.length, len(given) - w.start)] = given[w.start : w.start + w.length]
            arrived |= bool(latent_held(window, 4)[-1]) and w.start + w.length == len(given) - end + 4
            given[w.new[0] : w.new[1]] = True
        assert arrived


def test_backward_windows_go_right_to_left_and_each_arrives():
    """A backward fill makes the frames next to the input first: every window holds given frames at its far end."""
    for n in range(1, 120):
        pad = backward_pad(n, 9, 17, 9, 4)
        assert pad < 16
        given = np.zeros(pad + n + 9, bool)
        given[pad + n :] = True
        ends = []
        while not given.all():
            w = prev_window(given, 17, 9, 4)
            assert w.length % 4 == 1 and w.length <= 17 and (w.new[1] - w.new[0]) % 4 == 1 and w.start == w.new[0]
            assert not given[w.new[0] : w.new[1]].any() and given[w.new[1] : w.start + w.length].all()
            assert w.start + w.length > w.new[1]  # it holds what follows: it arrives
            ends.append(w.new[1])
            given[w.new[0] : w.new[1]] = True
        assert ends == sorted(ends, reverse=True) and ends[0] == pad + n
    w = prev_window(np.array([False] * 9 + [True] * 4), 17, 9, 4)  # a 4-frame input: one latent frame held
    assert (w.start, w.length, w.new) == (0, 13, (0, 9))


def test_a_backward_fill_refuses_what_it_cannot_do(modes_pipe):
    from tenku.pipeline import Request

    req = Request(frames=20, width=S, height=S, fps=8, seed=0, steps=1, guidance=1.0, notes=[])
    roller = Roller(modes_pipe, req)
    tl = Timeline(20, S, S)
    tl.put(12, np.zeros((8, S, S, 3), np.uint8))
    with pytest.raises(TenkuError, match="a backward fill takes no prompt stops and does not stream"):
        list(roller.roll(tl, lambda i: "", stream=True, backward=True))
    with pytest.raises(TenkuError, match=r"cannot make frames 0\.\.2 in whole latent frames"):
        roller.fill(tl, lambda i: "", backward=True)  # 12 new frames, not sized by backward_pad: 9, then 3 left


def test_latent_held():
    assert latent_held(np.array([1, 0, 0, 0, 0, 1, 1, 1, 1], bool), 4).tolist() == [True, False, True]
    assert latent_held(np.array([1, 1, 1, 1, 0, 1, 1, 1, 1], bool), 4).tolist() == [True, False, True]


def test_blend_seam_keeps_the_decoded_motion():
    rng = np.random.default_rng(1)
    decoded = rng.uniform(50, 200, (6, 4, 4, 3)).astype(np.float32)  # [given neighbour, 5 new]
    given = decoded[0] + 17.0  # the VAE missed the given frame by 17
    out = blend_seam(decoded[1:], 4, left=(given, decoded[0]))
    np.testing.assert_allclose(out[0] - given, decoded[1] - decoded[0], atol=1e-4)  # same step as decoded
    np.testing.assert_allclose(out[4], decoded[5], atol=1e-4)  # faded out after 4 frames
    assert np.array_equal(blend_seam(decoded[1:], 0, left=(given, decoded[0])), decoded[1:])
    both = blend_seam(np.zeros((3, 1, 1, 3)), 4, left=(np.full((1, 1, 3), 8.0), np.zeros((1, 1, 3))),
                      right=(np.full((1, 1, 3), 16.0), np.zeros((1, 1, 3))))
    assert both[:, 0, 0, 0].tolist() == pytest.approx([32 / 3, 12.0, 40 / 3])  # a short run mixes the two sides


def test_seam_and_loop_ratios():
    frames = np.stack([np.full((2, 2, 3), 10 * i, np.uint8) for i in range(10)])  # steps of 10
    assert seam_ratio(frames, 5) == pytest.approx(1.0)
    frames[5:] += 30  # a jump of 40 into frame 5
    assert seam_ratio(frames, 5) == pytest.approx(4.0)
    assert loop_ratio(np.stack([frames[0], frames[1], frames[0]])) == pytest.approx(0.0)


@pytest.fixture
def perfect(monkeypatch):
    """Replace the model and VAE by a perfect one on clips whose frame i is the flat value i (mod `period[0]`):
    each window decodes to the continuation of its given frames. Every mode's output must then count up by one
    from frame to frame, with no frame skipped, repeated or shifted, and seams that vanish."""
    period = [256]

    def run_window(self, tl, win, prompt, k, on_step):
        canvas, given = tl.canvas(win.start, win.length)
        g = int(np.argmax(given)) if given.any() else 0
        value = int(canvas[g, 0, 0, 0]) if given.any() else 0
        self.windows.append(win)
        ramp = (value + np.arange(win.length) - g) % period[0]
        return np.broadcast_to(ramp[:, None, None, None], canvas.shape).astype(np.uint8)

    monkeypatch.setattr(Roller, "run_window", run_window)
    return period


def counting(start: int, n: int, period: int = 256) -> Video:
    values = (start + np.arange(n)) % period
    return Video(frames=np.broadcast_to(values[:, None, None, None], (n, S, S, 3)).astype(np.uint8), fps=8)


def counts_up(frames: np.ndarray, period: int = 256) -> bool:
    flat = frames.reshape(len(frames), -1)
    return bool((flat == flat[:, :1]).all() and (np.diff(flat[:, 0].astype(int)) % period == 1).all())


def test_layouts_are_exact_with_a_perfect_model(modes_pipe, perfect, monkeypatch):
    monkeypatch.setattr(modes_pipe.defaults, "color_anchor", 0.0)  # the counting clip brightens on purpose
    assert counts_up(modes_pipe("x", seconds=8, **STEPS).frames)  # rolling
    assert counts_up(modes_pipe.extend("x", video=counting(0, 17), seconds=3.3, **STEPS).frames)
    behind = modes_pipe.extend("x", video=counting(40, 17), seconds=1, backward=True, **STEPS)  # one window
    assert counts_up(behind.frames) and behind.frames[0, 0, 0, 0] == 32 and len(behind.frames) == 8 + 17
    far_back = modes_pipe.extend("x", video=counting(100, 17), seconds=5, backward=True, **STEPS)  # several windows
    assert counts_up(far_back.frames) and far_back.frames[0, 0, 0, 0] == 60 and len(far_back.frames) == 40 + 17
    bridge = modes_pipe.connect("x", video=counting(0, 17), end=counting(29, 9), seconds=1.5, **STEPS)
    assert counts_up(np.concatenate([counting(0, 17).frames, bridge.frames, counting(29, 9).frames]))
    far = modes_pipe.connect("x", video=counting(0, 17), end=counting(57, 9), seconds=5, **STEPS)  # several windows
    assert counts_up(np.concatenate([counting(0, 17).frames, far.frames, counting(57, 9).frames]))
    remixed = modes_pipe.remix("x", video=counting(0, 40), strength=0.5, **STEPS)
    assert counts_up(remixed.frames)
    perfect[0] = 21  # a loop of 17 + 4 frames: the bridge arrives back at frame 0
    looped = modes_pipe.loop(video=counting(0, 17, period=21), **STEPS)
    assert len(looped.frames) == 21 and counts_up(np.concatenate([looped.frames, looped.frames]), period=21)


# --- modes on the debug model ------------------------------------------------------------------------------------


def test_image_to_video_holds_the_first_frame(modes_pipe, record):
    image = clip(1, size=48).frames[0][:, 4:44]  # 48 x 40: cropped to square and resized, with a note
    video = modes_pipe.image_to_video("a red square moves right", image=image, **STEPS)
    assert isinstance(video, GeneratedVideo) and video.frames.shape == (17, S, S, 3)
    assert video.notes == ["image 40x48 centre-cropped to 40x40 and resized to 16x16"]
    (call,) = record
    assert call["mask"] == [True, False, False, False, False]
    assert torch.equal(call["out"][:, :, 0], call["known"][:, :, 0])  # latent level: held exactly
    from tenku.modes import fit

    fitted = fit(image[None], S, S, "image", [])
    assert np.array_equal(video.frames[0], fitted[0])  # the output's first frame is the image
    recon = modes_pipe.decode(modes_pipe.encode(fitted))[0, 0]
    decoded = modes_pipe.decode(call["out"])[0, 0]
    assert np.array_equal(decoded, recon)  # pixel level: the model's frame 0 is the VAE's reconstruction


def test_extend_forward_and_backward(modes_pipe, record):
    source = clip(17)
    ahead = modes_pipe.extend("a red square moves right", video=source, seconds=2, **STEPS)
    assert ahead.frames.shape == (33, S, S, 3)
    assert np.array_equal(ahead.frames[:17], source.frames)  # starts with the exact input
    assert record[0]["mask"] == [True, True, True, False, False]  # 9 frames of context (re-encoded from frame 8)
    context = modes_pipe.encode(source.frames[8:17])
    torch.testing.assert_close(record[0]["known"][:, :, :3], context, atol=1e-5, rtol=0)  # causal: as if alone
    assert np.isfinite(seam_ratio(ahead.frames, 17))
    record.clear()
    behind = modes_pipe.extend("", video=source, seconds=1, backward=True, **STEPS)  # no prompt: unconditional
    assert behind.frames.shape == (25, S, S, 3)
    assert np.array_equal(behind.frames[8:], source.frames)  # ends with the exact input
    assert record[-1]["mask"][-1] is True and record[-1]["mask"][0] is False  # arrives at the input's first frames
    assert np.isfinite(seam_ratio(behind.frames, 8))


def test_context_noise_reaches_the_sampler_and_keeps_the_input_exact(modes_pipe, record, monkeypatch):
    source = clip(17)
    plain = modes_pipe.extend("a red square moves right", video=source, seconds=2, **STEPS)
    monkeypatch.setattr(modes_pipe.defaults, "context_noise", 0.3)
    noisy = modes_pipe.extend("a red square moves right", video=source, seconds=2, **STEPS)
    assert np.array_equal(noisy.frames[:17], source.frames)
    half = len(record) // 2  # each extension ran the same windows: plain's calls, then noisy's
    assert half >= 1 and len(record) == 2 * half
    plain_first, noisy_first = record[0], record[half]
    torch.testing.assert_close(noisy_first["out"][:, :, :3], noisy_first["known"][:, :, :3])  # held latents as given
    # the model saw other context in the same window (the debug model, trained two steps, barely responds to it:
    # its new latents move by about 1e-6, too little to show in uint8 pixels)
    assert not torch.equal(plain_first["out"][:, :, 3:], noisy_first["out"][:, :, 3:])
    monkeypatch.setattr(modes_pipe.defaults, "context_noise", 1.0)
    with pytest.raises(TenkuError, match="SampleConfig.context_noise must be at least 0 and below 1, got 1.0"):
        modes_pipe.extend("x", video=source, seconds=2, **STEPS)


def test_extend_resamples_and_fits_with_notes(modes_pipe):
    wide = Video(frames=np.repeat(clip(1, size=64).frames, 24, axis=0)[:, :48], fps=24)  # 48 x 64 at 24 fps
    out = modes_pipe.extend("a ball", video=wide, seconds=0.5, **STEPS)
    assert out.frames.shape == (12, S, S, 3)
    assert out.notes == ["video at 24 fps resampled to 8 fps (24 -> 8 frames)",
                         "video 64x48 centre-cropped to 48x48 and resized to 16x16"]


def test_long_video_rolls_and_starts_like_the_short_one(modes_pipe, record):
    calls = []
    short = modes_pipe("a red square", seed=3, **STEPS)
    record.clear()
    long = modes_pipe("a red square", seed=3, seconds=5, callback=lambda done, total: calls.append((done, total)), **STEPS)
    assert long.frames.shape == (41, S, S, 3)
    assert np.array_equal(long.frames[:17], short.frames)  # window 0 is the short video; later ones never rewrite it
    assert [c["mask"] for c in record] == [None] + [[True, True, True, False, False]] * 3
    assert calls[-1] == (41, 41) and [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_streaming_holds_only_the_context(modes_pipe):
    req = modes_pipe.check_inputs("a red square", seconds=8, **STEPS)
    roller = Roller(modes_pipe, req)
    tl = Timeline(req.frames, req.height, req.width)
    sizes = []
    chunks = []
    for chunk in roller.roll(tl, lambda i: "a red square", stream=True):
        chunks.append(chunk)
        sizes.append(len(tl.frames))
    assert sum(len(c) for c in chunks) == 65 and max(sizes) <= roller.context
    assert sum(1 for _ in modes_pipe.stream("a red square", seconds=1, **STEPS)) == 1


def test_colour_anchor_pulls_towards_the_first_window(modes_pipe):
    req = modes_pipe.check_inputs("a red square", **STEPS)
    roller = Roller(modes_pipe, req, anchor=1.0)
    tl = Timeline(30, 32, 32)
    tl.put(0, np.full((17, S, S, 3), 100, np.uint8))
    roller._ref = np.array([100.0, 100.0, 100.0], np.float32)
    win = next_window(tl.given, 17, 9, 4, 4)
    decoded = np.full((17, S, S, 3), 160, np.uint8)
    decoded[: 17 - 8] = 100
    roller.write(tl, win, decoded)
    assert abs(tl.get(17, 25).mean() - 100) < abs(160 - 100) / 2  # most of the drift undone ...
    assert tl.frames[17].mean() > 150 and tl.frames[24].mean() == 100  # ... ramped in, so the pull adds no seam


def test_loop_and_connect(modes_pipe, record):
    looped = modes_pipe.loop("a red square", seconds=3, **STEPS)
    assert looped.frames.shape == (25, S, S, 3) and np.isfinite(loop_ratio(looped.frames))
    assert record[-1]["mask"][0] and record[-1]["mask"][-1]  # the bridge holds both ends
    source = clip(17)
    record.clear()
    made = modes_pipe.loop(video=source, **STEPS)  # no prompt: the video alone decides
    assert made.frames.shape == (21, S, S, 3) and np.array_equal(made.frames[:17], source.frames)
    assert record[-1]["mask"] == [True, True, True, False, True]
    end = clip(9, seed=5)
    record.clear()
    bridge = modes_pipe.connect("a red square", video=source, end=end, seconds=1, **STEPS)
    assert bridge.frames.shape == (8, S, S, 3)
    assert record[-1]["mask"] == [True, True, False, False, True]  # context shrunk to 5 frames so that it arrives
    held = torch.tensor(record[-1]["mask"])
    assert torch.equal(record[-1]["out"][:, :, held], record[-1]["known"][:, :, held])
    joined = np.concatenate([source.frames, bridge.frames, end.frames])
    assert np.isfinite(seam_ratio(joined, 17)) and np.isfinite(seam_ratio(joined, 25))
    image_end = Video(frames=end.frames[:1], fps=8)  # an image as the end: held as a 4-frame still
    assert modes_pipe.connect("", video=source, end=image_end, seconds=0.5, **STEPS).frames.shape == (4, S, S, 3)


def test_remix_strength(modes_pipe):
    source, other = clip(17), clip(17, seed=9)
    kept = modes_pipe.remix("a blue square", video=source, strength=0.0, **STEPS)
    assert np.array_equal(kept.frames, modes_pipe.decode(modes_pipe.encode(source.frames))[0])  # the input, via the VAE
    a = modes_pipe.remix("a blue square", video=source, strength=1.0, seed=2, **STEPS)
    b = modes_pipe.remix("a blue square", video=other, strength=1.0, seed=2, **STEPS)
    assert np.array_equal(a.frames, b.frames)  # strength 1 ignores the input
    c = modes_pipe.remix("a blue square", video=other, strength=0.5, seed=2, **STEPS)
    assert not np.array_equal(c.frames, b.frames) and c.frames.shape == (17, S, S, 3)  # mid strength keeps some
    long = modes_pipe.remix("a blue square", video=clip(30), strength=0.5, **STEPS)  # rolling windows
    assert long.frames.shape == (30, S, S, 3)
    assert modes_pipe.edit == modes_pipe.remix


def test_remix_strength_is_the_share_of_the_schedule_that_runs(modes_pipe, monkeypatch):
    """A remix noises its input to the shifted schedule's time at `strength` (image-to-image's convention), not to
    flow time `strength`: with the time shift above 1, that is more noise than `strength` itself."""
    from tenku.flow import shift_time

    starts = []
    generate = modes_pipe._generate
    monkeypatch.setattr(modes_pipe, "_generate", lambda *a, **k: starts.append(k["t_start"]) or generate(*a, **k))
    modes_pipe.remix("a blue square", video=clip(17), strength=0.5, seed=2, **STEPS)
    f, h, w = modes_pipe.latent_shape(17, S, S)[1:]
    shift = modes_pipe.flow.shift_for(f * h * w)
    assert shift > 1 and starts == [pytest.approx(float(shift_time(0.5, shift)))] and starts[0] > 0.5


def test_storyboard(modes_pipe, record):
    image = clip(1).frames[0]
    video = modes_pipe.storyboard(shots=[("a red square", 1.0), ("a blue square", 1.5)], image=image, **STEPS)
    assert video.frames.shape == (20, S, S, 3) and np.array_equal(video.frames[0], image)
    record.clear()
    cards = [Card(0, "a red square"), Card(2.0, "a blue square", image), Card(3.0, "")]
    video = modes_pipe.storyboard("a green square", cards=cards, seconds=4, **STEPS)
    assert video.frames.shape == (32, S, S, 3)
    assert np.array_equal(video.frames[17:21], np.repeat(image[None], 4, axis=0))  # the card's image, held
    assert any("held from frame 17 (2.12 s)" in n for n in video.notes)
    assert record[0]["mask"] is None and record[1]["mask"] == [True, True, True, False, True]  # arrives at the image


def test_image_and_variations(modes_pipe):
    still = modes_pipe.image("a red square", **STEPS)
    assert still.frames.shape == (1, S, S, 3)
    several = modes_pipe.variations("a red square", 2, seed=4, **STEPS)
    assert [v.seed for v in several] == [4, 5] and all(v.frames.shape == (17, S, S, 3) for v in several)
    alone = modes_pipe("a red square", seed=5, **STEPS)
    assert np.abs(alone.frames.astype(int) - several[1].frames).max() <= 2  # batching changes float rounding only


def test_board_files(tmp_path):
    from tenku.video import write_image

    write_image(tmp_path / "a.png", np.zeros((8, 8, 3), np.uint8))
    board = {"seconds": 4, "cards": [{"time": 0, "prompt": "a"}, {"time": 2, "prompt": "b", "image": "a.png"}]}
    (tmp_path / "b.json").write_text(json.dumps(board))
    loaded = load_board(tmp_path / "b.json")
    assert loaded.seconds == 4 and [c.prompt for c in loaded.cards] == ["a", "b"] and loaded.cards[1].image.shape == (8, 8, 3)
    (tmp_path / "b.yaml").write_text("seconds: 4\ncards:\n  - {time: 0, prompt: a}\n  - {time: 1, prompt: b}\n")
    assert [c.time for c in load_board(tmp_path / "b.yaml").cards] == [0, 1]


@pytest.mark.parametrize(
    "board, message",
    [
        ({"cards": [{"time": 2, "prompt": "a"}, {"time": 1, "prompt": "b"}]}, "card 2 ('b') at 1 s comes before or with card 1 at 2 s"),
        ({"seconds": 3, "cards": [{"time": 0, "prompt": "a"}, {"time": 3, "prompt": "b"}]}, "card 2 ('b') at 3 s is past the end of the 3 s video"),
        ({"cards": [{"time": -1, "prompt": "a"}]}, "card 1 ('a'): time must be a number of seconds >= 0, got -1"),
        ({"cards": [{"prompt": "a"}]}, "card 1 must be an object with a \"time\""),
        ({"cards": [{"time": 0, "promt": "a"}]}, "card 1 has unknown keys ['promt']"),
        ({"cards": [{"time": 0, "image": "missing.png"}]}, "missing.png: no such file"),
        ({"scenes": []}, "a storyboard is an object with a list of \"cards\""),
    ],
)
def test_board_errors(tmp_path, board, message):
    (tmp_path / "b.json").write_text(json.dumps(board))
    with pytest.raises(TenkuError) as e:
        load_board(tmp_path / "b.json")
    assert message in str(e.value) and "\n" not in str(e.value)


def test_yaml_without_pyyaml(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: (_ for _ in ()).throw(ImportError()) if name == "yaml" else real(name, *a, **k))
    (tmp_path / "b.yaml").write_text("cards: []\n")
    with pytest.raises(TenkuError, match="reading YAML storyboards needs PyYAML"):
        load_board(tmp_path / "b.yaml")


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda p: p.remix("x", video=clip(), strength=1.5), TenkuError, "strength must be between 0 (keep the input) and 1 (ignore it), got 1.5"),
        (lambda p: p.remix("x", video=clip(), strength=-0.1), TenkuError, "strength must be between 0"),
        (lambda p: p.image_to_video("x", image=np.zeros((0, 5, 3), np.uint8)), VideoError, "image has no pixels (shape (0, 5, 3))"),
        (lambda p: p.image_to_video("x", image=np.zeros((5, 5, 3), np.float32)), VideoError, "image must be uint8"),
        (lambda p: p.image_to_video("x", image=np.zeros((5, 5, 2), np.uint8)), VideoError, "must be an (H, W, 3) RGB image"),
        (lambda p: p.image_to_video("", image=clip().frames[0]), TenkuError, "the prompt is empty"),
        (lambda p: p.extend("x", video="clip.mp4", seconds=1), VideoError, "video must be a tenku.video.Video, got str"),
        (lambda p: p.extend("x", video=Video(frames=np.zeros((0, 4, 4, 3), np.uint8), fps=8), seconds=1), VideoError, "video has no frames"),
        (lambda p: p.extend("x", video=clip(), seconds=0), TenkuError, "seconds must be positive, got 0"),
        (lambda p: p.extend("x", video=clip(), seconds=1000), TenkuError, "more than 1025 frames"),
        (lambda p: p.extend("x", video=clip(), seconds=0.01), TenkuError, "less than one frame"),
        (lambda p: p.connect("x", video=clip(), end=clip(), seconds=0.1), TenkuError, "a transition needs at least 4 frames (0.5 s at 8 fps), got 0.1 s"),
        (lambda p: p.loop("x", video=clip(), image=clip().frames[0]), TenkuError, "not both"),
        (lambda p: p.storyboard(shots=[("a", 0)]), TenkuError, "shot 1 must be (prompt, seconds > 0)"),
        (lambda p: p.storyboard(cards=[Card(0, "")]), TenkuError, "card 1 has no prompt"),
        (lambda p: p.storyboard(cards=[Card(0, "a"), Card(5, "b")], seconds=4), TenkuError, "card 2 ('b') at 5 s is past the end of the 4 s video"),
        (lambda p: p.image("x", seconds=2), TenkuError, "an image is one frame"),
        (lambda p: p.variations("x", 0), TenkuError, "n (the number of variations) must be a whole number >= 1, got 0"),
    ],
)
def test_bad_inputs_are_one_line_errors(modes_pipe, call, error, message):
    with pytest.raises(error) as e:
        call(modes_pipe)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_check_cards_orders():
    check_cards([Card(0, "a"), Card(1, "b")], 2)
    with pytest.raises(TenkuError, match="card 2 \\('b'\\) at 0 s comes before or with card 1 at 0 s"):
        check_cards([Card(0, "a"), Card(0, "b")], 2)


def test_held_frames_decode_within_vae_error(modes_pipe, monkeypatch):
    """Pixel level: a window's held start decodes to exactly the VAE's reconstruction of the given frames (causal
    decoder); its held end, decoded after the new frames, stays within the VAE's own error of them."""
    windows = []
    run_window = Roller.run_window

    def spy(self, tl, win, prompt, k, on_step):
        decoded = run_window(self, tl, win, prompt, k, on_step)
        windows.append((decoded, tl.canvas(win.start, win.length)[0]))
        return decoded

    monkeypatch.setattr(Roller, "run_window", spy)
    modes_pipe.connect("a red square", video=clip(17), end=clip(9, seed=5), seconds=1, **STEPS)
    (decoded, canvas), = windows
    recon = modes_pipe.decode(modes_pipe.encode(canvas))[0]

    def err(a, b):
        return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())

    assert np.array_equal(decoded[:5], recon[:5])
    assert err(decoded[-4:], canvas[-4:]) <= 1.25 * err(recon[-4:], canvas[-4:]) + 2
