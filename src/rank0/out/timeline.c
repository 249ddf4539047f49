/* SPDX-License-Identifier: BSD-3-Clause */
/* timeline.c -- the static HTML timeline of a run (--timeline FILE).
 *
 * One self-contained page that needs no server and fetches nothing: the
 * run's facts and totals at the top, a Gantt chart (a row per worker rank,
 * a bar per attempt coloured by state, details on hover, drag to zoom),
 * then the tasks that never ran an attempt. The report's two spool files
 * (JSON arrays written by yajl) are streamed into the page as they are,
 * never loaded whole: yajl's parser checks them on the way, and every '<'
 * is written as \u003c so that no string can end the script element that
 * holds them. The page's own script draws the chart: up to 5,000 attempts
 * in view as one SVG element each, more as a canvas aggregated per pixel
 * column and rank, which the page says. Written under a temporary name
 * beside the target, fsynced and renamed, so the target is whole or absent.
 *
 * Declared in out.h:
 *
 *   rf_status rf__timeline_write(const char *path, FILE *attempts,
 *                                FILE *tasks, int ranks, double start,
 *                                double end,
 *                                const uint64_t totals[RF_STATE_COUNT],
 *                                uint64_t submitted, int exit_code);
 *
 * attempts and tasks are borrowed and read from their start (their
 * positions are left at the end); times are seconds since the epoch, 0
 * when unknown. Returns RF_OK, RF_ENOMEM, RF_EIO (cannot read a spool,
 * or cannot write, sync or rename the page; no temporary file is left) or
 * RF_EINVAL (a spool is not a JSON array of objects). Ranks: rank 0.
 * Threads: any, one call at a time per path.
 */
#include "out.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>

/* ---- the page's fixed parts ---------------------------------------------
 * Colours live once, as CSS variables; the script reads them for the
 * canvas. Nothing below refers to anything outside the page. */

static const char page_css[] =
    ":root {\n"
    "  --completed: #2ca02c; --failed: #d62728; --crashed: #9467bd;\n"
    "  --cancelled: #ff9f1c; --other: #7f7f7f; --upstream-failed: #e377c2;\n"
    "  --timed-out: #8c564b; --stopped: #17becf;\n"
    "  --row: #fbfbfd; --row-odd: #eef0f4; --grid: #d5d9e0;\n"
    "}\n"
    "body {\n"
    "  font: 14px/1.4 system-ui, sans-serif; margin: 14px 20px;\n"
    "  color: #1d2330; background: #fff;\n"
    "}\n"
    "h1 { font-size: 20px; margin: 0 0 6px; }\n"
    "h2 { font-size: 16px; margin: 22px 0 6px; }\n"
    ".facts span, .totals span, #legend span {\n"
    "  display: inline-block; margin: 0 14px 4px 0; white-space: nowrap;\n"
    "}\n"
    ".sw {\n"
    "  display: inline-block; width: 12px; height: 12px; border-radius: 2px;\n"
    "  margin-right: 5px; vertical-align: -1px;\n"
    "}\n"
    ".s-completed { background: var(--completed); fill: var(--completed); }\n"
    ".s-failed { background: var(--failed); fill: var(--failed); }\n"
    ".s-crashed { background: var(--crashed); fill: var(--crashed); }\n"
    ".s-cancelled { background: var(--cancelled); fill: var(--cancelled); }\n"
    ".s-timed-out { background: var(--timed-out); fill: var(--timed-out); }\n"
    ".s-stopped { background: var(--stopped); fill: var(--stopped); }\n"
    ".s-other { background: var(--other); fill: var(--other); }\n"
    ".s-upstream-failed { background: var(--upstream-failed); }\n"
    ".sw.retried, .bar.retried { opacity: .5; }\n"
    "#legend { margin: 6px 0; }\n"
    "#controls { margin: 4px 0; color: #555; min-height: 22px; }\n"
    "#controls button { margin-left: 10px; }\n"
    "#wrap {\n"
    "  position: relative; overflow-x: auto; border: 1px solid var(--grid);\n"
    "}\n"
    "#chart { min-width: 300px; }\n"
    "#chart svg, #chart canvas { display: block; }\n"
    ".axis text { font-size: 11px; fill: #555; text-anchor: middle; }\n"
    ".axis line, .grid { stroke: var(--grid); }\n"
    ".row { fill: var(--row); }\n"
    ".row.odd { fill: var(--row-odd); }\n"
    ".lab { font-size: 12px; fill: #333; }\n"
    ".bar:hover { stroke: #000; stroke-width: 1; }\n"
    "#sel {\n"
    "  position: absolute; top: 0; bottom: 0; pointer-events: none;\n"
    "  background: rgba(40, 90, 200, .15);\n"
    "  border: 1px solid rgba(40, 90, 200, .5);\n"
    "}\n"
    "#tip {\n"
    "  position: fixed; z-index: 2; max-width: 560px; padding: 6px 9px;\n"
    "  background: #fff; border: 1px solid #889; border-radius: 4px;\n"
    "  box-shadow: 0 2px 8px rgba(0, 0, 0, .2); font-size: 12px;\n"
    "  white-space: pre-wrap; overflow-wrap: anywhere; pointer-events: none;\n"
    "}\n"
    "table { border-collapse: collapse; font-size: 13px; }\n"
    "td, th {\n"
    "  border-bottom: 1px solid var(--grid); padding: 3px 10px 3px 0;\n"
    "  text-align: left; vertical-align: top;\n"
    "}\n"
    "td.err { max-width: 640px; overflow-wrap: anywhere; }\n"
    ".muted { color: #666; }\n";

