"""Registry entries, one module per family (see ``losskit._core.registry``)."""
