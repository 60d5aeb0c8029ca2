"""`tenku ...`: the command line. Each subcommand maps its flags 1:1 onto config fields and calls one function.

User errors (`TenkuError`) print one red line and exit 2; the judge exits 1 when a criterion fails. Heavy imports
happen inside the commands, so `tenku --help` and `tenku world` start fast.

Sections are owned by the module they wrap; keep each command inside its section.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from tenku.errors import TenkuError

app = typer.Typer(
    name="tenku",
    help="Open, self-hosted text-to-video.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Make training data.", no_args_is_help=True)
train_app = typer.Typer(help="Train the VAE or the diffusion transformer.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(train_app, name="train")

console = Console()
err_console = Console(stderr=True)


def parse_size(size: str) -> tuple[int, int]:
    """'WxH' -> (width, height), with a clear error."""
    try:
        w, h = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise TenkuError(f"--size must look like WIDTHxHEIGHT, e.g. 64x64, got {size!r}") from None
    return w, h


# ---------------------------------------------------------------------------------------------------------------
# world: tenku world, tenku data world (tenku/world/)
# ---------------------------------------------------------------------------------------------------------------

def _writable_output(path: Path, suffixes: tuple[str, ...] = (".mp4",)) -> Path:
    """Check before any work that `path` can be written: a known suffix and a folder we may create or write."""
    import os  # kept inside the world section, which owns only its own lines
    if path.suffix.lower() not in suffixes:
        raise TenkuError(f"{path}: the output must end in {' or '.join(suffixes)}, got {path.suffix or 'no suffix'!r}")
    folder = path.parent.resolve()
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise TenkuError(f"cannot write {path}: the folder {existing} is not writable")
    return path


@app.command("world")
def world_cmd(
    prompt: str = typer.Argument(..., help="What happens, e.g. 'a red ball bounces to the right on green grass'."),
    out: Path = typer.Option(..., "-o", "--out", help="Output .mp4 path."),
    seconds: float = typer.Option(4.0, help="Clip length in seconds (at most 60)."),
    size: str = typer.Option("64x64", help="WIDTHxHEIGHT in pixels, each 16..512."),
    fps: float = typer.Option(8.0, help="Frames per second."),
    seed: int = typer.Option(0, help="Draws whatever the prompt leaves open."),
) -> None:
    """Render the world's ground truth for a prompt."""
    from tenku.video import write_video
    from tenku.world.captions import long_caption
    from tenku.world.parse import scene_from_prompt
    from tenku.world.render import render
    from tenku.world.spec import RenderSpec

    width, height = parse_size(size)
    spec = RenderSpec(width=width, height=height, fps=fps, seconds=seconds).check()
    _writable_output(out)
    scene = scene_from_prompt(prompt, seed=seed, seconds=seconds)
    frames = render(scene, spec, seed=seed)
    write_video(out, frames, fps, comment=prompt)
    console.print(f"[bold]scene:[/bold] {long_caption(scene)}", highlight=False)
    console.print(f"wrote {out} ({spec.frames} frames, {width}x{height}, {fps:g} fps)", highlight=False)