static const char page_js[] =
    "'use strict';\n"
    "(function () {\n"
    "const $ = id => document.getElementById(id);\n"
    "const RUN = JSON.parse($('run').textContent);\n"
    "const A = JSON.parse($('attempts').textContent);\n"
    "const T = JSON.parse($('tasks').textContent);\n"
    "const STATES = ['completed', 'failed', 'crashed', 'timed-out', 'cancelled',\n"
    "                'stopped', 'other'];\n"
    "const NS = STATES.length, LABEL = 120, MAXBARS = 5000;\n"
    "const SVG = 'http://www.w3.org/2000/svg';\n"
    "const css = getComputedStyle(document.documentElement);\n"
    "const cssVar = name => css.getPropertyValue('--' + name).trim();\n"
    "const COL = STATES.map(cssVar), BG = [cssVar('row'), cssVar('row-odd')];\n"
    "const chart = $('chart'), tip = $('tip'), note = $('note');\n"
    "const reset = $('reset'), sel = $('sel');\n"
    "\n"
    "/* Per attempt, in typed arrays: a bar runs from started (else\n"
    " * submitted) to ended; K is the state, RW the row (-1: no times). */\n"
    "const n = A.length, S = new Float64Array(n), E = new Float64Array(n);\n"
    "const K = new Uint8Array(n), RW = new Int32Array(n);\n"
    "const rankSet = new Set();\n"
    "if (RUN.ranks > 1) for (let r = 1; r < RUN.ranks; r++) rankSet.add(r);\n"
    "else rankSet.add(0);\n"
    "let lo = Infinity, hi = -Infinity;\n"
    "for (let i = 0; i < n; i++) {\n"
    "  const a = A[i], s = a.started || a.submitted || a.ended || 0;\n"
    "  const k = STATES.indexOf(a.state);\n"
    "  S[i] = s;\n"
    "  E[i] = Math.max(a.ended || s, s);\n"
    "  K[i] = k < 0 ? NS - 1 : k;\n"
    "  if (!s) continue;\n"
    "  lo = Math.min(lo, s);\n"
    "  hi = Math.max(hi, E[i]);\n"
    "  rankSet.add(a.rank);\n"
    "}\n"
    "const ranks = [...rankSet].sort((a, b) => a - b);\n"
    "const rowOf = new Map(ranks.map((r, i) => [r, i]));\n"
    "const rows = ranks.map(() => []);\n"
    "for (let i = 0; i < n; i++) {\n"
    "  RW[i] = S[i] ? rowOf.get(A[i].rank) : -1;\n"
    "  if (RW[i] >= 0) rows[RW[i]].push(i);\n"
    "}\n"
    "for (const l of rows) l.sort((a, b) => S[a] - S[b]);\n"
    "let t0 = RUN.start > 0 ? Math.min(RUN.start, lo) : lo;\n"
    "if (!isFinite(t0)) t0 = RUN.start || RUN.end || 0;\n"
    "let t1 = Math.max(RUN.end || 0, hi);\n"
    "if (!(t1 > t0)) t1 = t0 + 1;\n"
    "/* The view [v0, v1], its width W in px and scale k in px/s. */\n"
    "let v0 = t0, v1 = t1, W = 0, k = 1, mode = '', rowY = [], rowH = [];\n"
    "\n"
    "const fmtDur = s => {\n"
    "  const a = Math.abs(s);\n"
    "  if (a === 0) return '0 s';\n"
    "  if (a < 1e-3) return (s * 1e6).toFixed(0) + ' \\u00b5s';\n"
    "  if (a < 1) return (s * 1e3).toFixed(a < 0.01 ? 2 : 1) + ' ms';\n"
    "  if (a < 120) return s.toFixed(a < 10 ? 3 : 1) + ' s';\n"
    "  if (a < 7200) return (s / 60).toFixed(2) + ' min';\n"
    "  return (s / 3600).toFixed(2) + ' h';\n"
    "};\n"
    "const iso = t => new Date(t * 1000).toISOString().replace('T', ' ')\n"
    "  .replace('Z', ' UTC');\n"
    "const rel = t => '+' + fmtDur(t - t0);\n"
    "const rankName = r => r < 0 ? 'no rank' : 'rank ' + r +\n"
    "  (RUN.ranks > 1 ? '' : ' (inline)');\n"
    "\n"
    "/* Tick labels with the step's precision; a clock past two minutes. */\n"
    "function tickLabel(t, step) {\n"
    "  const dec = u => Math.max(0, Math.ceil(-Math.log10(step / u) - 1e-9));\n"
    "  if (step < 1 && v1 - t0 < 1) {\n"
    "    const [u, name] = step < 1e-3 ? [1e-6, ' \\u00b5s'] : [1e-3, ' ms'];\n"
    "    return '+' + (t / u).toFixed(dec(u)) + name;\n"
    "  }\n"
    "  if (step < 1 || v1 - t0 < 120) return '+' + t.toFixed(dec(1)) + ' s';\n"
    "  const sec = Math.round(t), two = x => String(x).padStart(2, '0');\n"
    "  const h = Math.floor(sec / 3600), m = Math.floor(sec / 60) % 60;\n"
    "  return '+' + (h ? h + ':' + two(m) : m) + ':' + two(sec % 60);\n"
    "}\n"
    "\n"
    "function details(i) {\n"
    "  const a = A[i], L = [String(a.task)];\n"
    "  L.push('attempt ' + a.attempt + ' \\u00b7 ' + rankName(a.rank) +\n"
    "         ' \\u00b7 ' + a.state + (a.retried ? ' (retried)' : ''));\n"
    "  if (a.submitted) L.push('submitted ' + rel(a.submitted));\n"
    "  if (a.started) {\n"
    "    L.push('started ' + iso(a.started) + ' (' + rel(a.started) + ')' +\n"
    "           (a.submitted ? ', queued ' + fmtDur(a.started - a.submitted)\n"
    "                        : ''));\n"
    "  }\n"
    "  if (a.ended) {\n"
    "    L.push('ended ' + rel(a.ended) +\n"
    "           (a.started ? ', took ' + fmtDur(a.ended - a.started) : ''));\n"
    "  }\n"
    "  if (a.error) L.push('error: ' + a.error);\n"
    "  return L.join('\\n');\n"
    "}\n"
    "\n"
    "function el(tag, attrs, text) {\n"
    "  const e = document.createElementNS(SVG, tag);\n"
    "  for (const a in attrs) e.setAttribute(a, attrs[a]);\n"
    "  if (text !== undefined) e.textContent = text;\n"
    "  return e;\n"
    "}\n"
    "\n"
    "/* Ticks at 1, 2 or 5 times a power of ten seconds, about 110 px apart:\n"
    " * [x, seconds since t0] pairs, the step in .step. */\n"
    "function ticks() {\n"
    "  const raw = (v1 - v0) / Math.max(2, W / 110);\n"
    "  const p = Math.pow(10, Math.floor(Math.log10(raw)));\n"
    "  const out = [];\n"
    "  out.step = [1, 2, 5, 10].map(m => m * p).find(s => s >= raw);\n"
    "  for (let j = Math.ceil((v0 - t0) / out.step);\n"
    "       t0 + j * out.step <= v1; j++) {\n"
    "    out.push([LABEL + (t0 + j * out.step - v0) * k, j * out.step]);\n"
    "  }\n"
    "  return out;\n"
    "}\n"
    "\n"
    "function render() {\n"
    "  W = Math.max(200, chart.clientWidth - LABEL);\n"
    "  k = W / (v1 - v0);\n"
    "  chart.textContent = '';\n"
    "  const tk = ticks();\n"
    "  const ax = el('svg', {width: LABEL + W, height: 22, class: 'axis'});\n"
    "  for (const [x, t] of tk) {\n"
    "    ax.appendChild(el('line', {x1: x, x2: x, y1: 16, y2: 22}));\n"
    "    ax.appendChild(el('text', {x: Math.max(x, LABEL + 20), y: 12},\n"
    "                      tickLabel(t, tk.step)));\n"
    "  }\n"
    "  chart.appendChild(ax);\n"
    "  let vis = 0;\n"
    "  for (let i = 0; i < n; i++) {\n"
    "    if (RW[i] >= 0 && E[i] >= v0 && S[i] <= v1) vis++;\n"
    "  }\n"
    "  if (vis <= MAXBARS) bars(tk, vis);\n"
    "  else aggregate(tk, vis);\n"
    "  reset.hidden = v0 === t0 && v1 === t1;\n"
    "}\n"
    "\n"
    "/* One SVG rect per attempt; overlapping attempts of a rank (I/O slots)\n"
    " * go to lanes, at most 12 (then the lane that frees first). */\n"
    "function bars(tk, vis) {\n"
    "  mode = 'bars';\n"
    "  const LH = 14, PAD = 6;\n"
    "  const svg = el('svg', {width: LABEL + W, class: 'gantt'});\n"
    "  const back = el('g', {}), grid = el('g', {}), front = el('g', {});\n"
    "  svg.append(back, grid, front);\n"
    "  let y = 0, thin = 0;\n"
    "  rowY = [];\n"
    "  rowH = [];\n"
    "  rows.forEach((list, r) => {\n"
    "    const ends = [], placed = [];\n"
    "    for (const i of list) {\n"
    "      if (E[i] < v0 || S[i] > v1) continue;\n"
    "      let lane = ends.findIndex(e => e <= S[i]);\n"
    "      if (lane < 0 && ends.length < 12) lane = ends.push(0) - 1;\n"
    "      if (lane < 0) lane = ends.indexOf(Math.min(...ends));\n"
    "      ends[lane] = E[i];\n"
    "      placed.push(i, lane);\n"
    "    }\n"
    "    const h = Math.max(1, ends.length) * LH + PAD;\n"
    "    rowY.push(y);\n"
    "    rowH.push(h);\n"
    "    back.appendChild(el('rect', {x: 0, y: y, width: LABEL + W,\n"
    "                                 height: h,\n"
    "                                 class: r % 2 ? 'row odd' : 'row'}));\n"
    "    back.appendChild(el('text', {x: 6, y: y + h / 2 + 4, class: 'lab'},\n"
    "                        rankName(ranks[r])));\n"
    "    for (let p = 0; p < placed.length; p += 2) {\n"
    "      const i = placed[p], a = A[i], xs = Math.max(S[i], v0);\n"
    "      let w = (Math.min(E[i], v1) - xs) * k;\n"
    "      if (w < 1) {\n"
    "        w = 1;\n"
    "        thin++;\n"
    "      }\n"
    "      front.appendChild(el('rect', {\n"
    "        x: LABEL + (xs - v0) * k, y: y + PAD / 2 + placed[p + 1] * LH,\n"
    "        width: w, height: LH - 2,\n"
    "        class: 'bar s-' + STATES[K[i]] + (a.retried ? ' retried' : ''),\n"
    "        'data-i': i, 'data-task': a.task, 'data-attempt': a.attempt,\n"
    "        'data-state': a.state, 'data-rank': a.rank,\n"
    "        'aria-label': details(i)}));\n"
    "    }\n"
    "    y += h;\n"
    "  });\n"
    "  for (const [x] of tk) {\n"
    "    grid.appendChild(el('line', {x1: x, x2: x, y1: 0, y2: y,\n"
    "                                 class: 'grid'}));\n"
    "  }\n"
    "  svg.setAttribute('height', y);\n"
    "  chart.appendChild(svg);\n"
    "  note.textContent = 'One bar per attempt: ' + vis + ' of ' + n +\n"
    "    ' attempts in view' + (thin ? ', ' + thin +\n"
    "    ' shorter than a pixel drawn 1 px wide' : '') +\n"
    "    '. Hover for details; drag across the chart to zoom.';\n"
    "}\n"
    "\n"
    "/* Above MAXBARS attempts in view: per pixel column and rank, the share\n"
    " * of the column's time each state took, stacked from the bottom; a\n"
    " * state other than completed gets at least RARE of the height, so that\n"
    " * one failure among thousands still shows. */\n"
    "const RARE = 0.4, DRAW = [1, 2, 3, 4, 0];\n"
    "function aggregate(tk, vis) {\n"
    "  mode = 'agg';\n"
    "  const R = rows.length;\n"
    "  let RH = Math.max(8, Math.min(28, Math.floor(600 / R)));\n"
    "  if (R * RH > 30000) RH = Math.max(2, Math.floor(30000 / R));\n"
    "  rowY = rows.map((_, r) => r * RH);\n"
    "  rowH = rows.map(() => RH);\n"
    "  const dpr = window.devicePixelRatio || 1;\n"
    "  const cv = document.createElement('canvas');\n"
    "  cv.width = (LABEL + W) * dpr;\n"
    "  cv.height = R * RH * dpr;\n"
    "  cv.style.width = LABEL + W + 'px';\n"
    "  cv.style.height = R * RH + 'px';\n"
    "  const g = cv.getContext('2d');\n"
    "  g.scale(dpr, dpr);\n"
    "  g.font = '12px system-ui,sans-serif';\n"
    "  /* Per state: partial pixels at the ends, and a difference array for\n"
    "   * the columns an attempt covers whole; cnt: attempts per column. */\n"
    "  const part = new Float64Array(NS * W);\n"
    "  const full = new Float64Array(NS * (W + 1));\n"
    "  const cnt = new Int32Array(W + 1), run = new Float64Array(NS);\n"
    "  const v = new Float64Array(NS);\n"
    "  let maxc = 0;\n"
    "  rows.forEach((list, r) => {\n"
    "    part.fill(0);\n"
    "    full.fill(0);\n"
    "    cnt.fill(0);\n"
    "    run.fill(0);\n"
    "    for (const i of list) {\n"
    "      if (E[i] < v0 || S[i] > v1) continue;\n"
    "      const xs = (Math.max(S[i], v0) - v0) * k;\n"
    "      const xe = (Math.min(E[i], v1) - v0) * k, s = K[i];\n"
    "      const c0 = Math.min(W - 1, Math.floor(xs));\n"
    "      const c1 = Math.min(W - 1, Math.floor(xe));\n"
    "      if (c0 === c1) {\n"
    "        part[s * W + c0] += Math.max(xe - xs, 0.01);\n"
    "      } else {\n"
    "        part[s * W + c0] += c0 + 1 - xs;\n"
    "        part[s * W + c1] += xe - c1;\n"
    "        full[s * (W + 1) + c0 + 1] += 1;\n"
    "        full[s * (W + 1) + c1] -= 1;\n"
    "      }\n"
    "      cnt[c0]++;\n"
    "      cnt[c1 + 1]--;\n"
    "    }\n"
    "    const y = r * RH, inner = RH > 4 ? RH - 3 : RH;\n"
    "    g.fillStyle = BG[r % 2];\n"
    "    g.fillRect(0, y, LABEL + W, RH);\n"
    "    if (RH >= 8) {\n"
    "      g.fillStyle = '#333';\n"
    "      g.fillText(rankName(ranks[r]), 6, y + RH / 2 + 4);\n"
    "    }\n"
    "    let inCol = 0;\n"
    "    for (let c = 0; c < W; c++) {\n"
    "      inCol += cnt[c];\n"
    "      if (inCol > maxc) maxc = inCol;\n"
    "      let tot = 0, rare = 0;\n"
    "      for (let s = 0; s < NS; s++) {\n"
    "        run[s] += full[s * (W + 1) + c];\n"
    "        v[s] = part[s * W + c] + run[s];\n"
    "        tot += v[s];\n"
    "      }\n"
    "      if (tot <= 1e-9) continue;\n"
    "      const d = Math.max(1, tot);\n"
    "      for (let s = 1; s < NS; s++) {\n"
    "        v[s] = v[s] > 1e-9 ? Math.max(RARE, v[s] / d) * inner : 0;\n"
    "        rare += v[s];\n"
    "      }\n"
    "      for (let s = 1; s < NS && rare > inner; s++) v[s] *= inner / rare;\n"
    "      v[0] = Math.max(0, Math.min(v[0] / d * inner, inner - rare));\n"
    "      let yy = y + (RH > 4 ? RH - 1 : RH);\n"
    "      for (const s of DRAW) {\n"
    "        if (v[s] <= 0) continue;\n"
    "        g.fillStyle = COL[s];\n"
    "        g.fillRect(LABEL + c, yy - v[s], 1, v[s]);\n"
    "        yy -= v[s];\n"
    "      }\n"
    "    }\n"
    "  });\n"
    "  g.fillStyle = cssVar('grid');\n"
    "  for (const [x] of tk) g.fillRect(Math.round(x), 0, 1, R * RH);\n"
    "  chart.appendChild(cv);\n"
    "  note.textContent = 'aggregated: up to ' + maxc +\n"
    "    ' attempts per pixel at this zoom (' + vis + ' of ' + n +\n"
    "    ' attempts in view; each pixel column shows the share of its time' +\n"
    "    ' each state took on that rank). Hover for details; drag across' +\n"
    "    ' the chart to zoom (with ' + MAXBARS + ' attempts or fewer in' +\n"
    "    ' view each gets its own bar).';\n"
    "}\n"
    "\n"
    "/* What the attempts of row r overlapping pixel column c did, failures\n"
    " * first. */\n"
    "function cell(r, c) {\n"
    "  const ta = v0 + c / k, tb = v0 + (c + 1) / k, hit = [];\n"
    "  const per = new Array(NS).fill(0);\n"
    "  for (const i of rows[r]) {\n"
    "    if (S[i] > tb) break;\n"
    "    if (E[i] < ta) continue;\n"
    "    per[K[i]]++;\n"
    "    hit.push(i);\n"
    "  }\n"
    "  hit.sort((a, b) => (K[a] === 0) - (K[b] === 0));\n"
    "  const states = STATES.map((s, j) => per[j] ? per[j] + ' ' + s : '')\n"
    "    .filter(x => x).join(', ');\n"
    "  const what = hit.length + ' attempt' + (hit.length === 1 ? '' : 's');\n"
    "  const L = [rankName(ranks[r]) + ', ' + rel(ta) + ' to ' + rel(tb) +\n"
    "             ': ' + what + (hit.length ? ' (' + states + ')' : '')];\n"
    "  for (const i of hit.slice(0, 4)) L.push('', details(i));\n"
    "  if (hit.length > 4) {\n"
    "    L.push('', '\\u2026 and ' + (hit.length - 4) + ' more: zoom in');\n"
    "  }\n"
    "  return L.join('\\n');\n"
    "}\n"
    "\n"
    "function show(ev) {\n"
    "  let text = null;\n"
    "  const t = ev.target;\n"
    "  if (mode === 'bars' && t.dataset && t.dataset.i !== undefined) {\n"
    "    text = details(+t.dataset.i);\n"
    "  } else if (mode === 'agg' && t.tagName === 'CANVAS') {\n"
    "    const b = t.getBoundingClientRect();\n"
    "    const x = ev.clientX - b.left - LABEL;\n"
    "    const r = Math.floor((ev.clientY - b.top) / rowH[0]);\n"
    "    if (x >= 0 && x < W && r >= 0 && r < rows.length) {\n"
    "      text = cell(r, Math.floor(x));\n"
    "    }\n"
    "  }\n"
    "  if (text === null) {\n"
    "    tip.hidden = true;\n"
    "    return;\n"
    "  }\n"
    "  tip.textContent = text;\n"
    "  tip.hidden = false;\n"
    "  const x = Math.min(ev.clientX + 14, innerWidth - tip.offsetWidth - 8);\n"
    "  const below = ev.clientY + 16 + tip.offsetHeight < innerHeight;\n"
    "  tip.style.left = Math.max(4, x) + 'px';\n"
    "  const y = below ? ev.clientY + 16\n"
    "    : Math.max(4, ev.clientY - tip.offsetHeight - 10);\n"
    "  tip.style.top = y + 'px';\n"
    "}\n"
    "chart.addEventListener('mousemove', show);\n"
    "chart.addEventListener('mouseleave', () => { tip.hidden = true; });\n"
    "\n"
    "/* Drag across the chart to zoom into that time range. */\n"
    "let drag = null;\n"
    "const xIn = ev => ev.clientX - chart.getBoundingClientRect().left;\n"
    "chart.addEventListener('mousedown', ev => {\n"
    "  if (xIn(ev) < LABEL) return;\n"
    "  drag = xIn(ev);\n"
    "  ev.preventDefault();\n"
    "});\n"
    "addEventListener('mousemove', ev => {\n"
    "  if (drag === null) return;\n"
    "  const x = Math.max(LABEL, xIn(ev));\n"
    "  sel.hidden = false;\n"
    "  sel.style.left = Math.min(drag, x) + 'px';\n"
    "  sel.style.width = Math.abs(x - drag) + 'px';\n"
    "});\n"
    "addEventListener('mouseup', ev => {\n"
    "  if (drag === null) return;\n"
    "  const a = Math.max(LABEL, Math.min(drag, xIn(ev)));\n"
    "  const b = Math.max(drag, xIn(ev));\n"
    "  drag = null;\n"
    "  sel.hidden = true;\n"
    "  if (b - a < 4) return;\n"
    "  const na = v0 + (a - LABEL) / k, nb = v0 + (b - LABEL) / k;\n"
    "  if (nb - na < 1e-6) return;\n"
    "  v0 = na;\n"
    "  v1 = nb;\n"
    "  render();\n"
    "});\n"
    "reset.addEventListener('click', () => {\n"
    "  v0 = t0;\n"
    "  v1 = t1;\n"
    "  render();\n"
    "});\n"
    "let pending = 0;\n"
    "addEventListener('resize', () => {\n"
    "  clearTimeout(pending);\n"
    "  pending = setTimeout(render, 150);\n"
    "});\n"
    "\n"
    "/* Tasks that ended without an attempt, and tasks from the journal. */\n"
    "function apart(id, pick) {\n"
    "  const list = T.filter(pick), sec = $(id), MAX = 2000;\n"
    "  sec.querySelector('.count').textContent = list.length;\n"
    "  if (!list.length) {\n"
    "    sec.querySelector('.none').hidden = false;\n"
    "    return;\n"
    "  }\n"
    "  const tb = document.createElement('table'), head = tb.insertRow();\n"
    "  for (const h of ['task', 'name', 'state', 'attempts', 'error']) {\n"
    "    const th = document.createElement('th');\n"
    "    th.textContent = h;\n"
    "    head.appendChild(th);\n"
    "  }\n"
    "  for (const t of list.slice(0, MAX)) {\n"
    "    const tr = tb.insertRow(), sw = document.createElement('i');\n"
    "    tr.className = 'task';\n"
    "    tr.dataset.task = t.key;\n"
    "    tr.dataset.state = t.state;\n"
    "    const cells = [t.key, t.name, t.state, t.attempts, t.error || ''];\n"
    "    for (const v of cells) tr.insertCell().textContent = v;\n"
    "    sw.className = 'sw s-' + t.state;\n"
    "    tr.cells[2].prepend(sw);\n"
    "    tr.cells[4].className = 'err';\n"
    "  }\n"
    "  sec.appendChild(tb);\n"
    "  if (list.length > MAX) {\n"
    "    const p = document.createElement('p');\n"
    "    p.textContent = '\\u2026 and ' + (list.length - MAX) +\n"
    "      ' more (see the JSON report).';\n"
    "    sec.appendChild(p);\n"
    "  }\n"
    "}\n"
    "for (const [label, v] of [['attempts', n], ['tasks', T.length]]) {\n"
    "  const sp = document.createElement('span');\n"
    "  const b = document.createElement('strong');\n"
    "  b.textContent = v;\n"
    "  sp.append(label + ' ', b);\n"
    "  $('facts').appendChild(sp);\n"
    "}\n"
    "apart('unrun', t => !t.attempts && !t.from_journal);\n"
    "apart('journal', t => t.from_journal);\n"
    "$('journal').hidden = !T.some(t => t.from_journal);\n"
    "\n"
    "render();\n"
    "/* #probe=KEY: hover the last attempt of task KEY (tests, links). */\n"
    "const m = /^#probe=(.*)$/.exec(location.hash);\n"
    "const key = m ? decodeURIComponent(m[1]) : null;\n"
    "let pi = -1;\n"
    "for (let i = 0; m && i < n; i++) {\n"
    "  if (RW[i] >= 0 && A[i].task === key) pi = i;\n"
    "}\n"
    "if (pi >= 0) {\n"
    "  const target = mode === 'bars'\n"
    "    ? chart.querySelector('.bar[data-i=\"' + pi + '\"]')\n"
    "    : chart.querySelector('canvas');\n"
    "  const b = target.getBoundingClientRect();\n"
    "  let x = b.left + b.width / 2, y = b.top + b.height / 2;\n"
    "  if (mode === 'agg') {\n"
    "    x = b.left + LABEL +\n"
    "      ((Math.max(S[pi], v0) + Math.min(E[pi], v1)) / 2 - v0) * k;\n"
    "    y = b.top + rowY[RW[pi]] + rowH[RW[pi]] / 2;\n"
    "  }\n"
    "  target.dispatchEvent(new MouseEvent('mousemove',\n"
    "    {bubbles: true, clientX: x, clientY: y}));\n"
    "}\n"
    "document.body.dataset.rendered = mode;\n"
    "})();\n";

