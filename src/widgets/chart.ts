/**
 * The peak report's chart: memory over time as plain SVG, with the baseline,
 * the peak marked and the recommended memory limit as lines.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { ITimeline } from './arrow';
import { formatBytes, formatSeconds } from '../format';

export const CLASS = {
  chart: 'jp-ClusterCraft-peakChart',
  memory: 'jp-ClusterCraft-peakChart-memory',
  baseline: 'jp-ClusterCraft-peakChart-baseline',
  peak: 'jp-ClusterCraft-peakChart-peak',
  limit: 'jp-ClusterCraft-peakChart-limit',
  label: 'jp-ClusterCraft-peakChart-label'
};

const SVG_NS = 'http://www.w3.org/2000/svg';

/** A linear map from a domain to a range; a zero-width domain maps to the range's start. */
export interface ILinearScale {
  (value: number): number;
  domain: [number, number];
  range: [number, number];
}

export function linearScale(
  domain: [number, number],
  range: [number, number]
): ILinearScale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0;
  const scale = ((value: number) =>
    span === 0 ? r0 : r0 + ((value - d0) / span) * (r1 - r0)) as ILinearScale;
  scale.domain = domain;
  scale.range = range;
  return scale;
}

export interface IPeakChartData {
  timeline: ITimeline;
  baseline: number;
  peak: number;
  /** The recommended memory limit per worker, or null when there is none. */
  limit: number | null;
  duration: number;
}

export interface IChartSize {
  width: number;
  height: number;
}

export const CHART_SIZE: IChartSize = { width: 520, height: 180 };
/** Room for the labels: right of the plot for the lines, below for the time axis. */
const MARGIN = { top: 10, right: 150, bottom: 22, left: 8 };

/** The x (seconds) and y (bytes) scales that fit everything the chart draws. */
export function chartScales(
  data: IPeakChartData,
  size: IChartSize = CHART_SIZE
): { x: ILinearScale; y: ILinearScale } {
  const { t, rss } = data.timeline;
  let low = data.baseline;
  let high = Math.max(data.peak, data.limit ?? 0);
  for (let i = 0; i < rss.length; i++) {
    low = Math.min(low, rss[i]);
    high = Math.max(high, rss[i]);
  }
  const pad = (high - low) * 0.05 || Math.max(high * 0.05, 1);
  const end = Math.max(data.duration, t.length ? t[t.length - 1] : 0);
  return {
    x: linearScale([0, end], [MARGIN.left, size.width - MARGIN.right]),
    y: linearScale(
      [Math.max(0, low - pad), high + pad],
      [size.height - MARGIN.bottom, MARGIN.top]
    )
  };
}

/** The index of the highest point of the timeline (-1 when empty). */
export function peakIndex(rss: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < rss.length; i++) {
    if (best < 0 || rss[i] > rss[best]) {
      best = i;
    }
  }
  return best;
}

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number>,
  parent?: Element
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, String(value));
  }
  parent?.appendChild(element);
  return element;
}

/** An `<svg role="img">` labelled (and titled) with what it shows and its limit line. */
function chartRoot(
  className: string,
  size: IChartSize,
  label: string,
  limitLabel: string
): SVGSVGElement {
  const root = svg('svg', {
    class: className,
    width: size.width,
    height: size.height,
    viewBox: `0 0 ${size.width} ${size.height}`,
    role: 'img',
    'aria-label': limitLabel ? `${label}; ${limitLabel}` : label
  });
  svg('title', {}, root).textContent = root.getAttribute('aria-label');
  return root;
}

/** The least distance, in px, between two labels on the right of a chart. */
const LABEL_GAP = 12;

/**
 * Move the labels at the right of a chart apart where they would overlap (a
 * peak close to the baseline, a limit close to the peak), keeping their order.
 */
export function spreadLabels(root: SVGSVGElement, gap: number): void {
  const tags = Array.from(
    root.querySelectorAll<SVGTextElement>(`text.${CLASS.label}[dy]`)
  )
    .map(tag => ({ tag, y: Number(tag.getAttribute('y')) }))
    .sort((a, b) => a.y - b.y);
  for (let i = 1; i < tags.length; i++) {
    tags[i].y = Math.max(tags[i].y, tags[i - 1].y + gap);
  }
  const bottom = Number(root.getAttribute('height')) - gap / 2;
  const over = tags.length ? tags[tags.length - 1].y - bottom : 0;
  for (const label of tags) {
    const y = over > 0 ? label.y - over : label.y;
    label.tag.setAttribute('y', y.toFixed(1));
  }
}

