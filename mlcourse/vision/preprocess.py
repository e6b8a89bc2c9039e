"""From an uploaded PNG or JPEG to the 8 x 8 grey digit the model was trained on.

scikit-learn's digits are bright strokes (16) on a dark background (0) that
fill the image's height, centred, with the aspect ratio kept. A photo or a
drawing is the opposite: dark ink on white paper, any size, anywhere in the
frame. :func:`preprocess_image` bridges the two:

1. decode with Pillow (PNG or JPEG only, at most :data:`~mlcourse.vision.MAX_PIXELS`
   pixels, EXIF rotation applied), put transparent parts on white;
2. grey levels in [0, 1]; *ink* is the grey level if the border is dark,
   one minus it if the border is light (the usual paper case);
3. crop to the box around the pixels with ink above :data:`INK_THRESHOLD`;
4. pad the box with zeros to a centred square (the shorter side grows,
   split evenly, the extra pixel at the bottom or right);
5. average down to 8 x 8 (Pillow's box filter: each output pixel is the mean
   of the area it covers), and scale so that the brightest pixel is 16.

Every way an upload can be unusable raises :class:`ImageError`, whose
``status`` is the HTTP status a service should answer with.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from mlcourse.vision import IMAGE_SIZE, MAX_PIXELS, MEDIA_TYPES

#: Ink above this (in [0, 1]) counts when finding the digit's box.
INK_THRESHOLD = 0.2
#: The first bytes of each accepted format.
SIGNATURES = {"PNG": b"\x89PNG\r\n\x1a\n", "JPEG": b"\xff\xd8\xff"}


class ImageError(ValueError):
    """An upload that cannot be used; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def sniff(data: bytes) -> str | None:
    """The format ("PNG" or "JPEG") that the first bytes of ``data`` announce, or None."""
    for name, signature in SIGNATURES.items():
        if data.startswith(signature):
            return name
    return None


def decode(data: bytes, media_type: str | None = None):
    """A fully loaded Pillow image from PNG or JPEG bytes (checked against ``media_type``).

    Raises:
        ImageError: 400 if the bytes are empty or not a decodable image, 415 if
            they are not PNG or JPEG or not what ``media_type`` says, 422 if the
            image has more than MAX_PIXELS pixels.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not isinstance(data, bytes | bytearray | memoryview):
        raise ImageError(f"expected the image's bytes, got {type(data).__name__}", 400)
    data = bytes(data)
    if not data:
        raise ImageError("the body is empty: send the image's bytes", 400)
    found = sniff(data)
    expected = MEDIA_TYPES.get(media_type) if media_type else None
    if found is None:
        if expected is not None:
            raise ImageError(f"the body is not a {expected} image (it cannot be decoded)", 400)
        raise ImageError("the body is not a PNG or JPEG image", 415)
    if expected is not None and found != expected:
        raise ImageError(f"Content-Type says {media_type} but the body is a {found} image", 415)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[found])
            width, height = image.size
            if width * height > MAX_PIXELS:
                side = int(MAX_PIXELS**0.5)
                raise ImageError(
                    f"the image is {width} x {height} pixels; at most {MAX_PIXELS:,} "
                    f"pixels ({side} x {side}) are accepted",
                    422,
                )
            image.load()
            image = ImageOps.exif_transpose(image)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"the image is too large to decode safely ({exc})", 422) from None
    except UnidentifiedImageError:
        raise ImageError(
            f"the {found} image cannot be decoded (its header is not a valid {found} file)", 400
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageError(f"the {found} image cannot be decoded ({exc})", 400) from None
    if image.width < 1 or image.height < 1:
        raise ImageError("the image has no pixels", 422)
    return image


def grey_levels(image) -> np.ndarray:
    """A Pillow image as grey levels in [0, 1] (transparent parts on white)."""
    from PIL import Image

    mode = image.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=float)
        top = 65535.0 if mode.startswith("I;16") else float(values.max())
        return np.clip(values / top, 0.0, 1.0) if top > 0 else np.zeros_like(values)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return np.asarray(image.convert("L"), dtype=float) / 255.0


def to_digit(grey: np.ndarray) -> np.ndarray:
    """Grey levels (H, W) in [0, 1] -> an (8, 8) digit in [0, 16]: ink, box, square, average.

    Raises:
        ImageError: 422 if no pixel has ink above INK_THRESHOLD (a blank image).
    """
    from PIL import Image

    grey = np.asarray(grey, dtype=float)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    ink = 1.0 - grey if border.mean() > 0.5 else grey
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        raise ImageError("the image is blank: no strokes were found", 422)
    box = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = box.shape
    side = max(height, width)
    square = np.zeros((side, side))
    top, left = (side - height) // 2, (side - width) // 2
    square[top : top + height, left : left + width] = box
    small = Image.fromarray(square.astype(np.float32)).resize(
        (IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX
    )
    out = np.asarray(small, dtype=float)
    return np.clip(16.0 * out / out.max(), 0.0, 16.0)


def preprocess_image(data: bytes, media_type: str | None = None) -> np.ndarray:
    """PNG or JPEG bytes -> the (8, 8) float digit in [0, 16] the model reads.

    Raises:
        ImageError: with ``status`` 400, 415 or 422 (see :func:`decode`, :func:`to_digit`).
    """
    return to_digit(grey_levels(decode(data, media_type)))


def to_png(image: np.ndarray, scale: int = 1, invert: bool = False) -> bytes:
    """An (H, W) array in [0, 16] as PNG bytes (``scale`` times larger; ``invert``: dark ink)."""
    from PIL import Image

    values = np.clip(np.asarray(image, dtype=float) / 16.0, 0.0, 1.0)
    if invert:
        values = 1.0 - values
    picture = Image.fromarray(np.round(values * 255).astype(np.uint8))
    if scale != 1:
        picture = picture.resize(
            (picture.width * scale, picture.height * scale), Image.Resampling.NEAREST
        )
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


__all__ = ["INK_THRESHOLD", "ImageError", "decode", "preprocess_image", "to_digit", "to_png"]
