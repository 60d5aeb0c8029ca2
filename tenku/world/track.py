"""Find the world's objects in frames by colour and follow them: the judge's eyes.

Frames come from anywhere (our renderer, a model, a re-encode), so nothing here reads a scene spec. The steps:

1. `prepare`: box-downscale to a working width of about 128 px and convert to CIELAB.
2. `segment`: each pixel takes the nearest object colour (`spec.COLORS`) when it is within `COLOR_TOLERANCE` of it
   and nearer to it than to anything that explains the pixel as background: the known setting palettes and the
   clip's own per-pixel temporal median (which is left out where the median is itself object-coloured, so resting
   objects survive).
3. `find_blobs`: 4-connected components of same-colour pixels with their area, centroid, box and silhouette
   features, one `Blob` per component per frame.
4. `estimate_camera`: the camera's pan and zoom per frame, from the background.
5. `link`: a greedy tracker (colour first, then predicted position) that bridges gaps, so an object that passes
   behind an occluder keeps its identity.

Coordinates: `x` pixels from the left, `y` pixels from the top, in the working frame (`Clip.scale` maps them back
to the input). World-ish coordinates (metres, camera removed) are computed in `judge.py`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

import numpy as np

from tenku.world.spec import (
    COLORS,
    GROUND_FRACTION,
    MIN_DELTA_E,
    OCCLUDER_COLORS,
    PALETTES,
    SHADOW_MAX,
    VIEW_WIDTH,
    object_color_variants,
    srgb_to_lab,
)

COLOR_NAMES: tuple[str, ...] = tuple(COLORS)
WORK_WIDTH = 128  # frames wider than twice this are box-downscaled by an integer factor towards it
MAX_FRAMES = 240  # longer clips are subsampled in time by an integer stride
COLOR_TOLERANCE = 28.0  # max CIE76 distance from an object colour's nearest shaded variant (H.264 stays inside)
FRINGE_TOUCH = 0.5  # a thin component with more of its pixels next to another colour is an edge fringe
SOLID_FIT = 6.0  # mean CIE76 distance to its colour under which a thin component is a small object, not a fringe,
# when what it touches is no solid object either (a pink pyramid ringed by its gray-brown blend with a wooden floor)
FIT_MARGIN = 0.8  # ... and when it fits at least this much better (distance ratio) than every component it touches
OCCLUDER_TOLERANCE = 15.0  # max CIE76 distance from an occluder colour for an occluder pixel
# camera: the least horizontal texture (mean squared L gradient per pixel) that pins a pan down. The settings' empty
# backgrounds measure 0.0105 (beach, zooming) to 6.6 (stars); the plain studio measures 0, and objects' contact
# shadows and rims lift it to ~0.007, which the registration then follows as if the camera moved
MIN_TEXTURE = 0.009
MOVE_GAIN = 1.25  # camera: a measured move must leave this many times less background change than no move
STILL_BACKGROUND = 0.05  # camera: a textured background changing by less than this (mean |L|) stands still: frozen
# clips measure 0-0.02 (through H.264), the slowest real pans over a plain wall 0.2
ZOOM_MIN = 0.08  # a camera whose scale changes by more than this (log) over the clip zooms; else it may pan
WASH_AREA = 3.0  # a ring of washed-out colour is at most this many times the area of the object it hugs
WASH_COST = 0.5  # pairing cost added for a washed sighting: the object's own colour, where seen, comes first
MIN_BLOB_PIXELS = 3  # smaller components are noise or anti-aliasing fringes


# --- colour ----------------------------------------------------------------------------------------------------


def _srgb_to_linear_lut() -> np.ndarray:
    c = np.arange(256, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


_LINEAR = _srgb_to_linear_lut()


def _linear_to_srgb8(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0.0, 1.0)
    c = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.round(c * 255.0).astype(np.uint8)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB (..., 3) -> float32 CIELAB (..., 3) under D65 (`spec.srgb_to_lab`, through a lookup)."""
    return srgb_to_lab(np.asarray(rgb)).astype(np.float32)


def _object_references() -> np.ndarray:
    """CIELAB (10, k, 3): every shaded variant the renderer can give each object colour."""
    return np.stack([srgb_to_lab(object_color_variants(c)) for c in COLOR_NAMES]).astype(np.float32)


def _background_references(
    obj: np.ndarray, settings: tuple[str, ...] = tuple(PALETTES), occluders: bool = True
) -> np.ndarray:
    """CIELAB (m, 3): the settings' (and occluders') colours, their shadowed versions and their pairwise mixes
    (gradients, stripes, anti-aliased edges), less any mix that comes within `MIN_DELTA_E` of an object variant."""
    refs = []
    for name in settings:
        pal = PALETTES[name]
        base = [np.array(v, np.float64) for v in pal.values()]
        if occluders:
            base += [np.array(v, np.float64) for occ in OCCLUDER_COLORS.values() for v in occ.values()]
        ground = [np.array(v, np.float64) for k, v in pal.items() if k.startswith("ground")]
        shadows = [g * f for g in ground for f in np.linspace(1 - SHADOW_MAX, 1, 4)]
        mixes = [a * m + b * (1 - m) for a, b in itertools.combinations(base, 2) for m in np.linspace(0.1, 0.9, 9)]
        refs += base + shadows + mixes
    lab = srgb_to_lab(np.array(refs)).astype(np.float32)
    d = np.sqrt(((lab[:, None, :] - obj.reshape(1, -1, 3)) ** 2).sum(-1)).min(1)
    return lab[d >= MIN_DELTA_E]


def _occluder_references() -> np.ndarray:
    """CIELAB (m, 3): occluder colours, shaded like objects can be."""
    base = np.array([v for occ in OCCLUDER_COLORS.values() for v in occ.values()], np.float64)
    return srgb_to_lab((base[:, None] * np.linspace(0.75, 1.05, 5)[:, None]).reshape(-1, 3).clip(0, 255)).astype(np.float32)


_REFS: dict[str, np.ndarray] = {}  # built on first use: object variants, background and occluder colours, CIELAB


