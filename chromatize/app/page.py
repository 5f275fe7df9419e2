"""The web page (Gradio Blocks): four tabs and one API endpoint, all on app/jobs.py.

    Photo       upload -> before/after slider (grey | colour), full-resolution download;
                model, render size and colour strength apply to every tab
    Hints       click the grey photo to place a point in the picker's colour (or click a
                reference photo to take its colour: an eyedropper); points are listed and can be
                removed; the result is redrawn after every change; the reference photo also
                steers the colours as a whole
    Animation   GIF, WebP, APNG, MP4, AVI, MOV, MKV -> plays in the page, download, stabilizer on/off;
                its shots are listed (a click goes to a shot's first frame), a slider picks any
                frame, and a click on that frame places a point there (a keyframe hint, carried
                both ways within its shot)
    Batch       several files -> one zip
    /colorize   API: a file (+ optional hints JSON and reference photo) -> the colorized file of the same kind
"""
from __future__ import annotations

import functools
from pathlib import Path

import gradio as gr
from PIL import Image, ImageDraw

from ..inference.points import points_from_json
from ..images import open_image
from ..inference import DEFAULT_SIZE
from .jobs import (
    Limits,
    Models,
    UploadError,
    Workspace,
    check_upload,
    colorize_any,
    colorize_moving,
    colorize_photo,
    confidence_map,
    film_shots,
    frame_preview,
    frame_size,
    gray_preview,
    zip_outputs,
)

PREVIEW_SIDE = 1024                     # the clickable hint preview's long side, in pixels
DEFAULT_HINT_COLOR = "#c0392b"
UI = {"api_visibility": "undocumented"}     # the page's own events; /colorize is the documented API
RAW = {**UI, "preprocess": False}           # uploads reach us untouched, so a file that is no image gets
                                            # our one-line message, not Gradio's preprocessing traceback


def build_page(models: Models, workspace: Workspace, limits: Limits, *, card: str = "", figures: str = "") -> gr.Blocks:
    run = Jobs(models, workspace, limits)
    with gr.Blocks(title="chromatize") as page:
        gr.Markdown("# chromatize\nColour for black-and-white photos, GIFs and videos, on this computer.")
        if card:
            gr.Markdown(card, elem_id="model-card")
        if figures:
            with gr.Accordion("The figures behind it", open=False, elem_id="model-figures"):
                gr.Markdown(figures)
        with gr.Row():
            model = gr.Dropdown(models.names, value=models.names[0], label="Model", elem_id="model")
            size = gr.Slider(128, 1024, value=DEFAULT_SIZE, step=16, label="Render size (long side the model sees)")
            strength = gr.Slider(0, 2, value=1, step=0.05, label="Colour strength", elem_id="strength")
        knobs = [model, size, strength]
        with gr.Tab("Photo", elem_id="tab-photo"):
            _photo_tab(run, knobs)
        with gr.Tab("Hints", elem_id="tab-hints"):
            _hints_tab(run, knobs, workspace)
        with gr.Tab("Animation and video", elem_id="tab-video"):
            _moving_tab(run, knobs)
        with gr.Tab("Batch", elem_id="tab-batch"):
            _batch_tab(run, knobs)
        _api(run, knobs)
    return page


def _user_errors(job):
    """A user's mistake (UploadError) becomes gr.Error: a message in the page, no traceback."""
    @functools.wraps(job)
    def run(*args, **kw):
        try:
            return job(*args, **kw)
        except UploadError as err:
            raise gr.Error(str(err), print_exception=False) from None
    return run