@data_app.command("world")
def data_world_cmd(
    n: int = typer.Option(..., "--n", help="Number of clips."),
    out: Path = typer.Option(..., "--out", help="Dataset folder (clips/ and captions.jsonl); re-run to resume."),
    size: str = typer.Option("64x64", help="WIDTHxHEIGHT in pixels, each 16..512."),
    seconds: float = typer.Option(4.0, help="Clip length in seconds (at most 60)."),
    fps: float = typer.Option(8.0, help="Frames per second."),
    seed: int = typer.Option(0, help="Dataset seed; clip i depends only on (seed, i)."),
    core: bool = typer.Option(False, "--core", help="The narrow first-model subset: 1-2 objects, main motions."),
) -> None:
    """Write a dataset of world clips with captions."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from tenku.world.dataset import write_dataset
    from tenku.world.spec import RenderSpec

    width, height = parse_size(size)
    RenderSpec(width=width, height=height, fps=fps, seconds=seconds).check()
    if n < 1:
        raise TenkuError(f"--n must be at least 1, got {n}")
    _writable_output(out / "captions.jsonl", (".jsonl",))
    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console) as bar:
        task = bar.add_task("world clips", total=n)
        write_dataset(out, n, width, height, seconds, fps, seed, core=core,
                      progress=lambda done, total: bar.update(task, completed=done))
        bar.update(task, completed=n)
    console.print(f"wrote {n} clips to {out}", highlight=False)

# ---------------------------------------------------------------------------------------------------------------
# judge: tenku judge (tenku/world/judge.py)
# ---------------------------------------------------------------------------------------------------------------

@app.command("judge")
def judge_cmd(
    video: Path = typer.Argument(..., help="The video to judge (any size, rate or codec PyAV reads)."),
    prompt: str = typer.Option(..., "--prompt", "-p", help="The world prompt the video should show."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON instead of a table."),
) -> None:
    """Judge a video against a world prompt: objects, motion, physics, consistency. Exits 0 if all pass, else 1."""
    import json

    from rich.table import Table

    from tenku.world.judge import judge_file

    if video.is_dir():
        raise TenkuError(f"{video}: is a folder, not a video file")
    report = judge_file(video, prompt)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        table = Table(title=f"{video.name}: {prompt}", title_justify="left")
        for col in ("criterion", "result", "score", "detail"):
            table.add_column(col, overflow="fold")
        for c in report.criteria:
            mark = "[green]pass[/green]" if c.passed else "[red]FAIL[/red]"
            table.add_row(c.name, mark, f"{c.score:.2f}", c.detail)
        overall = "[green]pass[/green]" if report.passed else "[red]FAIL[/red]"
        table.add_row("[b]overall[/b]", overall, f"{report.score:.2f}", "")
        console.print(table)
    # sys.exit, not typer.Exit: `main` runs the app with standalone_mode=False, where click returns an Exit's code
    # instead of exiting with it, and the judge's exit status is its verdict
    sys.exit(0 if report.passed else 1)

# ---------------------------------------------------------------------------------------------------------------
# model: tenku train vae|dit, tenku generate (tenku/train.py, tenku/pipeline.py)
# ---------------------------------------------------------------------------------------------------------------


def _field_help(cls: type) -> dict[str, str]:
    """Each dataclass field's trailing `# comment` in config.py, used as its flag's help."""
    import inspect
    import re

    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    return dict(re.findall(r"^\s+(\w+): [^=]+=.*?  # (.*)$", source, flags=re.M))


def _train_command(model: str):
    """`tenku train <model>` with one flag per TrainConfig field (tuples as comma-separated lists)."""
    import dataclasses
    import inspect

    from tenku.config import TrainConfig

    kinds = {"int": int, "float": float, "str": str, "bool": bool, "tuple[str, ...]": str}
    helps = _field_help(TrainConfig)
    params = []
    for f in dataclasses.fields(TrainConfig):
        if f.name == "model":
            continue
        default = ",".join(f.default) if isinstance(f.default, tuple) else f.default
        option = typer.Option(default, f"--{f.name.replace('_', '-')}", help=helps.get(f.name, ""))
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kinds[f.type]))

    def command(**kwargs) -> None:
        from tenku.train import train

        for f in dataclasses.fields(TrainConfig):
            if isinstance(f.default, tuple):
                kwargs[f.name] = tuple(v.strip() for v in kwargs[f.name].split(",") if v.strip())
        train(TrainConfig(model=model, **kwargs), console=console)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = {
        "vae": "Train the video VAE (--preset vae-debug|vae-world). Resumes when --out holds a run.",
        "dit": "Train the diffusion transformer on a trained VAE's latents (--vae PATH). Resumes when --out holds a run.",
    }[model]
    return command


train_app.command("vae")(_train_command("vae"))
train_app.command("dit")(_train_command("dit"))


@app.command("generate")
def generate_cmd(
    prompt: str = typer.Argument(..., help="What the video shows, e.g. \"a red ball bounces on grass\"."),
    out: Path = typer.Option(Path("out.mp4"), "--out", "-o", help="Where to write the MP4 (or .png: first frame)."),
    seconds: Optional[float] = typer.Option(None, help="Duration; frames round to the nearest 4k + 1. (default: the model's)"),
    size: Optional[str] = typer.Option(None, help="WIDTHxHEIGHT, rounded to multiples of 16. (default: the model's)"),
    fps: Optional[int] = typer.Option(None, help="Frames per second. (default: the model's)"),
    seed: Optional[int] = typer.Option(None, help="Same seed, same video. (default: 0)"),
    steps: Optional[int] = typer.Option(None, help="Denoising steps. (default: the model's, 20)"),
    guidance: Optional[float] = typer.Option(None, help="Classifier-free guidance scale; 1 = off. (default: the model's, 4)"),
    negative_prompt: str = typer.Option("", "--negative-prompt", help="What to steer away from."),
    model: Optional[Path] = typer.Option(None, "--model", help="Checkpoint folder. (default: the shipped tenku-world)"),
    device: str = typer.Option("cpu", help="cpu, cuda, cuda:1, ..."),
    loop: bool = typer.Option(False, "--loop", help="Make the clip loop: its last frame flows into its first."),
    n: int = typer.Option(1, "--n", help="Variations from seeds seed, seed+1, ...: writes OUT_1.mp4 ... OUT_K.mp4."),
) -> None:
    """Generate a video from a prompt."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from tenku.pipeline import Pipeline

    if out.suffix.lower() not in (".mp4", ".m4v", ".mov", ".png", ".jpg", ".jpeg", ".webp"):
        raise TenkuError(f"-o must end in .mp4 (or .png/.jpg/.webp for the first frame), got {out.name!r}")
    width, height = parse_size(size) if size else (None, None)
    if n < 1 or (n > 1 and loop):
        raise TenkuError(f"--n must be at least 1, got {n}" if n < 1 else "--n and --loop do not combine; loop one video at a time")
    with console.status("loading the model"):
        pipe = Pipeline.from_pretrained(model, device=device)
    settings = dict(seconds=seconds, width=width, height=height, fps=fps, seed=seed, steps=steps, guidance=guidance)
    request = pipe.check_inputs(prompt, negative_prompt=negative_prompt, **settings)
    for note in request.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False, soft_wrap=True)
    # beyond one window the callback counts frames made of all to make: the bar shows seconds done
    length = request.frames / request.fps
    columns = (TextColumn("denoising"), BarColumn(), TextColumn("{task.fields[done]}"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("denoising", total=request.steps, done="")

        def callback(step: int, total: int) -> None:
            done = f"{step}/{total} steps" if total == request.steps and n == 1 else f"{step / total * length * n:.1f}/{length * n:.1f} s"
            progress.update(task, completed=step, total=total, done=done)

        if loop:
            videos = [pipe.loop(prompt, negative_prompt=negative_prompt, callback=callback, **settings)]
        elif n > 1:
            videos = pipe.variations(prompt, n, negative_prompt=negative_prompt, callback=callback, **settings)
        else:
            videos = [pipe(prompt, negative_prompt=negative_prompt, callback=callback, **settings)]
    for note in videos[0].notes[len(request.notes):]:  # notes only the text encoder could give (truncation)
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False, soft_wrap=True)
    for i, video in enumerate(videos, 1):
        path = video.save(out if n == 1 else out.with_name(f"{out.stem}_{i}{out.suffix}"))
        f, h, w, _ = video.frames.shape
        console.print(f"wrote {path} ({f} frames, {w}x{h}, {video.fps:g} fps, seed {video.seed})", highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------------------------------------------------
# creative modes: tenku animate, extend, loop, connect, remix, storyboard, image (tenku/modes.py)
# ---------------------------------------------------------------------------------------------------------------
# Every command takes -o and the generation flags of `tenku generate` (added by `_mode_command`), checks its inputs
# and its output path before loading the model, and shows a progress bar. Inputs may be videos or images (an image
# is a one-frame video).

import dataclasses  # noqa: E402  (sections import what they use; see the module docstring)
from typing import ClassVar  # noqa: E402

_VIDEO_OUT = (".mp4", ".m4v", ".mov", ".png", ".jpg", ".jpeg", ".webp")


@dataclasses.dataclass
class _Gen:
    """The generation flags shared by the creative-mode commands (those of `tenku generate`), one field per flag."""

    out: Path
    seconds: Optional[float]
    size: Optional[str]
    fps: Optional[int]
    seed: Optional[int]
    steps: Optional[int]
    guidance: Optional[float]
    negative_prompt: str
    model: Optional[Path]
    device: str

    FLAGS: ClassVar[tuple] = (  # (name, annotation, typer option)
        ("out", Path, lambda d: typer.Option(Path(d), "--out", "-o", help="Where to write it (.mp4; .png: the first frame).")),
        ("seconds", Optional[float], lambda d: typer.Option(None, help="Duration in seconds (of the new part, for extend/connect/loop VIDEO).")),
        ("size", Optional[str], lambda d: typer.Option(None, help="WIDTHxHEIGHT, rounded to multiples of 16. (default: the model's)")),
        ("fps", Optional[int], lambda d: typer.Option(None, help="Frames per second; inputs are resampled to it. (default: the model's)")),
        ("seed", Optional[int], lambda d: typer.Option(None, help="Same seed, same video. (default: 0)")),
        ("steps", Optional[int], lambda d: typer.Option(None, help="Denoising steps per window. (default: the model's, 20)")),
        ("guidance", Optional[float], lambda d: typer.Option(None, help="Classifier-free guidance scale; 1 = off. (default: the model's)")),
        ("negative_prompt", str, lambda d: typer.Option("", "--negative-prompt", help="What to steer away from.")),
        ("model", Optional[Path], lambda d: typer.Option(None, "--model", help="Checkpoint folder. (default: the shipped tenku-world)")),
        ("device", str, lambda d: typer.Option("cpu", help="cpu, cuda, cuda:1, ...")),
    )

    def settings(self, seconds: bool = True) -> dict:
        """The pipeline keywords (`**gen`)."""
        width, height = parse_size(self.size) if self.size else (None, None)
        out = dict(width=width, height=height, fps=self.fps, seed=self.seed, steps=self.steps,
                   guidance=self.guidance, negative_prompt=self.negative_prompt)
        return {**out, "seconds": self.seconds} if seconds else out


def _mode_command(name: str, default_out: str = "out.mp4"):
    """Register a creative-mode command: its own parameters plus `_Gen.FLAGS`, passed to it as `gen`."""
    import inspect
    import typing

    def register(func):
        hints = typing.get_type_hints(func)
        own = [p.replace(annotation=hints[p.name]) for p in inspect.signature(func).parameters.values() if p.name != "gen"]
        shared = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=opt(default_out), annotation=ann)
                  for n, ann, opt in _Gen.FLAGS]

        def command(**kwargs) -> None:
            gen = _Gen(**{n: kwargs.pop(n) for n, _, _ in _Gen.FLAGS})
            gen.settings()  # a bad --size fails here, before any file is read
            func(gen=gen, **kwargs)

        command.__signature__ = inspect.Signature(own + shared)  # type: ignore[attr-defined]
        command.__doc__, command.__name__ = func.__doc__, func.__name__
        app.command(name)(command)
        return func

    return register


