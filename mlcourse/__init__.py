"""mlcourse: the library behind the course notebooks, and the ``mlcourse`` CLI."""

__version__ = "0.1.0"
