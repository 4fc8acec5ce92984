"""Test specs of the catalogued losses (sample inputs, error tables, independent references),
one module per functional module, keyed by the catalogue's names; see :mod:`specs._spec`."""

from ._spec import REGISTRY_MODULES, ErrorCase, LossSpec, Sample, all_specs, get_spec, register

__all__ = [
    "REGISTRY_MODULES",
    "ErrorCase",
    "LossSpec",
    "Sample",
    "all_specs",
    "get_spec",
    "register",
]
