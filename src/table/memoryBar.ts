/**
 * The "Memory use" bar: managed / unmanaged / spilled bytes against the
 * worker's memory limit, coloured at Dask's memory thresholds.
 */
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

/**
 * Split a worker's memory into bar segments. Unmanaged is process memory
 * minus managed; spilled bytes (on disk) come last and are cut first when
 * everything does not fit.
 */
export function memorySegments(
  row: Pick<
    IWorkerRow,
    'memory' | 'managed_bytes' | 'spilled_bytes' | 'memory_limit'
  >,
  thresholds = MEMORY_THRESHOLDS
): IMemorySegments {
  const limit = row.memory_limit;
  if (!limit || limit <= 0) {
    return { managed: 0, unmanaged: 0, spilled: 0, fraction: 0, level: 'ok' };
  }
  const memory = Math.max(0, row.memory || 0);
  const managedBytes = Math.min(Math.max(0, row.managed_bytes || 0), memory);
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
