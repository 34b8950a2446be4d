"""Process models of :class:`~neuroport.backends.lava.processes.alif.process.ALIF`.

Both run :class:`neuroport.models.adaptive_lif.AdaptiveLIF`'s one step
(:func:`~neuroport.backends.lava.processes._common.model_pair`):
``PyALIFModelFloat`` (tag ``floating_pt``) in float64, ``PyALIFModelFixed``
(tag ``fixed_pt``) in Loihi integers. Lava's CPU simulator only.
"""

from neuroport.backends.lava.processes._common import model_pair
from neuroport.backends.lava.processes.alif.process import ALIF, FIXED_PARAMS, FLOAT_PARAMS, PARAMS, STATES

PyALIFModelFloat, PyALIFModelFixed = model_pair(ALIF, STATES, FLOAT_PARAMS, FIXED_PARAMS, PARAMS, __name__)
