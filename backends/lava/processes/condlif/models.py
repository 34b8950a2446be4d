"""Process models of :class:`~neuroport.backends.lava.processes.condlif.process.CondLIF`.

Both run :class:`neuroport.models.cond_lif.CondLIF`'s one step
(:func:`~neuroport.backends.lava.processes._common.model_pair`):
``PyCondLIFModelFloat`` (tag ``floating_pt``) in float64,
``PyCondLIFModelFixed`` (tag ``fixed_pt``) in Loihi integers. CPU only.
"""

from neuroport.backends.lava.processes._common import model_pair
from neuroport.backends.lava.processes.condlif.process import FIXED_PARAMS, FLOAT_PARAMS, PARAMS, STATES, CondLIF

PyCondLIFModelFloat, PyCondLIFModelFixed = model_pair(CondLIF, STATES, FLOAT_PARAMS, FIXED_PARAMS, PARAMS, __name__)