def _read_input(path: Path, what: str):
    """A video or image file as a `Video` (an image: one frame, fps 0 until the model's is known); the prompt
    tenku wrote into the file's comment, if any."""
    import re

    from tenku.video import IMAGE_SUFFIXES, Video, read_image, read_video

    if path.suffix.lower() in IMAGE_SUFFIXES:
        return Video(frames=read_image(path)[None], fps=0), ""
    frames, fps = read_video(path)
    prompt = ""
    try:
        import av

        with av.open(str(path)) as container:
            found = re.match(r"tenku[^:]*: '(.*?)', seed", container.metadata.get("comment", ""))
            prompt = found.group(1) if found else ""
    except Exception:  # the comment is a convenience; the frames were read above
        pass
    return Video(frames=frames, fps=fps), prompt


def _run_mode(gen: _Gen, what: str, make, suffixes: tuple[str, ...] = _VIDEO_OUT, inputs=()):
    """Load the model, run `make(pipe, callback)` under a progress bar, print the notes, save to gen.out."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from tenku.pipeline import Pipeline

    _writable_output(gen.out, suffixes)
    with console.status("loading the model"):
        pipe = Pipeline.from_pretrained(gen.model, device=gen.device)
    for video in inputs:  # images read as one-frame videos take the generation's frame rate
        if not video.fps:
            video.fps = gen.fps or pipe.defaults.fps
    columns = (TextColumn(what), BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(what, total=None)
        video = make(pipe, lambda done, total: progress.update(task, completed=done, total=total))
    for note in video.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False, soft_wrap=True)
    path = video.save(gen.out)
    f, h, w, _ = video.frames.shape
    console.print(f"wrote {path} ({f} frames, {f / video.fps:.3g} s, {w}x{h}, {video.fps:g} fps, seed {video.seed})",
                  highlight=False, soft_wrap=True)


def _prompt_for(prompt: Optional[str], found: str) -> str:
    if prompt is None and found:
        console.print(f"[yellow]note:[/yellow] prompt from the video's metadata: {found!r}", highlight=False, soft_wrap=True)
    return found if prompt is None else prompt


@_mode_command("animate")
def animate_cmd(image: Path = typer.Argument(..., help="The first frame (PNG, JPEG, WebP; any size)."),
                prompt: str = typer.Option(..., "--prompt", "-p", help="How it moves."), *, gen: _Gen) -> None:
    """Animate an image: it is the first frame, the motion follows the prompt."""
    from tenku.video import read_image

    picture = read_image(image)
    _run_mode(gen, "animating", lambda pipe, cb: pipe.image_to_video(prompt, image=picture, callback=cb, **gen.settings()))


@_mode_command("extend")
def extend_cmd(video: Path = typer.Argument(..., help="The video to continue."),
               prompt: Optional[str] = typer.Option(None, "--prompt", "-p", help="What happens next. (default: the video's own, if tenku made it; else none)"),
               backward: bool = typer.Option(False, "--backward", help="Invent what came before the start instead."),
               *, gen: _Gen) -> None:
    """Continue a video after its end (or before its start): writes the whole stitched video."""
    if gen.seconds is None:
        raise TenkuError("tenku extend needs --seconds S: how long the new part is")
    clip, found = _read_input(video, "video")
    prompt = _prompt_for(prompt, found)
    _run_mode(gen, "extending", lambda pipe, cb: pipe.extend(prompt, video=clip, backward=backward, callback=cb, **gen.settings()),
              inputs=[clip])


@_mode_command("loop")
def loop_cmd(video: Path = typer.Argument(..., help="The video to make loop."),
             prompt: Optional[str] = typer.Option(None, "--prompt", "-p", help="What the bridge back to the start shows. (default: the video's own)"),
             *, gen: _Gen) -> None:
    """Make a video loop: adds a bridge from its end back to its start (--seconds: the bridge's length)."""
    clip, found = _read_input(video, "video")
    prompt = _prompt_for(prompt, found)
    _run_mode(gen, "looping", lambda pipe, cb: pipe.loop(prompt, video=clip, callback=cb, **gen.settings()), inputs=[clip])


@_mode_command("connect")
def connect_cmd(start: Path = typer.Argument(..., help="Video (or image) A: the transition starts where it ends."),
                end: Path = typer.Argument(..., help="Video (or image) B: the transition ends where it starts."),
                prompt: str = typer.Option("", "--prompt", "-p", help="What the transition shows."), *, gen: _Gen) -> None:
    """Make the transition from A to B (--seconds long); writes the transition only: A + it + B play as one."""
    if gen.seconds is None:
        raise TenkuError("tenku connect needs --seconds S: how long the transition is")
    a, _ = _read_input(start, "A")
    b, _ = _read_input(end, "B")
    _run_mode(gen, "connecting", lambda pipe, cb: pipe.connect(prompt, video=a, end=b, callback=cb, **gen.settings()),
              inputs=[a, b])


@_mode_command("remix")
def remix_cmd(video: Path = typer.Argument(..., help="The video to remix."),
              prompt: str = typer.Option(..., "--prompt", "-p", help="The new content, e.g. 'a blue ball bounces at night'."),
              strength: float = typer.Option(0.6, help="How far it may move from the input: the share of the sampling steps that run; 0 keeps it, 1 ignores it."),
              *, gen: _Gen) -> None:
    """Remix a video: same layout and motion, changed content."""
    if not 0.0 <= strength <= 1.0:
        raise TenkuError(f"--strength must be between 0 (keep the input) and 1 (ignore it), got {strength:g}")
    clip, _ = _read_input(video, "video")
    _run_mode(gen, "remixing", lambda pipe, cb: pipe.remix(prompt, video=clip, strength=strength, callback=cb, **gen.settings()),
              inputs=[clip])


@_mode_command("storyboard")
def storyboard_cmd(board: Path = typer.Argument(..., help="board.json or .yaml: {\"seconds\": S, \"cards\": [{\"time\", \"prompt\", \"image\"}, ...]}"),
                   prompt: str = typer.Option("", "--prompt", "-p", help="For cards without a prompt."), *, gen: _Gen) -> None:
    """One continuous video through a storyboard's cards, in order."""
    from tenku.modes import load_board

    story = load_board(board)
    settings = {**gen.settings(), "seconds": gen.seconds if gen.seconds is not None else story.seconds}
    _run_mode(gen, "storyboard", lambda pipe, cb: pipe.storyboard(prompt or story.prompt, cards=story.cards, callback=cb, **settings))


@_mode_command("image", default_out="out.png")
def image_cmd(prompt: str = typer.Argument(..., help="What the image shows."), *, gen: _Gen) -> None:
    """Generate an image (a one-frame video)."""
    if gen.seconds is not None:
        raise TenkuError("tenku image makes one frame; --seconds does not apply")
    _run_mode(gen, "denoising", lambda pipe, cb: pipe.image(prompt, callback=cb, **gen.settings(seconds=False)))


# ---------------------------------------------------------------------------------------------------------------
# server: tenku serve, tenku worker (tenku/server/)
# ---------------------------------------------------------------------------------------------------------------
# Flags map 1:1 onto tenku.server.settings.ServerSettings fields; a flag left out falls back to its TENKU_* variable,
# then to the default there.

_MODEL_HELP = "checkpoint folder for tenku.pipeline.Pipeline [default: the model shipped in the package]"
_GENERATOR_HELP = "pipeline (the model in --model) or fake (a fast procedural stand-in, no model needed)"
_DATA_HELP = "job store, queue, uploads and videos [default: ~/.tenku/server]"


def _check_server_model(settings) -> None:
    """Fail in one line before starting, rather than in a traceback from the server's startup."""
    if settings.generator != "pipeline":
        return
    if settings.model is None:
        from tenku.pipeline import DEFAULT_MODEL

        if not (DEFAULT_MODEL / "manifest.json").is_file():
            raise TenkuError(f"no --model given and no default model is installed at {DEFAULT_MODEL}; give --model "
                             "PATH (a checkpoint folder), or --generator fake to try the API")
    elif not Path(settings.model).is_dir():
        raise TenkuError(f"--model {settings.model}: no such checkpoint folder")


@app.command()
def serve(
    host: Optional[str] = typer.Option(None, help="address to bind [default: 127.0.0.1]"),
    port: Optional[int] = typer.Option(None, help="port [default: 8000]"),
    data_dir: Optional[Path] = typer.Option(None, help=_DATA_HELP),
    api_keys_file: Optional[Path] = typer.Option(None, help="one API key per line (or TENKU_API_KEYS=k1,k2)"),
    model: Optional[Path] = typer.Option(None, help=_MODEL_HELP),
    device: Optional[str] = typer.Option(None, help="where the model runs: cpu, cuda, cuda:1 [default: cpu]"),
    generator: Optional[str] = typer.Option(None, help=_GENERATOR_HELP),
    workers_in_process: Optional[int] = typer.Option(None, help="worker threads in this process [default: 1]"),
    allow_public_without_keys: bool = typer.Option(False, help="bind a public address with no API keys"),
    webhook_url: Optional[list[str]] = typer.Option(None, help="send video.completed/failed here (repeatable)"),
    webhook_secret: Optional[str] = typer.Option(None, help="signing secret for webhooks (whsec_<base64>)"),
    log_level: str = typer.Option("info", help="uvicorn log level"),
) -> None:
    """Serve the OpenAI Videos API (Sora 2) on a local model: point the openai SDK's base_url at http://HOST:PORT/v1."""
    from tenku.server.settings import settings_from_flags

    settings = settings_from_flags(
        host=host, port=port, data_dir=data_dir, api_keys_file=api_keys_file, model=model, device=device,
        generator=generator,
        workers_in_process=workers_in_process, allow_public_without_keys=allow_public_without_keys or None,
        webhook_urls=webhook_url or None, webhook_secret=webhook_secret,
    )
    note = settings.check_bind(settings.load_api_keys())  # refuses a public bind without keys
    if settings.workers_in_process > 0:
        _check_server_model(settings)
    if note:
        err_console.print(f"[yellow]note:[/yellow] {note}", highlight=False, soft_wrap=True)
    import logging

    import uvicorn

    from tenku.server.app import create_app

    level = getattr(logging, log_level.upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(levelname)s:     %(name)s: %(message)s")
    err_console.print(f"tenku: OpenAI-compatible Videos API at http://{settings.host}:{settings.port}/v1 "
                      f"(data in {settings.data_dir})", highlight=False, soft_wrap=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=log_level)


@app.command()
def worker(
    data_dir: Optional[Path] = typer.Option(None, help=_DATA_HELP + "; the same folder as tenku serve's"),
    model: Optional[Path] = typer.Option(None, help=_MODEL_HELP),
    device: Optional[str] = typer.Option(None, help="where the model runs: cpu, cuda, cuda:1 [default: cpu]"),
    generator: Optional[str] = typer.Option(None, help=_GENERATOR_HELP),
    threads: int = typer.Option(1, help="worker threads in this process (they share one model)"),
    webhook_url: Optional[list[str]] = typer.Option(None, help="send video.completed/failed here (repeatable)"),
    webhook_secret: Optional[str] = typer.Option(None, help="signing secret for webhooks (whsec_<base64>)"),
) -> None:
    """Run extra generation workers on a tenku serve data dir (same job store and queue); stop with Ctrl-C."""
    import logging

    from tenku.server.services import run_workers
    from tenku.server.settings import settings_from_flags

    settings = settings_from_flags(
        data_dir=data_dir, model=model, device=device, generator=generator, workers_in_process=threads,
        webhook_urls=webhook_url or None, webhook_secret=webhook_secret,
    )
    _check_server_model(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    err_console.print(f"tenku worker: {threads} thread(s) on {settings.data_dir}", highlight=False)
    run_workers(settings)


def main() -> None:
    """Entry point: run the app, turning user errors into one line and a non-zero exit."""
    try:
        app(standalone_mode=False)
    except TenkuError as e:
        err_console.print(f"[red]error:[/red] {e}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as e:  # click's usage errors arrive here with standalone_mode=False
        import click

        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(e.exit_code)
        raise


if __name__ == "__main__":
    main()
