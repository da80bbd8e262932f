/**
 * The "Memory use" bar: managed / unmanaged / spilled bytes against the
 * worker's memory limit, coloured at Dask's memory thresholds.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { formatBytes } from '../format';
import { IWorkerRow } from '../schema';

/**
 * Fractions of the memory limit from Dask's `distributed.worker.memory.*`
 * defaults: target (start spilling managed data), spill (spill on process
 * memory), pause (stop running tasks), terminate (the nanny restarts the worker).
 */
export const MEMORY_THRESHOLDS = {
  target: 0.6,
  spill: 0.7,
  pause: 0.8,
  terminate: 0.95
};

export type MemoryLevel = 'ok' | 'target' | 'spill' | 'pause' | 'terminate';

/** Widths of the bar's segments as fractions of the limit (their sum is at most 1). */
export interface IMemorySegments {
  managed: number;
  unmanaged: number;
  spilled: number;
  /** Process memory over the limit, which sets the colour. */
  fraction: number;
  level: MemoryLevel;
}

/** The threshold a fraction of the memory limit has reached. */
export function memoryLevel(
  fraction: number,
  thresholds = MEMORY_THRESHOLDS
): MemoryLevel {
  if (fraction >= thresholds.terminate) {
    return 'terminate';
  }
  if (fraction >= thresholds.pause) {
    return 'pause';
  }
  if (fraction >= thresholds.spill) {
    return 'spill';
  }
  if (fraction >= thresholds.target) {
    return 'target';
  }
  return 'ok';
}

const clamp = (value: number) =>
  Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;

type MemoryFigures = Pick<
  IWorkerRow,
  'memory' | 'managed_bytes' | 'spilled_bytes' | 'memory_limit'
>;

/**
 * Managed bytes as Dask's `MemoryState` counts them: the sizes of the data a
 * worker holds are estimates that can exceed the process memory, so they are
 * capped by it. Unmanaged is the rest of the process memory.
 */
export function managedInMemory(row: MemoryFigures): number {
  const memory = Math.max(0, row.memory || 0);
  return Math.min(Math.max(0, row.managed_bytes || 0), memory);
}

/** Process memory as a whole percentage of the limit; null without a limit. */
export function memoryPercent(row: MemoryFigures): number | null {
  return row.memory_limit > 0
    ? Math.round((Math.max(0, row.memory || 0) / row.memory_limit) * 100)
    : null;
}

/**
 * The figures of the bar in words, adding up: "624.99 MiB of 1.00 GiB (61 %):
 * 600.00 MiB managed + 24.99 MiB unmanaged; 213.62 MiB spilled to disk".
 */
export function memoryBreakdown(
  row: MemoryFigures,
  trans: TranslationBundle = nullTranslator.load('clustercraft')
): string {
  const memory = Math.max(0, row.memory || 0);
  const managed = managedInMemory(row);
  const percent = memoryPercent(row);
  const head =
    percent === null
      ? trans.__('%1, no memory limit', formatBytes(memory))
      : trans.__(
          '%1 of %2 (%3 %)',
          formatBytes(memory),
          formatBytes(row.memory_limit),
          percent
        );
  return trans.__(
    '%1: %2 managed + %3 unmanaged; %4 spilled to disk',
    head,
    formatBytes(managed),
    formatBytes(memory - managed),
    formatBytes(Math.max(0, row.spilled_bytes || 0))
  );
}

/**
 * Split a worker's memory into bar segments. Unmanaged is process memory
 * minus managed; spilled bytes (on disk) come last and are cut first when
 * everything does not fit.
 */
export function memorySegments(
  row: MemoryFigures,
  thresholds = MEMORY_THRESHOLDS
): IMemorySegments {
  const limit = row.memory_limit;
  if (!limit || limit <= 0) {
    return { managed: 0, unmanaged: 0, spilled: 0, fraction: 0, level: 'ok' };
  }
  const memory = Math.max(0, row.memory || 0);
  const managedBytes = managedInMemory(row);
  const managed = clamp(managedBytes / limit);
  const unmanaged = clamp((memory - managedBytes) / limit);
  const inMemory = Math.min(1, managed + unmanaged);
  const spilled = Math.min(
    clamp((row.spilled_bytes || 0) / limit),
    1 - inMemory
  );
  const fraction = memory / limit;
  return {
    managed,
    unmanaged: inMemory - managed,
    spilled,
    fraction,
    level: memoryLevel(fraction, thresholds)
  };
}
