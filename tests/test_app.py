"""The web page: `chromatize serve` in a subprocess, driven through its API (gradio_client) and in a
real browser (Playwright driving Debian's Chromium headless; .ci/run installs it, see the README).

Screenshots of each tab go to $CHROMATIZE_SCREENSHOTS when set (scripts/screenshots.sh points it
at docs/), else to the test's temporary folder.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from chromatize.color import rgb_to_lab

gradio_client = pytest.importorskip("gradio_client")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CHROMIUM = "/usr/bin/chromium"
BROWSER_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
MAX_UPLOAD_MB = 1.0
SERVER_MEMORY_LIMIT_MB = 2048           # peak RSS the server may reach over the whole module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A running page: (url, process, its temporary folder)."""
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, "-m", "chromatize", "serve", "--port", str(port),
                             "--max-upload-mb", str(MAX_UPLOAD_MB), "--max-frames", "200", "--concurrency", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    line, deadline = "", time.time() + 120
    while "the page is at" not in line:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"the server did not start: {line}")
    root = Path(re.search(r"outputs in (\S+),", line).group(1))
    url = f"http://127.0.0.1:{port}/"
    yield url, proc, root
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


@pytest.fixture(scope="module")
def client(server):
    return gradio_client.Client(server[0], verbose=False)


@pytest.fixture(scope="module")
def small_photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("photos") / "cat.jpg"
    Image.open(EXAMPLES / "chelsea.jpg").convert("L").save(path, quality=92)
    return path


def _call(client, path, *, hints="", reference=None, strength=1.0):
    ref = gradio_client.handle_file(str(reference)) if reference else None
    return Path(client.predict(gradio_client.handle_file(str(path)), hints=hints, reference=ref, stabilize=True,
                               model="default", size=256, strength=strength, api_name="/colorize"))


def _chroma(img: Image.Image) -> float:
    lab = _lab(np.asarray(img.convert("RGB")))
    return float(np.hypot(lab[..., 1], lab[..., 2]).mean())


def _lab(rgb: np.ndarray) -> np.ndarray:
    import torch

    t = torch.from_numpy(rgb.astype(np.float32) / 255).permute(2, 0, 1)[None]
    return rgb_to_lab(t)[0].permute(1, 2, 0).numpy()


def test_api_colorizes_a_photo_at_its_size(client, small_photo):
    short = Path(client.predict(gradio_client.handle_file(str(small_photo)), api_name="/colorize"))  # the file alone
    assert Image.open(short).size == Image.open(small_photo).size and _chroma(Image.open(short)) > 2.0
    out = _call(client, small_photo)
    img = Image.open(out)
    assert img.size == Image.open(small_photo).size
    assert _chroma(img) > 2.0 > _chroma(Image.open(small_photo))
    grey = _call(client, small_photo, strength=0.0)
    assert _chroma(Image.open(grey)) < 1.0               # strength 0 is grey: the knob reaches the model


def test_api_gives_a_gif_back_with_its_frames_and_timing(client):
    source = EXAMPLES / "landscape-pan.gif"
    out = _call(client, source)
    assert out.suffix == ".gif"
    with Image.open(source) as a, Image.open(out) as b:
        assert b.n_frames == a.n_frames
        durations = []
        for img in (a, b):
            durations.append([img.seek(i) or img.info.get("duration") for i in range(img.n_frames)])
        assert durations[0] == durations[1]


def test_api_gives_a_video_back_in_its_container_with_its_frames(client, tmp_path):
    from chromatize.media.video_read import frame_count
    from chromatize.media.video_write import write_frames_video

    clip = tmp_path / "clip.avi"
    write_frames_video([np.full((64, 96, 3), 40 + 5 * i, np.uint8) for i in range(20)], [40] * 20, clip)
    out = _call(client, clip)
    assert out.suffix == ".avi" and frame_count(out) == 20


def test_api_hints_move_the_colour_at_the_point(client, small_photo):
    x, y = 120, 150
    auto = np.asarray(Image.open(_call(client, small_photo)).convert("RGB"))
    hinted = np.asarray(Image.open(_call(client, small_photo, hints=json.dumps(
        [{"x": x, "y": y, "color": "#2e86c1"}]))).convert("RGB"))
    want = _lab(np.array([[[0x2e, 0x86, 0xc1]]], np.uint8))[0, 0, 1:]
    dist = [np.hypot(*(_lab(img[y:y + 1, x:x + 1])[0, 0, 1:] - want)) for img in (auto, hinted)]
    assert dist[1] < dist[0] - 5, dist


