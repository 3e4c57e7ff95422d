"""The pattern an optimiser moves, as ``keras.ops`` functions: Fourier parameters to an input.

Feature visualisation optimises a pattern to excite one channel. Optimised pixel by pixel it
turns into high-frequency noise the model happens to like; Lucid's ``param.image`` (Olah et
al., "Feature Visualization", Distill 2017) reads better, and this module follows it:

- **Decorrelated space.** The pattern is a spectrum: ``x = Re(E_h (A + iB) E_wᵀ)`` with
  ``E[y, u] = exp(2πi·uy/H)`` (``H·W·Re(ifft2(A + iB))``, written as four real matrix products
  so every backend differentiates it), each frequency scaled by ``1 / max(|f|, 1/max(H, W))``
  (a 1/f spectrum, as natural images have). Sequences ``(T, C)`` use the same along time.
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
        """Parameters per pattern: a real and an imaginary part per frequency and channel."""
        return 2 * int(np.prod(self.shape))

    def initial(self, n: int, rng: np.random.Generator, sd: float = 0.01) -> np.ndarray:
        """``n`` rows of small random parameters (Lucid's ``sd=0.01``), float32 ``(n, size)``."""
        return (rng.standard_normal((n, self.size)) * sd).astype(np.float32)

    def _bases(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(cos, sin)`` matrices ``[y, u] = cos/sin(2π·uy/n)`` per spatial axis."""
        bases = []
        for n in self.spatial:
            angle = 2.0 * np.pi * np.outer(np.arange(n), np.arange(n)) / n
            bases.append((np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)))
        return bases

    def _scale(self) -> np.ndarray:
        """The 1/f amplitude per frequency, shaped ``(*spatial, 1)``, orthonormal overall."""
        grids = np.meshgrid(*[np.fft.fftfreq(n) for n in self.spatial], indexing="ij")
        freq = np.sqrt(sum(g**2 for g in grids))
        floor = 1.0 / max(self.spatial)
        scale = 1.0 / np.maximum(freq, floor) ** self.decay_power
        scale *= np.sqrt(np.prod(self.spatial)) / np.prod(self.spatial)
        return scale[..., None].astype(np.float32)

    def render(self, params):
        """Parameters ``(n, size)`` to patterns ``(n, *shape)`` inside ``[low, high]``."""
        unit = self.render_unit(params)
        return self.low + (self.high - self.low) * unit

    def render_unit(self, params):
        """Parameters ``(n, size)`` to patterns ``(n, *shape)`` in (0, 1), before the range."""
        ops = keras.ops
        half = self.size // 2
        real = ops.reshape(params[:, :half], (-1, *self.shape)) * self._scale()
        imag = ops.reshape(params[:, half:], (-1, *self.shape)) * self._scale()
        bases = self._bases()
        if len(self.spatial) == 2:
            (ch, sh), (cw, sw) = bases
            x = (
                ops.einsum("yu,buvc,xv->byxc", ch, real, cw)
                - ops.einsum("yu,buvc,xv->byxc", sh, real, sw)
                - ops.einsum("yu,buvc,xv->byxc", ch, imag, sw)
                - ops.einsum("yu,buvc,xv->byxc", sh, imag, cw)
            )
        else:
            ((c, s),) = bases
            x = ops.einsum("tu,buc->btc", c, real) - ops.einsum("tu,buc->btc", s, imag)
        x = x / _SPECTRUM_DIVISOR
        if self.decorrelate and self.shape[-1] == 3:
            mix = COLOR_CORRELATION / np.max(np.linalg.norm(COLOR_CORRELATION, axis=0))
            x = ops.einsum("...c,dc->...d", x, mix.astype(np.float32))
        return ops.sigmoid(x)


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
    moved = ops.image.affine_transform(
        images, rows, interpolation="bilinear", fill_mode="reflect", data_format="channels_last"
    )
    return ops.squeeze(moved, 2) if sequence else moved


def total_variation(unit):
    """Mean absolute difference of neighbours along each spatial axis, per pattern ``(n,)``."""
    ops = keras.ops
    total = 0.0
    for axis in range(1, len(unit.shape) - 1):
        n = unit.shape[axis]
        ahead = ops.take(unit, np.arange(1, n), axis=axis)
        behind = ops.take(unit, np.arange(0, n - 1), axis=axis)
        diff = ops.abs(ahead - behind)
        flat = ops.reshape(diff, (-1, int(np.prod(diff.shape[1:]))))
        total = total + ops.mean(flat, axis=1)
    return total
