"""`chromatize train`, `alpha`, `export` and `models`: the flags of train are made from TrainConfig's
fields (their help is the fields' metadata), so the dataclass is the one list of them."""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from ..training.config import PRESETS, TrainConfig, build_config, parse_group_weights, parse_model_option
from ._args import flag_type, number


def add(sub) -> None:
    _add_train(sub)
    _add_alpha(sub)
    _add_export(sub)
    sub.add_parser("models", help="list the registered architectures").set_defaults(run=_run_models)


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
            kw["type"] = flag_type(parse_group_weights)
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
    from ..models import resolve
    from ..training.recipe import prepare_run_folder, resumed_config, train_run

    from ..runtime import setup

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

def _add_alpha(sub) -> None:
    p = sub.add_parser("alpha", help="fit the tiny alpha net to one image and colorize it")
    p.add_argument("image")
    p.add_argument("--out", required=True, help="folder for the colorization, loss curve and history")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_run_alpha)

def _run_alpha(args) -> int:
    from ..images import open_image, save_atomic
    from ..inference import Colorizer
    from ..training.recipe import alpha_run

    model, side = alpha_run(args.image, args.out, steps=args.steps, lr=args.lr, seed=args.seed,
                            progress=not args.quiet)
    result = Colorizer(model, size=side, device="cpu").colorize(open_image(args.image))
    target = Path(args.out) / "colorized.png"
    save_atomic(result, target)
    print(f"fitted alpha for {args.steps} steps; wrote {target} and {Path(args.out) / 'loss.png'}")
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
    from ..models.export import export

    written = export(args.checkpoint, args.output, half=args.half, temperature=args.temperature,
                     chroma_gain=args.chroma_gain)
    print(f"wrote {' and '.join(str(p) for p in written)}")
    return 0

def _run_models(args) -> int:
    from ..models import list_models

    print("\n".join(list_models()))
    return 0
