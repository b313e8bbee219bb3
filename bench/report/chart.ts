import { Resvg } from "@resvg/resvg-js";
import type { BenchResults, VariantResult } from "./types.js";
import { compact } from "./stats.js";
import { variantLabel } from "./markdown.js";

/**
 * The run as one picture: per Pulse variant, events/s over time (offered, acked, shed) with
 * the phases marked, ack p99 and freshness, consumer lag and Pulse's RSS; then every ceiling
 * next to Pulse's sustained rate. Drawn as SVG, rendered to PNG with resvg.
 */

const W = 1400;
const LEFT = 90;
const RIGHT = 90;
const FONT = `font-family="DejaVu Sans, Arial, sans-serif"`;

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const text = (x: number, y: number, s: string, opts: { size?: number; anchor?: "start" | "middle" | "end"; color?: string; bold?: boolean } = {}): string =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT} font-size="${opts.size ?? 11}" text-anchor="${opts.anchor ?? "start"}" fill="${opts.color ?? "#333"}"${opts.bold ? ` font-weight="bold"` : ""}>${esc(s)}</text>`;

const niceMax = (v: number): number => {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
};

interface Frame {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly t0: number;
  readonly t1: number;
}

const px = (f: Frame, t: number): number => f.x + ((t - f.t0) / Math.max(1, f.t1 - f.t0)) * f.w;
const py = (f: Frame, v: number, max: number): number => f.y + f.h - (Math.min(v, max) / max) * f.h;

const polyline = (f: Frame, pts: readonly (readonly [number, number])[], max: number, color: string, opts: { dash?: boolean; width?: number } = {}): string =>
  pts.length === 0
    ? ""
    : `<polyline fill="none" stroke="${color}" stroke-width="${opts.width ?? 1.6}"${opts.dash ? ` stroke-dasharray="5,4"` : ""} points="${pts.map(([t, v]) => `${px(f, t).toFixed(1)},${py(f, v, max).toFixed(1)}`).join(" ")}"/>`;

const axis = (f: Frame, max: number, label: string, side: "left" | "right", color: string, fmt: (n: number) => string = compact): string => {
  const out: string[] = [];
  const x = side === "left" ? f.x : f.x + f.w;
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const y = py(f, v, max);
    if (side === "left") out.push(`<line x1="${f.x}" x2="${f.x + f.w}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#eee"/>`);
    out.push(text(side === "left" ? x - 6 : x + 6, y + 4, fmt(v), { anchor: side === "left" ? "end" : "start", color, size: 10 }));
  }
  const lx = side === "left" ? f.x - 62 : f.x + f.w + 62;
  out.push(`<text transform="translate(${lx},${f.y + f.h / 2}) rotate(-90)" ${FONT} font-size="10" text-anchor="middle" fill="${color}">${esc(label)}</text>`);
  return out.join("");
};

const legend = (x: number, y: number, items: readonly (readonly [string, string])[]): string => {
  let cx = x;
  return items
    .map(([label, color]) => {
      const s = `<rect x="${cx}" y="${y - 8}" width="14" height="4" fill="${color}"/>` + text(cx + 18, y - 3, label, { size: 10 });
      cx += 26 + label.length * 6.2;
      return s;
    })
    .join("");
};

