"""`python -m tools.throughput.loading_ab OUT.md DIR...`: one method's pretraining run in
several results folders (e.g. alternately with ``VSSL_DATA_LOADING=worker`` and
``=in-process``), side by side: steps, wall seconds per step, the logged step and data times,
how the batches were read, and whether every run's records equal the first run's (metrics and
per-video hits).

The folders are those of ``vssl-bench run SUITE --methods M --out DIR --work-dir WORK``, one
fresh work dir per folder so that each one trains; ``--budget-scale`` folders are searched too.
"""
from __future__ import annotations

import sys
from pathlib import Path

from vssl_bench.core.io import atomic_write_text, read_json


def _records(folder: Path) -> dict[str, dict]:
    """Relative record path (below ``runs/``) -> record, for every record in ``folder``."""
    return {str(p.relative_to(p.parents[3])): read_json(p)
            for p in sorted(folder.rglob('runs/*/seed*/*.json'))}


def table(folders: list[Path]) -> list[str]:
    first = _records(folders[0])
    lines = ['| run | data loading | steps | wall s / step | step time s | data time s | '
             'records equal the first run\'s |', '|---|---|---|---|---|---|---|']
    for folder in folders:
        records = _records(folder)
        same = records.keys() == first.keys() and all(
            records[k]['metrics'] == first[k]['metrics']
            and records[k]['per_video'] == first[k]['per_video'] for k in first)
        pretrain = next(r['pretrain'] for r in records.values() if r['pretrain']['iters'])
        lines.append(f'| {folder.name} | {pretrain.get("data_loading", "?")} | '
                     f'{pretrain["iters"]} | {pretrain["wall_s"] / pretrain["iters"]:.3f} | '
                     f'{pretrain["step_time_s"]:.3f} | {pretrain["data_time_s"]:.3f} | '
                     f'{"yes" if same else "NO"} ({len(records)} records) |')
    return lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print('usage: python -m tools.throughput.loading_ab OUT.md DIR [DIR ...]', file=sys.stderr)
        return 2
    out, folders = Path(args[0]), [Path(a) for a in args[1:]]
    missing = [str(f) for f in folders if not any(f.rglob('runs/*/seed*/*.json'))]
    if missing:
        print(f'no run records under {", ".join(missing)}: give vssl-bench run --out folders',
              file=sys.stderr)
        return 2
    first = next(iter(_records(folders[0]).values()))
    lines = ['# One pretraining, read by a worker process or in the training process', '',
             f'`python -m tools.throughput.loading_ab OUT.md {" ".join(args[1:])}`; '
             f'{first["method"]} seed {first["seed"]}, {first["pretrain"]["device"]}, '
             f'{first["provenance"]["precision"]}. Wall seconds per step include the loop, '
             'the loader and the step (mmengine\'s step time includes the data time).', '',
             *table(folders), '']
    atomic_write_text(out, '\n'.join(lines))
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
