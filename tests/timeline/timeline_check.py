#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""timeline_check.py small|large TIMELINE_GEN OUTDIR -- the HTML timeline.

Writes pages with timeline_gen and opens them in headless Chromium
(--dump-dom after the page's script ran, --screenshot into OUTDIR):

small: a 4-rank flow has exactly one .bar per attempt, carrying its task,
  attempt and state; the embedded JSON equals the spools; hovering the last
  attempt of a task shows its details, with an error holding
  "</script><b>x" and UTF-8 as text (no <b> element, no extra script); the
  upstream-failed and cancelled-before-running tasks are listed apart; the
  page fetches nothing; the screenshot shows every state's colour. At 1
  rank the row is rank 0 (inline); a run without attempts renders too.
large: 100,000 attempts render within the time limit, aggregated per pixel
  with the page saying so, hover works on the canvas, the failures show in
  the screenshot, and the page is no larger than its spools plus the page.

Never skips: without Chromium it fails and says what to install.
"""
import collections
import html
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib

case, gen, outdir = sys.argv[1:4]
failures = 0
NASTY = ("boom </script><b>x</b> <!-- <script> \"quoted\" \\ na\u00efve "
         "\u2014 \u6771\u4eac \u2028 end")
COLOURS = {"completed": (0x2c, 0xa0, 0x2c), "failed": (0xd6, 0x27, 0x28),
           "crashed": (0x94, 0x67, 0xbd), "cancelled": (0xff, 0x9f, 0x1c)}


def check(cond, what):
    global failures
    if not cond:
        print("FAIL:", what)
        failures += 1
    return cond


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    print("FAIL: headless Chromium not found: install the Debian package "
          "'chromium' (apt-get install chromium; scripts/setup.sh installs "
          "it)")
    sys.exit(1)


CHROMIUM = find_chromium()


def chromium(url, *args, timeout=120):
    """Run headless Chromium on url; returns (stdout, seconds)."""
    profile = tempfile.mkdtemp(prefix="timeline-chromium-")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-dev-shm-usage",
           "--user-data-dir=" + profile, *args, url]
    t = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        check(False, f"chromium did not finish within {timeout} s: {url}")
        return "", timeout
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    took = time.monotonic() - t
    if not check(p.returncode == 0, f"chromium exited {p.returncode}"):
        print(p.stderr.decode(errors="replace")[-3000:])
    return p.stdout.decode("utf-8", errors="replace"), took


def dump_dom(page, fragment=""):
    dom, took = chromium("file://" + page + fragment,
                         "--run-all-compositor-stages-before-draw",
                         "--virtual-time-budget=2000", "--dump-dom")
    # The embedded JSON is not needed (and large): drop it before parsing.
    return re.sub(r'(<script type="application/json"[^>]*>).*?(</script>)',
                  r"\1\2", dom, flags=re.S), took


def screenshot(page, png):
    if os.path.exists(png):
        os.remove(png)
    _, took = chromium("file://" + page, "--screenshot=" + png,
                       "--window-size=1400,900", "--hide-scrollbars")
    check(os.path.exists(png), f"no screenshot {png}")
    return took


class Dom(html.parser.HTMLParser):
    """The parts of a dumped DOM the checks need."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.bars, self.unrun, self.tags = [], [], collections.Counter()
        self.ids, self.text_of, self.section, self.body = {}, {}, None, {}
        self.open_ids = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] += 1
        if tag == "body":
            self.body = a
        if tag == "section":
            self.section = a.get("id")
        if "bar" in a.get("class", "").split():
            self.bars.append(a)
        if tag == "tr" and a.get("class") == "task":
            (self.unrun if self.section == "unrun" else []).append(a)
        if "id" in a:
            self.ids[a["id"]] = a
            self.text_of[a["id"]] = ""
            self.open_ids.append((a["id"], tag))

    def handle_endtag(self, tag):
        if tag == "section":
            self.section = None
        if self.open_ids and self.open_ids[-1][1] == tag:
            self.open_ids.pop()

    def handle_data(self, data):
        for i, _ in self.open_ids:
            self.text_of[i] += data


def labels(dom):
    """The chart's row labels."""
    return [html.unescape(t) for t in
            re.findall(r'<text [^>]*class="lab"[^>]*>([^<]*)</text>', dom)]


def embedded(page_bytes, ident):
    m = re.search(rb'<script type="application/json" id="' +
                  ident.encode() + rb'">(.*?)</script>', page_bytes, re.S)
    return json.loads(m.group(1)) if m else None


