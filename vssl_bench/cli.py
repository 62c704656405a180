"""`vssl-bench`: generate data, run suites, train one method, evaluate or export a checkpoint,
rebuild leaderboards."""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from vssl_bench.core.errors import UserError


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(',') if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected comma-separated integers, got {text!r}')


def _scales(text: str) -> list[float]:
    try:
        scales = [float(x) for x in text.split(',') if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected comma-separated numbers, got {text!r}')
    if not scales or any(not math.isfinite(s) or s <= 0 for s in scales):
        raise argparse.ArgumentTypeError(f'budget scales must be positive finite numbers, got '
                                         f'{text!r}: e.g. --budget-scale 0.25,0.5,1')
    return scales


def _days(text: str) -> float:
    from vssl_bench.harness.clean import check_days
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected a number of days, got {text!r}') from None
    try:
        check_days(days)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return days


def _folder(text: str) -> str:
    """A folder option: '' would be the current directory (data, results or work dirs written
    into the working tree)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f'{text!r} is empty: pass a folder, or leave the option '
                                         'out for its default')
    return text


def _names(text: str) -> list[str]:
    return [x for x in text.split(',') if x]


def cmd_data(args: argparse.Namespace) -> int:
    from vssl_bench.data import procedural
    from vssl_bench.harness.suite_keys import check_seeds
    check_seeds([args.seed], '--seed')
    spec = procedural.get(args.dataset)
    out = procedural.generate(spec, args.out, scale=args.scale, seed=args.seed,
                              workers=args.workers)
    print(f'{spec.title} ({args.scale}, seed {args.seed}) ready at {out}')
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from vssl_bench.core import console
    from vssl_bench.core.results_dir import default_results
    from vssl_bench.harness.suite import run_suite
    from vssl_bench.harness.validate import check_run, load_suite
    from vssl_bench.report.budget_curve import scale_dir, write_budget_curve
    from vssl_bench.report.leaderboard import headline_table
    console.set_verbose(args.verbose)
    suite = load_suite(args.suite, data_root=args.data_root,  # checked before any work
                       cfg_options=args.cfg_options, method_cfg_options=args.method_cfg_options)
    check_run(suite, methods=args.methods, seeds=args.seeds,
              work_dir=None if args.smoke else args.work_dir, data_root=args.data_root,
              protocols=args.protocols)
    if args.smoke:
        return _run_smoke(suite, args)
    out = Path(args.out) if args.out else default_results(suite.name)
    failures, board = [], None
    for scale in args.budget_scale or [1.0]:
        board, failed = run_suite(suite.scaled(scale), out=scale_dir(out, scale),
                                  work_root=Path(args.work_dir), methods=args.methods,
                                  seeds=args.seeds, launcher=args.launcher,
                                  use_cache=not args.no_cache, protocols=args.protocols)
        failures += [f'budget x{scale:g}: {f}' if args.budget_scale else f for f in failed]
        if board is not None:
            print(headline_table(board, scale_dir(out, scale)))
            if board.get('ablation_verdicts'):
                print((scale_dir(out, scale) / 'ablation.md').read_text())
    if args.budget_scale and board is not None:
        png = write_budget_curve(out, args.budget_scale, suite.name)
        print((png.parent / 'budget_curve.md').read_text())
        print(f'budget curve: {png}')
    for failure in failures:
        print(f'FAILED: {failure}', file=sys.stderr)
    return 1 if failures else 0


def cmd_family(args: argparse.Namespace) -> int:
    from vssl_bench.core import console
    from vssl_bench.core.results_dir import default_results
    from vssl_bench.harness.family import load_family, run_family
    from vssl_bench.harness.validate import check_run
    console.set_verbose(args.verbose)
    family = load_family(args.family)  # every member checked before any work
    for member in family.members:
        check_run(member.suite, methods=args.methods, seeds=args.seeds, work_dir=args.work_dir,
                  data_root=None)
    out = Path(args.out) if args.out else default_results(family.name)
    report, failures = run_family(family, out, Path(args.work_dir), methods=args.methods,
                                  seeds=args.seeds, launcher=args.launcher,
                                  use_cache=not args.no_cache)
    if report is not None:
        print((out / 'family.md').read_text())
    for failure in failures:
        print(f'FAILED: {failure}', file=sys.stderr)
    return 1 if failures else 0


def _run_smoke(suite, args: argparse.Namespace) -> int:
    from vssl_bench.harness.smoke import run_smoke
    from vssl_bench.report.leaderboard import headline_table
    if args.budget_scale or args.launcher != 'none':
        raise UserError('--smoke runs one process at a stand-in budget: drop --budget-scale '
                        'and --launcher')
    board, failures = run_smoke(suite, out=Path(args.out) if args.out else None,
                                methods=args.methods, use_cache=not args.no_cache)
    print(headline_table(board, args.out))
    for failure in failures:
        print(f'FAILED: {failure}', file=sys.stderr)
    return 1 if failures else 0


def cmd_train(args: argparse.Namespace) -> int:
    from vssl_bench.core import console
    from vssl_bench.harness.suite_keys import check_seeds
    from vssl_bench.harness.train import parse_budget, train_method
    console.set_verbose(args.verbose)
    check_seeds([args.seed], '--seed')
    weights, stats = train_method(args.config, budget=parse_budget(args.budget) if args.budget
                                  else None, work_dir=args.work_dir, seed=args.seed,
                                  data_root=args.data_root, cfg_options=args.cfg_options)
    print(f'trained {stats["iters"]} steps, {stats["train_tflops"]:.3g} TFLOPs, '
          f'{stats["wall_s"]:.0f} s: {weights} (mmengine log in {weights.parent})')
    print(f'evaluate it: vssl-bench eval {weights} --suite configs/suites/synthmotion.py')
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from vssl_bench.core import console
    from vssl_bench.core.results_dir import default_results
    from vssl_bench.harness.external import eval_checkpoint
    from vssl_bench.harness.validate import check_eval, load_suite
    from vssl_bench.report.leaderboard import headline_table
    console.set_verbose(args.verbose)
    suite = load_suite(args.suite, data_root=args.data_root,  # checked before any work
                       cfg_options=args.cfg_options)
    check_eval(suite, checkpoint=args.checkpoint, name=args.name, seeds=args.seeds,
               work_dir=args.work_dir, method_cfg_options=args.method_cfg_options)
    out = Path(args.out) if args.out else default_results(suite.name)
    board, failures = eval_checkpoint(suite, args.checkpoint, fmt=args.format, name=args.name,
                                      out=out, work_root=Path(args.work_dir), seeds=args.seeds,
                                      method_cfg_options=args.method_cfg_options,
                                      use_cache=not args.no_cache)
    print(headline_table(board, out))
    for failure in failures:
        print(f'FAILED: {failure}', file=sys.stderr)
    return 1 if failures else 0


def cmd_export(args: argparse.Namespace) -> int:
    from vssl_bench.harness.export import export_checkpoint
    weights, snippet = export_checkpoint(args.checkpoint, to=args.to, out=args.out,
                                         config=args.config)
    print(f'mmaction2 checkpoint: {weights}\nconfig snippet (load_from / init_cfg, data '
          f'preprocessor normalisation): {snippet}')
    return 0


def cmd_paper(args: argparse.Namespace) -> int:
    from vssl_bench.report.paper import write_paper_table
    md = write_paper_table(args.suite, results_dir=args.results, out_dir=args.out)
    print(md.read_text())
    print(f'written: {md} and {md.with_suffix(".json")}')
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from vssl_bench.report.leaderboard import format_table, rebuild_leaderboard
    results = Path(args.results_dir)
    if not (results / 'runs').is_dir():
        print(f'error: no run records under {results / "runs"}: run a suite first '
              '(vssl-bench run configs/suites/synthmotion.py)', file=sys.stderr)
        return 2
    if not args.budget_scale:
        print(format_table(rebuild_leaderboard(results)))
        return 0
    from vssl_bench.core.io import read_json
    from vssl_bench.report.budget_curve import scale_dir, write_budget_curve
    for scale in args.budget_scale:
        if not (scale_dir(results, scale) / 'runs').is_dir():
            print(f'error: no run records under {scale_dir(results, scale) / "runs"}: run the '
                  f'suite at {scale:g} x its budget first (vssl-bench run SUITE --budget-scale '
                  f'{scale:g})', file=sys.stderr)
            return 2
        rebuild_leaderboard(scale_dir(results, scale))
    suite = read_json(scale_dir(results, max(args.budget_scale)) / 'leaderboard.json')['suite']
    png = write_budget_curve(results, args.budget_scale, suite)
    print((png.parent / 'budget_curve.md').read_text())
    print(f'budget curve: {png}')
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from vssl_bench.report.check import run_check
    return run_check(args.results_dirs, reference=args.reference,
                     write_reference=args.write_reference, k=args.k, floor=args.floor,
                     replace=args.replace_protocols)


def cmd_methods(args: argparse.Namespace) -> int:
    # Only what names the methods: the in-tree ones and the entry points (not mmaction2's
    # models, the data sets or the protocols, which take seconds to import).
    import vssl_bench.methods  # noqa: F401  (registers the in-tree methods)
    from vssl_bench.core.plugins import load_entry_points
    from vssl_bench.methods.base import registered_methods
    load_entry_points()
    print('\n'.join(sorted(registered_methods())))
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    from vssl_bench.harness.clean import clean, describe
    print(describe(clean(Path(args.work_dir), [Path(p) for p in args.data_root],
                         features=args.features, frames=args.frames, weights=args.weights,
                         older_than_days=args.older_than, dry_run=args.dry_run)))
    return 0


class _Parser(argparse.ArgumentParser):
    """Bad command-line values end in one line (exit code 2), not usage plus error."""

    def error(self, message: str):
        self.exit(2, f'error: {self.prog}: {message} (see `{self.prog} --help`)\n')


def _add_config_options(parser: argparse.ArgumentParser, suite: bool = True) -> None:
    from mmengine.config import DictAction
    if suite:
        parser.add_argument(
            '--cfg-options', nargs='+', action=DictAction, default=None, metavar='KEY=VALUE',
            help="override settings of the suite config (mmengine's convention), e.g. "
                 'pretrain.budget.value=1e15 seeds=[0,1]; part of the run hash')
    parser.add_argument(
        '--method-cfg-options', nargs='+', action=DictAction, default=None, metavar='KEY=VALUE',
        help='override settings of every method config, e.g. '
             'train_dataloader.batch_size=8 optim_wrapper.optimizer.lr=0.1; part of the run hash')
    parser.add_argument('--verbose', action='store_true',
                        help="show mmengine's logs (environment, config, losses) on the console; "
                             "they are always in each run's work dir")


def _version() -> str:
    """The installed distribution's version ('unknown' when run from a checkout that was never
    installed)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version('vssl-bench')
    except PackageNotFoundError:
        return 'unknown (not installed: pip install -e .)'


