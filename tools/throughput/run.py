"""`python -m tools.throughput loader` (= `vssl-bench throughput`): the loader and step
benchmark, written to ``<out>/loader.json``, ``loader.md`` and ``loader.log``.

Rows: every decoder (whole-video PyAV = the original path, PyAV seeking = the new default,
decord, torchcodec when it loads) x test video (:data:`tools.throughput.videos.SPECS`) x
sample (:data:`tools.throughput.loader.SAMPLES`) with one worker, plus two workers for the
whole-video and seeking paths on the Kinetics-like CVRL sample. Beside them: R3D-18 16x112^2
training clips/s on this machine, and the SynthMotion CVRL step fed by one loader worker without
the frame cache (its data wait).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from tools.throughput.loader import SAMPLES, measure_loader
from tools.throughput.model import device_augment_cost, r3d18_throughput, synthmotion_data_wait
from tools.throughput.videos import SPECS, write_video
from vssl_bench.core.io import atomic_write_json, atomic_write_text
from vssl_bench.core.provenance import provenance
from vssl_bench.data.decoders import decord_available, torchcodec_available

NEW_PATH = 'seek'
REFERENCE = 'whole'
KINETICS = 'kinetics_like_h264'
# Worker side of device augmentation: seek decoding, crop + resize; the photometric ops are left
# to the model's data preprocessor (their cost there is in the ## Device augmentation lines).
DEVICE_AUG = 'seek+device-aug'


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog='python -m tools.throughput loader',
                                description=__doc__.splitlines()[0])
    p.add_argument('--out', default='results/throughput', help='folder of loader.json / .md')
    p.add_argument('--videos', default='work_dirs/throughput_videos',
                   help='folder for the generated test videos')
    p.add_argument('--seconds', type=float, default=4.0, help='minimum seconds per row')
    p.add_argument('--samples', type=int, default=6, help='minimum samples per row')
    p.add_argument('--device', default='cpu', help='device of the model measurements')
    p.add_argument('--bf16', action='store_true', help='bfloat16 autocast for the model')
    p.add_argument('--model-batch', type=int, default=4, help='R3D-18 clips per step')
    p.add_argument('--suite', default='configs/suites/synthmotion.py',
                   help='suite whose CVRL step is fed by one worker ("" skips it)')
    p.add_argument('--data-root', default=None, help="the suite's data (default: its own)")
    p.add_argument('--cache-dir', default='work_dirs/throughput_cache',
                   help='frame cache of the SynthMotion step measured from the cache')
    p.add_argument('--videos-only', default=None,
                   help=f'comma-separated test videos (default: all of {", ".join(SPECS)})')
    p.add_argument('--decoders', default=None,
                   help='comma-separated decoders (default: whole,seek, plus decord and '
                        'torchcodec when installed)')
    return p.parse_args(argv)


def loader_rows(args: argparse.Namespace, log) -> list[dict[str, Any]]:
    decoders = (args.decoders.split(',') if args.decoders else
                ['whole', 'seek'] + (['decord'] if decord_available() else [])
                + (['torchcodec'] if torchcodec_available() else []))
    rows = []
    names = args.videos_only.split(',') if args.videos_only else list(SPECS)
    for spec in (SPECS[name] for name in names):
        video = Path(args.videos) / f'{spec.name}{spec.suffix}'
        if not video.exists():
            write_video(video, spec)
        plan = [(d, s, 1) for s in SAMPLES for d in decoders]
        if NEW_PATH in decoders:  # the new path with the photometric half on the model's device
            plan += [(DEVICE_AUG, s, 1) for s in ('cvrl', 'tclr')]
        if spec.name == KINETICS:
            plan += [(d, 'cvrl', 2) for d in (REFERENCE, NEW_PATH, DEVICE_AUG)
                     if d.split('+')[0] in decoders]
        for decoder, sample, workers in plan:
            extra = dict(transform=dict(type='DeviceClipAugment', out_size=112)) \
                if decoder == DEVICE_AUG else None
            result = measure_loader(video, sample, decoder.split('+')[0], workers, args.seconds,
                                    args.samples, dataset_kwargs=extra, name=decoder)
            rows.append(result.row())
            log(f'loader {decoder:<10} {spec.name:<20} {sample:<5} workers {workers}: '
                f'{result.clips_per_s:8.1f} clips/s, {result.cpu_s_per_clip * 1e3:7.2f} '
                f'CPU ms/clip ({result.samples} samples)')
    return rows


def speedup(rows: list[dict[str, Any]], video: str, sample: str, workers: int) -> float | None:
    rate = {r['decoder']: r['clips_per_s'] for r in rows
            if (r['video'], r['sample'], r['workers']) == (video, sample, workers)}
    if REFERENCE in rate and NEW_PATH in rate:
        return rate[NEW_PATH] / rate[REFERENCE]
    return None


def render(result: dict[str, Any]) -> str:
    lines = ['# Loader and step throughput', '',
             f'Written by `{result["command"]}` ({result["provenance"]["device"]}, '
             f'{result["wall_s"]:.0f} s). `clips_per_s`: model input clips (every view) per wall '
             'second; `cpu_s_per_clip`: CPU seconds of the loader worker(s) per clip. On a '
             'machine shared with other jobs wall rates are conservative and noisy; CPU seconds '
             'per clip are the portable number (cores needed = clips/s x cpu_s_per_clip).', '',
             '| decoder | video | sample | workers | clips/s | CPU ms/clip |',
             '|---|---|---|---|---|---|']
    for r in result['rows']:
        lines.append(f'| {r["decoder"]} | {r["video"]} | {r["sample"]} | {r["workers"]} | '
                     f'{r["clips_per_s"]:.1f} | {r["cpu_s_per_clip"] * 1e3:.2f} |')
    lines += ['', '## New path (`seek`) against the whole-video path (`whole`), same workers', '']
    for (video, sample, workers), ratio in result['speedups'].items():
        lines.append(f'- {video}, {sample}, {workers} worker(s): {ratio:.2f}x clips/s')
    model = result.get('model')
    if model:
        lines += ['', '## Model', '',
                  f'- {model["model"]}, {model["dtype"]} on {model["device"]}, batch '
                  f'{model["batch_size"]}: model_clips_per_s = {model["model_clips_per_s"]} '
                  f'({model["gflops_per_clip"]} GFLOPs per clip per step, {model["tflops"]} '
                  'TFLOP/s achieved).',
                  f'- Loader cores one model step needs (Kinetics-like CVRL, new path): '
                  f'{result["loader_cores"]:.3f} on this machine '
                  f'(= model_clips_per_s x cpu_s_per_clip).']
    aug = result['device_augment']
    lines.append(f'- {DEVICE_AUG} rows: the photometric half then runs batched in the data '
                 f'preprocessor on the model\'s device ({aug["device"]}): '
                 f'{aug["s_per_clip"] * 1e3:.2f} ms per 16x112^2 clip (batch {aug["clips"]}).')
    for wait in result.get('synthmotion', []):
        lines.append(f'- {wait["log"]}')
    return '\n'.join(lines) + '\n'


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log_lines: list[str] = []

    def log(line: str) -> None:
        print(line, flush=True)
        log_lines.append(line)

    start = time.perf_counter()
    rows = loader_rows(args, log)
    speedups = {}
    for spec in SPECS.values():
        for sample in SAMPLES:
            for workers in (1, 2):
                ratio = speedup(rows, spec.name, sample, workers)
                if ratio is not None:
                    speedups[(spec.name, sample, workers)] = round(ratio, 2)
    model = r3d18_throughput(args.model_batch, device=args.device, bf16=args.bf16)
    log(f'model {model}')
    device_aug = device_augment_cost(args.device)
    log(f'device augmentation (photometric half, batched) {device_aug}')
    new_cvrl = next(r for r in rows if (r['decoder'], r['video'], r['sample'], r['workers'])
                    == (NEW_PATH, KINETICS, 'cvrl', 1))
    waits = []
    if args.suite:
        for decoder in (REFERENCE, 'auto', 'cache'):
            wait = synthmotion_data_wait(args.suite, 'cvrl', args.data_root, decoder,
                                         cache_dir=args.cache_dir)
            source = 'frame cache' if decoder == 'cache' else f'no frame cache, decoder {decoder}'
            wait['log'] = (f'SynthMotion {wait["method"]} step, 1 loader worker, {source}: '
                           f'{wait["s_per_step"]} s/step ({wait["s_per_step_without_loader"]} '
                           f's without a loader), {wait["clips_per_s"]} clips/s, data wait '
                           f'{100 * wait["data_wait_fraction"]:.1f} % of step time')
            log(wait['log'])
            waits.append(wait)
    result = {
        'command': ' '.join(['python -m tools.throughput loader']
                            + (sys.argv[2:] if argv is None else argv)),
        'provenance': provenance(), 'wall_s': round(time.perf_counter() - start, 1),
        'rows': rows, 'speedups': speedups, 'model': model, 'device_augment': device_aug,
        'loader_cores': model['model_clips_per_s'] * new_cvrl['cpu_s_per_clip'],
        'synthmotion': waits}
    json_result = dict(result, speedups=[dict(video=v, sample=s, workers=w, ratio=r)
                                         for (v, s, w), r in speedups.items()])
    atomic_write_json(out / 'loader.json', json_result)
    atomic_write_text(out / 'loader.md', render(result))
    atomic_write_text(out / 'loader.log', '\n'.join(log_lines) + '\n')
    print((out / 'loader.md').read_text())
    return 0
