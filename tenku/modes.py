"""Creative modes on the one pipeline: image to video, extend, loop, connect, remix, storyboard, images, long video.

All of them are one operation. A `Timeline` holds the output's frames: some given (an image, the clip being
extended, the clip to arrive at, a storyboard card's picture, and every frame once made), the rest to make. `roll`
fills it left to right with windows no longer than the model's training clip (right to left for a backward
extension, so that every window arrives at frames already there). Each window is a pixel canvas (given
frames where there are some, elsewhere a crossfade between them, or the source for a remix) encoded by the causal
VAE; latent frames whose pixels are all given are held clean (flow time 0) while the rest are denoised
(`Pipeline._generate`), the window is decoded, and its new frames are written back, blended into their given
neighbours across each seam. Given frames are never rewritten: an extended clip keeps its input frames exactly.

Layout rules that follow from the causal VAE (latent 0 is frame 0 alone, latent j frames 4j-3..4j):
  - a window starts on a given frame, and its first 4m + 1 frames are context. Encoded as the start of a clip, they
    get exactly the latents a clip starting there has (causality), which is the layout the model was trained on;
    re-encoding decoded pixels, not reusing the previous window's latents, keeps every window in that layout.
  - frames held at a window's far end must fill whole latent frames: 4k frames starting at window frame 4j + 1, so
    the gap before them is 4k frames (4k + 1 at the very start of the timeline). The modes size their gaps that way.
    Their latents depend causally on the frames before them, which do not exist yet: they are encoded after the
    crossfade into them, an approximation the VAE's short temporal receptive field keeps small.

Seams: across a boundary between a given frame and a new one, the jump is the model's own motion plus the VAE's
error on the given neighbour (the decoded context is close to, not equal to, the given pixels). `blend_seam` adds that
error to the first new frames, fading out over `SampleConfig.seam_frames`, so the first new frame moves from the
given one exactly as the decoded window moved. `seam_ratio` measures the result.

Drift in long videos: each window after the first has its mean colour pulled `color_anchor` of the way back to the
first window's (ramped over the window, so the pull adds no seam); windows are conditioned on corrected pixels, so the
correction also feeds forward. benchmarks/modes_quality.py measures the drift with and without it. And the model
may see held frames slightly noised (`SampleConfig.context_noise`, diffusion forcing's noised history), so that it
does not copy the small errors of frames it made itself; they are still returned exactly as given.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np
import torch

from tenku.errors import TenkuError, VideoError
from tenku.video import Video

if TYPE_CHECKING:
    from tenku.pipeline import GeneratedVideo, Pipeline, Request

Callback = Callable[[int, int], None]


# --- inputs ------------------------------------------------------------------------------------------------------


def as_image(image: Any, name: str = "image") -> np.ndarray:
    """Check an image array: uint8 (H, W, 3); (H, W) grey and (H, W, 4) RGBA are converted."""
    a = np.asarray(image) if image is not None else None
    if a is None or a.dtype == object:
        raise VideoError(f"{name} must be a uint8 (H, W, 3) array, got {type(image).__name__}")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    if a.ndim != 3 or a.shape[2] != 3:
        raise VideoError(f"{name} must be an (H, W, 3) RGB image, got shape {tuple(a.shape)}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise VideoError(f"{name} has no pixels (shape {tuple(a.shape)})")
    if a.dtype != np.uint8:
        raise VideoError(f"{name} must be uint8 (0..255), got {a.dtype}")
    return a


def as_video(video: Any, name: str = "video") -> Video:
    """Check a `Video`: uint8 frames (F, H, W, 3) with F >= 1 and a positive frame rate."""
    if not isinstance(video, Video):
        raise VideoError(f"{name} must be a tenku.video.Video, got {type(video).__name__}")
    f = np.asarray(video.frames)
    if f.ndim != 4 or f.shape[-1] != 3 or f.dtype != np.uint8:
        raise VideoError(f"{name}.frames must be uint8 (F, H, W, 3), got {f.dtype} {tuple(f.shape)}")
    if min(f.shape[:3]) == 0:
        raise VideoError(f"{name} has no frames or no pixels (shape {tuple(f.shape)})")
    if not video.fps or video.fps <= 0:
        raise VideoError(f"{name}.fps must be positive, got {video.fps}")
    return video


def fit(frames: np.ndarray, width: int, height: int, what: str, notes: list[str]) -> np.ndarray:
    """uint8 (F, H, W, 3) -> (F, height, width, 3): centre-crop to the target aspect, then resize (bicubic); a note
    says what changed."""
    from PIL import Image

    f, h, w, _ = frames.shape
    if (w, h) == (width, height):
        return frames
    target = width / height
    cw, ch = (max(1, round(h * target)), h) if w / h > target else (w, max(1, round(w / target)))
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    out = np.empty((f, height, width, 3), np.uint8)
    for i in range(f):
        crop = Image.fromarray(np.ascontiguousarray(frames[i, y0 : y0 + ch, x0 : x0 + cw]))
        out[i] = np.asarray(crop.resize((width, height), Image.BICUBIC))
    cropped = f" centre-cropped to {cw}x{ch} and" if (cw, ch) != (w, h) else ""
    notes.append(f"{what} {w}x{h}{cropped} resized to {width}x{height}")
    return out


def resample(frames: np.ndarray, src_fps: float, fps: float, what: str, notes: list[str]) -> np.ndarray:
    """Nearest-frame resampling from `src_fps` to `fps` (the model's motion is learnt at its own rate)."""
    if abs(src_fps - fps) < 1e-6:
        return frames
    n = max(1, round(len(frames) * fps / src_fps))
    idx = np.minimum(np.round(np.arange(n) * src_fps / fps).astype(int), len(frames) - 1)
    notes.append(f"{what} at {src_fps:g} fps resampled to {fps:g} fps ({len(frames)} -> {n} frames)")
    return frames[idx]


def frame_count(seconds: float | None, fps: float, what: str) -> int:
    """seconds -> a whole number of frames (at least 1), with one-line errors for what cannot be made."""
    from tenku.pipeline import MAX_FRAMES

    if seconds is None:
        raise TenkuError(f"{what} needs seconds (how long the new part is)")
    if not seconds > 0:
        raise TenkuError(f"seconds must be positive, got {seconds}")
    n = round(seconds * fps)
    if n < 1:
        raise TenkuError(f"{seconds:g} s at {fps:g} fps is less than one frame; ask for at least {1 / fps:.3g} s")
    if n > MAX_FRAMES:
        raise TenkuError(f"{seconds:g} s at {fps:g} fps is more than {MAX_FRAMES} frames; ask for at most {MAX_FRAMES / fps:g} s")
    return n


# --- the timeline and its windows --------------------------------------------------------------------------------


class Timeline:
    """The frames of the output being made: `given[i]` is True once frame i is known (an input or made).

    Frames live in a dict so that streaming can drop those already handed out (`drop_before`): memory then holds
    only the context of the next window, whatever the length. `guide` (remix) is the source clip, the canvas of
    frames not yet made.
    """

    def __init__(self, length: int, height: int, width: int, guide: np.ndarray | None = None):
        self.length, self.height, self.width = length, height, width
        self.given = np.zeros(length, bool)
        self.frames: dict[int, np.ndarray] = {}
        self.guide = guide

    def put(self, start: int, frames: np.ndarray) -> None:
        for i, frame in enumerate(frames):
            self.frames[start + i] = frame
            self.given[start + i] = True

    def get(self, start: int, stop: int) -> np.ndarray:
        return np.stack([self.frames[i] for i in range(start, stop)])  # (stop - start, H, W, 3)

    def drop_before(self, index: int) -> None:
        for i in [i for i in self.frames if i < index]:
            del self.frames[i]

    def canvas(self, start: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Pixels (length, H, W, 3) uint8 of a window and which of them are given (length,) bool. Frames not given
        are the remix source, else a crossfade between the nearest given frames in the window; frames past the end
        repeat the last frame."""
        idx = np.arange(start, start + length)
        given = np.zeros(length, bool)
        inside = idx < self.length
        given[inside] = self.given[idx[inside]]
        out = np.empty((length, self.height, self.width, 3), np.uint8)
        have = np.flatnonzero(given)
        for k in range(length):
            i = start + k
            if given[k]:
                out[k] = self.frames[i]
            elif self.guide is not None:
                out[k] = self.guide[min(i, self.length - 1)]
            elif len(have) == 0:
                out[k] = 127
            else:
                left, right = have[have < k], have[have > k]
                if len(left) and len(right):
                    a, b = left[-1], right[0]
                    u = (k - a) / (b - a)
                    out[k] = np.rint((1 - u) * self.frames[start + a] + u * self.frames[start + b]).astype(np.uint8)
                else:
                    out[k] = self.frames[start + (left[-1] if len(left) else right[0])]
        return out, given


@dataclass(frozen=True)
class Window:
    start: int  # timeline index of the window's first frame
    length: int  # frames, 4k + 1
    new: tuple[int, int]  # [first, stop): the timeline frames this window makes


def _context(n: int, tf: int) -> int:
    """The largest tf * j + 1 <= n (a whole number of latent frames starting a clip); 0 for n < 1."""
    return 0 if n < 1 else (n - 1) // tf * tf + 1


def next_window(given: np.ndarray, window: int, context: int, end: int, tf: int, stop: int | None = None) -> Window:
    """Place the next window over the first frames not yet given.

    given (F,) bool; window: most frames per window (tf k + 1); context / end: most frames held at the window's
    start / far end; stop: a timeline index the new frames should not cross (a storyboard card's prompt changes
    there). The window starts `c` given frames before the first missing one u; when the missing run [u, v) can be
    finished in this window and v starts whole latent frames, up to `end` given frames from v are held too.
    """
    F = len(given)
    u = int(np.argmin(given))
    run_after = given[u:]
    v = u + (int(np.argmax(run_after)) if run_after.any() else len(run_after))
    c = _context(min(u, context, window - tf), tf)  # at least one latent frame of the window is new
    gap = v - u
    trail = 0
    if v < F and (c + gap) % tf == 1 % tf:  # v lands on the first frame of a latent frame
        tail = given[v:]
        run = int(np.argmin(tail)) if not tail.all() else len(tail)
        trail = min(end, run // tf * tf)
    if trail:
        if c + gap + trail <= window:
            return Window(u - c, c + gap + trail, (u, v))
        if u > 0 and 1 + gap + trail <= window:  # less context, so that the window arrives
            c = _context(window - gap - trail, tf)
            return Window(u - c, c + gap + trail, (u, v))
        new = min(gap - tf, window - c)  # leave at least one latent frame for the window that arrives
        if new < 1:
            new = min(gap, window - c)
    else:
        new = min(gap, window - c)
    if stop is not None and u < stop < u + new:
        # end the new frames on the latent boundary nearest the stop: new = r + k tf keeps (c + new) = 1 mod tf
        r = (1 - c) % tf
        k = max(round((stop - u - r) / tf), 0 if r else 1)
        new = min(new, r + k * tf)
    length = c + new + (1 - c - new) % tf  # round up to tf k + 1
    return Window(u - c, min(length, window), (u, u + new))


def prev_window(given: np.ndarray, window: int, hold: int, tf: int) -> Window:
    """Place the next window of a backward fill over the *last* frames not yet given, so that it arrives at what
    follows them.

    The window holds up to `hold` given frames after the missing run (whole latent frames) at its far end and makes
    the largest tf k + 1 frames before them that fit (or the rest of the run). Nothing before the run is held: a
    backward fill invents what came before (`extend --backward`), right to left, each window arriving at the start
    of the one made before it, so no window runs ahead blind and leaves the arrival to a last short one. The run's
    length must tile this way (`backward_pad`); `new` comes back misaligned ((new - 1) % tf != 0) when it does not.
    """
    missing = np.flatnonzero(~given)
    v = int(missing[-1]) + 1
    before = given[:v][::-1]
    u = v - (int(np.argmax(before)) if before.any() else v)  # the missing run is [u, v)
    tail = given[v:]
    run = len(tail) if tail.all() else int(np.argmin(tail))
    trail = min(hold, run) // tf * tf
    new = min(v - u, _context(window - trail, tf))
    return Window(v - new, new + trail, (v - new, v))


def _whole(win: Window, tf: int) -> bool:
    """Whether a window's new frames start it with whole latent frames (tf k + 1 of them)."""
    return (win.new[1] - win.new[0] - 1) % tf == 0


def backward_pad(n: int, held: int, window: int, hold: int, tf: int) -> int:
    """The fewest frames to add before n new ones (then `held` given ones) so that `prev_window` tiles them:
    every window makes tf k + 1 frames (its first latent frame is a single frame)."""
    for pad in range(4 * tf):
        given = np.zeros(pad + n + held, bool)
        given[pad + n :] = True
        while not given.all():
            w = prev_window(given, window, hold, tf)
            if not _whole(w, tf):
                break
            given[w.new[0] : w.new[1]] = True
        else:
            return pad
    raise TenkuError(f"no layout of {n} frames in windows of {window} (a bug: please report it)")


def latent_held(given: np.ndarray, tf: int) -> np.ndarray:
    """Pixel frames given (L,) -> latent frames whose pixels are all given (f,): [0], [1..tf], [tf+1..2tf], ..."""
    f = (len(given) - 1) // tf + 1
    return np.array([bool(given[0])] + [bool(given[tf * j - tf + 1 : tf * j + 1].all()) for j in range(1, f)])


def blend_seam(new: np.ndarray, frames: int, left: tuple[np.ndarray, np.ndarray] | None = None,
               right: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Blend decoded new frames into given neighbours: float (n, H, W, 3) in, float out.

    left/right: (the given frame next to the new ones, the window's decoding of that same frame). Their difference,
    the VAE's error there, is added to the new frames with weight 1 next to the seam falling linearly to 0 over
    `frames`: the first new frame then differs from the given one exactly as the decoded window moved.
    """
    out = new.astype(np.float32)
    if frames <= 0 or not len(out):
        return out
    d = np.arange(len(out), dtype=np.float32)  # distance from the left seam, 0 next to it
    w = [np.clip(1 - dist / frames, 0, 1) if side is not None else np.zeros_like(d)
         for side, dist in ((left, d), (right, d[::-1]))]
    total = np.maximum(w[0] + w[1], 1.0)  # a run shorter than two fades: a convex mix of the two corrections
    for side, weight in zip((left, right), w):
        if side is not None:
            out += (weight / total)[:, None, None, None] * (side[0].astype(np.float32) - side[1].astype(np.float32))
    return out


class Roller:
    """Fills a `Timeline` window by window; see the module docstring. One per generation (it caches text states)."""

    def __init__(self, pipe: "Pipeline", req: "Request", negative_prompt: str = "", *, strength: float = 1.0,
                 anchor: float = 0.0, callback: Callback | None = None):
        d = pipe.defaults
        for name in ("context_latent_frames", "end_latent_frames", "seam_frames"):
            if getattr(d, name) < 0:
                raise TenkuError(f"SampleConfig.{name} must be 0 or more, got {getattr(d, name)}")
        if not 0.0 <= d.color_anchor <= 1.0:
            raise TenkuError(f"SampleConfig.color_anchor must be between 0 and 1, got {d.color_anchor}")
        if not 0.0 <= d.context_noise < 1.0:
            raise TenkuError(f"SampleConfig.context_noise must be at least 0 and below 1, got {d.context_noise}")
        self.pipe, self.req, self.negative_prompt = pipe, req, negative_prompt
        self.tf = pipe.vae.temporal_factor
        self.window = pipe.window_frames()
        self.context = d.context_latent_frames * self.tf + 1
        self.end = d.end_latent_frames * self.tf
        self.seam = d.seam_frames
        self.context_noise = d.context_noise
        self.strength, self.anchor, self.callback = strength, anchor, callback
        self._texts: dict[str, tuple] = {}
        self._ref: np.ndarray | None = None  # the first window's mean colour (color_anchor)
        self.windows: list[Window] = []  # what ran, for tests and benchmarks

    def text(self, prompt: str) -> tuple:
        if prompt not in self._texts:
            self._texts[prompt] = self.pipe.encode_prompt(prompt, self.negative_prompt, self.req.notes)
        return self._texts[prompt]

    def guidance(self, prompt: str) -> float:
        # no prompt and no negative prompt: text and null are the same states, guidance would change nothing
        return 1.0 if not prompt.strip() and not self.negative_prompt.strip() else self.req.guidance

    def fill(self, tl: Timeline, prompt_at: Callable[[int], str], stops: tuple[int, ...] = (),
             backward: bool = False) -> Timeline:
        """Fill `tl` completely and return it."""
        for _ in self.roll(tl, prompt_at, stops, backward=backward):
            pass
        return tl

    def roll(self, tl: Timeline, prompt_at: Callable[[int], str], stops: tuple[int, ...] = (),
             stream: bool = False, backward: bool = False) -> Iterator[np.ndarray]:
        """Fill `tl` window by window (a generator: consume it). `prompt_at(frame)` is the prompt of the window
        whose new frames centre there; `stops` are frames no window's new frames cross (prompt changes).

        stream: yield the frames that became final, in order, as uint8 (n, H, W, 3) chunks, and drop them from
        `tl` once no later window needs them as context, so memory stays bounded whatever the length.
        backward: windows go right to left (`prev_window`), each holding the start of what follows it; the
        missing frames must be one run at the start, sized by `backward_pad` (stops and stream do not apply).
        """
        if backward and (stops or stream):
            raise TenkuError("a backward fill takes no prompt stops and does not stream")
        todo, done, handed = int((~tl.given).sum()), 0, 0
        while not tl.given.all():
            u = int(np.argmin(tl.given))
            if backward:
                win = prev_window(tl.given, self.window, self.context, self.tf)
                if not _whole(win, self.tf):
                    raise TenkuError(f"a backward fill cannot make frames {win.new[0]}..{win.new[1] - 1} in whole "
                                     "latent frames (a bug: please report it)")
            else:
                win = next_window(tl.given, self.window, self.context, self.end, self.tf,
                                  next((s for s in stops if s > u), None))
            first, last = win.new

            def on_step(step: int, total: int, done: int = done, n: int = last - first) -> None:
                if self.callback is not None:
                    self.callback(done + n * step // total, todo)

            decoded = self.run_window(tl, win, prompt_at((first + last - 1) // 2), len(self.windows), on_step)
            self.write(tl, win, decoded)
            done += last - first
            if stream:
                ready = int(np.argmin(tl.given)) if not tl.given.all() else tl.length  # the given prefix
                if ready > handed:
                    chunk = tl.get(handed, ready)
                    handed = ready
                    tl.drop_before(handed - self.context)  # the next window's context is all it needs
                    yield chunk
        if stream and handed < tl.length:
            yield tl.get(handed, tl.length)

    def run_window(self, tl: Timeline, win: Window, prompt: str, k: int, on_step: Callback) -> np.ndarray:
        """Denoise one window: returns its decoded frames uint8 (length, H, W, 3)."""
        pipe, req = self.pipe, self.req
        canvas, given = tl.canvas(win.start, win.length)
        held = latent_held(given, self.tf)                                                  # (f,)
        latents = pipe.encode(canvas) if held.any() or self.strength < 1 else None         # (1, c, f, h, w)
        seed = req.seed if k == 0 else (req.seed * 1_000_003 + k) % 2**63
        noise = pipe.prepare_latents(win.length, req.height, req.width, seed)               # (1, c, f, h, w)
        text, mask, null, null_mask = self.text(prompt)
        hold = torch.from_numpy(held)[None].to(pipe.device) if held.any() else None         # (1, f)
        out = pipe._generate(
            text, mask, null, null_mask, noise, steps=req.steps, guidance=self.guidance(prompt),
            known=latents if hold is not None else None, known_mask=hold,
            init=latents if self.strength < 1 else None, t_start=self.t_start(noise), callback=on_step,
            context_noise=self.context_noise,
        )
        self.windows.append(win)
        return pipe.decode(out)[0]                                                          # (L, H, W, 3)

    def t_start(self, noise: torch.Tensor) -> float:
        """The flow time a remix noises its input to: `strength` is the share of the sampling schedule that runs
        (as image-to-image pipelines count it), so the schedule's own time at that share, `shift_time(strength)` with
        the window's time shift. Taken as the flow time itself, a mid strength skipped the noise levels where the
        model decides colours and shapes (for a 4 s window, shift 1.9, 0.6 ran only the last 44% of the steps)."""
        from tenku.flow import shift_time

        if self.strength >= 1:
            return 1.0
        _, _, f, h, w = noise.shape
        return float(shift_time(self.strength, self.pipe.flow.shift_for(f * h * w)))

    def write(self, tl: Timeline, win: Window, decoded: np.ndarray) -> None:
        """Write the window's new frames into `tl`, blended across seams and colour-anchored."""
        first, last = win.new
        s = win.start
        new = decoded[first - s : last - s]
        left = (tl.frames[first - 1], decoded[first - 1 - s]) if first > s else None
        right = None
        if last < tl.length and last - s < win.length and tl.given[last]:
            right = (tl.frames[last], decoded[last - s])
        out = blend_seam(new, self.seam, left, right)
        if self.anchor > 0:
            mean = out.mean(axis=(0, 1, 2))                                                 # (3,)
            if self._ref is None:
                self._ref = mean
            else:
                ramp = (np.arange(1, len(out) + 1, dtype=np.float32) / len(out))[:, None, None, None]
                out += ramp * self.anchor * (self._ref - mean)
        tl.put(first, np.clip(np.rint(out), 0, 255).astype(np.uint8))


# --- measurements ------------------------------------------------------------------------------------------------


def frame_steps(frames: np.ndarray) -> np.ndarray:
    """Mean absolute difference between consecutive frames, (F - 1,) in 0..255 units."""
    f = frames.astype(np.float32)
    return np.abs(np.diff(f, axis=0)).mean(axis=(1, 2, 3))


def seam_ratio(frames: np.ndarray, at: int) -> float:
    """The step into frame `at` (from `at - 1`) over the median step of the clip: 1 is an ordinary frame change."""
    steps = frame_steps(frames)
    return float(steps[at - 1] / max(float(np.median(steps)), 1e-6))


def loop_ratio(frames: np.ndarray) -> float:
    """The step from the last frame back to the first over the median step: a seamless loop is about 1."""
    steps = frame_steps(frames)
    jump = float(np.abs(frames[0].astype(np.float32) - frames[-1].astype(np.float32)).mean())
    return jump / max(float(np.median(steps)), 1e-6)


# --- storyboards -------------------------------------------------------------------------------------------------


@dataclass
class Card:
    """A storyboard card: from `time` seconds on, the video shows `prompt`; `image` (uint8 (H, W, 3)) is held as
    the frame at that time."""

    time: float
    prompt: str = ""
    image: np.ndarray | None = None


@dataclass
class Board:
    cards: list[Card]
    seconds: float | None = None  # the video's length; None: the last card's time plus the model's clip length
    prompt: str = ""  # used by cards without a prompt


def _card_name(i: int, card: Card) -> str:
    return f"card {i + 1}" + (f" ({card.prompt!r})" if card.prompt else "")


def check_cards(cards: list[Card], seconds: float) -> None:
    """One-line errors for cards out of order, at a bad time, or past the end."""
    if not cards:
        raise TenkuError("a storyboard needs at least one card")
    for i, card in enumerate(cards):
        if not isinstance(card.time, (int, float)) or isinstance(card.time, bool) or not math.isfinite(card.time) or card.time < 0:
            raise TenkuError(f"{_card_name(i, card)}: time must be a number of seconds >= 0, got {card.time!r}")
        if card.time >= seconds:
            raise TenkuError(f"{_card_name(i, card)} at {card.time:g} s is past the end of the {seconds:g} s video")
        if i and card.time <= cards[i - 1].time:
            raise TenkuError(
                f"{_card_name(i, card)} at {card.time:g} s comes before or with card {i} at {cards[i - 1].time:g} s; "
                "list the cards in time order"
            )


def load_board(path: str | Path) -> Board:
    """Read a storyboard from JSON or YAML (YAML needs PyYAML):

        {"seconds": 8, "prompt": "optional default", "cards": [{"time": 0, "prompt": "...", "image": "a.png"}, ...]}

    A bare list of cards also works. Image paths are relative to the board's folder.
    """
    from tenku.video import read_image

    path = Path(path)
    if not path.is_file():
        raise TenkuError(f"{path}: no such storyboard file")
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise TenkuError(f"{path}: reading YAML storyboards needs PyYAML (pip install pyyaml); or write it as JSON") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise TenkuError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise TenkuError(f"{path}: not valid JSON ({e})") from None
    if isinstance(data, list):
        data = {"cards": data}
    if not isinstance(data, dict) or not isinstance(data.get("cards"), list):
        raise TenkuError(f"{path}: a storyboard is an object with a list of \"cards\" (or a bare list of cards)")
    unknown = sorted(set(data) - {"cards", "seconds", "prompt"})
    if unknown:
        raise TenkuError(f"{path}: unknown storyboard keys {unknown}; known keys are ['cards', 'prompt', 'seconds']")
    cards = []
    for i, raw in enumerate(data["cards"]):
        if not isinstance(raw, dict) or "time" not in raw:
            raise TenkuError(f"{path}: card {i + 1} must be an object with a \"time\" (seconds), got {raw!r}")
        bad = sorted(set(raw) - {"time", "prompt", "image"})
        if bad:
            raise TenkuError(f"{path}: card {i + 1} has unknown keys {bad}; known keys are ['image', 'prompt', 'time']")
        prompt = raw.get("prompt") or ""
        if not isinstance(prompt, str):
            raise TenkuError(f"{path}: card {i + 1}'s prompt must be text, got {prompt!r}")
        image = None
        if raw.get("image"):
            image = read_image(path.parent / str(raw["image"]))
        cards.append(Card(time=raw["time"], prompt=prompt, image=image))
    seconds = data.get("seconds")
    if seconds is not None and (not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not seconds > 0):
        raise TenkuError(f"{path}: seconds must be a positive number, got {seconds!r}")
    prompt = data.get("prompt") or ""
    if not isinstance(prompt, str):
        raise TenkuError(f"{path}: prompt must be text, got {prompt!r}")
    board = Board(cards=cards, seconds=seconds, prompt=prompt)
    check_cards(cards, seconds if seconds is not None else math.inf)
    return board


# --- the modes: `Pipeline`'s methods call these --------------------------------------------------------------------
# `gen` holds the generation keywords of `Pipeline.__call__` (seconds, size, width, height, fps, seed, steps,
# guidance, negative_prompt, callback); `check_inputs` validates them and rejects unknown ones.


def _split(gen: dict[str, Any]) -> tuple[dict[str, Any], str, Callback | None]:
    gen = dict(gen)
    callback = gen.pop("callback", None)
    return gen, gen.get("negative_prompt") or "", callback


def _result(frames: np.ndarray, req: "Request", prompt: str, mode: str, seed: int | None = None) -> "GeneratedVideo":
    from tenku.pipeline import GeneratedVideo, logger

    seed = req.seed if seed is None else seed
    for note in req.notes:
        logger.info(note)
    comment = f"tenku {mode}: {prompt!r}, seed {seed}, {req.steps} steps, guidance {req.guidance:g}"
    return GeneratedVideo(frames=frames, fps=req.fps, comment=comment, notes=list(req.notes), prompt=prompt, seed=seed)


def _input_frames(video: Any, name: str, req: "Request") -> np.ndarray:
    """A `Video` checked, resampled to the request's fps and fitted to its size: uint8 (F, H, W, 3)."""
    v = as_video(video, name)
    frames = resample(np.asarray(v.frames), float(v.fps), float(req.fps), name, req.notes)
    return fit(frames, req.width, req.height, name, req.notes)


def _still(frames: np.ndarray, n: int) -> np.ndarray:
    """At least n frames: the clip, then its last frame repeated (a held end must fill whole latent frames)."""
    if len(frames) >= n:
        return frames
    return np.concatenate([frames, np.repeat(frames[-1:], n - len(frames), axis=0)])


def generate_long(pipe: "Pipeline", prompt: str, req: "Request", negative_prompt: str,
                  callback: Callback | None) -> Iterator[np.ndarray]:
    """Text to video longer than one window: rolling windows, each conditioned on the end of the one before,
    colour-anchored to the first; yields uint8 frame chunks as they become final (bounded memory)."""
    roller = Roller(pipe, req, negative_prompt, anchor=pipe.defaults.color_anchor, callback=callback)
    tl = Timeline(req.frames, req.height, req.width)
    yield from roller.roll(tl, lambda i: prompt, stream=True)


def image_to_video(pipe: "Pipeline", prompt: str, image: Any, gen: dict[str, Any]) -> "GeneratedVideo":
    gen, negative, callback = _split(gen)
    req = pipe.check_inputs(prompt, **gen)
    img = fit(as_image(image)[None], req.width, req.height, "image", req.notes)  # (1, H, W, 3)
    tl = Timeline(req.frames, req.height, req.width)
    tl.put(0, img)
    Roller(pipe, req, negative, callback=callback).fill(tl, lambda i: prompt)
    return _result(tl.get(0, tl.length), req, prompt, "image-to-video")


def extend(pipe: "Pipeline", prompt: str, video: Any, seconds: float | None, backward: bool,
           gen: dict[str, Any]) -> "GeneratedVideo":
    gen, negative, callback = _split(gen)
    req = pipe.check_inputs(prompt, require_prompt=False, **gen)
    n = frame_count(seconds, req.fps, "extend")
    frames = _input_frames(video, "video", req)
    tf = pipe.vae.temporal_factor
    roller = Roller(pipe, req, negative, callback=callback)
    if not backward:  # [input][new]: the new part is conditioned on the input's last 4m + 1 frames
        tl = Timeline(len(frames) + n, req.height, req.width)
        tl.put(0, frames)
        out = slice(0, tl.length)
    else:  # [pad][new][input][still]: windows go right to left, the first one arriving at the input's start
        held = _still(frames, tf)
        pad = backward_pad(n, len(held), roller.window, roller.context, tf)  # made, then dropped
        tl = Timeline(pad + n + len(held), req.height, req.width)
        tl.put(pad + n, held)
        out = slice(pad, pad + n + len(frames))
    roller.fill(tl, lambda i: prompt, backward=backward)
    return _result(tl.get(out.start, out.stop), req, prompt, "extend backward" if backward else "extend")


def bridge(pipe: "Pipeline", req: "Request", negative: str, callback: Callback | None, prompt: str,
           before: np.ndarray, after: np.ndarray, n: int) -> np.ndarray:
    """n new frames (a multiple of the temporal factor) from the end of `before` to the start of `after`."""
    tf = pipe.vae.temporal_factor
    ctx = before[len(before) - _context(min(len(before), pipe.defaults.context_latent_frames * tf + 1), tf):]
    end = _still(after[: pipe.defaults.end_latent_frames * tf], tf)
    end = end[: len(end) // tf * tf]
    tl = Timeline(len(ctx) + n + len(end), req.height, req.width)
    tl.put(0, ctx)
    tl.put(len(ctx) + n, end)
    Roller(pipe, req, negative, callback=callback).fill(tl, lambda i: prompt)
    return tl.get(len(ctx), len(ctx) + n)


def _bridge_frames(seconds: float | None, fps: float, tf: int, what: str) -> int:
    n = frame_count(seconds, fps, what)
    k = round(n / tf)
    if k < 1:
        raise TenkuError(f"{what} needs at least {tf} frames ({tf / fps:.3g} s at {fps:g} fps), got {seconds:g} s")
    return k * tf


def connect(pipe: "Pipeline", prompt: str, video: Any, end: Any, seconds: float | None,
            gen: dict[str, Any]) -> "GeneratedVideo":
    gen, negative, callback = _split(gen)
    req = pipe.check_inputs(prompt, require_prompt=False, **gen)
    tf = pipe.vae.temporal_factor
    n = _bridge_frames(seconds, req.fps, tf, "a transition")
    if n / req.fps != seconds:
        req.notes.append(f"the transition is {n} frames ({n / req.fps:.3g} s): a whole number of latent frames of {tf}")
    before, after = _input_frames(video, "video", req), _input_frames(end, "end", req)
    frames = bridge(pipe, req, negative, callback, prompt, before, after, n)
    return _result(frames, req, prompt, "connect")


def loop(pipe: "Pipeline", prompt: str, image: Any, video: Any, gen: dict[str, Any]) -> "GeneratedVideo":
    """Loop = a clip plus a bridge from its end back to its start (see `Pipeline.loop` for why)."""
    gen, negative, callback = _split(gen)
    tf = pipe.vae.temporal_factor
    if video is not None:
        if image is not None:
            raise TenkuError("give loop either a video (to make it loop) or an image (to start from), not both")
        seconds = gen.pop("seconds", None)
        req = pipe.check_inputs(prompt, require_prompt=False, **gen)
        clip = _input_frames(video, "video", req)
        if seconds is None:  # a third of the clip, within one window
            most = pipe.window_frames() - 1 - pipe.defaults.end_latent_frames * tf
            n = max(tf, min(len(clip) // 3 // tf * tf, most // tf * tf))
        else:
            n = _bridge_frames(seconds, req.fps, tf, "a loop's bridge")
        steps = _progress_parts(callback, [1])
    else:
        req = pipe.check_inputs(prompt, **gen)
        n = max(tf, round(req.frames / 3 / tf) * tf)
        if req.frames - n < 1:
            raise TenkuError(f"a loop needs at least {tf + 1} frames ({(tf + 1) / req.fps:.3g} s), got {req.frames}")
        tl = Timeline(req.frames - n, req.height, req.width)
        if image is not None:
            tl.put(0, fit(as_image(image)[None], req.width, req.height, "image", req.notes))
        steps = _progress_parts(callback, [tl.length, n])
        Roller(pipe, req, negative, callback=steps[0]).fill(tl, lambda i: prompt)
        clip = tl.get(0, tl.length)
        steps = steps[1:]
    tail = bridge(pipe, req, negative, steps[0], prompt, clip, clip, n)
    return _result(np.concatenate([clip, tail]), req, prompt, "loop")


def _progress_parts(callback: Callback | None, sizes: list[int]) -> list[Callback | None]:
    """Split one progress callback over consecutive parts of the given sizes (in frames)."""
    if callback is None:
        return [None] * len(sizes)
    total, parts, before = sum(sizes), [], 0
    for size in sizes:
        parts.append(lambda done, todo, before=before, size=size: callback(before + size * done // max(todo, 1), total))
        before += size
    return parts


def remix(pipe: "Pipeline", prompt: str, video: Any, strength: float, gen: dict[str, Any]) -> "GeneratedVideo":
    gen, negative, callback = _split(gen)
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0.0 <= strength <= 1.0:
        raise TenkuError(f"strength must be between 0 (keep the input) and 1 (ignore it), got {strength!r}")
    seconds = gen.pop("seconds", None)
    req = pipe.check_inputs(prompt, **gen)
    frames = _input_frames(video, "video", req)
    if seconds is not None and abs(seconds * req.fps - len(frames)) >= 1:
        req.notes.append(f"a remix is as long as its input ({len(frames)} frames); seconds={seconds:g} is ignored")
    if strength == 0:  # nothing may change: the input through the VAE, as every other output is
        tf = pipe.vae.temporal_factor
        padded = _still(frames, len(frames) + (1 - len(frames)) % tf)
        req.notes.append("strength 0 keeps the input: this is its VAE reconstruction")
        return _result(pipe.decode(pipe.encode(padded))[0, : len(frames)], req, prompt, "remix")
    tl = Timeline(len(frames), req.height, req.width, guide=frames)
    Roller(pipe, req, negative, strength=float(strength), callback=callback).fill(tl, lambda i: prompt)
    return _result(tl.get(0, tl.length), req, prompt, f"remix {strength:g}")


def storyboard(pipe: "Pipeline", prompt: str, shots: list[tuple[str, float]] | None, cards: list[Card] | None,
               image: Any, gen: dict[str, Any]) -> "GeneratedVideo":
    gen, negative, callback = _split(gen)
    if shots and cards:
        raise TenkuError("give a storyboard either shots (prompt, seconds) or cards, not both")
    seconds = gen.pop("seconds", None)
    if shots:
        cards, t = [], 0.0
        for i, shot in enumerate(shots):
            if not (isinstance(shot, (tuple, list)) and len(shot) == 2 and isinstance(shot[0], str)
                    and isinstance(shot[1], (int, float)) and shot[1] > 0):
                raise TenkuError(f"shot {i + 1} must be (prompt, seconds > 0), got {shot!r}")
            cards.append(Card(time=t, prompt=shot[0]))
            t += float(shot[1])
        seconds = t if seconds is None else seconds
    if not cards:
        raise TenkuError("a storyboard needs cards (or shots)")
    cards = list(cards)
    if seconds is None:
        seconds = float(cards[-1].time) + pipe.defaults.seconds if isinstance(cards[-1].time, (int, float)) else 0.0
    check_cards(cards, seconds)
    prompts = [c.prompt.strip() or prompt.strip() for c in cards]
    for i, p in enumerate(prompts):
        if not p:
            raise TenkuError(f"card {i + 1} has no prompt and the storyboard has none to fall back on")
    req = pipe.check_inputs(prompts[0], **gen)
    tf = pipe.vae.temporal_factor
    n = frame_count(seconds, req.fps, "a storyboard")
    starts = [min(n - 1, round(c.time * req.fps)) for c in cards]
    images = [c.image for c in cards]
    if image is not None:
        if images[0] is not None:
            raise TenkuError("the first card has an image already; give image= only for a board without one")
        images[0] = image
    tl = Timeline(n, req.height, req.width)
    for i, (card, img, p) in enumerate(zip(cards, images, starts)):
        if img is None:
            continue
        img = fit(as_image(img, f"card {i + 1}'s image")[None], req.width, req.height, f"card {i + 1}'s image", req.notes)
        if p == 0 and i == 0:
            tl.put(0, img)
            continue
        # held as one whole latent frame (tf frames) starting at a latent boundary (tf j + 1)
        q = min(max(1, (p - 1 + tf // 2) // tf * tf + 1), (n - tf - 1) // tf * tf + 1)
        if q < 1 or tl.given[q : q + tf].any():
            raise TenkuError(f"{_card_name(i, card)}: its image does not fit ({tf} frames at {q / req.fps:.3g} s "
                             f"overlap another image or the end); move the card")
        if q != p:
            req.notes.append(f"{_card_name(i, card)}'s image is held from frame {q} ({q / req.fps:.3g} s), the "
                             f"latent-frame boundary nearest {card.time:g} s")
        tl.put(q, np.repeat(img, tf, axis=0))
        starts[i] = q

    def prompt_at(frame: int) -> str:
        return prompts[max([0] + [i for i, s in enumerate(starts) if s <= frame])]

    Roller(pipe, req, negative, callback=callback).fill(tl, prompt_at, stops=tuple(starts[1:]))
    return _result(tl.get(0, tl.length), req, " | ".join(prompts), "storyboard")


def image(pipe: "Pipeline", prompt: str, gen: dict[str, Any]) -> "GeneratedVideo":
    gen, negative, callback = _split(gen)
    if gen.pop("seconds", None) is not None:
        raise TenkuError("an image is one frame; seconds does not apply")
    fps = gen.get("fps") or pipe.defaults.fps
    return pipe(prompt, seconds=1 / fps, callback=callback, **gen)


def variations(pipe: "Pipeline", prompt: str, n: int, gen: dict[str, Any]) -> list["GeneratedVideo"]:
    """n videos from seeds seed, seed + 1, ...: one window's worth batched `variation_batch` at a time."""
    gen, negative, callback = _split(gen)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise TenkuError(f"n (the number of variations) must be a whole number >= 1, got {n!r}")
    req = pipe.check_inputs(prompt, **gen)
    if req.seed + n > 2**63:
        raise TenkuError(f"seeds {req.seed}..{req.seed + n - 1} go past 2^63; use a smaller seed")
    parts = _progress_parts(callback, [1] * n)
    if req.frames > pipe.window_frames():  # rolling: one at a time
        return [pipe(prompt, **{**gen, "seed": req.seed + i}, callback=parts[i]) for i in range(n)]
    text, mask, null, null_mask = pipe.encode_prompt(prompt, negative, req.notes)
    out: list[GeneratedVideo] = []
    batch = max(1, pipe.defaults.variation_batch)
    while len(out) < n:
        b0 = len(out)
        seeds = range(req.seed + b0, req.seed + min(n, b0 + batch))
        noise = torch.cat([pipe.prepare_latents(req.frames, req.height, req.width, s) for s in seeds])  # (B, c, f, h, w)

        def step(i: int, total: int, b0: int = b0, k: int = len(seeds)) -> None:
            if callback is not None:
                callback(b0 * total + k * i, n * total)

        try:
            latents = pipe._generate(text, mask, null, null_mask, noise, steps=req.steps, guidance=req.guidance,
                                     callback=step)
            frames = pipe.decode(latents)                                                 # (B, F, H, W, 3)
        except torch.cuda.OutOfMemoryError:
            if batch == 1:
                raise
            batch //= 2  # where memory does not allow the batch: halve it and redo this one
            torch.cuda.empty_cache()
            continue
        out += [_result(f, req, prompt, "variation", seed=s) for s, f in zip(seeds, frames)]
    return out