class Jobs:
    """The page's event handlers, with the models, output folder and limits they share."""

    def __init__(self, models: Models, workspace: Workspace, limits: Limits):
        self.models, self.workspace, self.limits = models, workspace, limits

    def _colorizer(self, model, size, strength):
        return self.models.colorizer(model, size=int(size), strength=float(strength))

    @_user_errors
    def photo(self, path, show_confidence, model, size, strength):
        path = _path(path)
        if not path:
            return None, None, gr.update(value=None, visible=bool(show_confidence))
        check_upload(path, self.limits)
        colorizer = self._colorizer(model, size, strength)
        result = colorize_photo(path, colorizer, self.workspace)
        sure = str(confidence_map(path, colorizer, self.workspace)) if show_confidence else None
        return (str(gray_preview(path, self.workspace)), str(result)), str(result), \
            gr.update(value=sure, visible=bool(show_confidence))

    @_user_errors
    def hints(self, path, reference, points, model, size, strength):
        path, reference = _path(path), _path(reference)
        if not path:
            return None, [], None, None
        check_upload(path, self.limits)
        if reference:
            check_upload(reference, self.limits)
        hints = points_from_json(points, source="points")
        result = colorize_photo(path, self._colorizer(model, size, strength), self.workspace, hints=hints,
                                reference=reference or None)
        canvas = _draw_points(gray_preview(path, self.workspace), points, self.workspace)
        table = [[i + 1, p["x"], p["y"], p["color"]] for i, p in enumerate(points)]
        return str(canvas), table, str(result), str(result)

    @_user_errors
    def film(self, path):
        """A new upload: its shots, the frame slider over its frames, no points."""
        path = _path(path)
        if not path or check_upload(path, self.limits) == "photo":
            return [], gr.update(value=0, maximum=1), []
        rows = film_shots(path, self.workspace)
        last = max(1, rows[-1][1] + rows[-1][3] - 1) if rows else 1
        return rows, gr.update(value=0, minimum=0, maximum=last), []

    @_user_errors
    def frame(self, path, index, points):
        """The chosen frame in grey with the points placed on it drawn, and the points' table."""
        path = _path(path)
        table = [[i + 1, p["frame"], p["x"], p["y"], p["color"]] for i, p in enumerate(points)]
        if not path or check_upload(path, self.limits) == "photo":
            return None, table
        preview = frame_preview(path, int(index or 0), self.workspace)
        here = [p for p in points if p["frame"] == int(index or 0)]
        return str(_draw_points(preview, here, self.workspace)), table

    @_user_errors
    def moving(self, path, stabilize, points, model, size, strength, progress=gr.Progress(track_tqdm=True)):
        if not path:
            raise UploadError("upload a GIF, WebP, APNG or video first")
        kind = check_upload(path, self.limits)
        colorizer = self._colorizer(model, size, strength)
        if kind == "photo":
            result = colorize_photo(path, colorizer, self.workspace)
            return str(result), None, str(result)
        hints = points_from_json(points or [], source="points")
        result = colorize_moving(path, colorizer, self.workspace, stabilize=bool(stabilize), playable=True,
                                 hints=hints)
        if kind == "animation":
            return str(result), None, str(result)
        return None, str(result), str(result)

    @_user_errors
    def batch(self, paths, model, size, strength, progress=gr.Progress()):
        if not paths:
            raise UploadError("upload some photos first")
        colorizer = self._colorizer(model, size, strength)
        done, failed = [], []
        for path in progress.tqdm(paths, desc="colorizing"):
            try:
                done.append(colorize_any(path, colorizer, self.workspace, self.limits))
            except UploadError as err:
                failed.append(str(err))
        if not done:
            raise UploadError("no file could be colorized: " + "; ".join(failed))
        lines = [f"{len(done)} of {len(paths)} files colorized."] + [f"- {m}" for m in failed]
        return str(zip_outputs(done, self.workspace)), "\n".join(lines)

    @_user_errors
    def api(self, path, hints=None, reference=None, stabilize=True, model=None, size=DEFAULT_SIZE, strength=1.0):
        """/colorize: everything but the file may be left out (None: the default model, no hints)."""
        model = model or self.models.names[0]
        stabilize = True if stabilize is None else stabilize
        size, strength = size or DEFAULT_SIZE, 1.0 if strength is None else strength
        if not path:
            raise UploadError("no file given")
        try:
            points = points_from_json(hints, source="hints") if hints else []
        except ValueError as err:
            raise UploadError(str(err)) from None
        if reference:
            check_upload(reference, self.limits)
        return str(colorize_any(path, self._colorizer(model, size, strength), self.workspace, self.limits,
                                hints=points, reference=reference or None, stabilize=bool(stabilize)))


def _photo_tab(run: Jobs, knobs) -> None:
    with gr.Row():
        source = gr.Image(type="filepath", image_mode=None, label="Black-and-white photo", elem_id="photo-in", height=420)
        slider = gr.ImageSlider(type="filepath", label="Before / after", elem_id="photo-out", height=420)
    with gr.Row():
        download = gr.File(label="Download (full resolution)", elem_id="photo-download")
        show = gr.Checkbox(value=False, label="Show where the model is sure of its colour", elem_id="photo-show-sure")
    sure = gr.Image(type="filepath", label="Certainty (white = sure, black = guessing)", elem_id="photo-sure",
                    height=300, visible=False, interactive=False)
    for trigger in (source, show, *knobs):
        trigger.change(run.photo, [source, show, *knobs], [slider, download, sure], **RAW)