const variantPanels = (v: VariantResult, top: number): { svg: string; height: number } => {
  const series = v.phases.flatMap((p) => p.stats.series);
  if (series.length === 0) return { svg: text(LEFT, top + 20, `${v.name}: no data${v.error ? ` (${v.error.split("\n")[0] ?? ""})` : ""}`), height: 40 };
  const t0 = Math.min(...v.phases.map((p) => p.stats.startedAt));
  const lastLag = v.lagSeries[v.lagSeries.length - 1]?.[0] ?? 0;
  const t1 = Math.max(lastLag, ...series.map((s) => s.t + 1000));
  const w = W - LEFT - RIGHT;
  const out: string[] = [];
  const title = `${variantLabel(v)}: sustained ${compact(v.sustainedEventsPerSec)} ev/s end to end, max acked ${compact(v.maxAckedEventsPerSec)} ev/s`;
  out.push(text(LEFT, top + 14, title, { size: 14, bold: true }));
  // Events per second.
  const a: Frame = { x: LEFT, y: top + 40, w, h: 200, t0, t1 };
  const rateMax = niceMax(Math.max(...series.map((s) => Math.max(s.offered, s.acked, s.shed))));
  out.push(axis(a, rateMax, "events/s", "left", "#333"));
  for (const p of v.phases) {
    const x = px(a, p.stats.startedAt);
    out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${a.y}" y2="${a.y + a.h}" stroke="#bbb" stroke-dasharray="2,3"/>`);
    out.push(`<text transform="translate(${(x + 3).toFixed(1)},${a.y + 4}) rotate(90)" ${FONT} font-size="9" fill="#777">${esc(p.name)}</text>`);
  }
  // One line per phase: the pauses between phases (catching up) carry no load.
  for (const p of v.phases) {
    const pts = (k: "offered" | "acked" | "shed"): [number, number][] => p.stats.series.map((s) => [s.t + 500, s[k]]);
    out.push(polyline(a, pts("offered"), rateMax, "#999", { dash: true }));
    out.push(polyline(a, pts("acked"), rateMax, "#2a9d3a", { width: 2 }));
    out.push(polyline(a, pts("shed"), rateMax, "#d62828"));
  }
  out.push(legend(a.x, a.y - 6, [["offered", "#999"], ["acked (202)", "#2a9d3a"], ["shed (429/503)", "#d62828"]]));
  // Latency: ack p99 per second and the freshness of each marker.
  const b: Frame = { x: LEFT, y: a.y + a.h + 40, w, h: 110, t0, t1 };
  const fresh = v.phases.flatMap((p) => p.freshness?.samples ?? []);
  const latMax = niceMax(Math.max(50, ...series.map((s) => s.p99), ...fresh.map((f) => f.ms)));
  out.push(axis(b, latMax, "ms", "left", "#333", (n) => String(Math.round(n))));
  for (const p of v.phases) out.push(polyline(b, p.stats.series.filter((s) => s.acked > 0).map((s) => [s.t + 500, s.p99]), latMax, "#1d6fb8"));
  out.push(fresh.map((f) => `<circle cx="${px(b, f.t).toFixed(1)}" cy="${py(b, f.ms, latMax).toFixed(1)}" r="2.2" fill="#8e44ad"/>`).join(""));
  out.push(legend(b.x, b.y - 6, [["ack p99 per second", "#1d6fb8"], ["freshness (ack → in a /ws report), per marker", "#8e44ad"]]));
  // Consumer lag and memory.
  const c: Frame = { x: LEFT, y: b.y + b.h + 40, w, h: 110, t0, t1 };
  const lagMax = niceMax(Math.max(10, ...v.lagSeries.map((l) => l[1])));
  const rssMax = niceMax(Math.max(100, ...v.rssSeries.map((r) => r[1])));
  out.push(axis(c, lagMax, "ingest lag (batches)", "left", "#e07b00"));
  out.push(axis(c, rssMax, "pulse RSS (MB)", "right", "#555"));
  out.push(polyline(c, v.lagSeries.map((l) => [l[0], l[1]]), lagMax, "#e07b00"));
  out.push(polyline(c, v.rssSeries.map((r) => [r[0], r[1]]), rssMax, "#555", { dash: true }));
  out.push(legend(c.x, c.y - 6, [["ingest lag (batches not yet processed)", "#e07b00"], ["pulse RSS", "#555"]]));
  for (let s = 0; s <= (t1 - t0) / 1000; s += 30) out.push(text(px(c, t0 + s * 1000), c.y + c.h + 14, `${s}s`, { anchor: "middle", size: 9, color: "#777" }));
  return { svg: out.join("\n"), height: c.y + c.h + 30 - top };
};

const ceilingBars = (r: BenchResults, top: number): { svg: string; height: number } => {
  const bars: { label: string; value: number; color: string }[] = [];
  for (const v of r.variants)
    if (v.sustainedEventsPerSec !== null || v.maxE2eEventsPerSec !== null)
      bars.push({ label: `Pulse, ${v.split ? "split roles" : v.log === "jetstream" ? "embedded log" : "ES log"}${v.sustainedEventsPerSec === null ? " (max)" : ""}`, value: v.sustainedEventsPerSec ?? v.maxE2eEventsPerSec ?? 0, color: "#2a9d3a" });
  for (const c of r.ceilings) if (c.unit === "events/s") bars.push({ label: c.id, value: c.value, color: c.core ? "#1d6fb8" : "#9bbbd8" });
  const out: string[] = [text(LEFT, top + 14, "Pulse against the parts alone (events/s, log scale; dark blue: the ceilings the ratio uses)", { size: 14, bold: true })];
  const x0 = LEFT + 180;
  const w = W - x0 - RIGHT - 60;
  const lo = 1e3;
  const hi = niceMax(Math.max(1e5, ...bars.map((b) => b.value)));
  const lx = (v: number): number => x0 + (Math.log10(Math.max(lo, v) / lo) / Math.log10(hi / lo)) * w;
  bars.forEach((b, i) => {
    const y = top + 30 + i * 22;
    out.push(text(x0 - 8, y + 12, b.label, { anchor: "end", size: 11 }));
    out.push(`<rect x="${x0}" y="${y}" width="${Math.max(1, lx(b.value) - x0).toFixed(1)}" height="16" fill="${b.color}"/>`);
    out.push(text(lx(b.value) + 6, y + 12, compact(b.value), { size: 11 }));
  });
  const bottom = top + 30 + bars.length * 22;
  for (let v = lo; v <= hi; v *= 10) {
    out.push(`<line x1="${lx(v).toFixed(1)}" x2="${lx(v).toFixed(1)}" y1="${top + 26}" y2="${bottom}" stroke="#ddd"/>`);
    out.push(text(lx(v), bottom + 14, compact(v), { anchor: "middle", size: 10, color: "#777" }));
  }
  return { svg: out.join("\n"), height: bottom + 30 - top };
};

export const renderChart = (r: BenchResults): { svg: string; png: Buffer } => {
  const parts: string[] = [];
  let y = 20;
  parts.push(text(LEFT, y + 10, `Pulse bench, ${r.startedAt}${r.quick ? " (quick)" : ""}: ${r.machine.nproc} cores, ${r.machine.cpuModel}, Node ${r.machine.node}`, { size: 16, bold: true }));
  y += 40;
  for (const v of r.variants) {
    const p = variantPanels(v, y);
    parts.push(p.svg);
    y += p.height + 20;
  }
  const bars = ceilingBars(r, y);
  parts.push(bars.svg);
  y += bars.height;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}"><rect width="100%" height="100%" fill="white"/>\n${parts.join("\n")}\n</svg>`;
  const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } }).render().asPng();
  return { svg, png };
};
