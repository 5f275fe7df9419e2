"""What a file carries survives colorizing: EXIF, XMP, IPTC, ICC, dpi, text, bit depth; and the
output says it was colorized. Each output is read back with readers of its own (Pillow's getexif
and IptcImagePlugin, the XMP text, tifffile, PyAV), field by field."""
import io
import struct
import xml.etree.ElementTree as ET
from fractions import Fraction

import av
import numpy as np
import pytest
import tifffile
import torch
from PIL import Image, ImageCms, IptcImagePlugin
from PIL.PngImagePlugin import PngInfo

from chromatize.cli import main
from chromatize.images import open_image, save_colorized, to_lightness
from chromatize.inference import load
from chromatize.metadata import DIGITAL_SOURCE_TYPE, Policy

from conftest import scene

GPS = {1: "N", 2: (52.0, 30.0, 15.0), 3: "E", 4: (13.0, 24.0, 0.0)}
IPTC = b"\x1c\x02\x00\x00\x02\x00\x04" + b"\x1c\x02\x50\x00\x0aAnn Artist" + b"\x1c\x02\x74\x00\x0b(c) Archive"
XMP_IN = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
          b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:rights><rdf:Alt>'
          b'<rdf:li xml:lang="x-default">(c) Archive</rdf:li></rdf:Alt></dc:rights></rdf:Description>'
          b'</rdf:RDF></x:xmpmeta>')
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"


def archive_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif.update({0x013B: "Ann Artist", 0x8298: "(c) Archive", 0x010E: "A portrait, 1931",
                 0x0132: "1931:05:01 10:00:00", 0x010F: "Leica", 0x0110: "II", 0x0112: orientation})
    exif.get_ifd(0x8769).update({0x9003: "1931:05:01 10:00:00", 0x9286: b"ASCII\x00\x00\x00studio"})
    exif.get_ifd(0x8825).update(GPS)
    return exif


def grey_scan(size=(64, 48)) -> Image.Image:
    return scene(3, size=size).convert("L")


def assert_exif_kept(img: Image.Image, *, size: tuple[int, int]) -> None:
    exif = img.getexif()
    assert exif[0x013B] == "Ann Artist" and exif[0x8298] == "(c) Archive"
    assert exif[0x010E] == "A portrait, 1931" and exif[0x0132] == "1931:05:01 10:00:00"
    assert exif[0x010F] == "Leica" and exif[0x0110] == "II"
    assert exif.get(0x0112, 1) == 1
    sub = exif.get_ifd(0x8769)
    assert sub[0x9003] == "1931:05:01 10:00:00"
    assert (sub[0xA002], sub[0xA003], sub[0xA001]) == (*size, 1)          # remade for the new pixels
    assert {k: tuple(float(x) for x in v) if isinstance(v, tuple) else v
            for k, v in exif.get_ifd(0x8825).items()} == GPS


def assert_marked(img: Image.Image, xmp: bytes, software: str = "chromatize") -> ET.Element:
    assert img.getexif()[0x0131].startswith(software)
    root = ET.fromstring(xmp.decode("utf-8").split("?>", 1)[1].rsplit("<?xpacket", 1)[0])
    desc = root.find(f"{RDF}RDF/{RDF}Description")
    assert desc.get("{http://iptc.org/std/Iptc4xmpExt/2008-02-29/}DigitalSourceType") == DIGITAL_SOURCE_TYPE
    events = root.findall(f".//{{http://ns.adobe.com/xap/1.0/mm/}}History/{RDF}Seq/{RDF}li")
    agent = events[-1].find("{http://ns.adobe.com/xap/1.0/sType/ResourceEvent#}softwareAgent").text
    assert agent.startswith("chromatize ") and agent == img.getexif()[0x0131]
    return root


def test_jpeg_keeps_exif_xmp_iptc_dpi_comment_and_is_marked(tmp_path, tiny_model_file):
    source = tmp_path / "scan.jpg"
    exif = archive_exif(orientation=6)
    grey_scan().save(source, exif=exif, dpi=(600, 600), xmp=XMP_IN, comment=b"box 12",
                     extra=_app13(IPTC))
    before = source.read_bytes()
    assert main(["colorize", str(source), "-o", str(tmp_path / "out.jpg"), "--model", str(tiny_model_file), "-q"]) == 0
    assert source.read_bytes() == before
    out = Image.open(tmp_path / "out.jpg")
    assert out.size == (48, 64)                                               # rotated upright
    assert_exif_kept(out, size=(48, 64))
    assert out.info["dpi"] == (600, 600) and out.info["comment"] == b"box 12"
    iptc = IptcImagePlugin.getiptcinfo(out)
    assert iptc[(2, 80)] == b"Ann Artist" and iptc[(2, 116)] == b"(c) Archive"
    root = assert_marked(out, out.info["xmp"])
    assert b"(c) Archive" in ET.tostring(root)                                # the input's XMP kept