def references(settings: tuple[str, ...] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Object, background (of `settings`, default all) and occluder reference colours, CIELAB."""
    if not _REFS:
        _REFS["object"] = _object_references()
        _REFS["occluder"] = _occluder_references()
    key = "background:" + ",".join(settings or PALETTES)
    if key not in _REFS:
        _REFS[key] = _background_references(_REFS["object"], tuple(settings or PALETTES))
    return _REFS["object"], _REFS[key], _REFS["occluder"]


SETTING_TOL = 10.0  # CIE76: a pixel this near a setting's colours (mixes and shadows included) is explained by it
SETTING_SHARE = 0.6  # settings that explain at least this share of what the best one does are the clip's ...
SETTING_MIN = 0.5  # ... when the best explains this share of the frame; otherwise (a model's or a camera's own
# background) every setting's colours count as background


def settings_seen(rgb: np.ndarray) -> tuple[str, ...]:
    """The settings whose colours explain the clip's background: uint8 (F, h, w, 3) -> names from `PALETTES`.

    A dark blue-black cube against a day sky is nearer the night sky's navy than black; with every setting's
    colours as background it vanished in flight. The background is the clip's temporal median (moving objects
    leave it); each setting explains the share of it within `SETTING_TOL` of its colours."""
    median = np.median(rgb[:: max(1, len(rgb) // 16)], axis=0).astype(np.uint8)
    lab, _, counts = _distinct_colours(median)
    lab = lab.astype(np.float64)
    shares = {}
    for name in PALETTES:
        key = "setting:" + name  # the setting's own colours: trees and walls mix with any of them
        if key not in _REFS:
            _REFS[key] = _background_references(references()[0], (name,), occluders=False)
        d = np.sqrt(_sq_dist(lab, _REFS[key]).min(-1))
        shares[name] = float(counts[d < SETTING_TOL].sum() / counts.sum())
    best = max(shares.values())
    if best < SETTING_MIN:
        return tuple(PALETTES)
    return tuple(n for n in PALETTES if shares[n] >= SETTING_SHARE * best)


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared distances (n, m) between rows of a (n, 3) and b (m, 3), as |a|^2 - 2 a.b + |b|^2: one matrix
    product instead of an (n, m, 3) difference (natural footage has tens of thousands of distinct colours)."""
    b = b.astype(np.float64)
    return np.maximum((a * a).sum(1)[:, None] - 2.0 * a @ b.T + (b * b).sum(1)[None], 0.0)