/* ---- writing ------------------------------------------------------------ */

/* The page being written; bad is sticky: a write failed (with errno err). */
typedef struct {
  FILE *f;
  int bad, err;
} page;

static void failed(page *p) {
  if (!p->bad) p->err = errno;
  p->bad = 1;
}

static void put(page *p, const char *s) {
  if (fputs(s, p->f) == EOF) failed(p);
}

static void putf(page *p, const char *fmt, ...) RF_PRINTF(2, 3);
static void putf(page *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (vfprintf(p->f, fmt, ap) < 0) failed(p);
  va_end(ap);
}

/* "2024-05-01 12:00:00 UTC", or "unknown" for 0. */
static void put_time(page *p, double t) {
  char buf[64];
  time_t s = (time_t)t;
  struct tm tm;
  if (t > 0 && gmtime_r(&s, &tm) != NULL &&
      strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm) > 0) {
    put(p, buf);
  } else {
    put(p, "unknown");
  }
}

/* ---- streaming a spool into the page ------------------------------------
 * The parser's callbacks check the shape (an array of objects) while the
 * bytes go to the page as read, so memory stays flat. */

typedef struct {
  int depth;
  int bad; /* not an array of objects */
} shape;

static int scalar(void *ctx) {
  shape *s = ctx;
  if (s->depth < 2) s->bad = 1;
  return !s->bad;
}
static int on_null(void *ctx) { return scalar(ctx); }
static int on_bool(void *ctx, int b) {
  (void)b;
  return scalar(ctx);
}
static int on_number(void *ctx, const char *v, size_t len) {
  (void)v, (void)len;
  return scalar(ctx);
}
static int on_string(void *ctx, const unsigned char *v, size_t len) {
  (void)v, (void)len;
  return scalar(ctx);
}
static int on_key(void *ctx, const unsigned char *v, size_t len) {
  (void)ctx, (void)v, (void)len;
  return 1;
}
static int on_open_map(void *ctx) {
  shape *s = ctx;
  if (s->depth == 0) s->bad = 1;
  s->depth++;
  return !s->bad;
}
static int on_open_array(void *ctx) {
  shape *s = ctx;
  if (s->depth == 1) s->bad = 1;
  s->depth++;
  return !s->bad;
}
static int on_close(void *ctx) {
  shape *s = ctx;
  s->depth--;
  return 1;
}

