"""What a file says about itself, carried from the grey input to the colour output.

    read_metadata(img) -> Metadata     from a PIL image as images.open_image gave it (EXIF
                                       orientation already applied and its tag removed)
    Policy(keep, mark)                 --strip-metadata drops what the input carried (keep=False);
                                       marking says the colour was made by a program (on by default)
    Metadata.for_output(policy, ...)   what an output gets: the input's fields with the ones that
                                       described the old pixels brought up to date, plus the mark
    pil_params(meta, fmt)              Pillow save() keywords for JPEG, PNG, WebP, GIF, TIFF, BMP
    png_chunks(meta)                   ancillary PNG chunks for the row writer (rowfiles.py)
    tiff_tags(meta)                    TIFF tags for the strip writer (rowfiles.py, tifffile)

The mark, as news agencies and archives tag machine-made colour today:
- EXIF Software (0x0131) "chromatize X.Y.Z (model NAME)";
- XMP Iptc4xmpExt:DigitalSourceType = IPTC's "compositeWithTrainedAlgorithmicMedia" (a
  capture, here the grey photograph, changed by a trained model) and an xmpMM:History entry
  (action "edited", the software agent, when, what was done).

Per format (what each can hold): JPEG EXIF, XMP, IPTC (APP13), ICC, dpi, comment; PNG eXIf,
iTXt XMP, text chunks, iCCP, pHYs; WebP EXIF, XMP, ICC (dpi only as EXIF resolution); TIFF the
descriptive tags, EXIF and GPS directories, XMP (700), IPTC (33723), ICC, resolution; GIF comment.
IPTC has no place in WebP or GIF; the XMP, which carries the same fields in today's tools, goes.
"""
from __future__ import annotations

import logging
import struct
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from PIL import Image, ImageCms, TiffImagePlugin

log = logging.getLogger(__name__)
DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
_NS = {"x": "adobe:ns:meta/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
       "xmpMM": "http://ns.adobe.com/xap/1.0/mm/", "stEvt": "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
       "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"}
for _prefix, _uri in _NS.items():
    ET.register_namespace(_prefix, _uri)

# EXIF / TIFF tags that describe the stored pixels, not the picture: dropped or remade for the output.
_PIXEL_TAGS = {254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281, 284, 317, 320, 322,
               323, 324, 325, 338, 339, 340, 341, 513, 514, 529, 530, 531, 532, 0x0112, 282, 283, 296,
               700, 33723, 34377, 34675, 34665, 34853, 40965}
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_SOFTWARE, _COLOR_SPACE, _PIXEL_X, _PIXEL_Y = 0x0131, 0xA001, 0xA002, 0xA003
_X_RES, _Y_RES, _RES_UNIT = 282, 283, 296
_PHOTOSHOP_IPTC = 0x0404            # the IPTC-IIM record among a JPEG's Photoshop resources


@dataclass(frozen=True)
class Policy:
    keep: bool = True           # carry the input's metadata over (False: --strip-metadata)
    mark: bool = True           # say the colour was made by chromatize (EXIF Software, XMP)


KEEP_AND_MARK = Policy()        # the default: everything kept, the colour marked


