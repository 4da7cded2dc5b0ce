"""Demo-data generator: a shop + helpdesk export with planted behavioural segments (docs/generator.md).

Modules: :mod:`.run` (``generate``: chunks, COPY), :mod:`.cli` (command line), :mod:`.config`
(parameters, presets), :mod:`.shapes` (real-data shapes), :mod:`.classes`, :mod:`.timeline`,
:mod:`.catalog`, :mod:`.orders`, :mod:`.support` (what is drawn), :mod:`.truth` (ground truth),
:mod:`.load` (tables, COPY encoding), :mod:`.formats` (loader formats), :mod:`.util`.
"""

from .run import generate

__all__ = ["generate"]