def test_api_refuses_junk_and_bad_hints_in_one_line(client, tmp_path, small_photo):
    junk = tmp_path / "notes.png"
    junk.write_text("not an image")
    with pytest.raises(Exception, match="notes.png: not a photo"):
        _call(client, junk)
    with pytest.raises(Exception, match="outside the 451x300"):
        _call(client, small_photo, hints=json.dumps([{"x": 999, "y": 5, "color": "#ff0000"}]))
    with pytest.raises(Exception, match="not #rrggbb"):
        _call(client, small_photo, hints=json.dumps([{"x": 9, "y": 5, "color": "reddish"}]))
    long_gif = tmp_path / "long.gif"
    frames = [Image.new("L", (8, 8), v) for v in range(201)]
    frames[0].save(long_gif, save_all=True, append_images=frames[1:], duration=40)
    with pytest.raises(Exception, match="long.gif: 201 frames is over the limit of 200"):
        _call(client, long_gif)


def test_twenty_concurrent_requests_all_succeed_within_the_memory_limit(server, client, small_photo):
    _, proc, _ = server
    with ThreadPoolExecutor(20) as pool:
        outs = list(pool.map(lambda _: _call(client, small_photo), range(20)))
    assert all(Image.open(o).size == (451, 300) for o in outs)
    peak_mb = _peak_rss_mb(proc.pid)
    assert peak_mb < SERVER_MEMORY_LIMIT_MB, peak_mb


def _peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


# --- in a real browser -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not os.environ.get("CHROMATIZE_REQUIRE_BROWSER"):
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.goto(server[0])
    pg.wait_for_selector("#photo-in")
    yield pg
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("CHROMATIZE_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _download(pg, selector: str, folder: Path) -> Path:
    link = pg.locator(f"{selector} a[download]").first
    link.wait_for(timeout=60_000)
    with pg.expect_download() as info:
        link.click()
    target = folder / info.value.suggested_filename
    info.value.save_as(target)
    return target


def test_browser_photo_tab(page, small_photo, tmp_path, shots):
    page.locator("#photo-in input[type=file]").set_input_files(str(small_photo))
    out = _download(page, "#photo-download", tmp_path)
    img = Image.open(out)
    assert img.size == Image.open(small_photo).size and _chroma(img) > 2.0
    page.locator("#photo-out img").first.wait_for()
    page.screenshot(path=str(shots / "web-photo.png"), full_page=True)
    page.locator("#photo-show-sure input[type=checkbox]").check()
    page.locator("#photo-sure img").first.wait_for(timeout=60_000)          # the certainty view appears
    page.screenshot(path=str(shots / "web-confidence.png"), full_page=True)


def _pick_color(page, hex_color: str, *, picker: str = "#hint-color") -> None:
    page.locator(f"{picker} button.dialog-button").click()
    page.locator(f"{picker} input[type=text]").fill(hex_color)
    page.locator(f"{picker} input[type=text]").press("Enter")
    page.locator("h1").first.click()                               # a click outside closes the picker


def test_browser_hints_tab_two_points_move_the_colour(page, small_photo, tmp_path, shots):
    page.get_by_role("tab", name="Hints").click()
    page.locator("#hints-in input[type=file]").set_input_files(str(small_photo))
    auto = _download(page, "#hints-download", tmp_path / "auto")
    canvas = page.locator("#hints-canvas img").first
    points = [(0.27, 0.5, "#2e86c1"), (0.75, 0.2, "#27ae60")]      # (x, y as shares of the photo, colour)
    for fx, fy, hex_color in points:
        _pick_color(page, hex_color)
        box = canvas.bounding_box()
        canvas.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
        page.locator("#hints-table").get_by_text(hex_color).filter(visible=True).first.wait_for(timeout=60_000)
    page.wait_for_function("() => !document.querySelector('#hints-out .wrap.generating')")
    hinted = _download(page, "#hints-download", tmp_path / "hinted")
    # where the page put each point (the preview's box may be letterboxed): the table's x, y, colour
    recorded = re.findall(r"([\d.]+)\s+([\d.]+)\s+(#[0-9a-f]{6})", page.locator("#hints-table").inner_text())
    assert [c for _, _, c in recorded] == [c for _, _, c in points], recorded
    for x, y, hex_color in recorded:
        x, y = int(float(x)), int(float(y))
        want = _lab(np.array([[[int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]]], np.uint8))[0, 0, 1:]
        dist = [np.hypot(*(_lab(np.asarray(Image.open(p).convert("RGB"))[y:y + 1, x:x + 1])[0, 0, 1:] - want))
                for p in (auto, hinted)]
        assert dist[1] < dist[0] - 5, (hex_color, dist)
    page.screenshot(path=str(shots / "web-hints.png"), full_page=True)


def test_browser_animation_tab_gif(page, tmp_path, shots):
    page.get_by_role("tab", name="Animation and video").click()
    source = EXAMPLES / "landscape-pan.gif"
    page.locator("#video-in input[type=file]").set_input_files(str(source))
    page.locator("#video-go").click()
    out = _download(page, "#video-download", tmp_path)
    with Image.open(out) as img, Image.open(source) as src:
        assert img.n_frames == src.n_frames and img.size == src.size
    page.locator("#video-gif img").first.wait_for()
    page.screenshot(path=str(shots / "web-animation.png"), full_page=True)


def _two_shot_video(path: Path) -> Path:
    """Pans over two example photos with a hard cut between them, 10 frames each, 320x240, grey."""
    import av

    with av.open(str(path), "w") as box:
        stream = box.add_stream("libx264", rate=10, options={"crf": "12"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for name in ("meadow.jpg", "chelsea.jpg"):
            photo = np.asarray(Image.open(EXAMPLES / name).convert("L").convert("RGB").resize((400, 240)))
            for i in range(10):
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(photo[:, i * 8:i * 8 + 320]), format="rgb24")
                box.mux(stream.encode(frame))
        box.mux(stream.encode(None))
    return path


def test_browser_video_tab_lists_shots_and_a_point_on_a_later_frame_colours_it(page, client, tmp_path, shots):
    import av

    source = _two_shot_video(tmp_path / "two-shots.mp4")
    page.get_by_role("tab", name="Animation and video").click()
    page.locator("#video-in input[type=file]").set_input_files(str(source))
    table = page.locator("#video-shots")
    table.get_by_text("10", exact=True).filter(visible=True).first.wait_for(timeout=60_000)
    rows = re.findall(r"^\s*(\d+)\s+(\d+)\s+([\d.]+)\s+(\d+)\s*$", table.inner_text(), re.M)
    assert [(r[0], r[1], r[3]) for r in rows] == [("1", "0", "10"), ("2", "10", "10")], table.inner_text()
    table.get_by_text("2", exact=True).filter(visible=True).first.click()   # shot 2: the slider goes to frame 10
    number = page.locator("#video-frame input[type=number]")
    page.wait_for_function("() => document.querySelector('#video-frame input[type=number]').value === '10'")
    number.fill("14")                                                 # a frame in the middle of shot 2
    number.press("Enter")
    page.wait_for_timeout(500)
    page.locator("#video-canvas img").first.wait_for(timeout=60_000)
    _pick_color(page, "#2e86c1", picker="#video-color")
    canvas = page.locator("#video-canvas img").first
    box = canvas.bounding_box()
    canvas.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.5})
    points = page.locator("#video-points")
    points.get_by_text("#2e86c1").filter(visible=True).first.wait_for(timeout=60_000)
    frame, x, y, _ = re.search(r"^\s*1\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+(#[0-9a-f]{6})", points.inner_text(), re.M).groups()
    assert int(frame) == 14, points.inner_text()
    page.locator("#video-go").click()
    hinted = _download(page, "#video-download", tmp_path / "hinted")
    auto = _call(client, source)
    want = _lab(np.array([[[0x2e, 0x86, 0xc1]]], np.uint8))[0, 0, 1:]
    x, y = int(float(x)), int(float(y))

    def ab(path, index):
        with av.open(str(path)) as box:
            frame = next(f for i, f in enumerate(box.decode(video=0)) if i == index)
        return _lab(frame.to_ndarray(format="rgb24")[y - 2:y + 3, x - 2:x + 3]).reshape(-1, 3)[:, 1:].mean(0)

    assert np.hypot(*(ab(hinted, 14) - want)) < np.hypot(*(ab(auto, 14) - want)) - 5
    assert np.abs(ab(hinted, 4) - ab(auto, 4)).max() < 2          # shot 1 is left as it was
    page.screenshot(path=str(shots / "web-video-points.png"), full_page=True)