static const yajl_callbacks shape_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_open_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_close,
    .yajl_start_array = on_open_array,
    .yajl_end_array = on_close,
};

/* Write bytes, each '<' as \u003c (it occurs only inside JSON strings,
 * where the escape means the same, and so cannot begin "</script"). */
static void put_json(page *p, const unsigned char *b, size_t n) {
  while (n > 0 && !p->bad) {
    const unsigned char *lt = memchr(b, '<', n);
    size_t run = lt ? (size_t)(lt - b) : n;
    if (run > 0 && fwrite(b, 1, run, p->f) != run) failed(p);
    if (lt != NULL) {
      put(p, "\\u003c");
      run++;
    }
    b += run;
    n -= run;
  }
}

/* The spool `what` as <script type="application/json" id="what">, or
 * RF_EINVAL naming the parse error, or RF_EIO. */
static rf_status embed(page *p, FILE *spool, const char *what) {
  unsigned char buf[65536];
  shape s = {0};
  yajl_handle h = yajl_alloc(&shape_callbacks, NULL, &s);
  if (h == NULL) return rf__error(RF_ENOMEM, "--timeline: a JSON parser");
  rf_status st = RF_OK;
  if (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0) {
    st = rf__error(RF_EIO, "--timeline: rewinding the %s spool: %s", what,
                   strerror(errno));
    goto done;
  }
  putf(p, "<script type=\"application/json\" id=\"%s\">", what);
  size_t n;
  yajl_status ys = yajl_status_ok;
  while (ys == yajl_status_ok && !p->bad &&
         (n = fread(buf, 1, sizeof buf, spool)) > 0) {
    ys = yajl_parse(h, buf, n);
    if (ys == yajl_status_ok) put_json(p, buf, n);
  }
  if (ys == yajl_status_ok && ferror(spool)) {
    st = rf__error(RF_EIO, "--timeline: reading the %s spool: %s", what,
                   strerror(errno));
    goto done;
  }
  if (ys == yajl_status_ok && !p->bad) ys = yajl_complete_parse(h);
  if (ys != yajl_status_ok) {
    unsigned char *why = s.bad ? NULL : yajl_get_error(h, 0, NULL, 0);
    st = rf__error(RF_EINVAL, "--timeline: the %s spool is not a JSON array "
                   "of objects%s%s", what, why ? ": " : "",
                   why ? (const char *)why : "");
    if (why != NULL) yajl_free_error(h, why);
    goto done;
  }
  put(p, "</script>\n");
done:
  yajl_free(h);
  return st;
}

