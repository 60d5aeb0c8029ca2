"""The procedural physical world: training data for the small video model and the yardstick for judging videos.

    spec.py      vocabulary, coordinates, scene/render/prompt dataclasses, palettes and colour-distance promises
    physics.py   scene -> Trajectory (positions, angles, velocities, visibility, camera per frame)
    render.py    scene (+ trajectory) -> uint8 frames (F, H, W, 3); world_to_pixel
    sample.py    random scenes, and scenes completed from a parsed prompt, checked against their own words
    captions.py  scene -> several phrasings and one long descriptive caption
    parse.py     prompt -> PromptQuery (only what it says) and -> SceneSpec (the rest drawn from a seed)
    dataset.py   resumable MP4 + captions.jsonl writer, and an in-memory training stream
    judge.py     generated video + prompt -> pass/fail per criterion

Submodules are imported directly (`from tenku.world.render import render`); this package imports nothing.
"""
