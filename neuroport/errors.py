"""The neuroport exception tree.

Every user-facing error is a :class:`NeuroportError` that also inherits the
matching builtin, so ``except ValueError`` keeps working for callers that do
not know neuroport. Messages name the object and field, and give the expected
range or the valid choices next to the actual value.
"""

from __future__ import annotations


class NeuroportError(Exception):
    """Base class of every error neuroport raises on purpose."""


class GraphError(NeuroportError, ValueError):
    """A NIR graph is malformed: bad shapes, unknown edge ends, cycles of zero delay."""


class ParameterError(NeuroportError, ValueError):
    """A parameter is out of its valid range (NaN, negative time constant, dt/tau > 1)."""


class UnsupportedNodeError(NeuroportError, NotImplementedError):
    """A node type that neuroport (or the chosen backend) cannot lower."""


class NIRFileError(NeuroportError, OSError):
    """A ``.nir`` file could not be read or written (truncated, not HDF5, unknown node)."""


class CompileError(NeuroportError, ValueError):
    """The graph cannot be compiled with the requested options (missing dt, bad scheme)."""


class QuantizationError(NeuroportError, ValueError):
    """A value cannot be represented in the hardware's bit widths (strict mode)."""


class ResourceError(NeuroportError, ValueError):
    """A network does not fit the hardware: the message gives needed vs available."""


class BackendUnavailableError(NeuroportError, ImportError):
    """A backend cannot run here (missing package, no chip, wrong Python)."""


class UnknownBackendError(NeuroportError, KeyError):
    """No backend is registered under the requested mode name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class UnknownNameError(NeuroportError, KeyError):
    """A population, probe or input name that does not exist; the message lists the names and the closest."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class BackendError(NeuroportError, RuntimeError):
    """A backend failed while running a network it accepted."""


class InputError(NeuroportError, ValueError):
    """Run inputs do not match the network's inputs (names, shapes, steps)."""


class UsageError(InputError):
    """A command-line argument is invalid (the CLI exits with status 2, like argparse)."""


class QuantizationWarning(UserWarning):
    """A lossy step: a value was rounded or clipped when mapped to hardware integers."""


class EquivalenceWarning(UserWarning):
    """Two backends disagree beyond the stated tolerance."""