def _app13(iptc: bytes) -> bytes:
    body = (b"Photoshop 3.0\x00" + b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + iptc +
            b"\x00" * (len(iptc) % 2))
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


def test_png_keeps_text_chunks_exif_xmp_dpi_and_sixteen_bits(tmp_path, tiny_model_file):
    rng = np.random.default_rng(0)
    grey16 = (rng.random((40, 56)) * 65535).astype(np.uint16)
    info = PngInfo()
    info.add_text("Title", "Harvest, 1931")
    info.add_itxt("Author", "Łucja Nowak", lang="pl")
    info.add_text("Comment", "x" * 2000, zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP_IN.decode())
    source = tmp_path / "scan.png"
    Image.fromarray(grey16).save(source, pnginfo=info, exif=archive_exif(), dpi=(1200, 1200))
    assert main(["colorize", str(source), "--model", str(tiny_model_file), "-q"]) == 0
    target = tmp_path / "scan_color.png"
    assert target.read_bytes()[24] == 16                                       # IHDR bit depth
    out = Image.open(target)
    assert out.text["Title"] == "Harvest, 1931" and out.text["Author"] == "Łucja Nowak"
    assert out.text["Comment"] == "x" * 2000
    assert tuple(round(d) for d in out.info["dpi"]) == (1200, 1200)
    assert_exif_kept(out, size=(56, 40))
    assert_marked(out, out.info["xmp"].encode() if isinstance(out.info["xmp"], str) else out.info["xmp"])


def test_sixteen_bit_grey_tiff_gives_sixteen_bit_colour_with_its_tags(tmp_path, tiny_model_file):
    rng = np.random.default_rng(1)
    grey16 = np.clip(np.linspace(0, 65535, 60 * 80).reshape(60, 80) + rng.normal(0, 40, (60, 80)), 0, 65535)
    source = tmp_path / "master.tif"
    tifffile.imwrite(source, grey16.astype(np.uint16), resolution=(600, 600), resolutionunit=2, metadata=None,
                     description="Portrait of the miller", datetime="1931:05:01 10:00:00",
                     extratags=[(315, "s", 0, "Ann Artist", True), (33432, "s", 0, "(c) Archive", True),
                                (700, 1, len(XMP_IN), XMP_IN, True), (33723, 7, len(IPTC), IPTC, True)])
    assert main(["colorize", str(source), "-o", str(tmp_path / "out") + "/", "--model", str(tiny_model_file),
                 "-q"]) == 0
    with tifffile.TiffFile(tmp_path / "out" / "master.tif") as tif:
        page = tif.pages.first
        pixels = page.asarray()
        tags = {tag.code: tag.value for tag in page.tags}
    assert pixels.dtype == np.uint16 and pixels.shape == (60, 80, 3)
    assert len(np.unique(pixels[..., 1] % 257)) > 10                           # real 16-bit steps, not 8-bit x 257
    assert tags[270] == "Portrait of the miller" and tags[315] == "Ann Artist" and tags[33432] == "(c) Archive"
    assert tags[306] == "1931:05:01 10:00:00" and tags[282] == (600, 1) and tags[296] == 2
    assert bytes(tags[33723]) == IPTC
    out = Image.open(tmp_path / "out" / "master.tif")
    assert_marked(out, bytes(tags[700]))


def test_tiff_output_holds_the_exif_and_gps_directories(tmp_path):
    source = tmp_path / "scan.jpg"
    grey_scan().save(source, exif=archive_exif())
    light = to_lightness(open_image(source))
    save_colorized(light, torch.full((1, 2, 6, 8), 0.2), tmp_path / "out.tif", software="chromatize 9 (model x)")
    out = Image.open(tmp_path / "out.tif")
    assert_exif_kept(out, size=(64, 48))
    assert out.getexif()[0x0131] == "chromatize 9 (model x)"
    assert np.asarray(out).shape == (48, 64, 3)


