"""`chromatize evaluate` (photos) and `evaluate-video` (clips): evaluation/ does the scoring."""
from __future__ import annotations

from pathlib import Path

from ..inference import DEFAULT_SIZE
from ..media.stabilize import TEMPORAL_MODES


def add(sub) -> None:
    _add_evaluate(sub)
    _add_evaluate_video(sub)


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
    from ..evaluation.photos import EvalOptions, compare_models, format_table, list_photos

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
    from ..evaluation.clips import evaluate_clip, format_clip_table
    from ..inference import load

    colorizer = load(args.model, size=args.size, device=args.device)
    modes = tuple(dict.fromkeys(args.temporal or ["off", "flow"]))
    summary = evaluate_clip(colorizer, Path(args.clip), modes=modes, max_frames=args.max_frames,
                            out_dir=Path(args.out) if args.out else None, progress=not args.quiet)
    print(format_clip_table(summary))
    return 0
