// The benchmark's chart: an SVG image (no dependencies) with throughput over time (arrivals and
// completions per second) above, and saga completion latency (p50, p99 per second) below.
interface ChartInput {
  mode: string;
  payment: boolean;
  sustainedOrdersPerSecond: number | null;
  machine: { cores: number; cpu: string };
  timeline: { second: number; arrivals: number; completions: number; sagaP50: number; sagaP99: number }[];
  at: string;
}

const W = 960;
const PANEL = 220;
const LEFT = 70;
const RIGHT = 20;
const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v)!;
}

function panel(top: number, title: string, unit: string, seconds: number, series: { label: string; color: string; values: number[] }[]): string {
  const max = niceMax(Math.max(1, ...series.flatMap((s) => s.values)));
  const width = W - LEFT - RIGHT;
  const x = (i: number) => LEFT + (seconds <= 1 ? 0 : (i / (seconds - 1)) * width);
  const y = (v: number) => top + PANEL - (v / max) * PANEL;
  const parts: string[] = [`<text x="${LEFT}" y="${top - 8}" font-size="14" font-weight="bold">${esc(title)}</text>`];
  for (let k = 0; k <= 4; k++) {
    const v = (max / 4) * k;
    parts.push(`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${+v.toFixed(1)}${k === 4 ? ` ${unit}` : ''}</text>`);
  }
  const step = Math.max(1, Math.ceil(seconds / 12));
  for (let i = 0; i < seconds; i += step) parts.push(`<text x="${x(i)}" y="${top + PANEL + 14}" font-size="11" text-anchor="middle">${i}s</text>`);
  series.forEach((s, n) => {
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${points}"/>`);
    parts.push(`<rect x="${W - RIGHT - 190}" y="${top + 6 + n * 16}" width="12" height="3" fill="${s.color}"/><text x="${W - RIGHT - 172}" y="${top + 11 + n * 16}" font-size="11">${esc(s.label)}</text>`);
  });
  return parts.join('\n');
}

export function renderChart(r: ChartInput): string {
  const last = Math.max(0, ...r.timeline.map((t) => t.second)) + 1;
  const at = (key: 'arrivals' | 'completions' | 'sagaP50' | 'sagaP99') => Array.from({ length: last }, (_, s) => r.timeline.find((t) => t.second === s)?.[key] ?? 0);
  const H = 2 * PANEL + 150;
  const subtitle = `${r.mode}${r.sustainedOrdersPerSecond ? `, highest sustained ${r.sustainedOrdersPerSecond} orders/s` : ''}, payment ${r.payment ? 'on' : 'off'} · ${r.machine.cores} cores (${r.machine.cpu}) · ${r.at}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${LEFT}" y="22" font-size="16" font-weight="bold">OMS saga benchmark</text>
<text x="${LEFT}" y="40" font-size="12" fill="#555">${esc(subtitle)}</text>
${panel(70, 'Throughput', 'orders/s', last, [
  { label: 'orders sent per second', color: '#888', values: at('arrivals') },
  { label: 'orders final per second', color: '#1f77b4', values: at('completions') },
])}
${panel(70 + PANEL + 60, 'Saga completion latency (request → final status)', 'ms', last, [
  { label: 'p50', color: '#2ca02c', values: at('sagaP50') },
  { label: 'p99', color: '#d62728', values: at('sagaP99') },
])}
</svg>
`;
}
