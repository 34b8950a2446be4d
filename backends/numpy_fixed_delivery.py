"""The ``numpy-fixed`` engine's synaptic delivery: Lava's Dense / DelayDense arithmetic on every
projection at once (integer weights as Lava's Dense makes them, floor per (projection, delay,
post) for ``weight_exp < 0``, one gather and one scatter per step). Used by
:class:`neuroport.backends.numpy_fixed.FixedEngine`.
"""

from __future__ import annotations

import numpy as np

from neuroport.fixed_format import dense_weights


class FixedProjection:
    """One projection, ready for one scatter per step into its target's ring buffer.

    Synapses are sorted by pre neuron (CSC); each knows its post neuron and its
    delay. ``weight_exp >= 0`` is linear: the weights are pre-shifted and
    every synapse adds straight into ring slot ``t + d``. ``weight_exp < 0``
    floors each (delay, post) sum, as Lava's Dense / DelayDense do, so the
    sums are formed per delay first (one ``bincount``) and then shifted.
    """

    def __init__(self, proj, n_pre: int, ring_len: int, hw):
        w = proj.weights
        rows = np.repeat(np.arange(w.shape[0]), np.diff(w.indptr))
        data = dense_weights(w.data, proj.extra.get("sign_mode"), proj.extra.get("num_weight_bits", hw.weight_bits),
                            hw, f"projection {proj.name!r}")
        order = np.lexsort((rows, w.indices))
        pre = w.indices[order].astype(np.int64)
        self.name = proj.name
        self.post_name = proj.post
        self.port = proj.port
        self.n_post = n_post = w.shape[0]
        self.ring_len = ring_len
        self.indptr = np.r_[0, np.cumsum(np.bincount(pre, minlength=n_pre))].astype(np.int64)
        self.post = rows[order].astype(np.int64)
        delays = np.asarray(proj.delays, dtype=np.int64)[order]
        self.exp = exp = int(proj.extra.get("weight_exp", 0))
        self.linear = exp >= 0
        self.weights = data[order] << exp if self.linear else data[order]
        self.udelays = np.unique(delays) if delays.size else np.ones(1, np.int64)
        self.single = self.udelays.size == 1
        self.delay = int(self.udelays[0])
        if self.linear:
            self.key = delays * n_post + self.post          # flat ring offset from slot t
        else:
            self.key = np.searchsorted(self.udelays, delays) * n_post + self.post
        self.depression = None

    def deliver(self, ring: np.ndarray, t: int, idx: np.ndarray, payload) -> None:
        """Add the input of the pre neurons ``idx`` (payload ``r`` or None = spikes) into ``ring``."""
        indptr = self.indptr
        if idx.size == 1:
            i = int(idx[0])
            lo, hi = indptr[i], indptr[i + 1]
            if hi == lo:
                return
            sel = slice(lo, hi)
            w = self.weights[sel]
            if payload is not None:
                w = w * payload[0]
        else:
            starts = indptr[idx]
            lengths = indptr[idx + 1] - starts
            total = int(lengths.sum())
            if total == 0:
                return
            sel = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
            w = self.weights[sel]
            if payload is not None:
                w = w * np.repeat(payload, lengths)
        L, n = self.ring_len, self.n_post
        if self.linear:
            if self.single:
                np.add.at(ring[(t + self.delay) % L], self.post[sel], w)
            else:
                flat = self.key[sel] + (t % L) * n
                flat %= L * n
                np.add.at(ring.reshape(-1), flat, w)
            return
        if self.single:
            acc = np.bincount(self.post[sel], weights=w, minlength=n).astype(np.int64)
            ring[(t + self.delay) % L] += acc >> -self.exp
        else:
            acc = np.bincount(self.key[sel], weights=w, minlength=self.udelays.size * n).astype(np.int64)
            ring[(t + self.udelays) % L] += acc.reshape(self.udelays.size, n) >> -self.exp


