"""Blurring the faces in a photo before any copy of it is stored (in the photo workers).

Faces are looked for at the photo's stored size, so that a passer-by some way off is found
too: a photo larger than `TILE` is looked at in overlapping tiles of at most that size,
which bounds the detector's memory (a 2048 × 1536 photo at once would take some 400 MB),
and once more as a whole, scaled down to `TILE`, for the faces larger than the tiles'
overlap, which a tile's edge may cut. Each face found is blurred over an ellipse a little
larger than its box, strongly enough that nothing of it can be told.

Number plates are not looked for: no detector that runs offline is good enough (README,
"Faces and number plates in photos").
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from intake_service.photos import centerface

if TYPE_CHECKING:
    from numpy.typing import NDArray

TILE = 1024
"""The largest side the detector is given at once."""
OVERLAP = 128
"""How much neighbouring tiles share: a face up to this size lies whole in one of them."""
MASK_SCALE = 1.3
"""The blurred ellipse is this much larger than the face's box (hair, ears, chin)."""
SAME_FACE = 0.3
"""Boxes overlapping this much (intersection over union) are one face."""
INSIDE = 0.8
"""A box lying this much inside a likelier one is part of that face (a tile's cut)."""
STRENGTH = 6
"""The blur's radius is the face's size over this."""


def blur_faces(image: Image.Image, threshold: float) -> int:
    """Blur every face found in the RGB `image`, in place; how many were found."""
    faces = find_faces(image, threshold)
    for box in faces:
        _blur(image, box)
    return len(faces)


def find_faces(image: Image.Image, threshold: float) -> list[tuple[int, int, int, int]]:
    """The boxes (left, top, right, bottom) of the faces in an RGB image."""
    width, height = image.size
    found = [_detect(image, threshold)]
    if max(width, height) > TILE:
        for left, top, right, bottom in tiles(image.size):
            boxes = _detect(image.crop((left, top, right, bottom)), threshold)
            boxes[:, [0, 2]] += left
            boxes[:, [1, 3]] += top
            found.append(boxes)
    faces = _one_box_per_face(np.concatenate(found))
    return [
        (math.floor(x1), math.floor(y1), math.ceil(x2), math.ceil(y2))
        for x1, y1, x2, y2 in faces[:, :4].tolist()
    ]


def tiles(size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Boxes of at most `TILE` on each side covering `size`, neighbours sharing `OVERLAP`."""
    width, height = size
    return [
        (left, top, right, bottom)
        for top, bottom in _spans(height)
        for left, right in _spans(width)
    ]


def _spans(length: int) -> list[tuple[int, int]]:
    if length <= TILE:
        return [(0, length)]
    count = math.ceil((length - OVERLAP) / (TILE - OVERLAP))
    span = math.ceil((length + (count - 1) * OVERLAP) / count)
    step = (length - span) / (count - 1)
    return [(round(i * step), round(i * step) + span) for i in range(count)]


def _detect(image: Image.Image, threshold: float) -> NDArray[np.float32]:
    """`centerface.detect` on the image, scaled down to at most `TILE` first."""
    scale = min(1.0, TILE / max(image.size))
    if scale < 1.0:
        size = (max(round(image.width * scale), 1), max(round(image.height * scale), 1))
        image = image.resize(size, Image.Resampling.BILINEAR)
    boxes = centerface.detect(np.asarray(image), threshold)
    if scale < 1.0:
        boxes[:, :4] /= scale
    return boxes


def _one_box_per_face(boxes: NDArray[np.float32]) -> NDArray[np.float32]:
    """The likeliest box of each face: the others overlapping it, or lying inside it, go."""
    order = np.argsort(-boxes[:, 4], kind="stable")
    boxes = boxes[order]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept = []
    remaining = np.arange(len(boxes))
    while remaining.size:
        best, others = remaining[0], remaining[1:]
        kept.append(best)
        width = np.minimum(boxes[best, 2], boxes[others, 2]) - np.maximum(
            boxes[best, 0], boxes[others, 0]
        )
        height = np.minimum(boxes[best, 3], boxes[others, 3]) - np.maximum(
            boxes[best, 1], boxes[others, 1]
        )
        shared = np.clip(width, 0, None) * np.clip(height, 0, None)
        union = areas[best] + areas[others] - shared
        same = shared >= SAME_FACE * np.maximum(union, 1e-6)
        inside = shared >= INSIDE * np.maximum(areas[others], 1e-6)
        remaining = others[~(same | inside)]
    return boxes[kept]


def _blur(image: Image.Image, box: tuple[int, int, int, int]) -> None:
    left, top, right, bottom = box
    grow_x = (right - left) * (MASK_SCALE - 1) / 2
    grow_y = (bottom - top) * (MASK_SCALE - 1) / 2
    ellipse = (
        math.floor(left - grow_x),
        math.floor(top - grow_y),
        math.ceil(right + grow_x),
        math.ceil(bottom + grow_y),
    )
    # A face at the photo's edge: its ellipse is cut there, not moved inside.
    region = (
        max(ellipse[0], 0),
        max(ellipse[1], 0),
        min(ellipse[2], image.width),
        min(ellipse[3], image.height),
    )
    if region[2] - region[0] < 2 or region[3] - region[1] < 2:
        return
    face = image.crop(region)
    radius = max(ellipse[2] - ellipse[0], ellipse[3] - ellipse[1]) / STRENGTH
    blurred = face.filter(ImageFilter.GaussianBlur(radius))
    mask = Image.new("L", face.size, 0)
    ImageDraw.Draw(mask).ellipse(
        (
            ellipse[0] - region[0],
            ellipse[1] - region[1],
            ellipse[2] - region[0] - 1,
            ellipse[3] - region[1] - 1,
        ),
        fill=255,
    )
    image.paste(blurred, region[:2], mask)
