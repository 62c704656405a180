"""Counted training cost of one step of every method of a suite (the Methods table of
docs/harness.md).

``python -m tools.step_costs SUITE > results/<suite>/step_costs.md`` builds each method as the
suite runs it, puts one real batch through one training step under the FLOP counter
(:func:`vssl_bench.engine.pretrain.probe_step`) and prints clips and GFLOPs per step.
"""
from __future__ import annotations

import sys

from vssl_bench.engine import pretrain as pt
from vssl_bench.harness.components import load_plugins
from vssl_bench.harness.suite import ensure_data
from vssl_bench.harness.suite_config import Suite, load_method_config


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print('usage: python -m tools.step_costs SUITE', file=sys.stderr)
        return 2
    load_plugins()
    suite = Suite.load(argv[0])
    ensure_data(suite)
    print(f'# Training cost per step: {suite.name}\n\n| method | clips per step | GFLOPs per step |'
          '\n|---|---|---|')
    for entry in suite.methods:
        cfg = load_method_config(entry, suite)
        if not pt.MODELS.get(cfg.model.type).trainable:
            continue
        flops, clips, _, _ = pt.probe_step(cfg, seed=0)
        print(f'| {cfg.method_name} | {clips} | {flops / 1e9:.1f} |', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
