"""The pattern an optimiser moves, as ``keras.ops`` functions: Fourier parameters to an input.

Feature visualisation optimises a pattern to excite one channel. Optimised pixel by pixel it
turns into high-frequency noise the model happens to like; Lucid's ``param.image`` (Olah et
al., "Feature Visualization", Distill 2017) reads better, and this module follows it:

- **Decorrelated space.** The pattern is a spectrum: ``x = L Z Rᵀ`` with ``L``, ``R`` the
  orthonormal real DFT bases of the two axes (the cosines and sines ``numpy.fft.irfft`` sums),
  written as two matrix products so every backend differentiates it, each coefficient scaled by
  ``1 / max(|f|, 1/max(H, W))`` (a 1/f spectrum, as natural images have). Sequences ``(T, C)``
  use the same along time.
- **Colour decorrelation.** Three-channel inputs mix their channels with Lucid's square root
  of ImageNet's colour covariance (normalised by its largest column norm); other channel counts
  are left as they are.
- **Valid range.** A sigmoid maps the result into the model's input range ``[low, high]``.
- **Transformation robustness.** Each step sees the pattern jittered, scaled and rotated by a
  random affine map (``keras.ops.image.affine_transform``, reflecting at the edges); a
  sequence is jittered and stretched along time only.

Everything here is a ``keras.ops`` function of tensors, so it runs inside the one compiled
step of :mod:`layerviz.analysis.visualise` on TensorFlow, JAX and PyTorch alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

__all__ = [
    "COLOR_CORRELATION",
    "Fourier",
    "affine_rows",
    "apply_transforms",
    "real_basis",
    "real_frequencies",
    "total_variation",
]

#: Lucid's square root of ImageNet's RGB covariance (``color_correlation_svd_sqrt``).
COLOR_CORRELATION = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32
)

#: Lucid divides the rendered spectrum by 4 so the sigmoid starts near its middle.
_SPECTRUM_DIVISOR = 4.0


@dataclass(frozen=True)
class Fourier:
    """A Fourier parameterisation of patterns shaped ``shape`` (``(H, W, C)`` or ``(T, C)``).

    Attributes:
        shape: the input shape without the batch axis.
        low: the smallest value the pattern takes.
        high: the largest value the pattern takes.
        decay_power: the spectrum's slope: amplitude ``∝ 1 / |f|^decay_power`` (1 is Lucid's).
        decorrelate: mix three channels by ``COLOR_CORRELATION``.
    """

    shape: tuple[int, ...]
    low: float = 0.0
    high: float = 1.0
    decay_power: float = 1.0
    decorrelate: bool = True

    @property
    def spatial(self) -> tuple[int, ...]:
        """The axes the spectrum spans: ``(H, W)`` or ``(T,)``."""
        return self.shape[:-1]

    @property
    def size(self) -> int:
        """Parameters per pattern: one real coefficient per basis function and channel."""
        return int(np.prod(self.shape))

    def initial(self, n: int, rng: np.random.Generator, sd: float = 0.01) -> np.ndarray:
        """``n`` rows of small random parameters (Lucid's ``sd=0.01``), float32 ``(n, size)``."""
        return (rng.standard_normal((n, self.size)) * sd).astype(np.float32)

    def scale(self) -> np.ndarray:
        """The 1/f amplitude of each coefficient, shaped ``(*spatial, 1)``."""
        grids = np.meshgrid(*[real_frequencies(n) for n in self.spatial], indexing="ij")
        freq = np.sqrt(sum(g**2 for g in grids))
        floor = 1.0 / max(self.spatial)
        return (1.0 / np.maximum(freq, floor) ** self.decay_power)[..., None].astype(np.float32)

    def render(self, params):
        """Parameters ``(n, size)`` to patterns ``(n, *shape)`` inside ``[low, high]``."""
        unit = self.render_unit(params)
        return self.low + (self.high - self.low) * unit

    def render_unit(self, params):
        """Parameters ``(n, size)`` to patterns ``(n, *shape)`` in (0, 1), before the range.

        The coefficients ``Z`` (scaled by :meth:`scale`) become ``L Z Rᵀ`` (``L z`` for a
        sequence) with ``L``, ``R`` the real DFT bases of :func:`real_basis`: two matrix
        products, whatever the backend.
        """
        ops = keras.ops
        z = ops.reshape(params, (-1, *self.shape)) * self.scale()
        if len(self.spatial) == 2:
            rows, cols = (real_basis(n) for n in self.spatial)
            x = ops.einsum("byxc,wx->bywc", z, cols)
            x = ops.einsum("hy,bywc->bhwc", rows, x)
        else:
            x = ops.einsum("tu,buc->btc", real_basis(self.spatial[0]), z)
        x = x / _SPECTRUM_DIVISOR
        if self.decorrelate and self.shape[-1] == 3:
            mix = COLOR_CORRELATION / np.max(np.linalg.norm(COLOR_CORRELATION, axis=0))
            x = ops.einsum("...c,dc->...d", x, mix.astype(np.float32))
        return ops.sigmoid(x)


def real_frequencies(n: int) -> np.ndarray:
    """The frequency (cycles per sample) of each column of ``real_basis(n)``."""
    cos = np.arange(n // 2 + 1)
    sin = np.arange(1, (n + 1) // 2)
    return np.concatenate([cos, sin]) / n


def real_basis(n: int) -> np.ndarray:
    """The orthonormal real DFT basis ``(n, n)``: columns ``cos(2π·uk/n)`` for u = 0…n/2, then
    ``sin(2π·uk/n)`` for u = 1…(n-1)/2, each of unit norm (``numpy.fft.irfft``'s basis)."""
    k = np.arange(n)[:, None]
    cos_u = np.arange(n // 2 + 1)[None, :]
    sin_u = np.arange(1, (n + 1) // 2)[None, :]
    basis = np.concatenate(
        [np.cos(2 * np.pi * cos_u * k / n), np.sin(2 * np.pi * sin_u * k / n)], axis=1
    )
    return (basis / np.linalg.norm(basis, axis=0)).astype(np.float32)


def affine_rows(
    rng: np.random.Generator,
    n: int,
    spatial: tuple[int, ...],
    jitter: int,
    scale: float,
    rotate: float,
) -> np.ndarray:
    """``n`` random affine maps in ``keras.ops.image.affine_transform``'s 8-number form.

    Each maps an output pixel to the input pixel it reads: about the centre, a rotation by up
    to ``rotate`` degrees (2-D only) and a zoom by up to ``scale`` (a factor in
    ``[1/scale, scale]``), then a shift of up to ``jitter`` pixels along each axis.

    Args:
        rng: the generator the draws come from (the run's seed).
        n: how many rows.
        spatial: ``(H, W)``, or ``(T,)`` for a sequence (drawn as an image one pixel wide).
        jitter: the largest shift in pixels (0 for none).
        scale: the largest zoom factor (1 for none).
        rotate: the largest rotation in degrees (0 for none).

    Returns:
        float32 ``(n, 8)``.
    """
    height = spatial[0]
    width = spatial[1] if len(spatial) == 2 else 1
    zoom = np.exp(rng.uniform(-np.log(scale), np.log(scale), n))
    angle = np.deg2rad(rng.uniform(-rotate, rotate, n)) if len(spatial) == 2 else np.zeros(n)
    shift_y = rng.integers(-jitter, jitter + 1, n)
    shift_x = rng.integers(-jitter, jitter + 1, n) if len(spatial) == 2 else np.zeros(n)
    cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
    cos, sin = np.cos(angle) / zoom, np.sin(angle) / zoom
    if len(spatial) == 1:  # a sequence: x (the one-pixel axis) stays put, time is stretched
        cos_x, sin_x = np.ones(n), np.zeros(n)
    else:
        cos_x, sin_x = cos, sin
    rows = np.zeros((n, 8), dtype=np.float64)
    # input = M (p - c) + c - shift, p = (x, y); M rotates by -angle and shrinks by 1/zoom.
    rows[:, 0], rows[:, 1] = cos_x, sin
    rows[:, 3], rows[:, 4] = -sin_x, cos
    rows[:, 2] = cx - rows[:, 0] * cx - rows[:, 1] * cy - shift_x
    rows[:, 5] = cy - rows[:, 3] * cx - rows[:, 4] * cy - shift_y
    return rows.astype(np.float32)


def apply_transforms(patterns, rows):
    """Apply one affine row per pattern; ``patterns`` ``(n, H, W, C)`` or ``(n, T, C)``."""
    ops = keras.ops
    sequence = len(patterns.shape) == 3
    images = ops.expand_dims(patterns, 2) if sequence else patterns
    # Keras' torch affine_transform swaps the rows' columns in place: on a slice of the step's
    # differentiated input that is an in-place write to a leaf that requires grad (a
    # RuntimeError). The maps are no parameter, so they go in as a copy outside the gradient.
    rows = ops.copy(ops.stop_gradient(ops.convert_to_tensor(rows)))
    moved = ops.image.affine_transform(
        images, rows, interpolation="bilinear", fill_mode="reflect", data_format="channels_last"
    )
    return ops.squeeze(moved, 2) if sequence else moved


def total_variation(unit):
    """Mean absolute difference of neighbours along each spatial axis, per pattern ``(n,)``."""
    ops = keras.ops
    total = 0.0
    for axis in range(1, len(unit.shape) - 1):
        ahead = tuple(slice(1, None) if a == axis else slice(None) for a in range(len(unit.shape)))
        behind = tuple(
            slice(None, -1) if a == axis else slice(None) for a in range(len(unit.shape))
        )
        diff = ops.abs(unit[ahead] - unit[behind])
        flat = ops.reshape(diff, (-1, int(np.prod(diff.shape[1:]))))
        total = total + ops.mean(flat, axis=1)
    return total
