"""In-tree methods; importing this package registers them (one module per method)."""
from vssl_bench.methods import (base, cvrl, frame_simclr, random_init,  # noqa: F401
                                rho_byol, rho_moco, supervised, tclr, vcop)
from vssl_bench.methods.base import VideoMethod

__all__ = ['VideoMethod']
