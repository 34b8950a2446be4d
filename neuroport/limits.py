"""Size limits checked before anything is read or allocated.

A ``.nir`` file is small on disk but may declare huge arrays: a compressed
HDF5 dataset of 10^9 elements that are all its fill value, or an ``Input``
node of shape ``[2**31]`` (8 bytes per neuron and state). :mod:`neuroport.io`
checks every dataset's declared size and :func:`neuroport.compile` every
node's declared shape against these limits, using Python integers (a product
of shapes never wraps to 0).

The limits are

* ``max_bytes``: the most bytes one file may declare in all its datasets,
  and the most bytes (8 per element) one node may need; default a quarter of
  the machine's physical memory, or ``NEUROPORT_MAX_BYTES`` from the
  environment (an integer, bytes);
* ``max_elements``: the most elements (neurons, weights) one node or
  dataset may declare; default ``max_bytes // 64`` (a neuron carries about
  eight 8-byte arrays: state, parameters, spikes), or
  ``NEUROPORT_MAX_ELEMENTS``.

Change them with :func:`set_limits` (also exported as
``neuroport.io.set_limits``).

Examples
--------
>>> from neuroport import limits
>>> old = limits.set_limits(max_bytes=10**6, max_elements=10**5)
>>> limits.check_elements(10**9, "Input 'x'")
Traceback (most recent call last):
...
neuroport.errors.ResourceError: Input 'x': declares 1000000000 elements (8000000000 bytes at 8 bytes each), over the limit of 100000 elements (1000000 bytes); raise it with neuroport.io.set_limits(max_bytes=...) or NEUROPORT_MAX_BYTES
>>> _ = limits.set_limits(**old)
"""

from __future__ import annotations

import math
import os

from neuroport.errors import ParameterError, ResourceError

BYTES_PER_ELEMENT = 8
_ENV_BYTES = "NEUROPORT_MAX_BYTES"
_ENV_ELEMENTS = "NEUROPORT_MAX_ELEMENTS"
_limits: dict = {"max_bytes": None, "max_elements": None}


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not POSIX: assume 8 GiB
        return 8 << 30


def _env_int(name: str):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(float(raw))
    except ValueError:
        raise ParameterError(f"{name}={raw!r}: expected a positive integer (bytes or elements)") from None
    if value <= 0:
        raise ParameterError(f"{name}={raw!r}: expected a positive integer")
    return value


def max_bytes() -> int:
    """The byte limit in force (see the module docstring)."""
    value = _limits["max_bytes"] or _env_int(_ENV_BYTES)
    return value if value else _physical_memory() // 4


def max_elements() -> int:
    """The per-node element limit in force (see the module docstring)."""
    value = _limits["max_elements"] or _env_int(_ENV_ELEMENTS)
    return value if value else max_bytes() // (8 * BYTES_PER_ELEMENT)


def set_limits(*, max_bytes: int | None = None, max_elements: int | None = None) -> dict:
    """Set the limits (``None`` restores the default); returns the previous settings for a later restore."""
    old = dict(_limits)
    for name, value in (("max_bytes", max_bytes), ("max_elements", max_elements)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise ParameterError(f"set_limits({name}={value!r}): expected a positive integer or None")
        _limits[name] = value
    return old


def shape_elements(shape, what: str) -> int:
    """The number of elements of ``shape`` as a Python int, refusing negative or non-integer dimensions."""
    dims = []
    try:
        flat = list(shape) if hasattr(shape, "__iter__") else [shape]
    except TypeError:
        flat = [shape]
    for d in flat:
        if hasattr(d, "__iter__") and not isinstance(d, (str, bytes)):
            dims.extend(list(d))
        else:
            dims.append(d)
    out = []
    for d in dims:
        try:
            f = float(d)
        except (TypeError, ValueError):
            raise ResourceError(f"{what}: shape {list(dims)!r} has a non-numeric dimension {d!r}") from None
        if not math.isfinite(f) or f != int(f) or f < 0:
            raise ResourceError(f"{what}: shape {list(dims)!r} must hold non-negative integers")
        out.append(int(f))
    return math.prod(out)


def check_elements(count: int, what: str) -> None:
    """Refuse ``count`` elements (of 8 bytes) when over :func:`max_elements` or :func:`max_bytes`."""
    limit = min(max_elements(), max_bytes() // BYTES_PER_ELEMENT)
    if count > limit:
        raise ResourceError(
            f"{what}: declares {count} elements ({count * BYTES_PER_ELEMENT} bytes at {BYTES_PER_ELEMENT} bytes "
            f"each), over the limit of {limit} elements ({max_bytes()} bytes); raise it with "
            f"neuroport.io.set_limits(max_bytes=...) or {_ENV_BYTES}"
        )


def check_bytes(count: int, what: str) -> None:
    """Refuse ``count`` bytes when over :func:`max_bytes`."""
    if count > max_bytes():
        raise ResourceError(
            f"{what}: declares {count} bytes of data, over the limit of {max_bytes()} bytes; raise it with "
            f"neuroport.io.set_limits(max_bytes=...) or {_ENV_BYTES}"
        )


def check_graph(graph, where: str = "") -> None:
    """Check every node's declared shapes (``input_type``/``output_type``), recursively, before compiling."""
    for name, node in getattr(graph, "nodes", {}).items():
        label = f"{where}.{name}".lstrip(".")
        for attr in ("input_type", "output_type"):
            types = getattr(node, attr, None)
            if not isinstance(types, dict):
                continue
            for port, shape in types.items():
                if shape is None:
                    continue
                check_elements(shape_elements(shape, f"{type(node).__name__} {label!r} {attr}[{port!r}]"),
                               f"{type(node).__name__} {label!r} ({attr}[{port!r}])")
        if hasattr(node, "nodes"):
            check_graph(node, label)
