"""`chromatize colorize`: photos, animations and videos, files and folders (media/batch.py does the work);
`chromatize shots`: the shots of a video or animation (media/shot_list.py)."""
from __future__ import annotations

import argparse
import sys

from ..fileio import printable
from ..images import DEFAULT_MAX_MEGAPIXELS
from ..inference import DEFAULT_SIZE
from ..media.stabilize import TEMPORAL_MODES
from ._args import MAX_SIZE, number


def add(sub) -> None:
    _add_colorize(sub)
    _add_shots(sub)


def _add_shots(sub) -> None:
    p = sub.add_parser("shots", help="list the shots of a video or animation: where it cuts, as colorizing "
                                     "sees it")
    p.add_argument("input", metavar="FILE", help="a video or an animated GIF/WebP/PNG")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--thumbnails", metavar="DIR", help="write each shot's first frame into DIR as NAME-shot-001.jpg, ...")
    p.add_argument("--size", type=number(int, 16, MAX_SIZE), default=DEFAULT_SIZE,
                   help="long side the frames are seen at (colorize's --size; default %(default)s)")
    p.set_defaults(run=_run_shots)


def _run_shots(args) -> int:
    import json
    from pathlib import Path

    from ..media.shot_list import list_shots
    from ..media.shots import shot_table

    shots, thumbs = list_shots(Path(args.input), size=args.size,
                               thumbnails=Path(args.thumbnails) if args.thumbnails else None)
    if args.json:
        rows = [{**shot.as_dict(), **({"thumbnail": str(t)} if thumbs else {})}
                for shot, t in zip(shots, thumbs or [None] * len(shots))]
        print(json.dumps({"file": args.input, "shots": rows}, indent=1))
    else:
        print(shot_table(shots, thumbs or None))
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
    hints.add_argument("--hint", action="append", default=[], metavar="[KEY:]X,Y,COLOR",
                       help="pixel X,Y (of the full image) is COLOR (#rrggbb); on a video or animation KEY names "
                            "the keyframe: a frame number (240:X,Y,COLOR) or seconds (9.6s:X,Y,COLOR), default the "
                            "first frame; repeatable")
    hints.add_argument("--hints", metavar="FILE", help='JSON list of {"x": .., "y": .., "color": "#rrggbb"} with '
                                                       'an optional "frame" or "time", and for videos '
                                                       '{"reference": PHOTO, "shot": N} or {"reference": PHOTO, '
                                                       '"from": S, "to": S}')
    hints.add_argument("--reference", metavar="PHOTO", help="a colour photo whose colours to lean towards")
    media = p.add_argument_group("animations and videos")
    media.add_argument("--temporal", choices=TEMPORAL_MODES, default="flow",
                       help="keep colours steady along the motion (flow, default) or colorize each frame alone")
    media.add_argument("--start", type=number(float, 0), help="video: first second to colorize")
    media.add_argument("--end", type=number(float, 0), help="video: second to stop at")
    media.add_argument("--crf", type=number(int, 0, 51), default=18,
                       help="video quality 0-51, lower is better (default %(default)s)")
    media.add_argument("--restart", action="store_true",
                       help="video: start over, ignoring what a killed run of the same command finished")
    media.add_argument("--dither", action=argparse.BooleanOptionalAction, default=True,
                       help="dither GIF output (default on: no banding in skies)")
    p.set_defaults(run=_run_colorize)

def _run_colorize(args) -> int:
    from ..inference.points import read_guidance
    from ..images import set_max_megapixels
    from ..inference import load
    from ..media.batch import MediaOptions, plan_jobs, run_jobs
    from ..metadata import Policy
    from ..runtime import device_for, setup

    if args.start is not None and args.end is not None and args.end <= args.start:
        raise ValueError(f"--end ({args.end:g}) must be after --start ({args.start:g})")
    set_max_megapixels(args.max_megapixels)
    dist = setup(args.device)                      # under torchrun: each rank takes its share of the files
    colorizer = load(args.model, size=args.size, device=device_for(dist, args.device), batch_size=args.batch_size,
                     temperature=args.temperature, runtime=args.runtime, skin=args.skin)
    colorizer.metadata = Policy(keep=not args.strip_metadata, mark=args.provenance)
    hints, references = read_guidance(args.hint, args.hints)
    if hints:
        colorizer.require_hints("colour hints")
    if references:
        colorizer.require_hints("reference photos")
    palette = colorizer.reference_hint(args.reference) if args.reference else None   # read once; fails here
    jobs, problems = plan_jobs(args.inputs, args.out_dir, fmt=args.format)
    for _, message in problems:
        print(f"chromatize: error: {printable(message)}", file=sys.stderr)
    if not jobs and not problems:
        raise ValueError(f"no images, animations or videos found in {', '.join(args.inputs)}")
    media = MediaOptions(temporal=args.temporal, start=args.start, end=args.end, crf=args.crf, dither=args.dither,
                         hints=hints, reference=palette, references=references, confidence=args.confidence,
                         restart=args.restart)
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