def test_webp_keeps_exif_xmp_and_icc(tmp_path):
    source = tmp_path / "scan.jpg"
    grey_scan().save(source, exif=archive_exif(), xmp=XMP_IN, icc_profile=_wide_rgb_profile())
    light = to_lightness(open_image(source))
    save_colorized(light, torch.full((1, 2, 6, 8), 0.2), tmp_path / "out.webp")
    out = Image.open(tmp_path / "out.webp")
    assert_exif_kept(out, size=(64, 48))
    assert_marked(out, out.info["xmp"])
    srgb = ImageCms.ImageCmsProfile(io.BytesIO(out.info["icc_profile"]))
    assert "sRGB" in ImageCms.getProfileDescription(srgb)                   # the pixels are sRGB now


def test_strip_metadata_and_no_provenance(tmp_path, tiny_model_file):
    source = tmp_path / "family.jpg"
    grey_scan().save(source, exif=archive_exif(), xmp=XMP_IN, extra=_app13(IPTC), comment=b"box 12")
    model = ["--model", str(tiny_model_file), "-q"]
    assert main(["colorize", str(source), "-o", str(tmp_path / "bare.jpg"), "--strip-metadata", *model]) == 0
    bare = Image.open(tmp_path / "bare.jpg")
    assert set(bare.getexif()) == {0x0131} and not bare.getexif().get_ifd(0x8825)   # no GPS, only the mark
    assert b"(c) Archive" not in bare.info["xmp"] and "comment" not in bare.info
    assert IptcImagePlugin.getiptcinfo(bare) is None
    assert_marked(bare, bare.info["xmp"])
    assert main(["colorize", str(source), "-o", str(tmp_path / "unmarked.jpg"), "--no-provenance", *model]) == 0
    unmarked = Image.open(tmp_path / "unmarked.jpg")
    assert 0x0131 not in unmarked.getexif() and unmarked.info["xmp"] == XMP_IN
    assert_exif_kept(unmarked, size=(64, 48))


def test_api_and_web_download_carry_the_metadata(tmp_path, tiny_model_file):
    from chromatize.app.jobs import Workspace, colorize_photo

    source = tmp_path / "scan.jpg"
    grey_scan().save(source, exif=archive_exif(), xmp=XMP_IN, dpi=(300, 300))
    colorizer = load(tiny_model_file, device="cpu")
    colorizer.colorize_to_file(str(source), tmp_path / "api.png")
    web = colorize_photo(source, colorizer, Workspace(tmp_path / "web"))
    for path in (tmp_path / "api.png", web):
        out = Image.open(path)
        assert_exif_kept(out, size=(64, 48))
        xmp = out.info["xmp"]
        assert_marked(out, xmp.encode() if isinstance(xmp, str) else xmp)
        assert tuple(round(d) for d in out.info["dpi"]) == (300, 300)


