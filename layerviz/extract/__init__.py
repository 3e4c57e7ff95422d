"""The one-pass extractor and the gradients: what a model computes, on any Keras backend.

Owns: :mod:`.taps` (which outputs a model has, nested models unfolded, through the public Keras
API), :mod:`.activations` (``ActivationExtractor`` and the plain data it returns),
:mod:`.backends` (one gradient interface, a module per Keras backend), :mod:`.split` (a model cut
at a layer into two Functional models) and :mod:`.logits` (the class scores before the final
softmax / sigmoid).

May import: ``layerviz.errors``, ``layerviz.config``, ``layerviz.load``, ``layerviz.patterns`` and
Keras (and the running backend, in :mod:`.backends` only). Never ``analysis``, ``draw``, ``ui``
or ``cli``: what the extractor returns is plain data that everything downstream reads.
"""
