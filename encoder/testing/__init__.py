"""Data for tests, examples and benchmarks; nothing here is needed to read or write shards.

* :mod:`encoder.testing.synthetic`: a deterministic synthetic desktop session
  (:func:`~encoder.testing.synthetic.generate_session`, :func:`~encoder.testing.synthetic.write_sample`),
  written as a shard by ``python -m encoder.testing.synthetic PATH [SECONDS] [SEED]``; the desktop
  it simulates is :mod:`encoder.testing.desktop`, the person :mod:`encoder.testing.simulation`.
* :mod:`encoder.testing.recordings`: readers of the real research recordings kept outside the
  repository, in ``../shared/data`` (:func:`~encoder.testing.recordings.load_balabit`,
  :func:`~encoder.testing.recordings.load_aalto`).

Nothing is imported here: ``import encoder.testing`` costs nothing.
"""