@dataclass
class Metadata:
    """Fields read from a file; every one optional.

    exif: {tag: value} of IFD0 without the pixel tags; sub: {0x8769: Exif IFD, 0x8825: GPS IFD}.
    dpi: (x, y) pixels per inch. text: PNG text chunks. icc: the profile the pixels were in.
    """

    exif: dict = field(default_factory=dict)
    sub: dict = field(default_factory=dict)
    xmp: bytes | None = None
    iptc: bytes | None = None
    icc: bytes | None = None
    dpi: tuple[float, float] | None = None
    text: dict = field(default_factory=dict)
    comment: bytes | None = None

    def for_output(self, policy: Policy, *, software: str, size: tuple[int, int], icc: bytes | None,
                   when: datetime | None = None) -> "Metadata":
        """The output's fields: this file's (none without policy.keep), the pixel descriptions
        made true for an sRGB colour image of `size` (w, h) with profile `icc`, and the mark."""
        out = replace(self, exif=dict(self.exif), sub={k: dict(v) for k, v in self.sub.items()}, text=dict(self.text),
                      icc=icc) if policy.keep else Metadata(icc=icc)
        if _EXIF_IFD in out.sub:
            out.sub[_EXIF_IFD].update({_COLOR_SPACE: 1, _PIXEL_X: size[0], _PIXEL_Y: size[1]})
        if out.dpi and out.exif:                 # EXIF's resolution, where WebP keeps it, agrees with dpi
            out.exif.update({_X_RES: out.dpi[0], _Y_RES: out.dpi[1], _RES_UNIT: 2})
        if policy.mark:
            out.exif[_SOFTWARE] = software
            out.xmp = mark_xmp(out.xmp, software=software, when=when or datetime.now(timezone.utc))
        return out

    def exif_bytes(self) -> bytes | None:
        """The EXIF block ("Exif\\0\\0" + TIFF header + IFD0 + sub-directories), no thumbnail."""
        if not self.exif and not self.sub:
            return None
        exif = Image.Exif()
        exif.update(self.exif)
        for tag, ifd in self.sub.items():
            if ifd:
                exif[tag] = ifd
        return exif.tobytes()


def read_metadata(img: Image.Image) -> Metadata:
    """The metadata of an image as PIL opened it (JPEG, PNG, TIFF, WebP, GIF, ...). A damaged
    EXIF block is left out with a warning: the pixels still count."""
    info = img.info
    try:
        exif = img.getexif()
        sub = {tag: dict(exif.get_ifd(tag)) for tag in (_EXIF_IFD, _GPS_IFD) if tag in exif}
    except (OSError, ValueError, SyntaxError, KeyError, TypeError, IndexError, struct.error) as err:
        log.warning("%s: its EXIF data cannot be read (%s); the output goes without it",
                    getattr(img, "filename", "") or "image", err)
        exif, sub = {}, {}
    return Metadata(exif={tag: value for tag, value in exif.items() if tag not in _PIXEL_TAGS},
                    sub={tag: ifd for tag, ifd in sub.items() if ifd},
                    xmp=_as_bytes(info.get("xmp") or _tiff_tag(img, 700)),
                    iptc=_iptc_of(img), icc=info.get("icc_profile") or None, dpi=_dpi_of(img),
                    text={k: v for k, v in getattr(img, "text", {}).items() if k != "XML:com.adobe.xmp"},
                    comment=_as_bytes(info.get("comment")))


def _tiff_tag(img: Image.Image, tag: int):
    return getattr(img, "tag_v2", {}).get(tag)


def _as_bytes(value) -> bytes | None:
    if value is None or value == b"" or value == "":
        return None
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)                              # bytes, or a TIFF BYTE array (a tuple of ints)


def _iptc_of(img: Image.Image) -> bytes | None:
    if (raw := _tiff_tag(img, 33723)) is not None:
        if isinstance(raw, tuple) and raw and isinstance(raw[0], int) and max(raw) > 255:
            return b"".join(struct.pack(">I", v) for v in raw)  # stored as LONGs by some writers
        return _as_bytes(raw)
    return _as_bytes(img.info.get("photoshop", {}).get(_PHOTOSHOP_IPTC))


def _dpi_of(img: Image.Image) -> tuple[float, float] | None:
    dpi = img.info.get("dpi")
    if dpi and all(float(d) > 0 for d in dpi):
        return float(dpi[0]), float(dpi[1])
    if (res := img.info.get("resolution")) and all(float(r) > 0 for r in res):      # TIFF in other units
        unit = _tiff_tag(img, 296) or 2
        per_inch = {2: 1.0, 3: 2.54}.get(unit)
        return (float(res[0]) * per_inch, float(res[1]) * per_inch) if per_inch else None
    return None


