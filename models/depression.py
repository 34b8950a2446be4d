r"""Tsodyks-Markram short-term depression of a projection (``neuroport.Depression``).

Continuous time: each pre neuron holds a fraction of resources ``x`` (1 = full),

.. math::

    \tau_{rec} \dot x = 1 - x, \qquad \text{on a pre spike: } r = U_{SE}\, x,\;\; x \leftarrow x - r

and the spike delivers ``r`` times the weight (a graded payload). One step,
in this order: every pre neuron's resources recover (start of the step),
then the neurons that spike release. ``recover`` is the discretised
``dt / tau_rec`` (Euler) or ``1 - exp(-dt / tau_rec)`` (:func:`neuroport.compile`).

Both forms live here, and every backend calls them: the numpy engines and
neuroport's ``Depression`` Lava process (float and ``fixed_pt``).
"""

from __future__ import annotations

import numpy as np


class DepressionFloat:
    """Float64 depression: ``x += (1 - x) * recover``; a spike sends ``u_se * x * out`` and uses ``u_se * x``."""

    @staticmethod
    def recover(x: np.ndarray, recover: np.ndarray) -> None:
        """Recovery of every pre neuron's resources ``x`` (in place)."""
        x += (1.0 - x) * recover

    @staticmethod
    def release(out: np.ndarray, x: np.ndarray, u_se: np.ndarray) -> np.ndarray:
        """The payload of the pre outputs ``out`` (spikes or graded values, shape ``(n_pre,)``);
        updates ``x`` of the neurons that sent."""
        idx = np.flatnonzero(out)
        values = np.zeros(out.shape, dtype=np.float64)
        if idx.size:
            released = u_se[idx] * x[idx] * out[idx]
            x[idx] -= u_se[idx] * x[idx]
            values[idx] = released
        return values


class DepressionFixed:
    """Tsodyks-Markram short-term depression of one projection, in fixed point.

    Resources
    ``x`` are one unsigned integer per pre neuron, a fraction with
    ``X = 2**depression_bits`` (LOIHI2: 16 bits, ``x`` in [0, 65536], 1.0 =
    65536); initial ``x = X``. The fixed Projection's
    ``extra["depression"]`` holds ``recover`` and ``u_se`` as integers in
    [0, X] (``round(recover * X)``, ``round(u_se * X)``) and ``bits``.

    Per step::

        1. (start of the step, every pre neuron, before any population updates)
           x = X - (((X - x) * (X - recover)) >> bits)          # deficit decays, floor
        2. (when the pre population has spiked, before delivery)
           r = (u_se * x) >> bits   where spiking, else 0         # released, floor
           x = x - r
        3. the projection delivers the graded payload r (a Loihi 2 graded spike):
           a = shift(sum_j w_mant[i, j] * r_j, weight_exp)       # per delay slot, as Dense

    The quantizer stores ``weight_exp`` of a depressing projection already
    lowered by ``bits`` (``w_mant << (weight_exp + bits) << 6 ~= w * s``), so
    a payload of ``X`` (full resources) delivers what an ordinary spike would.
    Floor in step 1 makes the deficit shrink by at least 1 per step while it
    is > 0, so ``x`` always recovers to exactly ``X``.
    """

    @staticmethod
    def prepare(spec, size: int) -> dict:
        bits = int(spec["bits"])
        return {"bits": bits, "unity": 1 << bits,
                "recover": np.broadcast_to(np.asarray(spec["recover"], dtype=np.int64), (size,)).copy(),
                "u_se": np.broadcast_to(np.asarray(spec["u_se"], dtype=np.int64), (size,)).copy()}

    @staticmethod
    def init_state(c) -> np.ndarray:
        return np.full(c["recover"].shape, c["unity"], dtype=np.int64)

    @staticmethod
    def recover(x: np.ndarray, c) -> None:
        X = c["unity"]
        x[:] = X - (((X - x) * (X - c["recover"])) >> c["bits"])

    @staticmethod
    def release(x: np.ndarray, active: np.ndarray, c) -> np.ndarray:
        """Payload of the spiking pre neurons ``active`` (indices); updates ``x``."""
        r = (c["u_se"][active] * x[active]) >> c["bits"]
        x[active] -= r
        return r


# -- kernel: the compiled fixed engine's whole-run loop (backends/compiled.py run_fixed_steps) ---------------
from neuroport.models.jit import njit  # noqa: E402


@njit
def recover_kernel(x, recover, bits, unity):
    """:meth:`DepressionFixed.recover` on every resource ``x`` (int64, in place), the same integers."""
    for q in range(x.shape[0]):
        x[q] = unity - (((unity - x[q]) * (unity - recover[q])) >> bits)


@njit
def release_kernel(x, u_se, bits, fired, slot_pre, payload):
    """:meth:`DepressionFixed.release` of every slot ``q`` whose neuron ``slot_pre[q]`` fired (``fired``:
    bool per global neuron): ``payload[q] = (u_se x) >> bits``, subtracted from ``x``; other slots keep
    their payload (their synapses are not delivered this step)."""
    for q in range(slot_pre.shape[0]):
        if fired[slot_pre[q]]:
            r = (u_se[q] * x[q]) >> bits
            x[q] -= r
            payload[q] = r
