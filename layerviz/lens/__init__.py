"""The dataset lens: every layer seen over many patterns at once.

Owns the streamed pass over a dataset (:mod:`layerviz.lens.features`: pooled features,
per-pattern peaks and running moments per channel, mergeable shards), the dataset readers
(:mod:`layerviz.lens.datasets`) and the numbers the Dataset views show: linear probes and
projections (:mod:`layerviz.lens.probes`) and linear CKA between layers
(:mod:`layerviz.lens.similarity`).

May import ``load``, ``patterns``, ``extract`` and ``analysis``; never ``draw``, ``ui`` or ``cli``.
"""