/* ---- the page ----------------------------------------------------------- */

/* States an attempt ends in, as the report names them. */
static const char *const attempt_states[] = {
    "completed", "failed", "crashed", "timed-out", "cancelled", "stopped"};

/* Everything above the chart: facts, totals, legend. */
static void head(page *p, int ranks, double start, double end,
                 const uint64_t totals[RF_STATE_COUNT], uint64_t submitted,
                 int exit_code) {
  put(p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width\">\n"
         "<title>rankflow timeline, ");
  put_time(p, start);
  put(p, "</title>\n<style>\n");
  put(p, page_css);
  put(p, "</style></head>\n<body>\n<header><h1>rankflow run timeline</h1>\n"
         "<p class=\"facts\" id=\"facts\">");
  if (ranks > 1) {
    putf(p, "<span>ranks <strong>%d</strong> (%d worker%s)</span>", ranks,
         ranks - 1, ranks == 2 ? "" : "s");
  } else {
    putf(p, "<span>ranks <strong>%d</strong> (tasks run inline on rank 0)"
            "</span>", ranks);
  }
  put(p, "<span>start <strong>");
  put_time(p, start);
  put(p, "</strong></span><span>end <strong>");
  put_time(p, end);
  put(p, "</strong></span>");
  uint64_t done = 0;
  for (int s = RF_STATE_COMPLETED; s < RF_STATE_COUNT; s++) done += totals[s];
  if (start > 0 && end >= start) {
    double el = end - start;
    putf(p, "<span>elapsed <strong>%.3f s</strong></span>", el);
    if (el > 0) {
      putf(p, "<span>tasks/s <strong>%.1f</strong></span>",
           (double)done / el);
    }
  }
  putf(p, "<span>exit code <strong>%d</strong></span>"
          "<span>submitted <strong>%" PRIu64 "</strong></span>",
       exit_code, submitted);
  put(p, "</p>\n<p class=\"totals\" id=\"totals\">");
  for (int s = RF_STATE_COMPLETED; s < RF_STATE_COUNT; s++) {
    const char *name = rf_state_name((rf_state)s);
    putf(p, "<span data-state=\"%s\"><i class=\"sw s-%s\"></i>%s <strong>%"
            PRIu64 "</strong></span>", name, name, name, totals[s]);
  }
  if (submitted > done) {
    putf(p, "<span data-state=\"not-ended\">not ended <strong>%" PRIu64
            "</strong></span>", submitted - done);
  }
  put(p, "</p>\n</header>\n<div id=\"legend\">attempts: ");
  for (size_t i = 0; i < sizeof attempt_states / sizeof *attempt_states;
       i++) {
    putf(p, "<span><i class=\"sw s-%s\"></i>%s</span>", attempt_states[i],
         attempt_states[i]);
  }
  put(p, "<span><i class=\"sw s-failed retried\"></i>failed, then retried"
         "</span><span><i class=\"sw s-other\"></i>other</span></div>\n"
         "<div id=\"controls\"><span id=\"note\"></span>"
         "<button id=\"reset\" hidden>reset zoom</button></div>\n"
         "<noscript><p>The chart and the task lists are drawn by the page's "
         "script: enable JavaScript to see them.</p></noscript>\n"
         "<div id=\"wrap\"><div id=\"chart\"></div>"
         "<div id=\"sel\" hidden></div></div>\n"
         "<div id=\"tip\" hidden></div>\n");
}

