"""Recording a model while it trains: the ``Recorder`` callback, the run it writes on disk, and
reading the run back (records, curves over epochs, an epoch's maps as activations).

May import ``layerviz.load``, ``layerviz.patterns``, ``layerviz.extract`` and
``layerviz.analysis``; never ``layerviz.draw``, ``layerviz.ui`` or ``layerviz.cli`` (which read
runs through :class:`~layerviz.record.run.Run`).
"""
