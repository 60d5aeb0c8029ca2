"""What remix's `strength` means, measured: the share of the sampling schedule that runs (the pipeline's reading)
against the flow time itself (the reading before), on world clips whose remix prompt changes only the colour.

    OMP_NUM_THREADS=1 python3 benchmarks/remix_strength.py --cases 12 --threads 1

For each case (`modes_quality.PROMPTS`, cycled; the source is the world's render of the first prompt, seed 100 +
case) and each strength, the clip is remixed to the second prompt both ways: as the pipeline does now (noised to
`shift_time(strength)`) and as before (noised to flow time `strength`, given to today's pipeline as the strength
`unshift_time(strength)`). Columns: how often the judge's objects criterion passes for the remix prompt (the new
colour on the right shape), and how far the main object's track moves from the source's (metres).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="pipeline folder (default: the shipped tenku-world)")
    parser.add_argument("--cases", type=int, default=12)
    parser.add_argument("--strengths", default="0.5,0.6")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("-v", "--verbose", action="store_true", help="also print each case: prompt, hit, distance")
    args = parser.parse_args()
    if args.cases < 1:
        parser.error(f"--cases must be 1 or more, got {args.cases}")
    strengths = [float(x) for x in args.strengths.split(",")]
    if not all(0 < s < 1 for s in strengths):
        parser.error(f"--strengths must lie strictly between 0 and 1, got {args.strengths}")
    if args.threads:
        torch.set_num_threads(args.threads)

    from rich.console import Console
    from rich.table import Table

    import modes_quality as mq
    from tenku.flow import shift_time, unshift_time
    from tenku.pipeline import Pipeline

    pipe = Pipeline.from_pretrained(args.model)
    d = pipe.defaults
    f, h, w = pipe.latent_shape(round(d.seconds * d.fps), d.height, d.width)[1:]
    shift = pipe.flow.shift_for(f * h * w)
    table = Table(title=f"remix, {args.cases} world clips, colour changes, time shift {shift:.2f}")
    for col in ("strength", "read as", "noised to t", "new colour found", "centroid distance mean (m)", "median (m)"):
        table.add_column(col, justify="right")
    for strength in strengths:
        for name, given in (("share of the schedule (now)", strength), ("flow time (before)", unshift_time(strength, shift))):
            hits, dists = [], []
            for case in range(args.cases):
                source, remixed = mq.PROMPTS[case % len(mq.PROMPTS)]
                seed = 100 + case
                a = mq.world_clip(source, seed, d.seconds, d.width, d.height, d.fps)
                mix = pipe.remix(remixed, video=a, strength=given, seed=seed)
                hits.append(mq.judge_score(mix.frames, d.fps, remixed)[2])
                dists.append(mq.centroid_distance(a.frames, mix.frames, d.fps))
                if args.verbose:
                    print(f"strength {strength:g} ({name}) case {case}: {remixed!r} "
                          f"{'found' if hits[-1] else 'missed'}, {dists[-1]:.2f} m", flush=True)
            t = float(shift_time(given, shift))
            table.add_row(f"{strength:g}", name, f"{t:.3f}", f"{sum(hits)}/{len(hits)}", f"{np.nanmean(dists):.2f}",
                          f"{np.nanmedian(dists):.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
