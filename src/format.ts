/**
 * Human-readable formatting shared by every table and report.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { ICluster } from './schema';

const BYTE_UNITS = ['B', 'kiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * Format a byte count the way Dask's `format_bytes` does: binary units,
 * two decimals, e.g. `1.50 GiB`.
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) {
    return '–';
  }
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 * 0.95 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0
    ? `${sign}${Math.round(value)} B`
    : `${sign}${value.toFixed(2)} ${BYTE_UNITS[unit]}`;
}

const AGE_UNITS: [number, string, string][] = [
  [86400, 'day', 'days'],
  [3600, 'hour', 'hours'],
  [60, 'minute', 'minutes'],
  [1, 'second', 'seconds']
];

/**
 * Format a duration in seconds as the largest whole unit: `2 minutes`, `1 hour`.
 */
export function formatDuration(seconds: number): string {
  const value = Math.max(0, Math.floor(seconds));
  for (const [size, one, many] of AGE_UNITS) {
    if (value >= size) {
      const count = Math.floor(value / size);
      return `${count} ${count === 1 ? one : many}`;
    }
  }
  return '0 seconds';
}

/**
 * Format an epoch time (seconds) relative to `now` (milliseconds, like
 * `Date.now()`): `just now`, `2 minutes ago`.
 */
export function formatAge(
  epochSeconds: number | null | undefined,
  now: number = Date.now()
): string {
  if (
    epochSeconds === null ||
    epochSeconds === undefined ||
    !Number.isFinite(epochSeconds) ||
    epochSeconds <= 0
  ) {
    return '–';
  }
  const seconds = now / 1000 - epochSeconds;
  if (seconds < 1) {
    return 'just now';
  }
  return `${formatDuration(seconds)} ago`;
}

/**
 * Format a CPU percentage as Dask's tables do: `12.5 %`.
 */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '–';
  }
  return `${value.toFixed(1)} %`;
}

const GiB = 2 ** 30;
/** Steps a person would type a memory limit in: [up to, step] (as sizing.py's readable_size). */
const READABLE_STEPS: [number, number][] = [
  [2 * GiB, GiB / 8],
  [4 * GiB, GiB / 4],
  [32 * GiB, GiB / 2],
  [Infinity, GiB]
];

/**
 * Round a byte count up to the next 128 MiB (up to 2 GiB), 256 MiB (up to
 * 4 GiB), 512 MiB (up to 32 GiB) or 1 GiB step: a memory limit one would ask for.
 */
export function readableSize(bytes: number): number {
  const [, step] = READABLE_STEPS.find(([upTo]) => bytes <= upTo)!;
  return Math.max(1, Math.ceil(bytes / step)) * step;
}

/** Seconds with the precision a measurement has: `0.123 s`, `12.3 s`, `3 minutes`. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) {
    return '–';
  }
  if (seconds < 10) {
    return `${seconds.toFixed(3)} s`;
  }
  return seconds < 120 ? `${seconds.toFixed(1)} s` : formatDuration(seconds);
}

/** "from kernel: analysis.ipynb", "adopted by address", or '' for the panel's own. */
export function originLabel(
  cluster: ICluster,
  trans: TranslationBundle
): string {
  if (cluster.origin === 'kernel') {
    const notebook = cluster.kernel?.notebook;
    return notebook
      ? trans.__('from kernel: %1', notebook.split('/').pop())
      : trans.__('from kernel %1', cluster.kernel?.pid ?? '');
  }
  return cluster.origin === 'address' ? trans.__('adopted by address') : '';
}

/** `dask-report-<cluster>-<date>T<time>.html`: one per recording, in name order by time. */
export function reportName(cluster: string, when: Date): string {
  const stamp = when.toISOString().slice(0, 19).replace(/:/g, '-');
  return `dask-report-${cluster.replace(/[^\w.-]+/g, '_')}-${stamp}.html`;
}
