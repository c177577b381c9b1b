"""Report building shared by every mlyard report: HTML pages, charts and tables.

The evaluation report, the profiler report, the tuning report and the A/B test report all
build one self-contained HTML page (charts embedded as PNG) with these helpers, so they look
the same and escape user strings the same way:

* :mod:`mlyard.reports.html`: :func:`escape`, :func:`table`, :func:`image`, :func:`note`,
  :func:`heading`, :func:`page` and the shared style sheet :data:`CSS`;
* :mod:`mlyard.reports.charts`: :func:`new_figure` (a matplotlib figure without pyplot),
  :func:`png`, :func:`plain` (label text safe for matplotlib);
* :mod:`mlyard.reports.tables`: :func:`text_table` (terminals), :func:`records_table`,
  :func:`cell`, :func:`jsonable` and :func:`write_json` (report files).

Importing this package does not import matplotlib.
"""

from mlyard.reports.charts import new_figure, plain, png
from mlyard.reports.html import CSS, escape, heading, image, note, page, table
from mlyard.reports.tables import cell, jsonable, records_table, text_table, write_json

__all__ = [
    "CSS",
    "cell",
    "escape",
    "heading",
    "image",
    "jsonable",
    "new_figure",
    "note",
    "page",
    "plain",
    "png",
    "records_table",
    "table",
    "text_table",
    "write_json",
]