def _distinct_colours(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8 sRGB (..., 3) quantised to 6 bits a channel -> CIELAB of each distinct colour (u, 3) float32, each
    pixel's index into them (flat) and how many pixels have each (u,)."""
    q = (np.asarray(rgb) >> 2).astype(np.int32)
    codes = (q[..., 0] << 12) | (q[..., 1] << 6) | q[..., 2]
    uniq, inv, counts = np.unique(codes.ravel(), return_inverse=True, return_counts=True)
    centres = np.stack([(uniq >> 12) & 63, (uniq >> 6) & 63, uniq & 63], -1) * 4 + 2
    return srgb_to_lab(centres).astype(np.float32), inv, counts


def color_distances(
    rgb: np.ndarray, settings: tuple[str, ...] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8 sRGB (..., 3) -> CIE76 distance to each object colour's nearest shaded variant (..., 10), to the
    nearest background colour of `settings` (default: every setting) (...) and to the nearest occluder colour
    (...). Computed once per distinct colour (quantised to 6 bits a channel)."""
    obj, bg, occ = references(settings)
    lab, inv, _ = _distinct_colours(rgb)
    d_obj = np.empty((len(lab), len(COLOR_NAMES)), np.float32)
    d_bg = np.empty(len(lab), np.float32)
    d_occ = np.empty(len(lab), np.float32)
    flat_obj = obj.reshape(-1, 3)
    for i in range(0, len(lab), 4096):
        chunk = lab[i : i + 4096].astype(np.float64)
        d_obj[i : i + 4096] = np.sqrt(_sq_dist(chunk, flat_obj).reshape(len(chunk), *obj.shape[:2]).min(-1))
        d_bg[i : i + 4096] = np.sqrt(_sq_dist(chunk, bg).min(-1))
        d_occ[i : i + 4096] = np.sqrt(_sq_dist(chunk, occ).min(-1))
    shape = np.shape(rgb)[:-1]
    return d_obj[inv].reshape(*shape, -1), d_bg[inv].reshape(shape), d_occ[inv].reshape(shape)


# --- working frames --------------------------------------------------------------------------------------------


@dataclass
class Clip:
    """Frames at working resolution, as sRGB and CIELAB, with what it takes to map back to the input."""

    rgb: np.ndarray  # (F, h, w, 3) uint8
    lab: np.ndarray  # (F, h, w, 3) float32
    source: np.ndarray  # (F_in, H, W, 3) uint8: the input frames, for zoomed looks at small objects
    fps: float  # frame rate after any temporal stride
    scale: float  # input pixels per working pixel
    stride: int  # temporal stride: input frames per working frame
    settings: tuple[str, ...] | None = None  # the settings whose colours are background (`settings_seen`); None: all

    @property
    def shape(self) -> tuple[int, int, int]:
        f, h, w, _ = self.lab.shape
        return f, h, w

    @property
    def px_per_metre(self) -> float:
        """Working pixels per world metre at zoom 1: the frame is `VIEW_WIDTH` metres wide."""
        return self.lab.shape[2] / VIEW_WIDTH

    @property
    def ground_row(self) -> float:
        """Where a renderer following `spec` puts the ground line at zoom 1, in working pixels from the top."""
        return self.lab.shape[1] * (1.0 - GROUND_FRACTION)


def _box_downscale(frames: np.ndarray, k: int) -> np.ndarray:
    """uint8 (F, H, W, 3) -> uint8 (F, H // k, W // k, 3), averaging light (not gamma-coded values) over k x k
    boxes, a few frames at a time so a long HD clip never needs its float copy in memory."""
    f, h, w, _ = frames.shape
    hh, ww = h // k, w // k
    out = np.empty((f, hh, ww, 3), np.uint8)
    step = max(1, 2**22 // (hh * k * ww * k))
    for i in range(0, f, step):
        lin = _LINEAR[frames[i : i + step, : hh * k, : ww * k]]  # (n, hh k, ww k, 3) float32
        n = lin.shape[0]
        lin = lin.reshape(n, hh, k, ww * k, 3).sum(axis=2).reshape(n, hh, ww, k, 3).sum(axis=3)
        out[i : i + n] = _linear_to_srgb8(lin / (k * k))
    return out


def prepare(frames: np.ndarray, fps: float) -> Clip:
    """uint8 (F, H, W, 3) -> `Clip` about `WORK_WIDTH` px wide, at most `MAX_FRAMES` frames.

    Wide frames are box-averaged (in linear light) by an integer factor; narrow ones are upsampled bilinearly to
    `WORK_WIDTH`, which turns anti-aliased edges into sub-pixel silhouettes: a 6-px ball still looks round.
    """
    f, h, w, _ = frames.shape
    source = frames
    stride = max(1, -(-f // MAX_FRAMES))
    frames = frames[::stride]
    scale = 1.0
    k = max(1, w // WORK_WIDTH)
    if k > 1:
        frames = _box_downscale(frames, k)
        scale = float(k)
    elif w < WORK_WIDTH:
        from PIL import Image

        size = (WORK_WIDTH, max(1, round(h * WORK_WIDTH / w)))
        frames = np.stack([np.asarray(Image.fromarray(fr).resize(size, Image.BILINEAR)) for fr in frames])
        scale = w / WORK_WIDTH
    frames = np.ascontiguousarray(frames)
    return Clip(
        rgb=frames, lab=rgb_to_lab(frames), source=source, fps=fps / stride, scale=scale, stride=stride,
        settings=settings_seen(frames),
    )


# --- segmentation ----------------------------------------------------------------------------------------------


def segment(clip: Clip, use_median: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel object colour: int8 (F, h, w), the index into `COLOR_NAMES`, or -1 for background; and a bool
    (F, h, w) mask of occluder-coloured pixels (trees, walls), where objects may hide.

    A pixel is object colour k when its distance to k's nearest shaded variant is under `COLOR_TOLERANCE` and
    smaller than its distance to every background explanation: the background colours of the clip's settings
    (`settings_seen`) and, for clips of 5+
    frames, the pixel's own temporal median where that median is not itself object-coloured (a resting object makes
    its median object-coloured, so it survives; a model's unfamiliar background does not).
    """
    d_obj, d_bg, d_occ = color_distances(clip.rgb, clip.settings)  # (F, h, w, 10), (F, h, w), (F, h, w)
    best = d_obj.argmin(-1)
    d_best = np.take_along_axis(d_obj, best[..., None], -1)[..., 0]
    if use_median and clip.lab.shape[0] >= 5:
        median_rgb = np.median(clip.rgb, axis=0).astype(np.uint8)  # (h, w, 3)
        dm_obj, dm_bg, _ = color_distances(median_rgb, clip.settings)
        median_is_bg = (dm_obj.min(-1) > COLOR_TOLERANCE) | (dm_bg < dm_obj.min(-1))
        d_med = np.sqrt(((clip.lab - rgb_to_lab(median_rgb)) ** 2).sum(-1))
        d_bg = np.where(median_is_bg[None], np.minimum(d_bg, d_med), d_bg)
    is_obj = (d_best < COLOR_TOLERANCE) & (d_best < d_bg)
    classes = np.where(is_obj, best, -1).astype(np.int8)
    occluder = np.where(~is_obj & (d_occ < OCCLUDER_TOLERANCE), 0, -1).astype(np.int8)
    # objects' fringes first, then occluder-coloured fringes of objects (red on khaki mixes to brick)
    reach = max(1, int(np.ceil(1.0 / clip.scale)))  # an input pixel's fringe, in working pixels
    classes = drop_fringes(classes, reach, fit=np.where(classes >= 0, d_best, 0.0))
    occluder = drop_fringes(np.where(classes >= 0, 1, occluder).astype(np.int8), reach) == 0
    return classes, occluder


def large_patches(mask: np.ndarray, min_pixels: float) -> np.ndarray:
    """bool (F, h, w): the 4-connected patches of `mask` with at least `min_pixels` pixels."""
    labels, n = label_components(np.where(mask, 0, -1).astype(np.int8))
    if n == 0:
        return mask.copy()
    return mask & (np.bincount(labels[labels >= 0], minlength=n) >= min_pixels)[np.maximum(labels, 0)]


FAINT_MARGIN = 8.0  # a faint pixel may lie this much (CIE76) nearer a background colour than its object colour


def faint(clip: Clip) -> np.ndarray:
    """Per-pixel object colour under a looser test than `segment`'s, int8 (F, h, w), -1 for none: the nearest
    object colour within `COLOR_TOLERANCE`, up to `FAINT_MARGIN` nearer a known background colour, no fringe
    removal. A small object washed out by video coding in one frame still shows here; an erased one does not
    (every background colour lies `spec.MIN_DELTA_E` from every object colour). Only consulted near a track."""
    d_obj, d_bg, _ = color_distances(clip.rgb, clip.settings)
    best = d_obj.argmin(-1)
    d_best = np.take_along_axis(d_obj, best[..., None], -1)[..., 0]
    return np.where((d_best < COLOR_TOLERANCE) & (d_best < d_bg + FAINT_MARGIN), best, -1).astype(np.int8)


def _neighbourhood(classes: np.ndarray, reach: int) -> tuple[np.ndarray, np.ndarray]:
    """bool (F, h, w) twice: some pixel within `reach` (chessboard distance) holds a different non-negative class;
    every pixel within `reach` holds the same class (the pixel survives an erosion by `reach`)."""
    f, h, w = classes.shape
    other = np.zeros(classes.shape, bool)
    inner = classes >= 0
    pad = np.pad(classes, ((0, 0), (reach, reach), (reach, reach)), constant_values=-1)
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            nb = pad[:, reach + dy : reach + dy + h, reach + dx : reach + dx + w]
            other |= (nb >= 0) & (nb != classes)
            inner &= nb == classes
    return other, inner


def drop_fringes(
    classes: np.ndarray, reach: int = 1, max_touch: float = FRINGE_TOUCH, min_pixels: int = MIN_BLOB_PIXELS,
    fit: np.ndarray | None = None,
) -> np.ndarray:
    """Set to -1 the components that are specks (< `min_pixels`) or fringes: thin bands where an object's edge mixes
    with what lies behind it into a third colour (a gray ring round a black ball on a light backdrop). A fringe has
    most of its pixels (> `max_touch`) within `reach` pixels of another class and no pixel deeper than `reach`
    inside itself (`reach` grows with the upsampling, which widens fringes). Lines without a pixel 1 deep inside
    them go too: anti-aliased edges between background colours. Only neighbours at least half the component's
    size count as touching it: a small object ringed by specks of mixed colour (a white ball on dark ground) is
    the object, not their fringe. With `fit` (F, h, w), each pixel's colour distance to its class: where thin
    components only touch each other (a small object and the band where it blends with the ground, neither with a
    core), the one whose colour fits best stays when it fits within `SOLID_FIT`: mixed colours lie between
    references, an object's own pixels on one. Returns a cleaned copy."""
    labels, n = label_components(classes)
    if n == 0:
        return classes.copy()
    sel = labels >= 0
    lab_id = labels[sel]
    area = np.bincount(lab_id, minlength=n)
    _, inner = _neighbourhood(classes, reach)
    touch = np.bincount(lab_id, _touches_larger(classes, np.where(sel, area[labels], 0), reach)[sel], n) / area
    core = np.bincount(lab_id, inner[sel], n)
    solid = np.bincount(lab_id, _neighbourhood(classes, 1)[1][sel], n) if reach > 1 else core
    # specks; lines too thin for a 3x3 core (an anti-aliased wall top); fringes
    thin = (area < min_pixels) | (solid == 0)
    fringe = (touch > max_touch) & (core == 0)
    bad = thin | fringe
    if fit is not None and fringe.any():
        bad &= ~_best_of_fringes(labels, n, fringe & ~thin, bad, np.bincount(lab_id, fit[sel], n) / area, reach)
    out = classes.copy()
    out[sel] = np.where(bad[lab_id], -1, classes[sel])
    return out


def _best_of_fringes(labels: np.ndarray, n: int, fringe: np.ndarray, bad: np.ndarray, fit: np.ndarray,
                     reach: int) -> np.ndarray:
    """bool (n,): the fringe components (`fringe`: dropped for nothing else than that) that fit their colour
    within `SOLID_FIT` and clearly better (`FIT_MARGIN`) than every other component they touch within `reach`,
    none of which survives (a kept component: a cored object whose fringe this is)."""
    f, h, w = labels.shape
    pad = np.pad(labels, ((0, 0), (reach, reach), (reach, reach)), constant_values=-1)
    pairs = []
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            nb = pad[:, reach + dy : reach + dy + h, reach + dx : reach + dx + w]
            m = (labels >= 0) & (nb >= 0) & (nb != labels)
            pairs.append(np.stack([labels[m], nb[m]], 1))
    pairs = np.unique(np.concatenate(pairs), axis=0)
    keep = fringe & (fit < SOLID_FIT)
    if pairs.size:
        a, b = pairs[:, 0], pairs[:, 1]
        survivor = ~bad  # a neighbour that stays for its own reasons: this one is its fringe
        beaten = survivor[b] | (fit[b] * FIT_MARGIN <= fit[a])
        keep &= np.bincount(a, beaten, n) == 0
    return keep


def _touches_larger(classes: np.ndarray, area: np.ndarray, reach: int) -> np.ndarray:
    """bool (F, h, w): a pixel of another non-negative class, whose component has at least half the area of this
    pixel's component, lies within `reach` (chessboard distance). `area` (F, h, w): each pixel's component area."""
    f, h, w = classes.shape
    out = np.zeros(classes.shape, bool)
    pad_c = np.pad(classes, ((0, 0), (reach, reach), (reach, reach)), constant_values=-1)
    pad_a = np.pad(area, ((0, 0), (reach, reach), (reach, reach)))
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            nb = pad_c[:, reach + dy : reach + dy + h, reach + dx : reach + dx + w]
            nb_area = pad_a[:, reach + dy : reach + dy + h, reach + dx : reach + dx + w]
            out |= (nb >= 0) & (nb != classes) & (2 * nb_area >= area)
    return out


def label_components(classes: np.ndarray) -> tuple[np.ndarray, int]:
    """4-connected components of equal non-negative classes within each frame.

    classes: int (F, h, w), -1 for background. Returns int32 labels (F, h, w), -1 for background, 0..n-1 otherwise,
    and n. Min-label propagation over the foreground's edges with pointer jumping, all in numpy.
    """
    fg = classes >= 0
    flat_idx = np.flatnonzero(fg)
    labels_full = np.full(classes.shape, -1, dtype=np.int32)
    if flat_idx.size == 0:
        return labels_full, 0
    ids = np.full(classes.size, -1, dtype=np.int64)
    ids[flat_idx] = np.arange(flat_idx.size)
    ids = ids.reshape(classes.shape)
    a_list, b_list = [], []
    for axis in (1, 2):  # rows, then columns; never across frames
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        same = fg[tuple(lo)] & fg[tuple(hi)] & (classes[tuple(lo)] == classes[tuple(hi)])
        a_list.append(ids[tuple(lo)][same])
        b_list.append(ids[tuple(hi)][same])
    a, b = np.concatenate(a_list), np.concatenate(b_list)
    lab = np.arange(flat_idx.size)
    while True:
        m = np.minimum(lab[a], lab[b])
        new = lab.copy()
        np.minimum.at(new, a, m)
        np.minimum.at(new, b, m)
        new = new[new]  # pointer jumping: a label is the id of a pixel with a smaller label
        if np.array_equal(new, lab):
            break
        lab = new
    roots, compact = np.unique(lab, return_inverse=True)
    labels_full.reshape(-1)[flat_idx] = compact.astype(np.int32)
    return labels_full, int(roots.size)


# --- blobs -----------------------------------------------------------------------------------------------------


@dataclass
class Blob:
    """One connected same-colour component in one frame, in working pixels."""

    frame: int
    color: int  # index into COLOR_NAMES
    area: float  # pixels
    cx: float
    cy: float
    x0: int  # box, inclusive
    y0: int
    x1: int
    y1: int
    lab: np.ndarray  # mean colour (3,)
    fill: float  # area / box area
    compact: float  # area / (pi * rmax^2): 1 for a disc, 0.64 for a square, ~0.4 for a triangle
    taper: float  # mean width of the top third over that of the bottom third: ~0.2 for a pyramid, ~1 otherwise
    elong: float  # sqrt of the minor over the major second moment: 1 for a disc or square, 0.7 for a 0.7:1 box
    orient: float  # angle of the major axis, radians in (-pi/2, pi/2]: turns with a spinning object
    edge: bool  # touches the frame border
    touch: float = 0.0  # share of its pixels next to another object colour: ~1 for a fringe, >0 when overlapping
    px: float = 1.0  # input pixels per pixel of this blob (zoomed re-cuts from `silhouette` have px < 1)
    lab_std: float = 0.0
    washed: bool = False  # a sighting of a small coloured object whose colour video coding averaged to gray (`link`)
    # zoomed re-cuts from `silhouette`: the object share of each input pixel of the crop they were cut from
    matte: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def width(self) -> int:
        return self.x1 - self.x0 + 1

    @property
    def height(self) -> int:
        return self.y1 - self.y0 + 1


def find_blobs(clip: Clip, classes: np.ndarray, min_pixels: int = MIN_BLOB_PIXELS, reach: int = 1) -> list[list[Blob]]:
    """Components of `classes` -> per frame, a list of `Blob`s of at least `min_pixels` pixels. A blob touches
    another when a pixel of another colour lies within `reach` pixels (a mixed edge pixel may sit between)."""
    f, h, w = classes.shape
    labels, n = label_components(classes)
    out: list[list[Blob]] = [[] for _ in range(f)]
    if n == 0:
        return out
    sel = labels >= 0
    lab_id = labels[sel]
    ff, yy, xx = np.nonzero(sel)
    area = np.bincount(lab_id, minlength=n).astype(np.float64)
    sx = np.bincount(lab_id, xx, n)
    sy = np.bincount(lab_id, yy, n)
    cx, cy = sx / area, sy / area
    x0 = np.full(n, w, np.int64)
    y0 = np.full(n, h, np.int64)
    x1 = np.full(n, -1, np.int64)
    y1 = np.full(n, -1, np.int64)
    np.minimum.at(x0, lab_id, xx)
    np.minimum.at(y0, lab_id, yy)
    np.maximum.at(x1, lab_id, xx)
    np.maximum.at(y1, lab_id, yy)
    frame = np.zeros(n, np.int64)
    frame[lab_id] = ff
    color = np.zeros(n, np.int64)
    color[lab_id] = classes[sel]
    # rmax from pixel corners: a pixel reaches half a pixel beyond its centre
    r = np.hypot(np.abs(xx - cx[lab_id]) + 0.5, np.abs(yy - cy[lab_id]) + 0.5)
    rmax = np.zeros(n)
    np.maximum.at(rmax, lab_id, r)
    bh = (y1 - y0 + 1).astype(np.float64)
    rel = (yy - y0[lab_id] + 0.5) / bh[lab_id]  # row centres: symmetric thirds, equal row counts
    top = np.bincount(lab_id, rel < 1 / 3, n)
    bottom = np.bincount(lab_id, rel > 2 / 3, n)
    cols = clip.lab[sel]
    mean_lab = np.stack([np.bincount(lab_id, cols[:, c], n) for c in range(3)], -1) / area[:, None]
    var = sum(np.bincount(lab_id, cols[:, c] ** 2, n) / area - mean_lab[:, c] ** 2 for c in range(3))
    touch = np.bincount(lab_id, _neighbourhood(classes, reach)[0][sel], n) / area
    # second central moments, each pixel a unit square (hence + 1/12)
    mxx = np.bincount(lab_id, xx * xx, n) / area - cx**2 + 1 / 12
    myy = np.bincount(lab_id, yy * yy, n) / area - cy**2 + 1 / 12
    mxy = np.bincount(lab_id, xx * yy, n) / area - cx * cy
    root = np.sqrt(((mxx - myy) / 2) ** 2 + mxy**2)
    elong = np.sqrt(np.maximum((mxx + myy) / 2 - root, 0) / ((mxx + myy) / 2 + root))
    orient = 0.5 * np.arctan2(2 * mxy, mxx - myy)
    bw = (x1 - x0 + 1).astype(np.float64)
    for i in np.flatnonzero(area >= min_pixels):
        out[frame[i]].append(
            Blob(
                frame=int(frame[i]),
                color=int(color[i]),
                area=float(area[i]),
                cx=float(cx[i]),
                cy=float(cy[i]),
                x0=int(x0[i]),
                y0=int(y0[i]),
                x1=int(x1[i]),
                y1=int(y1[i]),
                lab=mean_lab[i].astype(np.float32),
                fill=float(area[i] / (bw[i] * bh[i])),
                compact=float(area[i] / (np.pi * rmax[i] ** 2)),
                taper=float((top[i] + 0.5) / (bottom[i] + 0.5)),
                elong=float(elong[i]),
                orient=float(orient[i]),
                edge=bool(x0[i] == 0 or y0[i] == 0 or x1[i] == w - 1 or y1[i] == h - 1),
                touch=float(touch[i]),
                lab_std=float(np.sqrt(max(var[i], 0.0))),
            )
        )
    return out


def silhouette(clip: Clip, blob: Blob, target: float = 40.0, occluder: np.ndarray | None = None) -> Blob | None:
    """The blob cut again from the input frame, zoomed until it spans about `target` pixels, so that even a 5-pixel
    ball shows a round outline: its silhouette features, in zoomed pixels, or None if it is lost.

    The cut is a matte, not a colour test: each input pixel's share of object is its Lab step from the background
    of its row towards the object's colour (`_matte`), and the matte, zoomed bilinearly, is cut at one half. Video
    codecs keep lightness at full resolution but halve colour both ways (yuv420p), so where lightness tells the
    object from its background the matte leans on it, and a small object keeps the outline that colour alone blurs.
    `occluder`: the frame's (h, w) occluder mask in working pixels; a tree's or a wall's pixels are neither object
    nor background there.
    """
    from PIL import Image

    src = clip.source[blob.frame * clip.stride]
    k = clip.scale
    x0, x1, y0, y1 = blob.x0 * k, (blob.x1 + 1) * k, blob.y0 * k, (blob.y1 + 1) * k
    m = max(2.0, 0.3 * max(x1 - x0, y1 - y0))
    c0, c1 = max(int(x0 - m), 0), min(int(np.ceil(x1 + m)), src.shape[1])
    r0, r1 = max(int(y0 - m), 0), min(int(np.ceil(y1 + m)), src.shape[0])
    reach = int(np.ceil(x1 - x0 + 2 * m))  # background samples: up to an object's width further out on each side
    w0, w1 = max(c0 - reach, 0), min(c1 + reach, src.shape[1])
    screen = None
    if occluder is not None and occluder.any():
        rows = np.clip((np.arange(r0, r1) / k).astype(int), 0, occluder.shape[0] - 1)
        cols = np.clip((np.arange(w0, w1) / k).astype(int), 0, occluder.shape[1] - 1)
        screen = occluder[rows[:, None], cols[None, :]]
    alpha = _matte(src[r0:r1, w0:w1], blob.color, clip.settings, screen)
    if alpha is None:  # no pixel of its colour in the input crop (a blob of the upsampled frame's mixed edges)
        return None
    alpha = alpha[:, c0 - w0 : c1 - w0]
    if not (alpha > 0.5).any():
        return None
    crop = src[r0:r1, c0:c1]
    alpha_in = alpha
    up = float(np.clip(target / max(x1 - x0, y1 - y0, 1.0), 1.0, 8.0))
    size = (max(1, round(crop.shape[1] * up)), max(1, round(crop.shape[0] * up)))
    crop = np.asarray(Image.fromarray(np.ascontiguousarray(crop)).resize(size, Image.BILINEAR))
    alpha = np.asarray(Image.fromarray(alpha.astype(np.float32), mode="F").resize(size, Image.BILINEAR))
    classes = np.where(alpha > 0.5, blob.color, -1).astype(np.int8)[None]
    mini = Clip(rgb=crop[None], lab=rgb_to_lab(crop)[None], source=crop[None], fps=1.0, scale=1.0 / up, stride=1)
    found = find_blobs(mini, classes, min_pixels=1)[0]
    if not found:
        return None
    best = max(found, key=lambda b: b.area)
    best.frame, best.px = blob.frame, 1.0 / up
    best.matte = alpha_in
    return best


MATTE_CHROMA = 0.3  # weight of a and b against L in the matte where the object differs from its background in L
MATTE_MIN_L = 12.0  # ... by at least this much


def _matte(
    rgb: np.ndarray, color: int, settings: tuple[str, ...] | None = None, screen: np.ndarray | None = None
) -> np.ndarray | None:
    """Object share in [0, 1] of each pixel of a crop (h, w, 3) uint8 around one object of colour `color`.

    Background: per row, the median Lab of the row's pixels that are no object colour, two pixels clear of any (the
    world's backgrounds change mostly with height: sky and wall gradients, the ground line); rows without enough
    such pixels take the nearest row's. Object: the median Lab of the crop's pixels of `color`. A pixel's share is
    the projection of (pixel - background) on (object - background), lightness weighted over colour where
    lightness separates them; where object and background are too alike to project, the colour test decides.
    `screen` (h, w) bool: an occluder's pixels, no background of their row and no share of object (seed 15 clip 140:
    a brick wall filled most of a rolling pink ball's rows, and the sky beside it projected from brick towards pink;
    brick is too near the grass's shaded ground in colour to be told from it without the occluder mask)."""
    d_obj, d_bg, _ = color_distances(rgb, settings)
    best, d_best = d_obj.argmin(-1), d_obj.min(-1)
    anyobj = (d_best < COLOR_TOLERANCE) & (d_best < d_bg)
    mine = anyobj & (best == color)
    if not mine.any():
        return None
    screen = np.zeros(mine.shape, bool) if screen is None else screen & ~mine
    lab = rgb_to_lab(rgb).astype(np.float64)
    grown = anyobj.copy()
    for _ in range(2):
        g = grown.copy()
        g[1:] |= grown[:-1]
        g[:-1] |= grown[1:]
        g[:, 1:] |= grown[:, :-1]
        g[:, :-1] |= grown[:, 1:]
        grown = g
    h = rgb.shape[0]
    bg = np.full((h, 3), np.nan)
    for r in range(h):
        free = ~grown[r] & ~screen[r]
        if free.sum() >= 2:
            bg[r] = np.median(lab[r, free], axis=0)
    ok = np.flatnonzero(np.isfinite(bg[:, 0]))
    if ok.size == 0:
        return mine.astype(np.float64)
    bg = bg[ok[np.abs(np.arange(h)[:, None] - ok[None]).argmin(1)]]  # (h, 3): nearest measured row
    obj = np.median(lab[mine], axis=0)
    ref = obj[None] - bg  # (h, 3)
    wc = np.where(np.abs(ref[:, 0]) >= MATTE_MIN_L, MATTE_CHROMA, 1.0)  # (h,)
    wts = np.stack([np.ones(h), wc, wc], -1)  # (h, 3)
    norm = (wts * ref * ref).sum(-1)  # (h,)
    alpha = ((lab - bg[:, None]) * (wts * ref)[:, None]).sum(-1) / np.maximum(norm, 1e-9)[:, None]
    alpha = np.clip(alpha, 0.0, 1.0)
    alpha = np.where((anyobj & ~mine) | screen, 0.0, alpha)  # another object's or an occluder's are not this one's
    far = np.sqrt(norm) >= 10.0  # object and background far enough apart (weighted Lab) for a projection
    return np.where(far[:, None], alpha, mine.astype(np.float64))


def _bridged(m: Blob, b: Blob, occluder: np.ndarray | None) -> bool:
    """Whether an occluder fills the space between two side-by-side blobs (`occluder`: the frame's (h, w) mask),
    no wider than three times the larger one: an object cut in two by a tree trunk or a wall."""
    if occluder is None:
        return False
    (left, right) = (m, b) if m.cx < b.cx else (b, m)
    r0, r1 = max(left.y0, right.y0), min(left.y1, right.y1)
    c0, c1 = left.x1 + 1, right.x0 - 1
    if r1 < r0 or c1 < c0 or c1 - c0 + 1 > 3 * max(m.width, m.height, b.width, b.height):
        return False
    return bool(occluder[r0 : r1 + 1, c0 : c1 + 1].mean() >= 0.6)


def merge_fragments(
    blobs: list[Blob], gap: float, occluder: np.ndarray | None = None, gaps: dict[int, float] | None = None
) -> list[Blob]:
    """Merge same-colour blobs of one frame whose boxes come within `gap` px (`gaps`: a wider one for some colours),
    or that an occluder separates (`occluder`: the frame's (h, w) mask): an object cut in two by a tree trunk or a
    wall stays one blob. The merged blob's silhouette features are unknown (`fill` = nan)."""
    blobs = sorted(blobs, key=lambda b: -b.area)
    out: list[Blob] = []
    for b in blobs:
        g = (gaps or {}).get(b.color, gap)
        for i, m in enumerate(out):
            if m.color == b.color and (
                (b.x0 <= m.x1 + g and m.x0 <= b.x1 + g and b.y0 <= m.y1 + g and m.y0 <= b.y1 + g)
                or _bridged(m, b, occluder)
            ):
                area = m.area + b.area
                out[i] = Blob(
                    frame=m.frame,
                    color=m.color,
                    area=area,
                    cx=(m.cx * m.area + b.cx * b.area) / area,
                    cy=(m.cy * m.area + b.cy * b.area) / area,
                    x0=min(m.x0, b.x0),
                    y0=min(m.y0, b.y0),
                    x1=max(m.x1, b.x1),
                    y1=max(m.y1, b.y1),
                    lab=(m.lab * m.area + b.lab * b.area) / area,
                    fill=float("nan"),
                    compact=float("nan"),
                    taper=float("nan"),
                    elong=float("nan"),
                    orient=float("nan"),
                    edge=m.edge or b.edge,
                    touch=max(m.touch, b.touch),
                    lab_std=max(m.lab_std, b.lab_std),
                )
                break
        else:
            out.append(b)
    return out


# --- tracks ----------------------------------------------------------------------------------------------------


@dataclass
class Track:
    """One object followed through the clip: at most one blob per frame, in frame order."""

    color: int
    blobs: list[Blob] = field(default_factory=list)

    @property
    def frames(self) -> np.ndarray:
        return np.array([b.frame for b in self.blobs])

    def series(self, name: str) -> np.ndarray:
        """A blob attribute over the track's frames, e.g. `series("cx")`."""
        return np.array([getattr(b, name) for b in self.blobs], dtype=np.float64)

    @property
    def size(self) -> float:
        """Typical linear size in pixels: sqrt of the median area."""
        return float(np.sqrt(np.median(self.series("area"))))

    def predict(self, frame: int) -> tuple[float, float]:
        """Where the object should be at `frame`, extrapolating the last two sightings at constant velocity."""
        last = self.blobs[-1]
        if len(self.blobs) < 2:
            return last.cx, last.cy
        prev = self.blobs[-2]
        dt = last.frame - prev.frame
        vx, vy = (last.cx - prev.cx) / dt, (last.cy - prev.cy) / dt
        k = frame - last.frame
        return last.cx + vx * k, last.cy + vy * k


def link(
    blobs: list[list[Blob]], width: int, max_step: float, wash_into: int | None = None, wash_px: float = 0.0
) -> list[Track]:
    """Greedy tracker: per frame, pair blobs with tracks of the same colour by predicted distance, cheapest first.

    A track may skip frames (occlusion, a missed detection); the allowed distance grows with the gap by `max_step`
    pixels per frame (the fastest plausible object speed), plus the object's own size. Unpaired blobs start tracks.

    With `wash_into` (a class, for video that keeps one colour sample per 2x2 pixels), a coloured object under
    `wash_px` pixels across (square root of its area) bleeds its colour into the backdrop: a ring of class
    `wash_into` hugs it, sometimes with no pixel of its own colour left inside. Such rings are no object: one
    touching a small coloured blob is dropped, and a small coloured track may continue through one (marked
    `washed`) close by, at most two frames after its last sighting, where its own colour is missing.
    """
    tracks: list[Track] = []
    for frame, frame_blobs in enumerate(blobs):
        if wash_into is not None:
            frame_blobs = [b for b in frame_blobs if not (b.color == wash_into and _hugs_small(b, frame_blobs, wash_into, wash_px))]
        pairs = []
        for ti, t in enumerate(tracks):
            last = t.blobs[-1]
            gap = frame - last.frame
            px, py = t.predict(frame)
            washable = False
            if wash_into is not None and t.color != wash_into and gap <= 2:
                own = np.sqrt(np.median([b.area for b in t.blobs[-8:]]))
                washable = own < wash_px
            for bi, b in enumerate(frame_blobs):
                washed = washable and b.color == wash_into and b.area <= WASH_AREA * own**2
                if b.color != t.color and not washed:
                    continue
                d_pred = np.hypot(b.cx - px, b.cy - py)
                d_last = np.hypot(b.cx - last.cx, b.cy - last.cy)
                d = min(d_pred, d_last)  # prediction overshoots at bounces
                size = max(np.sqrt(last.area), np.sqrt(b.area), 2.0)
                gate = 2.0 * size + max_step * min(gap, 4) + 0.02 * width * max(gap - 4, 0)
                if washed:  # a ring is taken only where the object was heading, a frame or two on
                    d, gate = d_pred, 2.0 * size + 0.25 * max_step
                if d <= gate:
                    cost = d / size + abs(np.log(b.area / last.area)) + 0.3 * (gap - 1) + (WASH_COST if washed else 0.0)
                    pairs.append((cost, ti, bi))
        pairs.sort()
        used_t: set[int] = set()
        used_b: set[int] = set()
        for _, ti, bi in pairs:
            if ti in used_t or bi in used_b:
                continue
            used_t.add(ti)
            used_b.add(bi)
            b = frame_blobs[bi]
            if b.color != tracks[ti].color:
                b = replace(b, color=tracks[ti].color, washed=True)
            tracks[ti].blobs.append(b)
        for bi, b in enumerate(frame_blobs):
            if bi not in used_b:
                tracks.append(Track(color=b.color, blobs=[b]))
    return tracks


def _hugs_small(b: Blob, frame_blobs: list[Blob], wash_into: int, wash_px: float) -> bool:
    """Whether blob `b` (of the class colours wash into) touches or overlaps a coloured blob under `wash_px` across
    that is at least a third of its area: the ring its colour bled into."""
    for o in frame_blobs:
        if o.color == wash_into or np.sqrt(o.area) >= wash_px or b.area > WASH_AREA * o.area:
            continue
        if max(o.x0 - b.x1, b.x0 - o.x1, o.y0 - b.y1, b.y0 - o.y1) <= 2:
            return True
    return False


# --- camera ----------------------------------------------------------------------------------------------------


@dataclass
class Camera:
    """Per-frame map from frame-t working pixels to frame-0 pixels: x0 = s (x - cx) + cx + tx, y0 = s (y - cy) + cy.

    The world's cameras pan sideways or zoom about the frame's centre (never both, never vertically), so pan shows as
    `tx` and zoom as `s` (s < 1 once the camera has zoomed in: things look bigger than in frame 0)."""

    s: np.ndarray  # (F,)
    tx: np.ndarray  # (F,)
    centre: tuple[float, float]  # (cx, cy) in working pixels
    texture: float = 0.0  # how well the background pins the camera down (median per-pixel information)
    residual: np.ndarray | None = None  # (F,) median |L change| of the background from the previous frame, aligned
    measured: bool = False  # True when read from the background; False: assumed static (or taken from a prompt)

    def to_frame0(self, frame: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s, cx, cy = self.s[frame], *self.centre
        return s * (x - cx) + cx + self.tx[frame], s * (y - cy) + cy

    def from_frame0(self, frame: np.ndarray, y0: np.ndarray) -> np.ndarray:
        """The row in frame `frame` of frame-0 row `y0`."""
        return (y0 - self.centre[1]) / self.s[frame] + self.centre[1]

    @classmethod
    def static(cls, f: int, h: int, w: int) -> "Camera":
        return cls(s=np.ones(f), tx=np.zeros(f), centre=((w - 1) / 2, (h - 1) / 2), residual=np.zeros(f))


def _warp(img: np.ndarray, p: np.ndarray, c: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Sample img (h, w) at (s (x - cx) + cx + tx, s (y - cy) + cy), p = (s, tx), bilinearly; and where the samples
    fall inside img.

    The warp is separable (a column's samples share one x, a row's one y), so the sample positions and weights are
    per column and per row: the same arithmetic as per pixel, without (h, w) index arrays."""
    h, w = img.shape
    xs = p[0] * (np.arange(w, dtype=np.float64) - c[0]) + c[0] + p[1]  # (w,)
    ys = p[0] * (np.arange(h, dtype=np.float64) - c[1]) + c[1]         # (h,)
    inside = ((ys >= 0) & (ys <= h - 1))[:, None] & ((xs >= 0) & (xs <= w - 1))[None, :]  # (h, w)
    xs, ys = np.clip(xs, 0, w - 1), np.clip(ys, 0, h - 1)
    x0 = np.minimum(np.floor(xs).astype(int), w - 2)
    y0 = np.minimum(np.floor(ys).astype(int), h - 2)
    fx, fy = xs - x0, (ys - y0)[:, None]
    upper, lower = img[y0], img[y0 + 1]                                   # (h, w) rows y0 and y0 + 1
    top = upper[:, x0] * (1 - fx) + upper[:, x0 + 1] * fx
    bot = lower[:, x0] * (1 - fx) + lower[:, x0 + 1] * fx
    return top * (1 - fy) + bot * fy, inside


def _blur(img: np.ndarray) -> np.ndarray:
    """A 1-2-1 binomial blur in both directions (edge-replicated): keeps Lucas-Kanade's linearisation honest."""
    p = np.pad(img, 1, mode="edge")
    img = (p[:-2] + 2 * p[1:-1] + p[2:]) / 4
    return (img[:, :-2] + 2 * img[:, 1:-1] + img[:, 2:]) / 4


def _register(
    ref: np.ndarray, img: np.ndarray, ref_ok: np.ndarray, img_ok: np.ndarray, c, p: np.ndarray
) -> tuple[np.ndarray, float]:
    """Refine p = (s, tx) so that img(x) ~ ref(warp_p(x)) where both are background (`img_ok`, and `ref_ok` carried
    along by the warp), by iterated Lucas-Kanade with Huber weights. Returns p and the information per pixel about
    the pan (mean squared horizontal gradient)."""
    h, w = ref.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    p = p.astype(np.float64).copy()
    info = 0.0
    ref_ok = ref_ok.astype(np.float64)
    for _ in range(10):
        warped, inside = _warp(ref, p, c)
        m = img_ok & inside & (_warp(ref_ok, p, c)[0] > 0.999)
        n = int(m.sum())
        if n < 0.1 * h * w:
            break
        gy, gx = np.gradient(warped)
        gx, gy = gx[m], gy[m]  # (n,) each: only the background pixels enter the system
        # d warped / d s, d warped / d tx; the zoom column scaled by half the width to condition the system
        jac = np.stack([(gx * (xx[m] - c[0]) + gy * (yy[m] - c[1])) * p[0] / (w / 2), gx], -1)  # (n, 2)
        r = (img - warped)[m]
        scale = max(1.4826 * np.median(np.abs(r)), 2.0)  # floor: the edges carry the signal
        wgt = 1.0 / np.maximum(1.0, np.abs(r) / (2.0 * scale))  # objects the mask missed weigh less
        a_mat = (jac * wgt[:, None]).T @ jac
        info = float(a_mat[1, 1] / n)
        step = np.linalg.solve(a_mat + 1e-4 * n * np.eye(2), (jac * wgt[:, None]).T @ r)
        step[0] = np.clip(step[0], -0.5, 0.5) / (w / 2) * p[0]
        step[1] = np.clip(step[1], -4.0, 4.0)
        p += step
        if abs(step[1]) < 0.01 and abs(step[0]) < 1e-4:
            break
    return p, info


def _smooth(v: np.ndarray) -> np.ndarray:
    """A robust quadratic fit through a per-frame camera parameter that starts at 0 (frame 0 is the reference).

    The world's cameras move smoothly (constant pan speed, geometric zoom); single estimates snap to whole-pixel
    steps of a hard horizon, and the fit through the staircase is right to a fraction of a step."""
    t = np.arange(len(v), dtype=np.float64)
    if len(v) < 4:
        return v
    basis = np.stack([t, t * t], 1)
    wgt = np.ones_like(t)
    for _ in range(5):
        coef, *_ = np.linalg.lstsq(basis * wgt[:, None], v * wgt, rcond=None)
        r = v - basis @ coef
        scale = max(1.4826 * np.median(np.abs(r)), 1e-6)
        wgt = 1.0 / np.sqrt(np.maximum(1.0, np.abs(r) / (2 * scale)))
    return basis @ coef


def estimate_camera(clip: Clip, classes: np.ndarray, min_texture: float = MIN_TEXTURE) -> Camera:
    """Pan and zoom per frame from the background (pixels not object-coloured, with a margin).

    Frame t is registered to frame t-1 (a zoom-and-pan model, Lucas-Kanade on blurred lightness), the steps are
    chained, and the chain is then refined against frame 0 itself so errors do not pile up; a robust quadratic in
    time through the result is the camera path (`_smooth`), and of zoom and pan only the one that shows is kept
    (the world's cameras never do both). A background too plain to show the camera (`texture` under
    `min_texture`), or a move that explains the background no better than no move (`MOVE_GAIN`), leaves it static
    and unmeasured. `residual` is the median
    lightness change of the aligned background between consecutive frames: noise, flicker and jumps show there.
    """
    f, h, w = clip.shape
    cam = Camera.static(f, h, w)
    if f < 2:
        return cam
    light = clip.lab[..., 0].astype(np.float64)
    # a margin round objects: their blurred fringes are not background either. Two working pixels, plus two input
    # pixels' worth: H.264 halves colour resolution, so a small object's rim and contact shadow smear over two
    # input pixels that the colour test misses, and on a plain backdrop that rim, moving with the object, is all the
    # texture there is (a 6-px cube on the studio's khaki read as a 5 m pan)
    margin = 2 + 2 * int(np.ceil(1.0 / clip.scale - 1e-6))
    grown = classes >= 0
    for _ in range(margin):
        g = grown.copy()
        g[:, 1:] |= grown[:, :-1]
        g[:, :-1] |= grown[:, 1:]
        g[:, :, 1:] |= grown[:, :, :-1]
        g[:, :, :-1] |= grown[:, :, 1:]
        grown = g
    border = np.zeros((h, w), bool)
    border[2:-2, 2:-2] = True
    c = cam.centre
    blurred = [_blur(light[0])]
    info, residual = [], np.zeros(f)
    for t in range(1, f):
        blurred.append(_blur(light[t]))
        ok, ok_prev = border & ~grown[t], border & ~grown[t - 1]
        step, inf = _register(blurred[t - 1], blurred[t], ok_prev, ok, c, np.array([1.0, 0.0]))
        info.append(inf)
        warped, inside = _warp(light[t - 1], step, c)
        m = ok & inside & (_warp(ok_prev.astype(np.float64), step, c)[0] > 0.999)
        residual[t] = float(np.median(np.abs(light[t] - warped)[m])) if m.any() else 0.0
        # chain: frame t -> t-1 -> 0, then refine against frame 0 directly
        chained = np.array([cam.s[t - 1] * step[0], cam.s[t - 1] * step[1] + cam.tx[t - 1]])
        refined, _ = _register(blurred[0], blurred[t], border & ~grown[0], ok, c, chained)
        cam.s[t], cam.tx[t] = refined
    cam.texture = float(np.median(info))
    cam.residual = residual
    cam.s, cam.tx = np.exp(_smooth(np.log(cam.s))), _smooth(cam.tx)
    # the world's cameras zoom or pan, never both: keep the move that shows (a pan estimate beside a zoom is the
    # zoom leaking into it where the background has little horizontal texture, and the other way round)
    if abs(np.log(cam.s[-1])) > ZOOM_MIN:
        cam.tx = np.zeros(f)
    else:
        cam.s = np.ones(f)
    if cam.texture < min_texture:
        return Camera(s=np.ones(f), tx=np.zeros(f), centre=c, texture=cam.texture, residual=residual)
    cam.measured = True
    # a move must explain the background better than no move: on a plain backdrop the registration can lock onto
    # moving shadows and rims instead
    moved = still = 0.0
    compared = 0
    for t in range(max(1, f // 2), f):
        ok = border & ~grown[t]
        warped, inside = _warp(blurred[0], np.array([cam.s[t], cam.tx[t]]), c)
        m = ok & inside & (_warp((border & ~grown[0]).astype(np.float64), np.array([cam.s[t], cam.tx[t]]), c)[0] > 0.999)
        m0 = ok & ~grown[0]
        if m.any() and m0.any():
            moved += float(np.mean(np.abs(blurred[t] - warped)[m]))
            still += float(np.mean(np.abs(blurred[t] - blurred[0])[m0]))
            compared += 1
    if compared and still / compared < STILL_BACKGROUND:
        # the background did not change at all: that is a static camera seen, not one too plain to see (a frozen
        # clip would otherwise take the prompt's move, and its still objects would seem to move with it)
        return Camera(s=np.ones(f), tx=np.zeros(f), centre=c, texture=cam.texture, residual=residual, measured=True)
    if still <= MOVE_GAIN * moved:  # then the background cannot tell (the judge may take the prompted move)
        return Camera(s=np.ones(f), tx=np.zeros(f), centre=c, texture=cam.texture, residual=residual)
    return cam
