#!/usr/bin/env python3
"""The memory-map picture: NAME.memory.svg is well-formed SVG with one
labelled rectangle per planned buffer and the peak marked, and headless
Chromium renders it to a non-blank screenshot.

Usage: test_memory_svg.py PATH/TO/tmc
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

TMC = os.path.abspath(sys.argv[1])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAILS = []


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        FAILS.append(what)


def png_pixels(path):
    """Decodes an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes)."""
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    pos, idat, w, h, ctype = 8, b'', 0, 0, 0
    while pos < len(data):
        n, typ = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if typ == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            assert depth == 8 and ctype in (2, 6)
        elif typ == b'IDAT':
            idat += body
        pos += 12 + n
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def main():
    tmp = tempfile.mkdtemp(prefix='tmc-svg-')
    try:
        out = os.path.join(tmp, 'o')
        p = subprocess.run([TMC, 'compile', os.path.join(ROOT, 'samples', 'models', 'resnet_small.onnx'), '-o', out],
                           capture_output=True, text=True)
        check(p.returncode == 0, 'compile writes the memory map')
        svg = os.path.join(out, 'resnet_small.memory.svg')
        rep = json.load(open(os.path.join(out, 'resnet_small.report.json')))
        root = ET.parse(svg).getroot()
        ns = '{http://www.w3.org/2000/svg}'
        groups = root.findall(ns + 'g')
        check(len(groups) == len(rep['tensors']), 'one rectangle per planned buffer (%d vs %d)' % (len(groups), len(rep['tensors'])))
        titles = [g.find(ns + 'title').text for g in groups]
        check(all(t and ' B at offset ' in t for t in titles), 'every rectangle has a tooltip with size and offset')
        texts = ' '.join(t.text or '' for t in root.iter(ns + 'text'))
        check('peak: step' in texts and 'arena %d B' % rep['arena_bytes'] in texts, 'peak and arena size are marked')

        chromium = shutil.which('chromium') or shutil.which('chromium-browser')
        check(chromium is not None, 'chromium is installed (scripts/setup.sh installs it)')
        if chromium:
            png = os.path.join(tmp, 'shot.png')
            cmd = [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                   '--disable-background-networking', '--disable-component-update', '--disable-sync',
                   '--user-data-dir=' + os.path.join(tmp, 'profile'), '--hide-scrollbars',
                   '--window-size=960,540', '--screenshot=' + png, 'file://' + svg]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            check(os.path.exists(png), 'headless Chromium screenshots the SVG: ' + r.stderr[-300:])
            if os.path.exists(png):
                w, h, bpp, rows = png_pixels(png)
                colours = set()
                for y in range(0, h, 4):
                    row = rows[y]
                    for x in range(0, w, 4):
                        colours.add(row[x * bpp:x * bpp + 3])
                # Buffer colours of the palette must show up (blue #4e79a7 at 80% opacity on grey).
                check(len(colours) > 8, 'the screenshot is not blank (%d distinct colours)' % len(colours))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d failure(s)' % len(FAILS))
    return 1 if FAILS else 0


if __name__ == '__main__':
    sys.exit(main())
