/**
 * The verdict on a run: the largest worker peak against its memory limit, the
 * memory restarts, and the limit that would have been right. The card and the
 * inline widget both show it; clustercraft/sizing/recommend.py's `verdict` words
 * the same for the widget's text view (the two share test cases in
 * __tests__/data/verdicts.json).
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { formatBytes, readableSize } from './format';
import { ICluster } from './schema';

/** `unlimited`: the worker has no memory limit to judge its peak against. */
export type VerdictLevel =
  'fine' | 'oversized' | 'at-risk' | 'failed' | 'unlimited';

export interface IVerdict {
  level: VerdictLevel;
  /** The largest worker peak, in bytes (0: none known). */
  peak: number;
  /** That worker's memory limit, in bytes (0: none). */
  limit: number;
  /** peak / limit, or null without a limit. */
  fraction: number | null;
  restarts: number;
  /** The limit that would put the peak at 60 %, rounded up to a readable size. */
  rightLimit: number | null;
  text: string;
}

/** The share of the limit a worker peak may take and be sized right. */
export const FINE_RANGE: [number, number] = [0.4, 0.8];
/** A right limit puts the peak here. */
export const RIGHT_FRACTION = 0.6;

/**
 * The verdict on a cluster's run, or null while no worker reports a peak or
 * none has started a task (an idle worker's peak is no run's), and none was
 * restarted. Failed on any memory restart; else fine with the peak at
 * 40-80 % of the limit, oversized below, at risk above.
 */
export function verdict(
  cluster: Pick<ICluster, 'workers' | 'memory_restarts' | 'memory_peak_method'>,
  trans: TranslationBundle = nullTranslator.load('clustercraft')
): IVerdict | null {
  const restarts = cluster.memory_restarts ?? 0;
  let peak = 0;
  let limit = 0;
  for (const row of cluster.workers ?? []) {
    const rowPeak = row.memory_peak || 0;
    if (rowPeak > peak || (rowPeak === peak && row.memory_limit > limit)) {
      peak = rowPeak;
      limit = row.memory_limit;
    }
  }
  const workers = cluster.workers ?? [];
  const idle = workers.length > 0 && workers.every(w => w.ran_tasks === false);
  if (!restarts && (!peak || idle)) {
    return null;
  }
  const fraction = limit ? peak / limit : null;
  let level: VerdictLevel;
  if (restarts) {
    level = 'failed';
  } else if (fraction === null) {
    level = 'unlimited';
  } else if (fraction > FINE_RANGE[1]) {
    level = 'at-risk';
  } else if (fraction < FINE_RANGE[0]) {
    level = 'oversized';
  } else {
    level = 'fine';
  }
  // A restarted worker's own peak is gone with it: it needed more than its whole limit.
  const need = restarts ? Math.max(peak, limit) : peak;
  const rightLimit = need ? readableSize(need / RIGHT_FRACTION) : null;
  let text = verdictText(
    level,
    peak,
    limit,
    fraction,
    restarts,
    rightLimit,
    trans
  );
  if (cluster.memory_peak_method === 'sampled') {
    text += ` (${trans.__('peaks sampled: short spikes can be missed')})`;
  }
  return { level, peak, limit, fraction, restarts, rightLimit, text };
}

function verdictText(
  level: VerdictLevel,
  peak: number,
  limit: number,
  fraction: number | null,
  restarts: number,
  rightLimit: number | null,
  trans: TranslationBundle
): string {
  const restartText = trans._n('%1 restart', '%1 restarts', restarts);
  let head: string;
  if (!peak) {
    head = trans.__('No worker peak known yet; %1', restartText);
  } else if (fraction === null) {
    head = trans.__(
      'Largest worker peak %1, no memory limit; %2',
      formatBytes(peak),
      restartText
    );
  } else {
    head = trans.__(
      'Largest worker peak %1 = %2 % of its %3 limit; %4',
      formatBytes(peak),
      Math.round(fraction * 100),
      formatBytes(limit),
      restartText
    );
  }
  const words: Partial<Record<VerdictLevel, string>> = {
    fine: trans.__('fine'),
    oversized: trans.__('oversized'),
    'at-risk': trans.__('at risk'),
    failed: trans.__('failed')
  };
  const tail = words[level] ? [words[level]] : [];
  if (rightLimit) {
    const size = formatBytes(rightLimit);
    tail.push(
      level === 'failed'
        ? trans.__('at least %1 would be right', size)
        : trans.__('%1 would be right', size)
    );
  }
  return tail.length ? `${head} — ${tail.join('; ')}` : head;
}