def png_rows(path):
    """Decode an 8-bit RGB(A) non-interlaced PNG: (bpp, rows of bytes)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
            depth, ctype, interlace = body[8], body[9], body[12]
        elif kind == b"IDAT":
            idat += body
    assert depth == 8 and ctype in (2, 6) and interlace == 0, "PNG format"
    bpp = 3 if ctype == 2 else 4
    raw, stride, rows = zlib.decompress(idat), w * bpp, []
    prev = bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((left + prev[x]) >> 1)) & 255
        elif f == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b, c = prev[x], prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return bpp, rows


def colour_pixels(png, states):
    """Pixels of each state's colour in the screenshot."""
    bpp, rows = png_rows(png)
    out = {}
    for s in states:
        pix = bytes(COLOURS[s]) + (b"\xff" if bpp == 4 else b"")
        out[s] = sum(r.count(pix) for r in rows)
    return out


def make(mode):
    page = os.path.join(outdir, f"timeline_{mode}.html")
    p = subprocess.run([gen, mode, page], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    out = p.stdout.decode(errors="replace")
    if not check(p.returncode == 0, f"timeline_gen {mode}: {out}"):
        sys.exit(1)
    attempts = json.load(open(page + ".attempts.json", encoding="utf-8"))
    tasks = json.load(open(page + ".tasks.json", encoding="utf-8"))
    return page, attempts, tasks


def common(page, attempts, tasks):
    raw = open(page, "rb").read()
    check(embedded(raw, "attempts") == attempts,
          "the embedded attempts differ from the spool")
    check(embedded(raw, "tasks") == tasks,
          "the embedded tasks differ from the spool")
    # Self-contained: nothing outside the JSON refers to another resource.
    rest = re.sub(rb'<script type="application/json".*?</script>', b"", raw,
                  flags=re.S)
    for pat in (rb"\bsrc\s*=", rb"\bhref\s*=", rb"url\(", rb"@import",
                rb"<link", rb"<iframe", rb"fetch\(", rb"XMLHttpRequest"):
        check(not re.search(pat, rest), f"the page refers to a resource: {pat}")
    check(raw.count(b"<script") == 4 and raw.count(b"</script>") == 4,
          "the page has exactly its four script elements")


def small():
    page, attempts, tasks = make("small")
    common(page, attempts, tasks)
    text, took = dump_dom(page)
    dom = Dom(text)
    check(dom.body.get("data-rendered") == "bars",
          f"the script did not finish (body {dom.body})")
    check(len(dom.bars) == len(attempts) == 18,
          f"{len(dom.bars)} bars for {len(attempts)} attempts")
    want = collections.Counter((a["task"], str(a["attempt"]), a["state"])
                               for a in attempts)
    got = collections.Counter((b.get("data-task"), b.get("data-attempt"),
                               b.get("data-state")) for b in dom.bars)
    check(got == want, f"bars {sorted(got.items())}")
    check(all(b.get("aria-label") for b in dom.bars), "a bar without details")
    check(dom.tags["b"] == 0, "a <b> element: the error's markup was parsed")
    check(dom.tags["script"] == 4, f"{dom.tags['script']} script elements")
    note = dom.text_of.get("note", "")
    check("One bar per attempt: 18 of 18" in note, f"note: {note!r}")
    facts = " ".join(dom.text_of.get(i, "") for i in ("facts", "totals"))
    for s in ("ranks 4 (3 workers)", "2024-05-01 10:00:00 UTC",
              "exit code 1", "submitted 18", "attempts 18", "tasks 18",
              "completed 10", "failed 2", "crashed 2", "cancelled 3",
              "upstream-failed 1"):
        check(s in " ".join(facts.split()), f"facts lack {s!r}: {facts!r}")
    legend = dom.text_of.get("legend", "")
    for s in COLOURS:
        check(s in legend, f"legend lacks {s}")
    check(len(dom.unrun) == 2 and {(r["data-task"], r["data-state"])
                                   for r in dom.unrun} ==
          {("after-00000000000000a0", "upstream-failed"),
           ("dropped-00000000000000a1", "cancelled")},
          f"tasks listed apart: {dom.unrun}")
    check(labels(text) == ["rank 1", "rank 2", "rank 3"],
          f"row labels {labels(text)}")
    # Hover: the details of the last attempt of the broken task.
    text, _ = dump_dom(page, "#probe=broken-00000000000000b0")
    dom = Dom(text)
    tip = dom.text_of.get("tip", "")
    check("hidden" not in dom.ids.get("tip", {"hidden": ""}), "tip hidden")
    for s in ("broken-00000000000000b0", "attempt 2", "rank 1", "failed",
              "started 2024-05-01 10:00:04.500 UTC", "took 1.100 s",
              "error: " + NASTY):
        check(s in tip, f"hover details lack {s!r}: {tip!r}")
    check(dom.tags["b"] == 0, "a <b> element in the hover details")
    png = os.path.join(outdir, "timeline.png")
    screenshot(page, png)
    px = colour_pixels(png, COLOURS)
    for s, n in px.items():
        check(n >= 50, f"screenshot: {n} pixels of {s}")
    print(f"small: {len(dom.bars)} bars, dump-dom {took:.1f} s, "
          f"screenshot {png} {px}")

    page, attempts, tasks = make("inline")
    text, _ = dump_dom(page)
    dom = Dom(text)
    check(len(dom.bars) == 3, f"inline: {len(dom.bars)} bars")
    check(labels(text) == ["rank 0 (inline)"], f"inline: {labels(text)}")
    check("tasks run inline on rank 0" in dom.text_of.get("facts", ""),
          "inline: facts")
    screenshot(page, os.path.join(outdir, "timeline_inline.png"))

    page, attempts, tasks = make("empty")
    common(page, attempts, tasks)
    text, _ = dump_dom(page)
    dom = Dom(text)
    check(dom.body.get("data-rendered") == "bars" and not dom.bars,
          "empty: the script did not finish")
    check("0 of 0" in dom.text_of.get("note", ""), "empty: note")


def large():
    page, attempts, tasks = make("large")
    common(page, attempts, tasks)
    size = os.path.getsize(page)
    spools = (os.path.getsize(page + ".attempts.json") +
              os.path.getsize(page + ".tasks.json"))
    check(len(attempts) == 100000, f"{len(attempts)} attempts")
    check(size < spools + 100000 and size < 400 * len(attempts),
          f"page of {size} bytes for {spools} bytes of spools")
    failed = next(a["task"] for a in attempts if a["state"] == "failed")
    unrun = sum(1 for t in tasks if t["attempts"] == 0)
    del attempts, tasks
    text, took = dump_dom(page, "#probe=" + failed)
    check(took < 60, f"dump-dom took {took:.1f} s")
    dom = Dom(text)
    check(dom.body.get("data-rendered") == "agg",
          f"the script did not finish in aggregated mode ({dom.body})")
    check(not dom.bars and dom.tags["canvas"] == 1,
          f"{len(dom.bars)} bars, {dom.tags['canvas']} canvases")
    note = dom.text_of.get("note", "")
    m = re.search(r"aggregated: up to (\d+) attempts per pixel at this zoom",
                  note)
    check(m and int(m.group(1)) > 1, f"no aggregation note: {note!r}")
    tip = dom.text_of.get("tip", "")
    check(re.search(r"rank \d+, \+.* to \+.*: \d+ attempts? \(.*failed", tip)
          and failed in tip, f"hover on the canvas: {tip!r}")
    check(len(dom.unrun) == unrun == 300, f"{len(dom.unrun)} tasks apart")
    png = os.path.join(outdir, "timeline_large.png")
    shot = screenshot(page, png)
    check(shot < 60, f"screenshot took {shot:.1f} s")
    px = colour_pixels(png, COLOURS)
    check(px["completed"] > 100000 and px["failed"] > 200,
          f"screenshot colours {px}")
    print(f"large: {size} bytes (spools {spools}), dump-dom {took:.1f} s, "
          f"screenshot {shot:.1f} s {png} {px}; {m.group(0) if m else ''}")


def run():
    """A real flow (gen is test_flow_retry; MPIEXEC from the environment)
    with --report and --timeline at 3 ranks: one bar per reported attempt,
    with the same task, attempt and state."""
    report = os.path.join(outdir, "run.json")
    page = os.path.join(outdir, "run.html")
    r = subprocess.run([os.environ["MPIEXEC"], "-n", "3", "--oversubscribe",
                        gen, "--report", report, "--timeline", page],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"run: exit {r.returncode}: {r.stderr[-2000:]}")
    with open(report) as f:
        attempts = json.load(f)["attempts"]
    dom = Dom(dump_dom(page)[0])
    check(len(dom.bars) == len(attempts) > 0,
          f"{len(dom.bars)} bars for {len(attempts)} attempts")
    want = sorted((a["task"], str(a["attempt"]), a["state"]) for a in attempts)
    got = sorted((b.get("data-task"), b.get("data-attempt"), b.get("data-state"))
                 for b in dom.bars)
    check(got == want, f"bars {got} != attempts {want}")
    screenshot(page, os.path.join(outdir, "run.png"))


{"small": small, "large": large, "run": run}[case]()
print("timeline_check:", "FAIL" if failures else "ok")
sys.exit(1 if failures else 0)