class NetworkDelivery:
    """Every non-plastic, non-depressing projection of the network, merged: one gather, one ``bincount``
    and one scatter per step.

    Synapses are keyed by *global* pre neuron id (CSC) and each belongs to a
    segment: Lava floors ``sum >> -weight_exp`` per projection, delay and post
    neuron, so a ``weight_exp < 0`` synapse's segment is ``(projection, delay,
    post)``; sums of ``weight_exp >= 0`` synapses need no floor, so theirs is
    just the ring position ``(delay, column)`` they add to (shared by every
    such projection; weights pre-shifted). At step ``t``, one ``bincount`` forms
    every segment's sum, each non-zero one is shifted by its segment's shift
    (0 or ``-weight_exp``) and added at ring offset ``delay * width + column +
    (t % L) * width`` (mod ``L * width``), i.e. row ``(t + delay) % L``.
    """

    def __init__(self, linear, floored, n_pre: int, ring_len: int, width: int, n_slots: int = 0):
        pre, seg, w, seg_key, seg_shift = [], [], [], [], []
        slots = [part[-1] for part in linear + floored]
        if linear:
            keys = np.concatenate([k for _, k, _, _ in linear])
            lin_key, lin_seg = np.unique(keys, return_inverse=True)
            pre += [p for p, _, _, _ in linear]
            w += [x for _, _, x, _ in linear]
            seg.append(lin_seg.reshape(-1))
            seg_key.append(lin_key)
            seg_shift.append(np.zeros(lin_key.size, dtype=np.int64))
        base = lin_key.size if linear else 0
        for p_pre, p_delay, p_post, p_w, col, n_post, exp, _ in floored:
            udel, d_idx = np.unique(p_delay, return_inverse=True)
            pre.append(p_pre)
            w.append(p_w)
            seg.append(base + d_idx.reshape(-1) * n_post + p_post)
            seg_key.append((udel[:, None] * width + col + np.arange(n_post)[None, :]).reshape(-1))
            seg_shift.append(np.full(udel.size * n_post, -exp, dtype=np.int64))
            base += udel.size * n_post
        pre_parts, pre = pre, np.concatenate(pre).astype(np.int64)
        order = np.argsort(pre, kind="stable")
        indptr = np.r_[0, np.cumsum(np.bincount(pre, minlength=n_pre))].astype(np.int64)
        self.lo, self.hi = indptr[:-1], indptr[1:]
        self.seg = np.concatenate(seg).astype(np.int64)[order]
        self.weights = np.concatenate(w).astype(np.float64)[order]  # bincount sums in float64: exact < 2**53
        pre = pre_parts
        # graded payloads (depression): synapse -> payload slot; slot n_slots is a plain spike (1)
        self.slot = (np.concatenate([np.full(len(p), n_slots) if s is None else s for p, s in zip(pre, slots)])
                     .astype(np.int64)[order] if n_slots else None)
        self.seg_key = np.concatenate(seg_key).astype(np.int64)
        self.seg_shift = np.concatenate(seg_shift)
        self.shifted = bool(floored)
        self.n_seg = base
        self.ring_len, self.width, self.size = ring_len, width, ring_len * width

    def deliver(self, flat_ring: np.ndarray, t: int, idx: np.ndarray, payload=None) -> None:
        """Add the input of the spiking global neurons ``idx`` into ``flat_ring``; ``payload``: every
        slot's graded value (int64, ``n_slots + 1``, the last 1) when some synapses carry one."""
        starts = self.lo[idx]
        lengths = self.hi[idx] - starts
        ends = np.cumsum(lengths)
        total = int(ends[-1])
        if total == 0:
            return
        sel = np.repeat(starts - ends + lengths, lengths) + np.arange(total)
        w = self.weights[sel]
        if payload is not None:
            w *= payload[self.slot[sel]]
        acc = np.bincount(self.seg[sel], weights=w, minlength=self.n_seg).astype(np.int64)
        nz = acc.nonzero()[0]
        if nz.size == 0:
            return
        flat = self.seg_key[nz] + (t % self.ring_len) * self.width
        flat[flat >= self.size] -= self.size
        acc = acc[nz]
        if self.shifted:
            acc >>= self.seg_shift[nz]
        np.add.at(flat_ring, flat, acc)
