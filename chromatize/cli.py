"""The `chromatize` command: thin argument handling over the package's modules."""
from __future__ import annotations

import argparse
import dataclasses
import functools
import logging
import signal
import sys
from pathlib import Path

from .version import __version__
from .fileio import ESCAPE, printable
from .images import DEFAULT_MAX_MEGAPIXELS, ImageError
from .inference import DEFAULT_SIZE
from .media.stabilize import TEMPORAL_MODES
from .training.config import PRESETS, TrainConfig, build_config, parse_group_weights, parse_model_option

log = logging.getLogger("chromatize")
MAX_SIZE = 4096             # the largest --size a model may see


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so that temporary files are removed on the way out."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):          # file names that are not UTF-8 print as \xNN
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=ESCAPE)
    logging.basicConfig(level=logging.INFO if not args.quiet else logging.WARNING,
                        format="%(levelname)s: %(message)s")
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError, FileExistsError, FloatingPointError, ImageError, ImportError) as err:
        if args.debug:
            raise
        print(f"chromatize: error: {printable(err)}", file=sys.stderr)
        return 2
    except Terminated:
        print("chromatize: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt as err:
        print(f"chromatize: {err or 'interrupted'}", file=sys.stderr)
        return 130
    except Exception as err:                            # a bug or a case we did not foresee: one line
        if args.debug:
            raise
        print(f"chromatize: error: {type(err).__name__}: {printable(err)} (run with --debug for the traceback)",
              file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
        from .runtime import teardown

        teardown()


def _terminate(signum, frame) -> None:
    raise Terminated()


def number(kind: type, lo: float | None = None, hi: float | None = None):
    """An argparse type: `kind` within [lo, hi], or an error that shows the value and the range."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            bounds = f"from {lo} to {hi}" if lo is not None and hi is not None else \
                (f"at least {lo}" if lo is not None else f"at most {hi}")
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _flag_type(parse):
    """An argparse type from a parser that raises ValueError with its message."""
    def flag(text: str):
        try:
            return parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    flag.__name__ = parse.__name__
    return flag


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (the usage block would bury it); --help still shows it."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chromatize", description="Colorize black-and-white photos with CNNs.")
    parser.add_argument("--version", action="version", version=f"chromatize {__version__}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    common = _Parser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bars, only warnings and errors")
    common.add_argument("--debug", action="store_true", help="show Python tracebacks instead of one-line errors")
    sub.add_parser = functools.partial(sub.add_parser, parents=[common])
    _add_train(sub)
    _add_colorize(sub)
    _add_alpha(sub)
    _add_export(sub)
    _add_evaluate(sub)
    _add_evaluate_video(sub)
    _add_serve(sub)
    sub.add_parser("models", help="list the registered architectures").set_defaults(run=_run_models)
    return parser


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a colorizer on a folder of colour photos")
    p.add_argument("data_dir", help="folder of colour photos (searched recursively)")
    p.add_argument("--out", required=True, help="run folder for checkpoints, history and plots")
    p.add_argument("--preset", choices=sorted(PRESETS), default="default",
                   help="a named recipe (default: %(default)s, TrainConfig's defaults; flags override it)")
    p.add_argument("--config", help="JSON file of TrainConfig values (flags override it)")
    p.add_argument("--model-option", action="append", default=[], metavar="KEY=VALUE",
                   help="architecture option, e.g. extra_convs=3 or width=32 (repeatable)")
    _add_config_flags(p)
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    again.add_argument("--overwrite", action="store_true", help="start afresh in an existing run folder, replacing it")
    p.set_defaults(run=_run_train)


def _add_config_flags(p) -> None:
    """One flag per TrainConfig field, from its metadata (help, choices, bounds, metavar); each
    defaults to None, so a flag overrides the recipe only when given."""
    groups: dict = {}
    for f in dataclasses.fields(TrainConfig):
        meta = f.metadata
        if meta.get("flag") is False:
            continue
        shown = f.default_factory() if f.default is dataclasses.MISSING else f.default
        kw: dict = {"default": None, "help": f"{meta['help']} (default recipe: {shown!r})".replace("%'", "%%'")}
        if f.type == "bool":
            kw["action"] = argparse.BooleanOptionalAction
        elif meta.get("parse") == "group_weights":
            kw["type"] = _flag_type(parse_group_weights)
        elif "choices" in meta:
            kw["choices"] = meta["choices"]
        else:
            kind = {"int": int, "float": float}.get(f.type, str)
            kw["type"] = number(kind, meta.get("low"), meta.get("high")) if kind is not str else str
        if "metavar" in meta:
            kw["metavar"] = meta["metavar"]
        if "group" in meta and meta["group"] not in groups:
            groups[meta["group"]] = p.add_mutually_exclusive_group()
        target = groups[meta["group"]] if "group" in meta else p
        target.add_argument(f"--{f.name.replace('_', '-')}", **kw)


def _run_train(args) -> int:
    from .models import resolve
    from .training.recipe import prepare_run_folder, resumed_config, train_run

    from .runtime import setup

    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
                 if getattr(args, f.name, None) is not None}
    options = dict(parse_model_option(o) for o in args.model_option)

    run_dir = Path(args.out)
    dist = setup(args.device or "auto")
    if dist.is_main:
        prepare_run_folder(run_dir, resume=args.resume, overwrite=args.overwrite)
    dist.barrier()
    if args.resume:
        cfg = build_config(config_file=str(resumed_config(run_dir)), overrides=overrides, model_options=options)
    else:
        cfg = build_config(preset=args.preset, config_file=args.config, overrides=overrides, model_options=options)
    state = train_run(args.data_dir, run_dir, cfg, resume=args.resume, progress=not args.quiet)
    if dist.is_main:
        print(f"trained {state.epoch} epochs ({state.step} steps); best val loss {state.best_val:.4f}; "
              f"model: {resolve(run_dir)}")
    return 0


def _add_colorize(sub) -> None:
    p = sub.add_parser("colorize", help="colorize photos, animations (GIF, WebP, PNG) and videos, or folders of them")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="image, animation or video files, or folders (searched recursively)")
    p.add_argument("-o", "--out-dir", help="output folder (default: beside each input, name + _color)")
    p.add_argument("--model", default="default",
                   help="'default', a .safetensors file, a .pt checkpoint or a run folder")
    p.add_argument("--size", type=number(int, 16, MAX_SIZE), default=DEFAULT_SIZE,
                   help="long side the model sees (default %(default)s)")
    p.add_argument("--format", help="output format by extension (default: the input's): png, jpg, webp, tif, "
                                    "bmp for photos; gif, webp, png, mp4 for animations; mp4, mkv, mov, webm, avi "
                                    "for video")
    p.add_argument("--temperature", type=number(float, 0.01, 10),
                   help="annealed-mean temperature of bin-classifier models (lower = more vivid)")
    p.add_argument("--no-skin", dest="skin", action="store_false",
                   help="leave faces as the network coloured them (by default a face found on a photo keeps "
                        "to skin hues; not on video frames)")
    p.add_argument("--batch-size", type=number(int, 1, 1024), default=8)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--runtime", default="torch", choices=["torch", "onnx"],
                   help="run the network in PyTorch (default) or onnxruntime (exported once, then cached)")
    p.add_argument("--confidence", action="store_true",
                   help="photos: also write NAME_confidence.png, the model's certainty per pixel (white = sure)")
    p.add_argument("--max-megapixels", type=number(float, 0.001), default=DEFAULT_MAX_MEGAPIXELS,
                   help="refuse images larger than this (default %(default)s; guards against decompression bombs)")
    p.add_argument("--skip-existing", action="store_true", help="leave files whose output already exists")
    p.add_argument("--strip-metadata", action="store_true",
                   help="carry none of the input's metadata (EXIF with GPS, XMP, IPTC, text) into the output")
    p.add_argument("--no-provenance", dest="provenance", action="store_false",
                   help="do not mark the output as colorized by chromatize (EXIF Software, XMP Digital "
                        "Source Type and History; a video's comment tag)")
    hints = p.add_argument_group("colour hints (models trained with hints, such as the default)")
    hints.add_argument("--hint", action="append", default=[], metavar="X,Y,COLOR",
                       help="pixel X,Y (of the full image) is COLOR (#rrggbb); repeatable")
    hints.add_argument("--hints", metavar="FILE", help='JSON list of {"x": .., "y": .., "color": "#rrggbb"}')
    hints.add_argument("--reference", metavar="PHOTO", help="a colour photo whose colours to lean towards")
    media = p.add_argument_group("animations and videos")
    media.add_argument("--temporal", choices=TEMPORAL_MODES, default="flow",
                       help="keep colours steady along the motion (flow, default) or colorize each frame alone")
    media.add_argument("--start", type=number(float, 0), help="video: first second to colorize")
    media.add_argument("--end", type=number(float, 0), help="video: second to stop at")
    media.add_argument("--crf", type=number(int, 0, 51), default=18,
                       help="video quality 0-51, lower is better (default %(default)s)")
    media.add_argument("--dither", action=argparse.BooleanOptionalAction, default=True,
                       help="dither GIF output (default on: no banding in skies)")
    p.set_defaults(run=_run_colorize)


def _run_colorize(args) -> int:
    from .inference.points import read_hints
    from .images import set_max_megapixels
    from .inference import load
    from .media.batch import MediaOptions, plan_jobs, run_jobs
    from .metadata import Policy
    from .runtime import device_for, setup

    if args.start is not None and args.end is not None and args.end <= args.start:
        raise ValueError(f"--end ({args.end:g}) must be after --start ({args.start:g})")
    set_max_megapixels(args.max_megapixels)
    dist = setup(args.device)                      # under torchrun: each rank takes its share of the files
    colorizer = load(args.model, size=args.size, device=device_for(dist, args.device), batch_size=args.batch_size,
                     temperature=args.temperature, runtime=args.runtime, skin=args.skin)
    colorizer.metadata = Policy(keep=not args.strip_metadata, mark=args.provenance)
    hints = read_hints(args.hint, args.hints)
    if hints:
        colorizer.require_hints("colour hints")
    palette = colorizer.reference_hint(args.reference) if args.reference else None   # read once; fails here
    jobs, problems = plan_jobs(args.inputs, args.out_dir, fmt=args.format)
    for _, message in problems:
        print(f"chromatize: error: {printable(message)}", file=sys.stderr)
    if not jobs and not problems:
        raise ValueError(f"no images, animations or videos found in {', '.join(args.inputs)}")
    media = MediaOptions(temporal=args.temporal, start=args.start, end=args.end, crf=args.crf, dither=args.dither,
                         hints=hints, reference=palette, confidence=args.confidence)
    report = run_jobs(colorizer, dist.shard(jobs), progress=not args.quiet and dist.is_main, media=media,
                      skip_existing=args.skip_existing)
    done, failed, skipped = dist.sum(len(report.done), len(report.failed), len(report.skipped))
    failed += len(problems)
    if dist.is_main:
        where = f"into {args.out_dir}" if args.out_dir else "beside the inputs (suffix _color)"
        ranks = f" by {dist.world} processes" if dist.enabled else ""
        skip = f", {int(skipped)} skipped (output exists)" if skipped else ""
        print(f"colorized {int(done)} file(s) {where}{ranks}; {int(failed)} failed{skip}")
    return 1 if failed else 0


def _add_alpha(sub) -> None:
    p = sub.add_parser("alpha", help="fit the tiny alpha net to one image and colorize it")
    p.add_argument("image")
    p.add_argument("--out", required=True, help="folder for the colorization, loss curve and history")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_run_alpha)


def _run_alpha(args) -> int:
    from .images import open_image, save_atomic
    from .inference import Colorizer
    from .training.recipe import alpha_run

    model, side = alpha_run(args.image, args.out, steps=args.steps, lr=args.lr, seed=args.seed,
                            progress=not args.quiet)
    result = Colorizer(model, size=side, device="cpu").colorize(open_image(args.image))
    target = Path(args.out) / "colorized.png"
    save_atomic(result, target)
    print(f"fitted alpha for {args.steps} steps; wrote {target} and {Path(args.out) / 'loss.png'}")
    return 0


def _add_serve(sub) -> None:
    p = sub.add_parser("serve", help="the web page: upload, click to place colours, compare, download")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this computer only)")
    p.add_argument("--port", type=number(int, 1, 65535), default=7860)
    p.add_argument("--model", default="default", help="default, a model file or a run folder")
    p.add_argument("--models-dir", help="a folder of training run folders to offer as further models")
    p.add_argument("--max-upload-mb", type=number(float, 0.001), default=200.0)
    p.add_argument("--max-megapixels", type=number(float, 0.001), default=50.0)
    p.add_argument("--max-frames", type=number(int, 1), default=3000)
    p.add_argument("--concurrency", type=number(int, 1), default=2, help="jobs run at once; more wait in the queue")
    p.set_defaults(run=_run_serve)


def _run_serve(args) -> int:
    from .app import Limits, serve

    if args.models_dir and not Path(args.models_dir).is_dir():
        raise FileNotFoundError(f"{args.models_dir}: no such folder")
    limits = Limits(max_upload_mb=args.max_upload_mb, max_megapixels=args.max_megapixels,
                    max_frames=args.max_frames)
    serve(host=args.host, port=args.port, model=args.model, models_dir=args.models_dir, limits=limits,
          concurrency=args.concurrency)
    return 0


def _add_export(sub) -> None:
    p = sub.add_parser("export", help="export a checkpoint or run folder as .safetensors + .json, or as an "
                                      "ONNX graph (.onnx)")
    p.add_argument("checkpoint", nargs="+", help="a .pt checkpoint, model file, run folder or 'default'; several "
                                                 "bin classifiers make one ensemble (their mean log-probabilities)")
    p.add_argument("output", help="the file to write: .safetensors (its .json config goes beside it) or .onnx "
                                  "(the network with its decode, for onnxruntime and other programs)")
    p.add_argument("--half", action="store_true", help="store weights as float16 (half the size)")
    p.add_argument("--temperature", type=float, help="classifiers: the decode temperature to store")
    p.add_argument("--chroma-gain", type=float, help="classifiers: the entropy chroma gain to store")
    p.set_defaults(run=_run_export)


def _run_export(args) -> int:
    from .models.export import export

    written = export(args.checkpoint, args.output, half=args.half, temperature=args.temperature,
                     chroma_gain=args.chroma_gain)
    print(f"wrote {' and '.join(str(p) for p in written)}")
    return 0


def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="score models on colour photos (PSNR, SSIM, CIEDE2000, colourfulness, AuC)")
    p.add_argument("data", help="folder of colour photos, or a text file of paths (a run's val_images.txt)")
    p.add_argument("--model", action="append", required=True,
                   help="'gray' (baseline), 'default', a model file or run folder; repeat to compare")
    p.add_argument("--size", type=int, default=DEFAULT_SIZE, help="long side the models see")
    p.add_argument("--out", help="folder for per_image.csv, summary.json and grid.png (one subfolder a model "
                                 "when several are given)")
    p.add_argument("--root", help="folder the relative paths of a list file start from (default: the list's folder)")
    p.add_argument("--hints", type=int, default=0, metavar="N",
                   help="reveal N random true-colour points per photo (default 0)")
    p.add_argument("--hint-seed", type=int, default=0, help="seed of the --hints positions")
    p.add_argument("--reference", help="'self' (each photo's own colours) or a reference photo for all")
    p.add_argument("--old-photos", type=int, metavar="SEED",
                   help="feed old-photo damaged inputs (seeded) and score the colour alone")
    p.add_argument("--temperature", type=float, help="override a classifier's annealed-mean temperature")
    p.add_argument("--chroma-gain", type=float, help="override how much unsure colour is held back")
    p.add_argument("--no-propagate", dest="propagate", action="store_false",
                   help="leave point hints to the network alone (no favouring or spreading after it)")
    p.add_argument("--no-skin", dest="skin", action="store_false", help="no skin step on faces (faces.py)")
    p.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    p.set_defaults(run=_run_evaluate)


def _run_evaluate(args) -> int:
    from .evaluation.photos import EvalOptions, compare_models, format_table, list_photos

    if args.hints < 0:
        raise ValueError(f"--hints must be 0 or more, got {args.hints}")
    options = EvalOptions(hints=args.hints, hint_seed=args.hint_seed, reference=args.reference,
                          degrade_seed=args.old_photos)
    summaries = compare_models(args.model, list_photos(args.data, root=args.root), options=options,
                               out=args.out, progress=not args.quiet, size=args.size, device=args.device,
                               temperature=args.temperature, chroma_gain=args.chroma_gain, propagate=args.propagate,
                               skin=args.skin)
    print(format_table(summaries))
    return 0


def _add_evaluate_video(sub) -> None:
    p = sub.add_parser("evaluate-video", help="score a model on a colour video or animation (PSNR, flicker)")
    p.add_argument("clip", help="a colour video or animated GIF/WebP/PNG: the ground truth")
    p.add_argument("--model", default="default", help="'default', a model file or a run folder")
    p.add_argument("--temporal", action="append", choices=TEMPORAL_MODES,
                   help="stabilizer mode(s) to score; repeat to compare (default: off and flow)")
    p.add_argument("--size", type=int, default=DEFAULT_SIZE, help="long side the model sees")
    p.add_argument("--max-frames", type=int, help="score only the first N frames")
    p.add_argument("--out", help="folder for summary.json and strip.png")
    p.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    p.set_defaults(run=_run_evaluate_video)


def _run_evaluate_video(args) -> int:
    from .evaluation.clips import evaluate_clip, format_clip_table
    from .inference import load

    colorizer = load(args.model, size=args.size, device=args.device)
    modes = tuple(dict.fromkeys(args.temporal or ["off", "flow"]))
    summary = evaluate_clip(colorizer, Path(args.clip), modes=modes, max_frames=args.max_frames,
                            out_dir=Path(args.out) if args.out else None, progress=not args.quiet)
    print(format_clip_table(summary))
    return 0


def _run_models(args) -> int:
    from .models import list_models

    print("\n".join(list_models()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
