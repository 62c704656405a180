"""Example vssl-bench plugin; importing it registers :class:`VideoSimSiam` in the MODELS registry."""
from vssl_example_plugin.simsiam import VideoSimSiam

__all__ = ['VideoSimSiam']