def mark_xmp(xmp: bytes | None, *, software: str, when: datetime) -> bytes:
    """An XMP packet with the IPTC Digital Source Type set and a History entry added (the input's
    packet kept otherwise; a fresh one when there was none or it cannot be parsed)."""
    root = _parse_xmp(xmp)
    rdf = root if root.tag == _q("rdf", "RDF") else root.find(_q("rdf", "RDF"))
    if rdf is None:
        rdf = ET.SubElement(root, _q("rdf", "RDF"))
    descriptions = rdf.findall(_q("rdf", "Description"))
    desc = descriptions[0] if descriptions else ET.SubElement(rdf, _q("rdf", "Description"), {_q("rdf", "about"): ""})
    for d in descriptions:                                   # one value: drop an older statement
        d.attrib.pop(_q("Iptc4xmpExt", "DigitalSourceType"), None)
        for old in d.findall(_q("Iptc4xmpExt", "DigitalSourceType")):
            d.remove(old)
    desc.set(_q("Iptc4xmpExt", "DigitalSourceType"), DIGITAL_SOURCE_TYPE)
    _history_seq(descriptions or [desc], desc).append(_event(software, when))
    body = ET.tostring(root, encoding="unicode")
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body +
            '\n<?xpacket end="w"?>').encode("utf-8")


def _q(prefix: str, name: str) -> str:
    return f"{{{_NS[prefix]}}}{name}"


def _parse_xmp(xmp: bytes | None) -> ET.Element:
    if xmp:
        try:
            return ET.fromstring(xmp.decode("utf-8", "replace").strip().strip("\x00"))
        except ET.ParseError:
            pass
    return ET.Element(_q("x", "xmpmeta"))


def _history_seq(descriptions: list[ET.Element], fallback: ET.Element) -> ET.Element:
    for d in descriptions:
        seq = d.find(f"{_q('xmpMM', 'History')}/{_q('rdf', 'Seq')}")
        if seq is not None:
            return seq
    return ET.SubElement(ET.SubElement(fallback, _q("xmpMM", "History")), _q("rdf", "Seq"))


def _event(software: str, when: datetime) -> ET.Element:
    li = ET.Element(_q("rdf", "li"), {_q("rdf", "parseType"): "Resource"})
    for name, value in (("action", "edited"), ("softwareAgent", software),
                        ("when", when.isoformat(timespec="seconds")),
                        ("parameters", "colour predicted from the grey image by a trained neural network")):
        ET.SubElement(li, _q("stEvt", name)).text = value
    return li


def mark_statement(software: str) -> str:
    """The mark in words, for a video's comment tag (containers have no XMP here)."""
    return (f"Colorized by {software}: colour predicted from the grey original by a trained neural network "
            f"(IPTC digital source type: {DIGITAL_SOURCE_TYPE})")


