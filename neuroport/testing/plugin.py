"""pytest plugin: a ``backend`` fixture over every registered backend mode.

Use it from a test suite with ``pytest_plugins = ["neuroport.testing.plugin"]``.
A mode that cannot run here (missing package, no chip, wrong Python) is
skipped with its reason, so a new backend joins the suite by registering
under the ``neuroport.backends`` entry-point group.

What a backend cannot run *anywhere* is declared once, in :data:`UNSUPPORTED`
(nengo-loihi's ``nengo_test_unsupported``): the equivalence suite expects the
declared refusal, skips with the backend's own message, and fails when an
undeclared refusal appears or a declared one no longer happens. A timing mode
a backend does not offer is its own declaration (``Backend.timings``, see
:func:`supports`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from neuroport import backend as registry
from neuroport.errors import CompileError, ParameterError, UnsupportedNodeError


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", registry.names(), indirect=True)


@pytest.fixture
def backend(request):
    """The backend instance for one registered mode (skipped with its reason if unavailable)."""
    name = request.param
    instance = registry.get(name)
    ok, reason = instance.available()
    if not ok:
        pytest.skip(f"backend {name} unavailable: {reason}")
    return instance


def supports(backend, case, *, timing: str) -> tuple[bool, str]:
    """Whether ``backend`` can run ``case`` with ``timing`` (``(False, reason)`` otherwise)."""
    if timing not in backend.timings:
        return False, f"{backend.name} supports timing {backend.timings}, not {timing!r}"
    scheme = dict(getattr(case, "options", {}) or {}).get("scheme", "euler")
    schemes = getattr(backend, "schemes", ("euler", "exact"))
    if scheme not in schemes:
        return False, f"{backend.name} integrates as scheme {schemes} only, the case uses {scheme!r}"
    return True, ""


@dataclass(frozen=True)
class Unsupported:
    """A declared refusal: running the case must raise ``error`` with a message matching ``match``.

    Attributes
    ----------
    error : type
        Exception class the backend raises.
    match : str
        Regular expression its message must contain (``re.search``).
    why : str
        The limitation behind it, for the reader of the table.
    """

    error: type
    match: str
    why: str


_PARTIAL = Unsupported(
    UnsupportedNodeError, r"partial connectivity",
    "LearningDense would let absent synapses learn, a tag-mask factor would change the fixed-point products' "
    "shift, and LearningSparse's fixed_pt model fails on lava-nc 0.10 (backends/lava/learning.py)")


def _cpu_only(process: str) -> Unsupported:
    return Unsupported(UnsupportedNodeError, r"CPU-only",
                       f"neuroport's own {process} Lava process has Python models only, no Loihi 2 microcode")


#: ``(mode, case name) -> Unsupported``: what a backend refuses, by the cases of
#: :mod:`neuroport.testing.cases` (checked by ``tests/test_equivalence.py``; the
#: ``loihi2`` entries are checked without a chip too, through ``refuse``/``dry_run``).
#: ``(mode, case name, timing)`` keys hold for that timing only (and come first).
_NO_LAVA_PROCESS = Unsupported(UnsupportedNodeError, r"Lava backends run only",
                               "the model has no Lava process (models/qif.py); numpy, numpy-fixed and brian2 run it")

_DISCRETE_ONLY = Unsupported(UnsupportedNodeError, r"discrete-time convention",
                             "Sinabs' multi-spike and jump inputs into leaky neurons have no continuous-time "
                             "equation (neuroport.semantics); Brian2 integrates the graph's NIR equations (snnTorch's "
                             "deferred resets run there as a per-step rule)")
_MULTI = Unsupported(UnsupportedNodeError, r"spikes='multi'",
                     "Loihi 2's neurons (Lava's LIF, neuroport's ALIF) send one binary spike per step")

UNSUPPORTED = {
    ("brian2", "multi_spike"): _DISCRETE_ONLY,
    ("loihi2", "deferred_resets"): _cpu_only("ALIF (deferred resets, '>=')"),
    ("numpy-fixed", "multi_spike"): _MULTI,
    ("lava", "multi_spike"): _MULTI,
    ("lava-fixed", "multi_spike"): _MULTI,
    ("loihi2", "multi_spike"): _MULTI,
    ("lava", "quadratic"): _NO_LAVA_PROCESS,
    ("lava-fixed", "quadratic"): _NO_LAVA_PROCESS,
    ("loihi2", "quadratic"): Unsupported(UnsupportedNodeError, r"CPU-only", "the model has no Loihi 2 neuro-core model"),
    ("lava-fixed", "stdp_sparse"): _PARTIAL,
    ("loihi2", "stdp_sparse"): _PARTIAL,
    ("loihi2", "conductance"): _cpu_only("CondLIF"),
    ("loihi2", "adaptive"): _cpu_only("ALIF"),
    ("loihi2", "subtract_reset"): _cpu_only("ALIF (subtractive reset)"),
    ("loihi2", "depression"): _cpu_only("Depression"),
}


# nest (backends/nest, docs/nest.md) runs the cases at scheme "exact" against numpy compiled alike
# (tests/test_equivalence.py scheme_for); what it refuses:
_NEST_STDP = Unsupported(UnsupportedNodeError, r"plastic projections \(STDP\) are not lowered by backend 'nest'",
                       "NEST's stdp_synapse is not mapped to neuroport's rule (it applies potentiation at the next "
                       "pre spike and pairs on arrival times; docs/nest.md): plastic projections are refused")
UNSUPPORTED.update({
    ("nest", "adaptive"): Unsupported(UnsupportedNodeError, r"adaptive threshold",
                                      "NEST's aeif / iaf models have no threshold that jumps by theta_plus"),
    ("nest", "subtract_reset"): Unsupported(UnsupportedNodeError, r"reset 'subtract'",
                                            "NEST's models reset v to V_reset"),
    ("nest", "stdp"): _NEST_STDP,
    ("nest", "stdp_sparse"): _NEST_STDP,
    ("nest", "quadratic"): Unsupported(ParameterError, r"no closed-form update",
                                       "nest compares at scheme 'exact', which the QIF has not (and no NEST model "
                                       "is mapped to it)"),
    ("nest", "deferred_resets"): _DISCRETE_ONLY,
    ("nest", "multi_spike"): _DISCRETE_ONLY,
})


#: The pipelined modes run ``timing="ideal"`` with compensating delays (neuroport.timing); where
#: none exist they refuse, with the reason.
_IDEAL_LOOP = Unsupported(
    CompileError, r"the loop .* takes 1 step\(s\) in ideal timing, but the hardware needs at least 2",
    "the E -> I -> E loop takes 1 step in ideal timing; the hardware adds a step per projection, so no "
    "compensating delay keeps the loop's timing")
_IDEAL_PLASTIC = Unsupported(
    CompileError, r"plastic projection .* pairs pre and post spikes",
    "the learning rule pairs pre and post spikes by their steps; the hardware's one-step latency on the "
    "plastic projection would shift the pairing")
UNSUPPORTED.update({(mode, case, "ideal"): why
                    for mode in ("numpy-fixed", "lava", "lava-fixed", "loihi2")
                    for case, why in (("recurrent_ei", _IDEAL_LOOP), ("stdp", _IDEAL_PLASTIC),
                                      ("stdp_sparse", _IDEAL_PLASTIC))})


def unsupported(mode: str, case_name: str, timing: str | None = None) -> Unsupported | None:
    """The declared refusal of ``mode`` for case ``case_name`` (at ``timing``; ``None``: it must run)."""
    return (UNSUPPORTED.get((mode, case_name, timing)) if timing else None) or UNSUPPORTED.get((mode, case_name))
