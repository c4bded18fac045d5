"""The batch room: bulk issuance and bulk verification on one core, all cores or Dask.

It drives the library and adds no format of its own beyond its result files: rows are read
and validated by :mod:`~ecard.batch.rows`, chunks run where :mod:`~ecard.batch.engines` says
(this process, a process pool, a Dask cluster), :mod:`~ecard.batch.issue` signs and journals
in input order with resumption, :mod:`~ecard.batch.verify` verifies files of codes. Workers
open signers from a picklable :class:`~ecard.signing.keysource.KeySource`; no key is pickled.
See docs/scale.md.
"""

from __future__ import annotations
