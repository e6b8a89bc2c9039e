"""The image classification web app: a small residual CNN for hand-written digits, served.

* :mod:`mlcourse.vision.model` defines the network (a small ResNet with batch
  norm), the training augmentation and the calibration tools (expected
  calibration error, temperature scaling).
* :mod:`mlcourse.vision.train` trains it on scikit-learn's digits and writes a
  versioned artifact folder (``model.pt`` + ``metadata.json`` with its sha256).
* :mod:`mlcourse.vision.artifact` verifies and loads such a folder.
* :mod:`mlcourse.vision.preprocess` turns an uploaded PNG or JPEG into the
  8 x 8 grey image the model was trained on.
* :mod:`mlcourse.vision.app` serves it with FastAPI: ``POST /predict`` for an
  image, ``GET /`` for a page to draw or upload a digit, ``/health``, ``/model``.
* :mod:`mlcourse.vision.cli` is the command line: ``python -m mlcourse.vision
  train --out DIR`` and ``serve --model-dir DIR``.

This module stays light (no torch, FastAPI or Pillow import).
"""

from __future__ import annotations

#: The model kind written in every artifact's metadata.
KIND = "digits-resnet"
#: Environment variable naming the artifact folder served by ``mlcourse.vision.app:app``.
MODEL_DIR_ENV = "MLCOURSE_VISION_MODEL_DIR"
#: Side of the images the model reads (scikit-learn's digits are 8 x 8).
IMAGE_SIZE = 8
#: The classes, in the order of the model's outputs.
CLASSES = tuple(range(10))
#: Largest request body accepted, in bytes (413 above it).
MAX_BODY_BYTES = 2 * 1024 * 1024
#: Largest decoded image accepted, in pixels (width times height; 422 above it).
MAX_PIXELS = 4096 * 4096
#: Media types accepted by ``POST /predict``, and the formats their bytes must be.
MEDIA_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG"}

__all__ = [
    "CLASSES",
    "IMAGE_SIZE",
    "KIND",
    "MAX_BODY_BYTES",
    "MAX_PIXELS",
    "MEDIA_TYPES",
    "MODEL_DIR_ENV",
]