def srgb_profile() -> bytes:
    """LittleCMS's sRGB profile, embedded in outputs whose input carried a profile."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def pil_params(meta: Metadata, fmt: str) -> dict:
    """Pillow save() keywords that write `meta` in format `fmt` (a PIL format name; TIFF goes
    through rowfiles.write_tiff)."""
    params: dict = {}
    exif = meta.exif_bytes()
    if fmt in ("JPEG", "PNG", "WEBP") and exif:
        params["exif"] = exif
    if fmt in ("JPEG", "PNG", "WEBP") and meta.icc:
        params["icc_profile"] = meta.icc
    if fmt in ("JPEG", "PNG", "BMP") and meta.dpi:
        params["dpi"] = meta.dpi
    if fmt in ("JPEG", "WEBP") and meta.xmp:
        params["xmp"] = meta.xmp
    if fmt in ("JPEG", "GIF") and meta.comment:
        params["comment"] = meta.comment
    if fmt == "JPEG" and meta.iptc:
        params["extra"] = _app13(meta.iptc)
    if fmt == "PNG":
        params["pnginfo"] = _png_info(meta)
    return params


def _app13(iptc: bytes) -> bytes:
    """A JPEG APP13 segment holding the IPTC-IIM record as Photoshop resource 0x0404."""
    data = iptc + (b"\x00" if len(iptc) % 2 else b"")
    body = b"Photoshop 3.0\x00" + b"8BIM" + struct.pack(">H", _PHOTOSHOP_IPTC) + b"\x00\x00" + \
        struct.pack(">I", len(iptc)) + data
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


def _png_info(meta: Metadata):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for kind, data in _png_text_chunks(meta):
        info.add(kind, data)
    return info


def png_chunks(meta: Metadata) -> list[tuple[bytes, bytes]]:
    """(type, data) of the ancillary chunks before IDAT: iCCP, pHYs, eXIf, then the text chunks."""
    chunks = []
    if meta.icc:
        chunks.append((b"iCCP", b"ICC profile\x00\x00" + zlib.compress(meta.icc)))
    if meta.dpi:
        chunks.append((b"pHYs", struct.pack(">IIB", *(round(d / 0.0254) for d in meta.dpi), 1)))
    if exif := meta.exif_bytes():
        chunks.append((b"eXIf", exif[6:]))
    return chunks + _png_text_chunks(meta)


def _png_text_chunks(meta: Metadata) -> list[tuple[bytes, bytes]]:
    chunks = []
    if meta.xmp:
        chunks.append((b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + meta.xmp))
    for key, value in meta.text.items():
        chunks.append(_text_chunk(key, value))
    return chunks


def _text_chunk(key: str, value: str) -> tuple[bytes, bytes]:
    """tEXt for Latin-1 text (zTXt when long), iTXt for the rest or when it came as iTXt."""
    name = key.encode("latin-1", "replace")[:79]
    lang, tkey = getattr(value, "lang", None), getattr(value, "tkey", None)
    try:
        if lang is None and tkey is None:
            text = str(value).encode("latin-1")
            if len(text) > 1024:
                return b"zTXt", name + b"\x00\x00" + zlib.compress(text)
            return b"tEXt", name + b"\x00" + text
    except UnicodeEncodeError:
        pass
    return (b"iTXt", name + b"\x00\x00\x00" + (lang or "").encode("ascii", "replace") + b"\x00" +
            (tkey or "").encode("utf-8") + b"\x00" + str(value).encode("utf-8"))


def tiff_tags(meta: Metadata) -> list[tuple[int, int, int, object]]:
    """(code, TIFF type, count, value) of the tags a TIFF output gets besides its pixels' own:
    the descriptive IFD0 tags (artist, copyright, date, description, ...), XMP, IPTC."""
    tags = [(code, *kind, value) for code, value in meta.exif.items()
            if code not in (_X_RES, _Y_RES, _RES_UNIT) and (kind := _tiff_kind(value))]
    if meta.xmp:
        tags.append((700, 1, len(meta.xmp), meta.xmp))
    if meta.iptc:
        tags.append((33723, 7, len(meta.iptc), meta.iptc))
    return tags


def _tiff_kind(value) -> tuple[int, int] | None:
    """(TIFF type, count) for a tag value as Pillow reads it; None for what a plain tag cannot hold."""
    if isinstance(value, str):
        return 2, len(value.encode("utf-8")) + 1
    if isinstance(value, bytes):
        return 7, len(value)
    if isinstance(value, int):
        return 4, 1
    if isinstance(value, TiffImagePlugin.IFDRational):
        return 5, 1
    return None


def exif_directories(meta: Metadata, offset: int, order: str = "<") -> tuple[dict[int, int], bytes]:
    """The EXIF and GPS directories serialised to sit at file position `offset` (Pillow's
    directory writer), with the position of each: ({0x8769: pos, ...}, bytes) (TIFF output)."""
    positions, blob = {}, b""
    for tag, ifd in meta.sub.items():
        head = b"II*\x00\x08\x00\x00\x00" if order == "<" else b"MM\x00*\x00\x00\x00\x08"
        directory = TiffImagePlugin.ImageFileDirectory_v2(ifh=head)
        for code, value in ifd.items():
            directory[code] = value
        positions[tag] = offset + len(blob)
        blob += directory.tobytes(offset + len(blob))
        if len(blob) % 2:
            blob += b"\x00"
    return positions, blob
