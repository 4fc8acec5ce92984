"""Experiments behind ``losskit report``, as library functions."""
