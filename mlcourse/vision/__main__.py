"""``python -m mlcourse.vision train|serve``: see :mod:`mlcourse.vision.cli`."""

from mlcourse.vision.cli import main

if __name__ == "__main__":
    main()
