"""tenku: open, self-hosted text-to-video.

Heavy modules (torch, the models) are imported lazily, so `tenku world` and `tenku judge` start fast.
"""

__version__ = "0.1.0"

__all__ = ["Pipeline", "Video", "__version__"]


def __getattr__(name: str):
    if name == "Pipeline":
        from tenku.pipeline import Pipeline

        return Pipeline
    if name == "Video":
        from tenku.video import Video

        return Video
    raise AttributeError(f"module 'tenku' has no attribute {name!r}")
