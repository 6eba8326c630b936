"""Headless Chromium renders the report from disk: no console errors, no network, not blank."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from rnnscope.report import ReportSettings, build_report, write_report

pytestmark = pytest.mark.browser

BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser")


def _browser() -> str | None:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def _png_pixels(data: bytes) -> tuple[int, int, set[bytes]]:
    """Decode an 8-bit RGB/RGBA PNG (no interlace) and return width, height, distinct pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    idat = b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IDAT":
            idat += body
        else:
            chunks[kind] = body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and color in (2, 6) and interlace == 0
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    pixels: set[bytes] = set()
    offset = 0
    for _ in range(height):
        kind = raw[offset]
        line = bytearray(raw[offset + 1 : offset + 1 + stride])
        offset += 1 + stride
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 255
        pixels.update(bytes(line[i : i + 3]) for i in range(0, stride, channels * 7))
        previous = line
    return width, height, pixels


@pytest.fixture(scope="module")
def report_dir(tiny_runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    matrix = root / "chain.npy"
    np.save(matrix, np.diag(np.ones(4), -1))
    report = build_report(
        [tiny_runs["rnn"], matrix],
        ReportSettings(samples=8, steps=2, grid=16, strength="quick"),
        workers=1,
    )
    out = root / "report"
    out.mkdir()
    write_report(report, out)
    return out


def _run(browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1200,1600",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ]
    return subprocess.run(
        [browser, *flags, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_chromium_renders_the_report(report_dir: Path, tmp_path: Path) -> None:
    browser = _browser()
    if browser is None:
        pytest.skip("no headless chromium found (make test installs chromium-headless-shell)")
    url = (report_dir / "index.html").resolve().as_uri()
    shot = tmp_path / "shot.png"
    done = _run(browser, f"--screenshot={shot}", url)
    assert shot.is_file(), done.stderr[-2000:]
    width, height, pixels = _png_pixels(shot.read_bytes())
    assert (width, height) == (1200, 1600)
    assert len(pixels) > 8, "the screenshot is (nearly) one colour"
    assert "CONSOLE" not in done.stderr and "Uncaught" not in done.stderr, done.stderr[-2000:]
    net_log = tmp_path / "net.json"
    dom = _run(browser, f"--log-net-log={net_log}", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    # spectra and robustness figures, the weights, hidden-state and sanity figures, and the
    # dynamics section's Lyapunov, gradient-flow, fixed-point and chain-profile figures
    assert dom.stdout.count("<svg") == 7 + 3 + 4
    assert "rnnscope robustness report" in dom.stdout
    assert "CONSOLE" not in dom.stderr and "Uncaught" not in dom.stderr, dom.stderr[-2000:]
    # Every network event is in the net log; a page that fetches nothing names no http(s) URL.
    assert net_log.is_file()
    requests = re.findall(r"https?://[^\s\"']+", net_log.read_text(errors="replace"))
    assert requests == [], requests[:10]