def test_browser_batch_tab_zip(page, small_photo, tmp_path, shots):
    page.get_by_role("tab", name="Batch").click()
    second = tmp_path / "astronaut.jpg"
    shutil.copy(EXAMPLES / "astronaut.jpg", second)
    page.locator("#batch-in input[type=file]").set_input_files([str(small_photo), str(second)])
    page.locator("#batch-go").click()
    out = _download(page, "#batch-zip", tmp_path)
    import zipfile

    assert sorted(zipfile.ZipFile(out).namelist()) == ["astronaut_color.jpg", "cat_color.jpg"]
    page.screenshot(path=str(shots / "web-batch.png"), full_page=True)


def test_browser_shows_errors_for_a_text_file_and_an_oversize_upload(page, tmp_path, shots):
    text = tmp_path / "letter.png"
    text.write_text("Dear diary")
    page.locator("#photo-in input[type=file]").set_input_files(str(text))
    page.get_by_text(re.compile("letter.png: not a photo")).first.wait_for(timeout=30_000)
    big = tmp_path / "huge.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (1200, 1200), np.uint8)).save(big)
    assert big.stat().st_size > MAX_UPLOAD_MB * 2**20
    page.reload()
    page.locator("#photo-in input[type=file]").set_input_files(str(big))
    page.get_by_text(re.compile(r"(too large|exceed|over the upload limit)", re.I)).first.wait_for(timeout=30_000)
    page.screenshot(path=str(shots / "web-error.png"))


def test_server_removes_its_folder_on_exit(server):
    url, proc, root = server
    assert root.exists()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    assert not root.exists()
