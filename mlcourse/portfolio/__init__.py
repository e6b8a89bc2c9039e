"""``mlcourse portfolio``: a learner's finished projects, from the figures they reached.

The project notebooks record what the learner's own code measured
(:func:`mlcourse.results.record`); this package reads those figures and
writes a portfolio from them: a self-contained page with plots, a README per
project and quantified resume bullets. It never invents a figure: a project
whose figures are missing is listed as not done, and a bullet whose figure is
missing is not written.

=============  ==============================================================
``registry``   the projects, one entry each (figures, bullets, commands)
``numbers``    figures as a resume prints them; the numbers a sentence quotes
``collect``    a workspace's projects, done or not, from ``results.jsonl``
``bullets``    templates filled only with recorded figures
``plots``      one comparison plot per project (PNG)
``readme``     a GitHub-style README per project, the bullets file
``page``       the self-contained HTML page
``build``      writes all of it into one folder
``cli``        the ``mlcourse portfolio`` command
=============  ==============================================================
"""

from mlcourse.portfolio.build import Built, OutError, build
from mlcourse.portfolio.collect import NotAWorkspace, collect

__all__ = ["Built", "NotAWorkspace", "OutError", "build", "collect"]