/* The run's facts for the script (numbers only). */
static void run_json(page *p, int ranks, double start, double end) {
  putf(p, "<script type=\"application/json\" id=\"run\">{\"ranks\":%d,"
          "\"start\":%.17g,\"end\":%.17g}</script>\n", ranks,
       start > 0 ? start : 0, end > 0 ? end : 0);
}

rf_status rf__timeline_write(const char *path, FILE *attempts, FILE *tasks,
                             int ranks, double start, double end,
                             const uint64_t totals[RF_STATE_COUNT],
                             uint64_t submitted, int exit_code) {
  char tmp[4200];
  int len = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  RF_ENSURE(len > 0 && (size_t)len < sizeof tmp, RF_EINVAL,
            "--timeline: path too long: %s", path);
  page p = {fopen(tmp, "w"), 0, 0};
  if (p.f == NULL) {
    return rf__error(RF_EIO, "--timeline: cannot create %s: %s", tmp,
                     strerror(errno));
  }
  head(&p, ranks, start, end, totals, submitted, exit_code);
  put(&p, "<section id=\"unrun\"><h2>Tasks that never ran "
          "(<span class=\"count\">0</span>)</h2>\n<p class=\"muted\">Ended "
          "without an attempt: an upstream task failed, or cancelled before "
          "running.</p><p class=\"none muted\" hidden>None.</p></section>\n"
          "<section id=\"journal\" hidden><h2>Tasks resolved from the "
          "journal (<span class=\"count\">0</span>)</h2>"
          "<p class=\"none muted\" hidden>None.</p></section>\n");
  rf_status st = embed(&p, attempts, "attempts");
  if (st == RF_OK) st = embed(&p, tasks, "tasks");
  if (st == RF_OK) {
    run_json(&p, ranks, start, end);
    put(&p, "<script>\n");
    put(&p, page_js);
    put(&p, "</script>\n</body></html>\n");
  }
  int bad = p.bad, e = p.err;
  if (!bad && (fflush(p.f) != 0 || fsync(fileno(p.f)) != 0)) {
    bad = 1;
    e = errno;
  }
  if (fclose(p.f) != 0 && !bad) {
    bad = 1;
    e = errno;
  }
  if (st == RF_OK && !bad && rename(tmp, path) != 0) {
    bad = 1;
    e = errno;
  }
  if (st != RF_OK || bad) {
    (void)remove(tmp);
    if (st == RF_OK) {
      st = rf__error(RF_EIO, "--timeline: writing %s: %s", path, strerror(e));
    }
  }
  return st;
}
