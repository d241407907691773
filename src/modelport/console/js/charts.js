// Daily series per model as uPlot line charts that follow their container's width.

import uPlot from "../vendor/uplot/uPlot.esm.js";

const COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];
const DAY = 86400;

// The last `days` UTC days ending today, as unix seconds at midnight.
export function dayAxis(days, now = new Date()) {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) / 1000;
  return Array.from({ length: days }, (_, i) => today - (days - 1 - i) * DAY);
}

// rows: [{day: "YYYY-MM-DD", model, ...}] → {models, series: {model: [value per day]}}
export function seriesByModel(rows, axis, value) {
  const index = new Map(axis.map((t, i) => [new Date(t * 1000).toISOString().slice(0, 10), i]));
  const series = {};
  for (const row of rows) {
    const i = index.get(row.day);
    if (i === undefined) continue;
    const model = row.model ?? "all";
    series[model] ??= new Array(axis.length).fill(0);
    series[model][i] += value(row);
  }
  if (!Object.keys(series).length) series["no usage"] = new Array(axis.length).fill(0);
  return { models: Object.keys(series).sort(), series };
}

export function lineChart(container, { title, axis, models, series, format = (v) => String(v) }) {
  const width = () => Math.max(container.clientWidth - 8, 240);
  const options = {
    title,
    width: width(),
    height: 220,
    scales: { x: { time: true } },
    axes: [{}, { values: (_, ticks) => ticks.map(format), size: 60 }],
    series: [
      { value: (_, t) => (t === null ? "—" : new Date(t * 1000).toISOString().slice(0, 10)) },
      ...models.map((model, i) => ({
        label: model,
        stroke: COLOURS[i % COLOURS.length],
        fill: `${COLOURS[i % COLOURS.length]}22`,
        width: 2,
        points: { show: true, size: 5 },
        value: (_, v) => (v === null ? "—" : format(v)),
      })),
    ],
  };
  const data = [axis, ...models.map((m) => series[m])];
  const chart = new uPlot(options, data, container);
  const observer = new ResizeObserver(() => chart.setSize({ width: width(), height: 220 }));
  observer.observe(container);
  return () => {
    observer.disconnect();
    chart.destroy();
  };
}
