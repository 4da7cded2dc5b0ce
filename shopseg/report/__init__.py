"""Segment report: a static HTML page with PNG figures, rendered from the marts of a database.

Usage::

    python -m shopseg.report                       # SHOPSEG_DSN / PG* env, schema analytics
    python -m shopseg.report --dsn postgresql://postgres@127.0.0.1:55432/shopseg \\
        --schema analytics --out report/out

writes ``<out>/index.html`` and ``<out>/img/*.png`` (referenced relatively, so the folder opens
from disk and can be zipped or copied as it is). The page shows:

* the run: data date, centroid version in use, customer counts, the last dbt build's duration;
* a landscape of all 13 axes (segment shares as stacked bars);
* per axis: each segment's centroid as a heatmap of standardized values annotated with the
  real feature values (original units), the segment sizes in the whole population, and the
  share of the discovery sample each label's definition holds for, beside the segments found;
* the top archetypes with share, average LTV and LTV-tier mix;
* segment migration between the two newest centroid versions (the ``segment_migrations`` mart)
  once a rediscovery has produced a second one; a note otherwise;
* the drift of the latest build (the ``segment_drift`` mart).

Modules: :mod:`.data` (``fetch_*``: the marts and catalog seeds into plain dataclasses),
:mod:`.figures` (``plot_*``: PNG files, matplotlib Agg backend), :mod:`.html` (``render_*``: the
page), :mod:`.formatting` (shared number formats), :mod:`.cli`. It reads only ``<schema>_marts``
and ``<schema>_catalog``, what the read-only BI role sees.
"""
