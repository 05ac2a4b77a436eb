"""Write the example task folder: a paper (PDF), a slide deck (PPTX), a spreadsheet (XLSX), a poster (PNG),
a short narrated video (MP4), an article corpus (``long_context.json``) and ``request.txt``.

Usage::

    python examples/make_demo_folder.py OUT_DIR [--force]

All content is original (see ``demo_content.py`` / ``demo_corpus.py``) and fictional. Output is
deterministic: the same inputs give byte-identical files (PDF/ZIP timestamps are pinned, random choices are
seeded). Existing files are kept unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import wave
import zipfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))

import demo_content as C  # noqa: E402
from demo_corpus import articles  # noqa: E402

FIXED_TIME = dt.datetime(2024, 7, 1, 9, 0, 0)
ZIP_TIME = (2024, 7, 1, 9, 0, 0)

FILES = {
    "paper": "paper.pdf",
    "slides": "briefing_slides.pptx",
    "sheet": "pilot_data.xlsx",
    "image": "poster.png",
    "video": "storage_explainer.mp4",
    "corpus": "long_context.json",
    "request": "request.txt",
    "ignore": ".sourcebookignore",
}


# --------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------

def normalize_zip(path: Path) -> None:
    """Rewrite an OOXML zip with fixed member timestamps (and a fixed "modified" date in its core
    properties, which some writers set to the current time) so repeated runs give identical bytes."""
    with zipfile.ZipFile(path) as src:
        members = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    members = [
        (name, re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>", data)
         if name == "docProps/core.xml" else data)
        for name, data in members
    ]
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, data)
    tmp.replace(path)


def find_cjk_font() -> tuple[str, bytes | str | None]:
    """Locate a font that can draw Chinese: a system font from fontconfig. Returns ``(description, font
    file path or bytes)``; ``(…, None)`` when there is none (callers then draw English text with PIL's
    default font)."""
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        files = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
        files = [f for f in files if f.lower().endswith((".ttf", ".ttc", ".otf"))]
        if files:
            return f"system font {files[0]}", files[0]
    return "PIL default font (English only)", None


def load_font(source: bytes | str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A PIL font of ``size`` px from :func:`find_cjk_font`'s result."""
    if source is None:
        return ImageFont.load_default(size=size)
    if isinstance(source, bytes):
        return ImageFont.truetype(io.BytesIO(source), size)
    return ImageFont.truetype(source, size)


# --------------------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------------------

def write_pdf(path: Path) -> None:
    """A paper-like PDF of 3–4 pages with title/author metadata and a results table (CJK via STSong-Light)."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    font = "STSong-Light"
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=19, wordWrap="CJK",
                          firstLineIndent=22, spaceAfter=6)
    title = ParagraphStyle("title", fontName=font, fontSize=17, leading=24, alignment=TA_CENTER,
                           wordWrap="CJK", spaceAfter=6)
    subtitle = ParagraphStyle("subtitle", parent=title, fontName="Helvetica", fontSize=10.5, leading=14)
    meta = ParagraphStyle("meta", fontName=font, fontSize=10.5, leading=16, alignment=TA_CENTER, wordWrap="CJK")
    heading = ParagraphStyle("heading", fontName=font, fontSize=13.5, leading=20, spaceBefore=10,
                             spaceAfter=6, wordWrap="CJK")
    caption = ParagraphStyle("caption", parent=meta, fontSize=10, spaceBefore=4, spaceAfter=4)
    cell = ParagraphStyle("cell", fontName=font, fontSize=10, leading=14, wordWrap="CJK")

    story: list = [
        Paragraph(C.PAPER_TITLE, title),
        Paragraph(C.PAPER_TITLE_EN, subtitle),
        Spacer(1, 4),
        Paragraph(C.PAPER_AUTHORS, meta),
        Paragraph(C.PAPER_AFFILIATION, meta),
        Spacer(1, 10),
    ]
    for head, paragraphs in C.paper_sections():
        story.append(Paragraph(head, heading))
        for j, text in enumerate(paragraphs):
            story.append(Paragraph(text, body))
            if head.startswith("4") and j == 0:
                rows = [[Paragraph(c, cell) for c in row] for row in C.results_table()]
                table = Table(rows, colWidths=[62 * mm, 45 * mm, 45 * mm], hAlign="CENTER")
                table.setStyle(TableStyle([
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde7f0")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]))
                story.append(Paragraph("表1 试点一年主要指标（仅光伏情景与光伏＋储能情景对比）", caption))
                story.append(table)
                story.append(Spacer(1, 8))

    def page_number(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 9)
        canvas.drawCentredString(A4[0] / 2, 12 * mm, f"— {doc.page} —")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        str(path), pagesize=A4, leftMargin=24 * mm, rightMargin=24 * mm, topMargin=22 * mm,
        bottomMargin=22 * mm, title=C.PAPER_TITLE, author=C.PAPER_AUTHORS, subject=C.PAPER_TITLE_EN,
        keywords=C.PAPER_KEYWORDS, creator="sourcebook examples", invariant=1,
    )
    doc.build(story, onFirstPage=page_number, onLaterPages=page_number)


# --------------------------------------------------------------------------------------------------------
# PPTX
# --------------------------------------------------------------------------------------------------------

def write_pptx(path: Path) -> None:
    """A five-slide deck with speaker notes and one table."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    for index, slide_data in enumerate(C.slides()):
        if index == 0:
            slide = prs.slides.add_slide(prs.slide_layouts[0])
            slide.shapes.title.text = slide_data.title
            slide.placeholders[1].text = "\n".join(slide_data.bullets)
        else:
            slide = prs.slides.add_slide(prs.slide_layouts[1])
            slide.shapes.title.text = slide_data.title
            frame = slide.placeholders[1].text_frame
            frame.text = slide_data.bullets[0]
            for line in slide_data.bullets[1:]:
                frame.add_paragraph().text = line
            if slide_data.table:
                body = slide.placeholders[1]
                body.height = Inches(1.2)
                rows, cols = len(slide_data.table), len(slide_data.table[0])
                shape = slide.shapes.add_table(rows, cols, Inches(1.0), Inches(3.0), Inches(11.3), Inches(0.5 * rows))
                for r, row in enumerate(slide_data.table):
                    for c, value in enumerate(row):
                        cell = shape.table.cell(r, c)
                        cell.text = value
                        for p in cell.text_frame.paragraphs:
                            for run in p.runs:
                                run.font.size = Pt(18)
        slide.notes_slide.notes_text_frame.text = slide_data.notes
    props = prs.core_properties
    props.title = "梧桐社区屋顶光伏与储能试点年度简报"
    props.author = C.COOP
    props.last_modified_by = C.COOP
    props.created = props.modified = FIXED_TIME
    props.revision = 1
    prs.save(str(path))
    normalize_zip(path)


