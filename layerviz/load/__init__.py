"""How a model gets in: loading by name or path, the bundled models, and the door's safety checks.

Owns: :mod:`.loading` (``load_model``), :mod:`.bundled` (the trained models in ``models/``, their
samples and cards), the static checks of an untrusted file (:mod:`.modelzip` — the archive,
:mod:`.modelconfig` — the config's layers against an allowlist, :mod:`.modelcheck` — both plus
limits, in one report) and the canary (:mod:`.canary` starts a limited child process,
:mod:`.canary_child` is that child, :mod:`.canary_queue` runs checks on its own threads, a
bounded few at a time, so that no server request waits for one).

May import: ``layerviz.errors``, ``layerviz.config`` and Keras. Never ``patterns``, ``extract``,
``analysis``, ``draw``, ``ui`` or ``cli`` (``tests/test_layering.py`` reads the imports).
"""