def test_animations_keep_their_comment_and_metadata(tmp_path, tiny_model_file):
    frames = [scene(i, size=(64, 48)).convert("L").convert("P") for i in range(3)]
    gif = tmp_path / "reel.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=80, loop=0, comment=b"reel 4")
    webp = tmp_path / "reel.webp"
    frames[0].convert("RGB").save(webp, save_all=True, append_images=[f.convert("RGB") for f in frames[1:]],
                                  duration=80, exif=archive_exif(), xmp=XMP_IN)
    assert main(["colorize", str(gif), str(webp), "-o", str(tmp_path / "out"), "--model", str(tiny_model_file),
                 "-q"]) == 0
    out_gif = Image.open(tmp_path / "out" / "reel.gif")
    assert out_gif.n_frames == 3 and out_gif.info["comment"].startswith(b"reel 4\nColorized by chromatize")
    out_webp = Image.open(tmp_path / "out" / "reel.webp")
    assert out_webp.n_frames == 3
    assert_exif_kept(out_webp, size=(64, 48))
    assert_marked(out_webp, out_webp.info["xmp"])


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_video_keeps_container_and_stream_tags_and_chapters(tmp_path, tiny_model_file, suffix):
    source = tmp_path / f"film{suffix}"
    with av.open(str(source), "w") as out:
        out.metadata.update({"title": "Summer 1931", "comment": "reel 4", "creation_time": "2001-06-01T10:00:00Z"})
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.metadata["language"] = "pol"
        if suffix == ".mkv":
            chapter = {"id": 1, "start": 0, "end": 3, "time_base": Fraction(1, 10), "metadata": {"title": "Mill"}}
            out.set_chapters([chapter])
        for i in range(6):
            frame = av.VideoFrame.from_ndarray(np.asarray(scene(i, size=(64, 48))), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    assert main(["colorize", str(source), "-o", str(tmp_path / "out") + "/", "--model", str(tiny_model_file),
                 "-q"]) == 0
    with av.open(str(tmp_path / "out" / source.name)) as result:
        tags = {k.lower(): v for k, v in result.metadata.items()}
        assert tags["title"] == "Summer 1931" and tags["creation_time"].startswith("2001-06-01T10:00:00")
        assert tags["comment"].startswith("reel 4\nColorized by chromatize") and DIGITAL_SOURCE_TYPE in tags["comment"]
        assert result.streams.video[0].metadata["language"] == "pol"
        if suffix == ".mkv":
            assert [c["metadata"].get("title") for c in result.chapters()] == ["Mill"]


def test_icc_profile_input_gives_the_l_of_its_srgb_conversion(tmp_path):
    profile = _wide_rgb_profile()
    rgb = scene(5, size=(40, 32))
    rgb.save(tmp_path / "wide.png", icc_profile=profile)
    light = to_lightness(open_image(tmp_path / "wide.png"))
    srgb = ImageCms.profileToProfile(rgb, ImageCms.ImageCmsProfile(io.BytesIO(profile)),
                                     ImageCms.createProfile("sRGB"), outputMode="RGB")
    expected = to_lightness(srgb).l_full
    naive = to_lightness(rgb).l_full
    assert torch.allclose(light.l_full, expected, atol=1e-4)
    assert (light.l_full - naive).abs().max() > 2                             # the profile mattered
    save_colorized(light, torch.zeros(1, 2, 4, 5), tmp_path / "out.png", policy=Policy(keep=False, mark=False))
    out = Image.open(tmp_path / "out.png")
    assert "sRGB" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(out.info["icc_profile"])))


def _wide_rgb_profile(gamma: float = 1.8) -> bytes:
    """A minimal ICC v2 RGB profile (matrix + gamma curves): ProPhoto-like primaries, gamma 1.8,
    D50 white; far enough from sRGB that a conversion moves L."""
    def xyz(x, y, z):
        return b"XYZ \x00\x00\x00\x00" + struct.pack(">3i", *(round(v * 65536) for v in (x, y, z)))
    curve = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(gamma * 256)) + b"\x00\x00"
    desc_text = b"wide test RGB\x00"
    desc = b"desc\x00\x00\x00\x00" + struct.pack(">I", len(desc_text)) + desc_text + b"\x00" * (8 + 3 + 67)
    tags = [(b"desc", desc), (b"wtpt", xyz(0.9642, 1.0, 0.8249)), (b"rXYZ", xyz(0.7977, 0.2880, 0.0)),
            (b"gXYZ", xyz(0.1352, 0.7119, 0.0)), (b"bXYZ", xyz(0.0313, 0.0001, 0.8249)),
            (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
            (b"cprt", b"text\x00\x00\x00\x00test\x00\x00\x00\x00")]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for sig, body in tags:
        body += b"\x00" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (struct.pack(">I", size) + b"lcms" + b"\x02\x10\x00\x00" + b"mntrRGB XYZ " + b"\x00" * 12 + b"acsp" +
              b"\x00" * 28 + struct.pack(">3i", 63190, 65536, 54061) + b"\x00" * 48)
    return header + struct.pack(">I", len(tags)) + table + data


def test_sixteen_bit_colour_png_is_read_at_full_depth(tmp_path):
    import cv2

    rng = np.random.default_rng(2)
    rgb16 = (rng.random((24, 30, 3)) * 65535).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), rgb16[..., ::-1])
    light = to_lightness(open_image(tmp_path / "deep.png"))
    assert light.bits == 16
    from chromatize.color import rgb_to_lab

    expected = rgb_to_lab(torch.from_numpy(rgb16.astype(np.float32) / 65535).permute(2, 0, 1)[None])[:, :1]
    eight_bit = rgb_to_lab(torch.from_numpy((rgb16 // 257).astype(np.float32) / 255).permute(2, 0, 1)[None])[:, :1]
    assert (light.l_full - expected).abs().max() < 0.01
    assert (eight_bit - expected).abs().max() > 0.05                          # what 8 bits would have lost
    save_colorized(light, torch.zeros(1, 2, 3, 4), tmp_path / "out.png")
    back = cv2.imread(str(tmp_path / "out.png"), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16 and back.shape == (24, 30, 3)