/** The chart as an `<svg role="img">` whose label says what it shows. */
export function peakChart(
  data: IPeakChartData,
  trans: TranslationBundle = nullTranslator.load('clustercraft'),
  size: IChartSize = CHART_SIZE
): SVGSVGElement {
  const { x, y } = chartScales(data, size);
  const label = trans.__(
    'Memory over %1: baseline %2, peak %3',
    formatSeconds(data.duration),
    formatBytes(data.baseline),
    formatBytes(data.peak)
  );
  const limitLabel =
    data.limit !== null
      ? trans.__('recommended memory limit %1', formatBytes(data.limit))
      : '';
  const root = chartRoot(CLASS.chart, size, label, limitLabel);

  const right = size.width - MARGIN.right;
  const level = (value: number, cls: string, text: string) => {
    const at = y(value).toFixed(1);
    svg(
      'line',
      { class: cls, x1: MARGIN.left, x2: right, y1: at, y2: at },
      root
    );
    const tag = svg(
      'text',
      { class: CLASS.label, x: right + 4, y: at, dy: '0.35em' },
      root
    );
    tag.textContent = text;
    return tag;
  };
  level(
    data.baseline,
    CLASS.baseline,
    trans.__('baseline %1', formatBytes(data.baseline))
  );
  if (data.limit !== null) {
    level(
      data.limit,
      CLASS.limit,
      trans.__('limit %1', formatBytes(data.limit))
    );
  }

  const { t, rss } = data.timeline;
  const points: string[] = [];
  for (let i = 0; i < t.length; i++) {
    points.push(`${x(t[i]).toFixed(1)},${y(rss[i]).toFixed(1)}`);
  }
  svg('polyline', { class: CLASS.memory, points: points.join(' ') }, root);

  // The exact peak can lie above the sampled line: mark it at its own height.
  const top = peakIndex(rss);
  const peakX = x(top >= 0 ? t[top] : 0);
  const peakY = y(data.peak);
  svg(
    'circle',
    { class: CLASS.peak, cx: peakX.toFixed(1), cy: peakY.toFixed(1), r: 3.5 },
    root
  );
  const peakText = svg(
    'text',
    { class: CLASS.label, x: right + 4, y: peakY.toFixed(1), dy: '0.35em' },
    root
  );
  peakText.textContent = trans.__('peak %1', formatBytes(data.peak));
  spreadLabels(root, LABEL_GAP);

  xAxisLabels(root, size, right, '0 s', formatSeconds(x.domain[1]));
  return root;
}

export const PROFILE_CLASS = {
  chart: 'jp-ClusterCraft-profileChart',
  point: 'jp-ClusterCraft-profileChart-point',
  fit: 'jp-ClusterCraft-profileChart-fit'
};

export interface IProfileChartData {
  /** One point per profiled partition: its size (x) and the worker's peak (y), bytes. */
  points: { x: number; y: number }[];
  /** The fitted line: peak = base + perUnit x size. */
  base: number;
  perUnit: number;
  /** The largest partition's size: the line reaches it. */
  xMax: number;
  /** What x is: "memory", "rows", ... */
  xLabel: string;
  limit: number | null;
}

/** Worker peak against partition size: the points, the fitted line and the memory limit. */
export function profileChart(
  data: IProfileChartData,
  trans: TranslationBundle = nullTranslator.load('clustercraft'),
  size: IChartSize = CHART_SIZE
): SVGSVGElement {
  const xMax = Math.max(data.xMax, ...data.points.map(p => p.x)) * 1.05 || 1;
  const fitAt = (x: number) => data.base + data.perUnit * x;
  const top = Math.max(
    data.limit ?? 0,
    fitAt(xMax),
    ...data.points.map(p => p.y)
  );
  const right = size.width - MARGIN.right;
  const x = linearScale([0, xMax], [MARGIN.left, right]);
  const y = linearScale(
    [0, top * 1.05 || 1],
    [size.height - MARGIN.bottom, MARGIN.top]
  );
  const label = trans.__(
    'Worker peak against partition %1 for %2 partitions, with the fitted line',
    data.xLabel,
    data.points.length
  );
  const limitLabel =
    data.limit !== null
      ? trans.__('memory limit %1', formatBytes(data.limit))
      : '';
  const root = chartRoot(
    `${CLASS.chart} ${PROFILE_CLASS.chart}`,
    size,
    label,
    limitLabel
  );
  if (data.limit !== null) {
    const at = y(data.limit).toFixed(1);
    svg(
      'line',
      { class: CLASS.limit, x1: MARGIN.left, x2: right, y1: at, y2: at },
      root
    );
    const tag = svg(
      'text',
      { class: CLASS.label, x: right + 4, y: at, dy: '0.35em' },
      root
    );
    tag.textContent = trans.__('limit %1', formatBytes(data.limit));
  }
  svg(
    'line',
    {
      class: PROFILE_CLASS.fit,
      x1: x(0).toFixed(1),
      y1: y(data.base).toFixed(1),
      x2: x(xMax).toFixed(1),
      y2: y(fitAt(xMax)).toFixed(1)
    },
    root
  );
  for (const point of data.points) {
    const dot = svg(
      'circle',
      {
        class: PROFILE_CLASS.point,
        cx: x(point.x).toFixed(1),
        cy: y(point.y).toFixed(1),
        r: 3.5
      },
      root
    );
    svg('title', {}, dot).textContent = trans.__(
      '%1 %2: peak %3',
      data.xLabel,
      data.xLabel === 'memory'
        ? formatBytes(point.x)
        : point.x.toLocaleString(),
      formatBytes(point.y)
    );
  }
  xAxisLabels(
    root,
    size,
    right,
    '0',
    data.xLabel === 'memory'
      ? trans.__('memory %1', formatBytes(xMax))
      : `${data.xLabel} ${Math.round(xMax).toLocaleString()}`
  );
  return root;
}

/** The x axis's two labels: its start at the left, its end at the right. */
function xAxisLabels(
  root: SVGSVGElement,
  size: { height: number },
  right: number,
  start: string,
  end: string
): void {
  const axisY = size.height - 6;
  svg(
    'text',
    { class: CLASS.label, x: MARGIN.left, y: axisY },
    root
  ).textContent = start;
  svg(
    'text',
    { class: CLASS.label, x: right, y: axisY, 'text-anchor': 'end' },
    root
  ).textContent = end;
}