def _hints_tab(run: Jobs, knobs, workspace: Workspace) -> None:
    points = gr.State([])
    with gr.Row():
        source = gr.Image(type="filepath", image_mode=None, label="Black-and-white photo", elem_id="hints-in", height=300)
        reference = gr.Image(type="filepath", image_mode=None, label="Reference photo (optional): click it to take a colour",
                             elem_id="hints-reference", height=300)
    with gr.Row():
        color = gr.ColorPicker(value=DEFAULT_HINT_COLOR, label="Colour of the next point", elem_id="hint-color")
        number = gr.Number(value=1, precision=0, minimum=1, label="Point number", elem_id="hint-number")
        remove = gr.Button("Remove point", elem_id="hint-remove")
        clear = gr.Button("Clear points", elem_id="hint-clear")
    with gr.Row():
        canvas = gr.Image(type="filepath", label="Click to place a point", interactive=False,
                          elem_id="hints-canvas", height=420)
        result = gr.Image(type="filepath", label="Result", interactive=False, elem_id="hints-out", height=420)
    table = gr.Dataframe(headers=["#", "x", "y", "colour"], value=[], interactive=False, label="Points",
                         elem_id="hints-table")
    download = gr.File(label="Download (full resolution)", elem_id="hints-download")
    inputs, outputs = [source, reference, points, *knobs], [canvas, table, result, download]
    source.change(lambda: [], None, points, **UI).then(run.hints, inputs, outputs, **RAW)
    canvas.select(_add_point, [source, points, color], points, **RAW).then(run.hints, inputs, outputs, **RAW)
    remove.click(_remove_point, [points, number], points, **UI).then(run.hints, inputs, outputs, **RAW)
    clear.click(lambda: [], None, points, **UI).then(run.hints, inputs, outputs, **RAW)
    reference.change(run.hints, inputs, outputs, **RAW)
    reference.select(_eyedropper, [reference], color, **RAW)


def _add_point(path, points: list, color: str, evt: gr.SelectData) -> list:
    """A click on the preview (long side at most PREVIEW_SIDE) -> a point in the photo's pixels."""
    path = _path(path)
    if not path or evt.index is None:
        return points
    width, height = open_image(path).size
    scale = max(width, height) / min(PREVIEW_SIDE, max(width, height))
    x = min(max(evt.index[0] * scale, 0), width - 1)
    y = min(max(evt.index[1] * scale, 0), height - 1)
    return [*points, {"x": round(x, 1), "y": round(y, 1), "color": _hex(color)}]


def _remove_point(points: list, number) -> list:
    index = int(number or 0) - 1
    if not 0 <= index < len(points):
        raise gr.Error(f"there is no point {number}; the list has {len(points)}", print_exception=False)
    return points[:index] + points[index + 1:]


def _eyedropper(path, evt: gr.SelectData) -> str:
    """The reference photo's colour at the clicked pixel (its display and the file share coordinates)."""
    img = open_image(_path(path)).convert("RGB")
    x = min(max(int(evt.index[0]), 0), img.width - 1)
    y = min(max(int(evt.index[1]), 0), img.height - 1)
    return "#%02x%02x%02x" % img.getpixel((x, y))


def _draw_points(gray: Path, points: list, workspace: Workspace) -> Path:
    """The grey photo at preview size with each point drawn as a disc in its colour, numbered."""
    img = Image.open(gray).convert("RGB")
    scale = min(1.0, PREVIEW_SIDE / max(img.size))
    if scale < 1:
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.BILINEAR)
    draw = ImageDraw.Draw(img)
    r = max(4, round(max(img.size) / 80))
    for i, p in enumerate(points):
        x, y = p["x"] * scale, p["y"] * scale
        draw.ellipse((x - r, y - r, x + r, y + r), fill=p["color"], outline="white", width=2)
        draw.text((x + r + 2, y - r), str(i + 1), fill="white")
    target = workspace.folder() / "points.png"
    img.save(target)
    return target


