// Daily series per model as uPlot line charts that follow their container's width and the
// theme (uPlot draws on a canvas: its axis colours are not CSS).

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { formatDay, t } from "./i18n.js";
import { isDark, onThemeChange } from "./theme.js";

const COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];
const DAY = 86400;

// "YYYY-MM-DD" of a Date in the viewer's zone.
export function localDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// The viewer's last `days` calendar days ending today, as x values: midnight UTC of each date,
// so labels formatted in UTC show that same calendar day whatever the zone.
export function dayAxis(days, now = new Date()) {
  const today = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate()) / 1000;
  return Array.from({ length: days }, (_, i) => today - (days - 1 - i) * DAY);
}

// rows: [{day: "YYYY-MM-DD", model, ...}] → {models, series: {model: [value per day]}}
export function seriesByModel(rows, axis, value) {
  const index = new Map(axis.map((x, i) => [new Date(x * 1000).toISOString().slice(0, 10), i]));
  const series = {};
  for (const row of rows) {
    const i = index.get(row.day);
    if (i === undefined) continue;
    const model = row.model ?? "all";
    series[model] ??= new Array(axis.length).fill(0);
    series[model][i] += value(row);
  }
  if (!Object.keys(series).length) series[t("usage.no_usage_series")] = new Array(axis.length).fill(0);
  return { models: Object.keys(series).sort(), series };
}

// The y axis as wide as its longest label (uPlot's fixed 50 px clips "100.00 USD").
function labelWidth(_, values) {
  const longest = Math.max(0, ...(values ?? []).map((v) => String(v).length));
  return Math.max(40, longest * 8 + 16);
}

function axisStyle() {
  const dark = isDark();
  const line = { stroke: dark ? "#374151" : "#e5e7eb", width: 1 };
  return { stroke: dark ? "#d1d5db" : "#374151", grid: line, ticks: line };
}

// `format` writes a value in the legend; `axisFormat` (default: the same) on the narrow y axis.
export function lineChart(container, { title, axis, models, series, format = (v) => String(v), axisFormat = format }) {
  const width = () => Math.max(container.clientWidth - 8, 240);
  const dayLabel = (x) => formatDay(new Date(x * 1000));
  const build = () => {
    const style = axisStyle();
    const options = {
      title,
      width: width(),
      height: 220,
      scales: { x: { time: true } },
      axes: [
        { ...style, values: (_, ticks) => ticks.map(dayLabel), space: 60 },
        { ...style, values: (_, ticks) => ticks.map(axisFormat), size: labelWidth },
      ],
      series: [
        { label: t("chart.day"), value: (_, x) => (x === null ? "—" : dayLabel(x)) },
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
    return new uPlot(options, [axis, ...models.map((m) => series[m])], container);
  };
  let chart = build();
  const observer = new ResizeObserver(() => chart.setSize({ width: width(), height: 220 }));
  observer.observe(container);
  const stopWatching = onThemeChange(() => {
    chart.destroy();
    chart = build();
  });
  return () => {
    stopWatching();
    observer.disconnect();
    chart.destroy();
  };
}