# --------------------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------------------

def write_xlsx(path: Path) -> None:
    """Two sheets: monthly operating data (with a total row) and the list of roofs."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "月度运行数据"
    ws.append(["月份", "光伏发电量(MWh)", "社区自用电量(MWh)", "上网电量(MWh)", "储能放电量(MWh)",
               "自用率(光伏+储能)", "自用率(仅光伏)"])
    for row in C.monthly_rows():
        ws.append([row.month, row.generation_mwh, row.self_use_mwh, row.export_mwh, row.storage_discharge_mwh,
                   row.self_use_ratio, row.self_use_ratio_pv_only])
    t = C.totals()
    ws.append(["合计", t["generation_mwh"], t["self_use_mwh"], t["export_mwh"], t["discharge_mwh"],
               round(t["self_use_ratio"] / 100, 3), round(t["self_use_ratio_pv_only"] / 100, 3)])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for col, width in zip("ABCDEFG", (10, 16, 18, 14, 16, 18, 16), strict=True):
        ws.column_dimensions[col].width = width
    for r in range(2, ws.max_row + 1):
        ws.cell(r, 6).number_format = "0.0%"
        ws.cell(r, 7).number_format = "0.0%"

    ws2 = wb.create_sheet("楼栋清单")
    ws2.append(["编号", "建筑", "类型", "可用屋顶面积(m²)", "光伏装机(kWp)", "并网月份"])
    for b in C.buildings():
        ws2.append([b.code, b.name, b.kind, b.roof_m2, b.pv_kwp, b.commissioned])
    ws2.append(["合计", "", "", sum(b.roof_m2 for b in C.buildings()), sum(b.pv_kwp for b in C.buildings()), ""])
    for cell in ws2[1]:
        cell.font = Font(bold=True)
    wb.properties.creator = C.COOP
    wb.properties.title = "梧桐社区试点运行月度数据"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    wb.save(str(path))
    normalize_zip(path)


# --------------------------------------------------------------------------------------------------------
# Poster image
# --------------------------------------------------------------------------------------------------------

def write_image(path: Path, font_source: bytes | str | None) -> None:
    """A 1280×800 poster: title, four key figures and a bar chart of monthly generation."""
    width, height = 1280, 800
    img = Image.new("RGB", (width, height), (250, 248, 240))
    draw = ImageDraw.Draw(img)
    if font_source is None:
        title, lines = C.POSTER_LINES_EN
        axis_title = "Monthly PV generation (MWh)"
    else:
        title, lines = C.poster_lines()
        axis_title = "月度光伏发电量（MWh）"
    draw.rectangle([0, 0, width, 110], fill=(32, 84, 140))
    draw.text((48, 28), title, font=load_font(font_source, 50), fill=(255, 255, 255))
    big = load_font(font_source, 36)
    for i, line in enumerate(lines):
        y = 160 + i * 90
        draw.rounded_rectangle([40, y - 10, 620, y + 60], radius=12, fill=(226, 236, 246))
        draw.text((62, y), line, font=big, fill=(20, 40, 70))
    # bar chart
    small = load_font(font_source, 22)
    left, bottom, top, right = 660, 720, 210, 1240
    draw.text((left, 150), axis_title, font=load_font(font_source, 28), fill=(20, 40, 70))
    draw.line([left, bottom, right, bottom], fill=(60, 60, 60), width=2)
    rows = C.monthly_rows()
    peak = max(r.generation_mwh for r in rows)
    slot = (right - left) / len(rows)
    for i, r in enumerate(rows):
        h = (bottom - top) * r.generation_mwh / peak
        x0 = left + i * slot + 8
        draw.rectangle([x0, bottom - h, x0 + slot - 16, bottom], fill=(240, 160, 40))
        draw.text((x0, bottom - h - 28), f"{r.generation_mwh:.0f}", font=small, fill=(60, 60, 60))
        draw.text((x0, bottom + 8), r.month[-2:], font=small, fill=(60, 60, 60))
    note = C.DISCLAIMER if font_source is not None else "Example material: places and figures are fictional."
    draw.text((40, 760), note, font=load_font(font_source, 20), fill=(120, 120, 120))
    img.save(path, format="PNG", optimize=False)


# --------------------------------------------------------------------------------------------------------
# Video
# --------------------------------------------------------------------------------------------------------

VIDEO_W, VIDEO_H, FPS, SLIDE_S, AUDIO_RATE = 960, 540, 10, 5, 22050


def _speak(text: str, work: Path, max_s: float) -> np.ndarray | None:
    """English speech for ``text`` from espeak-ng as float32 mono at :data:`AUDIO_RATE`, sped up until it
    fits in ``max_s`` seconds; ``None`` when espeak-ng is not installed or fails."""
    exe = shutil.which("espeak-ng")
    if not exe:
        return None
    out = work / "speech.wav"
    for speed in (150, 170, 190, 210):
        try:
            subprocess.run([exe, "-v", "en-us", "-s", str(speed), "-w", str(out), text],
                           check=True, capture_output=True, timeout=60)
            with wave.open(str(out)) as w:
                rate, channels, raw = w.getframerate(), w.getnchannels(), w.readframes(w.getnframes())
        except (OSError, subprocess.SubprocessError, wave.Error):
            return None
        samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
        if channels > 1:
            samples = samples.reshape(-1, channels).mean(axis=1)
        if rate != AUDIO_RATE:
            idx = np.linspace(0, len(samples) - 1, int(len(samples) * AUDIO_RATE / rate))
            samples = np.interp(idx, np.arange(len(samples)), samples).astype(np.float32)
        if len(samples) <= max_s * AUDIO_RATE:
            return samples
    return samples[: int(max_s * AUDIO_RATE)]


def _tone(index: int, seconds: float) -> np.ndarray:
    """A soft tone (different pitch per slide) with fade in/out."""
    t = np.arange(int(seconds * AUDIO_RATE)) / AUDIO_RATE
    freq = (440.0, 523.25, 659.25)[index % 3]
    env = np.minimum(1.0, np.minimum(t / 0.2, (seconds - t) / 0.2))
    return (0.2 * np.sin(2 * np.pi * freq * t) * env).astype(np.float32)


def _video_frame(title: str, line: str, index: int, font_source: bytes | str | None) -> np.ndarray:
    img = Image.new("RGB", (VIDEO_W, VIDEO_H), ((24, 60, 110), (20, 100, 80), (120, 70, 20))[index % 3])
    draw = ImageDraw.Draw(img)
    if font_source is None:  # no CJK font: English captions
        title, line = (("How community storage works", "Charge by day, discharge in the evening"),
                       ("Storage system", "500 kW / 1,000 kWh LFP"),
                       ("One year of operation", "Self-use rose to 81%"))[index % 3]
    draw.text((60, 150), title, font=load_font(font_source, 64), fill=(255, 255, 255))
    draw.text((60, 290), line, font=load_font(font_source, 44), fill=(255, 235, 160))
    draw.text((60, 470), f"{index + 1} / 3", font=load_font(font_source, 28), fill=(220, 220, 220))
    return np.asarray(img)


def write_video(path: Path, font_source: bytes | str | None) -> str:
    """A 15 s H.264/AAC MP4: three text slides of 5 s each with narration (espeak-ng) or a tone.
    Returns a description of the audio used."""
    import av

    slides = C.video_slides()
    total = SLIDE_S * len(slides)
    audio = np.zeros(total * AUDIO_RATE, dtype=np.float32)
    spoken = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (_, _, narration) in enumerate(slides):
            clip = _speak(narration, Path(tmp), SLIDE_S - 0.6)
            if clip is None:
                clip = _tone(i, SLIDE_S - 1.0)
            else:
                spoken += 1
            start = int((i * SLIDE_S + 0.3) * AUDIO_RATE)
            audio[start:start + len(clip)] = clip[: len(audio) - start]

    with av.open(str(path), mode="w", format="mp4") as container:
        vstream = container.add_stream("libx264", rate=FPS)
        vstream.width, vstream.height, vstream.pix_fmt = VIDEO_W, VIDEO_H, "yuv420p"
        vstream.options = {"crf": "26", "preset": "veryfast", "threads": "1"}
        vstream.codec_context.gop_size = FPS * SLIDE_S
        astream = container.add_stream("aac", rate=AUDIO_RATE, layout="mono")
        container.metadata["title"] = "社区储能如何工作（示例视频）"

        frame_no = 0
        for i, (title, line, _) in enumerate(slides):
            pixels = _video_frame(title, line, i, font_source)
            for _ in range(SLIDE_S * FPS):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                frame.pts = frame_no
                frame.time_base = Fraction(1, FPS)
                frame_no += 1
                for packet in vstream.encode(frame):
                    container.mux(packet)
        for packet in vstream.encode():
            container.mux(packet)

        block = 1024
        for n, off in enumerate(range(0, len(audio), block)):
            chunk = audio[off:off + block]
            if len(chunk) < block:
                chunk = np.pad(chunk, (0, block - len(chunk)))
            aframe = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="fltp", layout="mono")
            aframe.sample_rate = AUDIO_RATE
            aframe.pts = n * block
            aframe.time_base = Fraction(1, AUDIO_RATE)
            for packet in astream.encode(aframe):
                container.mux(packet)
        for packet in astream.encode():
            container.mux(packet)
    return f"espeak-ng narration ({spoken}/3 slides)" if spoken else "tone (espeak-ng not installed)"


# --------------------------------------------------------------------------------------------------------
# corpus and request
# --------------------------------------------------------------------------------------------------------

def write_corpus(path: Path) -> None:
    """``long_context.json``: ``[{title, page_body}]``."""
    path.write_text(json.dumps(articles(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_request(path: Path) -> None:
    """``request.txt``: the report request (Chinese, length range, five required sections)."""
    path.write_text(C.REQUEST + "\n", encoding="utf-8")


def write_ignore(path: Path) -> None:
    """``.sourcebookignore``: the request is an instruction, not a source to cite."""
    path.write_text("# files sourcebook does not ingest\nrequest.txt\n", encoding="utf-8")


# --------------------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------------------

def make_demo_folder(out_dir: Path, force: bool = False, log: Callable[[str], None] = print) -> dict[str, str]:
    """Write every file of the example folder into ``out_dir``; returns ``{file name: what happened}``.

    Files that already exist are skipped unless ``force``. A file is written to a temporary name first and
    renamed when complete, so an interrupted run never leaves a half-written file behind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    font_desc, font_source = find_cjk_font()
    jobs: dict[str, Callable[[Path], str | None]] = {
        FILES["paper"]: write_pdf,
        FILES["slides"]: write_pptx,
        FILES["sheet"]: write_xlsx,
        FILES["image"]: lambda p: (write_image(p, font_source), f"text font: {font_desc}")[1],
        FILES["video"]: lambda p: write_video(p, font_source),
        FILES["corpus"]: write_corpus,
        FILES["request"]: write_request,
        FILES["ignore"]: write_ignore,
    }
    results: dict[str, str] = {}
    for name, job in jobs.items():
        target = out_dir / name
        if target.exists() and not force:
            results[name] = "kept (exists; use --force to rewrite)"
            log(f"  {name:<26} {results[name]}")
            continue
        tmp = target.with_name(f".{target.stem}.partial{target.suffix}")
        try:
            detail = job(tmp)
            tmp.replace(target)
        except Exception as exc:  # keep going: one failed file must not lose the others
            tmp.unlink(missing_ok=True)
            results[name] = f"FAILED: {type(exc).__name__}: {exc}"
            log(f"  {name:<26} {results[name]}")
            continue
        size = target.stat().st_size
        results[name] = f"written ({size:,} bytes)" + (f"; {detail}" if detail else "")
        log(f"  {name:<26} {results[name]}")
    return results


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder to write (created if missing)")
    parser.add_argument("--force", action="store_true", help="rewrite files that already exist")
    args = parser.parse_args(argv)
    print(f"example folder: {args.out_dir}")
    try:
        results = make_demo_folder(args.out_dir, force=args.force)
    except OSError as exc:
        print(f"error: cannot write the example folder {args.out_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    failed = [name for name, what in results.items() if what.startswith("FAILED")]
    if failed:
        print(f"error: could not write {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