def _moving_tab(run: Jobs, knobs) -> None:
    points = gr.State([])
    with gr.Row():
        source = gr.File(label="GIF, WebP, APNG or video", elem_id="video-in",
                         file_types=[".gif", ".webp", ".png", ".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"])
        with gr.Column():
            stabilize = gr.Checkbox(value=True, label="Temporal stabilizer (steady colour from frame to frame)",
                                    elem_id="video-stabilize")
            go = gr.Button("Colorize", variant="primary", elem_id="video-go")
    with gr.Accordion("Shots, and colour points on any frame (optional)", open=True):
        shots = gr.Dataframe(headers=["shot", "first frame", "time (s)", "frames"], value=[], interactive=False,
                             label="Shots (click one to go to its first frame)", elem_id="video-shots")
        with gr.Row():
            frame = gr.Slider(0, 1, value=0, step=1, label="Frame", elem_id="video-frame")
            color = gr.ColorPicker(value=DEFAULT_HINT_COLOR, label="Colour of the next point", elem_id="video-color")
            clear = gr.Button("Clear points", elem_id="video-clear")
        canvas = gr.Image(type="filepath", label="Click the frame to place a point on it (carried along its shot)",
                          interactive=False, elem_id="video-canvas", height=360)
        table = gr.Dataframe(headers=["#", "frame", "x", "y", "colour"], value=[], interactive=False,
                             label="Points", elem_id="video-points")
    with gr.Row():
        animation = gr.Image(type="filepath", label="Animation", interactive=False, elem_id="video-gif")
        video = gr.Video(label="Video", interactive=False, elem_id="video-out")
    download = gr.File(label="Download", elem_id="video-download")
    view = (run.frame, [source, frame, points], [canvas, table])
    source.change(run.film, [source], [shots, frame, points], **UI).then(*view, **UI)
    frame.change(*view, trigger_mode="always_last", **UI)
    shots.select(_shot_start, None, frame, **UI).then(*view, **UI)
    canvas.select(_add_frame_point, [source, frame, points, color], points, **RAW).then(*view, **UI)
    clear.click(lambda: [], None, points, **UI).then(*view, **UI)
    go.click(run.moving, [source, stabilize, points, *knobs], [animation, video, download], **UI)


def _shot_start(evt: gr.SelectData) -> int:
    """A click on a row of the shots table -> that shot's first frame."""
    return int(evt.row_value[1]) if evt.row_value else 0


def _add_frame_point(path, index, points: list, color: str, evt: gr.SelectData) -> list:
    """A click on the frame's preview -> a point on that frame, in the frame's own pixels."""
    path = _path(path)
    if not path or evt.index is None:
        return points
    width, height = frame_size(path)
    scale = max(width, height) / min(PREVIEW_SIDE, max(width, height))
    x = min(max(evt.index[0] * scale, 0), width - 1)
    y = min(max(evt.index[1] * scale, 0), height - 1)
    return [*points, {"frame": int(index or 0), "x": round(x, 1), "y": round(y, 1), "color": _hex(color)}]


def _batch_tab(run: Jobs, knobs) -> None:
    files = gr.File(file_count="multiple", label="Photos (and GIFs or videos)", elem_id="batch-in")
    go = gr.Button("Colorize all", variant="primary", elem_id="batch-go")
    report = gr.Markdown(elem_id="batch-report")
    archive = gr.File(label="Download all (zip)", elem_id="batch-zip")
    go.click(run.batch, [files, *knobs], [archive, report], **UI)


def _api(run: Jobs, knobs) -> None:
    """/colorize: file, hints (JSON list of {"x", "y", "color"}), reference photo -> file."""
    with gr.Row(visible=False):
        source = gr.File(label="file")
        hints = gr.Textbox(value="", label="hints")
        reference = gr.File(label="reference")
        stabilize = gr.Checkbox(value=True, label="stabilize")
        out = gr.File(label="colorized")
        go = gr.Button("api")
    go.click(run.api, [source, hints, reference, stabilize, *knobs], out, api_name="colorize")


def _path(value) -> str | None:
    """An image input's value: a path, or (preprocess=False) Gradio's file payload."""
    if isinstance(value, dict):
        return value.get("path")
    return value or None


def _hex(color: str) -> str:
    """Gradio's picker may give '#rrggbb', 'rgb(r, g, b)' or 'rgba(...)'; -> '#rrggbb'."""
    color = (color or DEFAULT_HINT_COLOR).strip()
    if color.startswith("rgb"):
        values = [float(v) for v in color[color.index("(") + 1:color.index(")")].split(",")[:3]]
        return "#%02x%02x%02x" % tuple(round(v) for v in values)
    return color if color.startswith("#") else "#" + color