def build_parser() -> argparse.ArgumentParser:
    from mmengine.config import DictAction

    from vssl_bench.data import procedural
    parser = _Parser(prog='vssl-bench', description=__doc__)
    parser.add_argument('--version', action='version', version=f'%(prog)s {_version()}',
                        help='print the installed version and exit')
    sub = parser.add_subparsers(dest='command', required=True)

    data = sub.add_parser('data', help='generate a data set')
    data_sub = data.add_subparsers(dest='dataset', required=True)
    for name in procedural.GENERATED:  # one sub-command per generated data set
        spec = procedural.get(name)
        synth = data_sub.add_parser(name, help=f'the procedural data set {spec.title} '
                                    f'({len(spec.classes)} classes told apart by time only)')
        synth.add_argument('--out', type=_folder, default=f'data/{name}',
                           help=f'folder to write it into (default data/{name})')
        synth.add_argument('--scale', default='default', choices=sorted(spec.scales),
                           help='size: default = 2400 / 600 / 360 videos (pretrain / train / '
                                'test); tiny and ci are smaller (default: default)')
        synth.add_argument('--seed', type=int, default=0,
                           help='generation seed: the same seed gives the same bytes '
                                '(default 0)')
        synth.add_argument('--workers', type=int, default=None,
                           help='rendering processes (default: the CPU count; 1 = in this process)')
        synth.set_defaults(func=cmd_data)

    run = sub.add_parser('run', help='pretrain and evaluate a suite, then print its leaderboard')
    run.add_argument('suite', help='suite config, e.g. configs/suites/synthmotion.py')
    run.add_argument('--methods', type=_names, default=None, help='comma-separated method names')
    run.add_argument('--seeds', type=_ints, default=None, help='comma-separated seeds')
    run.add_argument('--protocols', type=_names, default=None,
                     help="comma-separated protocol names of the suite (e.g. linear,knn) to "
                          "evaluate; the others' records stay as they are (default: all). The "
                          'run hash stays the suite\'s: for re-running protocols whose version '
                          'changed')
    run.add_argument('--out', type=_folder, default=None, help='results directory (default '
                     'bench_results/<suite>, git-ignored; results/ holds the committed ones)')
    run.add_argument('--work-dir', type=_folder, default='work_dirs',
                     help='checkpoints, logs, features')
    run.add_argument('--data-root', type=_folder, default=None,
                     help="override the suite's data root")
    run.add_argument('--launcher', default='none', choices=['none', 'pytorch', 'slurm', 'mpi'],
                     help="mmengine's launcher: pytorch under torchrun for several GPUs or CPU "
                          'processes (default none: one process)')
    run.add_argument('--budget-scale', type=_scales, default=None, metavar='F[,F...]',
                     help='run the suite at these fractions of its budget (e.g. 0.25,0.5,1) '
                          'and draw <out>/budget_curve.png')
    run.add_argument('--no-cache', action='store_true',
                     help='bypass the shared feature cache (<work-dir>/feature_cache): features '
                          'are extracted afresh and the cache is neither read nor written')
    run.add_argument('--smoke', action='store_true',
                     help='a few steps on a tiny stand-in of the data set, shrunk batches and '
                          'clips, cheap protocols; results in --out (default '
                          'work_dirs/smoke/<suite>), never results/ (see '
                          'vssl_bench/harness/smoke.py)')
    _add_config_options(run)
    run.set_defaults(func=cmd_run)

    family = sub.add_parser('family', help='run a suite family: every method pretrained once '
                            'per data set, evaluated on every data set; prints how well the data '
                            'sets rank the methods alike')
    family.add_argument('family', help='family config, e.g. configs/families/synth.py')
    family.add_argument('--methods', type=_names, default=None,
                        help='comma-separated method names (default: the family\'s)')
    family.add_argument('--seeds', type=_ints, default=None,
                        help='comma-separated seeds (default: the family\'s)')
    family.add_argument('--out', type=_folder, default=None,
                        help='results directory (default bench_results/<family>, git-ignored): '
                             'one folder per member and family.md / family.json')
    family.add_argument('--work-dir', type=_folder, default='work_dirs',
                        help='checkpoints, logs, features (shared with the suites: weights '
                             'trained by a suite on the same data set are reused)')
    family.add_argument('--launcher', default='none', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        help="mmengine's launcher for several GPUs")
    family.add_argument('--no-cache', action='store_true',
                        help='bypass the shared feature cache (see run --no-cache)')
    family.add_argument('--verbose', action='store_true',
                        help="show mmengine's logs on the console")
    family.set_defaults(func=cmd_family)

    train = sub.add_parser('train', help='pretrain one method config under a budget, outside '
                           'any suite')
    train.add_argument('config', metavar='METHOD_CONFIG',
                       help='e.g. configs/methods/cvrl_r3d18w16_8x2_synthmotion.py')
    train.add_argument('--budget', default=None, metavar='UNIT=VALUE',
                       help='train_flops=3e13 (default, the default suite\'s), epochs=5 or '
                            'device_seconds=600')
    train.add_argument('--work-dir', type=_folder, default=None,
                       help='default work_dirs/train/<method>/seed<seed>')
    train.add_argument('--seed', type=int, default=0, help='training seed (default 0)')
    train.add_argument('--data-root', type=_folder, default=None,
                       help="override the config's data_root")
    train.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                       metavar='KEY=VALUE', help='override settings of the method config')
    train.add_argument('--verbose', action='store_true', help="show mmengine's logs")
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser('eval', help="evaluate a checkpoint trained elsewhere with a "
                              "suite's protocols; it gets a leaderboard row")
    evaluate.add_argument('checkpoint', help='weights trained elsewhere, in the --format given')
    evaluate.add_argument('--suite', required=True, help='e.g. configs/suites/synthmotion.py')
    evaluate.add_argument('--format', default='vssl', choices=['vssl', 'mmaction2', 'torchvision'],
                          help='vssl: a final_weights.pth; mmaction2: a recognizer checkpoint '
                               '(backbone.* keys); torchvision: an r3d_18 state dict')
    evaluate.add_argument('--name', default=None, help='row name (default: the file name)')
    evaluate.add_argument('--seeds', type=_ints, default=None, help='comma-separated seeds')
    evaluate.add_argument('--out', type=_folder, default=None, help='results directory (default '
                          'bench_results/<suite>)')
    evaluate.add_argument('--work-dir', type=_folder, default='work_dirs',
                          help='fine-tuning runs and the feature cache (default work_dirs)')
    evaluate.add_argument('--data-root', type=_folder, default=None,
                          help="override the suite's data root")
    evaluate.add_argument('--no-cache', action='store_true', help='bypass the feature cache')
    _add_config_options(evaluate)
    evaluate.set_defaults(func=cmd_eval)

    export = sub.add_parser('export', help='write a checkpoint + config snippet that another '
                            'framework loads')
    export.add_argument('checkpoint', help='a final_weights.pth')
    export.add_argument('--to', required=True, choices=['mmaction2'],
                        help='the framework whose checkpoint format is written')
    export.add_argument('--out', type=_folder, default=None,
                        help="folder (default: the checkpoint's)")
    export.add_argument('--config', default=None, help='the method config (default: '
                        'model_config.json beside the checkpoint)')
    export.set_defaults(func=cmd_export)

    paper = sub.add_parser('paper', help="a paper suite's reference numbers next to this "
                           "harness's: results/paper/<suite>.md and .json")
    paper.add_argument('suite', help='paper suite config, e.g. configs/paper/tclr_r3d18_ucf101.py')
    paper.add_argument('--results', type=_folder, default=None,
                       help="the suite's results directory (default results/<suite>); "
                            'the harness column is blank where it holds no records')
    paper.add_argument('--out', type=_folder, default='results/paper',
                       help='folder of the tables')
    paper.set_defaults(func=cmd_paper)

    board = sub.add_parser('leaderboard', help='rebuild the tables from run records')
    board.add_argument('results_dir', help="a suite's results folder (the one holding runs/)")
    board.add_argument('--budget-scale', type=_scales, default=None, metavar='F[,F...]',
                       help='rebuild the leaderboard of each of these budget scales (results_dir '
                       'for 1, results_dir/budget_scale/x<F> for the others) and redraw '
                       'results_dir/budget_curve.png')
    board.set_defaults(func=cmd_leaderboard)

    check = sub.add_parser('check', help='compare results with a reference accuracy file; exit 1 '
                           'on a regression beyond tolerance or a missing cell')
    check.add_argument('results_dirs', nargs='+', metavar='RESULTS_DIR',
                       help='results directory; with --write-reference several, and '
                       'reference files whose per-seed values are pooled too')
    check.add_argument('--reference', default=None,
                       help='reference JSON (default results/reference/<suite>.json)')
    check.add_argument('--write-reference', action='store_true',
                       help='create/replace the reference from the sources instead')
    check.add_argument('--replace-protocols', type=_names, default=None, metavar='P[,P]',
                       help='with --write-reference: rebuild only these protocols\' cells from '
                       'the results, keeping every other cell and source of the reference')
    check.add_argument('--k', type=float, default=None,
                       help='with --write-reference: tolerance = max(k * std, floor); default 2')
    check.add_argument('--floor', type=float, default=None,
                       help='with --write-reference: tolerance floor in points; default 1')
    check.set_defaults(func=cmd_check)

    clean = sub.add_parser('clean', help='free disk space, keeping final weights and records '
                           '(see vssl_bench/harness/clean.py)')
    clean.add_argument('--work-dir', default='work_dirs',
                       help='the work dir to clean (default work_dirs)')
    clean.add_argument('--data-root', action='append', default=[], metavar='DIR',
                       help='data set whose stale frame caches are pruned (repeatable)')
    clean.add_argument('--features', action='store_true', help='also the feature cache')
    clean.add_argument('--frames', action='store_true', help='also every frame cache')
    clean.add_argument('--weights', action='store_true',
                       help='also trained weights (the next run retrains every method)')
    clean.add_argument('--older-than', type=_days, default=None, metavar='DAYS',
                       help='remove work dirs (pretrain/ and train/) untouched for DAYS > 0 days')
    clean.add_argument('--dry-run', action='store_true', help='list, remove nothing')
    clean.set_defaults(func=cmd_clean)

    methods = sub.add_parser('methods', help='list registered methods')
    methods.set_defaults(func=cmd_methods)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. A user's mistake (:class:`~vssl_bench.core.errors.UserError`) or a
    missing or unwritable file (``OSError``) ends in one line and exit code 2; anything else is a
    bug and keeps its traceback."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UserError, OSError) as exc:
        print(f'error: {exc}'.replace('\n', ' '), file=sys.stderr)
        return 2
    except (ValueError, ImportError) as exc:
        if not _is_user_error(exc):
            raise
        print(f'error: {exc}'.replace('\n', ' '), file=sys.stderr)
        return 2


def _is_user_error(exc: BaseException) -> bool:
    """A plugin that fails to import: a user error whose class predates :class:`UserError` (its
    module is imported by then)."""
    plugins = sys.modules.get('vssl_bench.core.plugins')
    return plugins is not None and isinstance(exc, plugins.PluginError)


if __name__ == '__main__':
    sys.exit(main())
