import type { BenchResult, Figure } from "./bench-result.js";

const show = (f: Figure) => `${formatNumber(f.value)} ${f.unit}`.trim();

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** The results as a plain-text table: one block per benchmark, figures beside their baselines. */
export function renderTable(results: readonly BenchResult[]): string {
  const rows: [string, string, string][] = [["", "measured", ""]];
  for (const r of results) {
    rows.push([`${r.id} ${r.title}`, "", ""]);
    for (const f of r.figures) rows.push([`  ${f.name}`, show(f), ""]);
    for (const b of r.baselines) rows.push([`  baseline: ${b.name}`, show(b), ""]);
    rows.push([`  target: ${r.target.description}`, "", r.target.met ? "MET" : "MISSED"]);
    for (const n of r.notes ?? []) rows.push([`  note: ${n}`, "", ""]);
  }
  const width = (i: 0 | 1) => Math.max(...rows.filter((r) => r[1] !== "" || i === 1).map((r) => r[i].length));
  const w0 = Math.min(width(0), 70);
  const w1 = width(1);
  return rows
    .map(([a, b, c]) => (b === "" && c === "" ? a : `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`.trimEnd()))
    .join("\n");
}
