/**
 * The columns of the workers table and which of them a given width shows.
 * What matters leads (worker, memory use, CPU, status); the rest give way in a
 * fixed order as the table narrows, into each row's details.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { formatAge, formatBytes, formatPercent } from '../format';
import { IWorkerRow } from '../schema';
import { WorkerSortKey } from './sort';

/** A column of the table; its key is also what it sorts by. */
export type WorkerColumnKey = WorkerSortKey;

/**
 * What a width can show: the columns, and `memory_bytes`, the bytes beside the
 * percentage in the Memory use cell.
 */
export type WorkerPart = WorkerColumnKey | 'memory_bytes';

export interface IWorkerColumn {
  key: WorkerColumnKey;
  label: string;
  numeric: boolean;
  /** Plain text of the cell; the Worker and Memory use columns draw their own. */
  text?: (row: IWorkerRow, now: number) => string;
  title?: (row: IWorkerRow) => string;
}

/** The columns in display order. */
export function workerColumns(trans: TranslationBundle): IWorkerColumn[] {
  return [
    { key: 'name', label: trans.__('Worker'), numeric: false },
    {
      key: 'nthreads',
      label: trans.__('Threads'),
      numeric: true,
      text: row => String(row.nthreads)
    },
    {
      key: 'memory_limit',
      label: trans.__('Memory'),
      numeric: true,
      text: row => formatBytes(row.memory_limit)
    },
    { key: 'memory', label: trans.__('Memory use'), numeric: false },
    {
      key: 'memory_peak',
      label: trans.__('Peak'),
      numeric: true,
      // 0: the worker does not report a peak (clustercraft is not installed there).
      text: row => (row.memory_peak ? formatBytes(row.memory_peak) : '–'),
      title: row => peakShare(row, trans)
    },
    {
      key: 'cpu',
      label: trans.__('CPU'),
      numeric: true,
      text: row => formatPercent(row.cpu)
    },
    {
      key: 'status',
      label: trans.__('Status'),
      numeric: false,
      text: row => row.status
    },
    {
      key: 'last_seen',
      label: trans.__('Last seen'),
      numeric: false,
      text: (row, now) => formatAge(row.last_seen, now)
    }
  ];
}

/** "50 % of the memory limit", or '' without a peak or a limit. */
export function peakShare(row: IWorkerRow, trans: TranslationBundle): string {
  return row.memory_peak && row.memory_limit
    ? trans.__(
        '%1 % of the memory limit',
        Math.round((row.memory_peak / row.memory_limit) * 100)
      )
    : '';
}

/**
 * The room each part needs, in em of the table's font (cell padding included),
 * most important first. Measured with DejaVu Sans, the widest common UI font:
 * two-word headers wrap, long names and statuses get an ellipsis.
 */
export const WORKER_PART_WIDTHS: [WorkerPart, number][] = [
  ['name', 4.7],
  ['memory', 6],
  ['cpu', 4.7],
  ['status', 4.5],
  ['memory_bytes', 6],
  ['memory_peak', 6.2],
  ['memory_limit', 6.2],
  ['nthreads', 5.2],
  ['last_seen', 8]
];

/** Every part: what a table shows before it knows its width. */
export const ALL_WORKER_PARTS: ReadonlySet<WorkerPart> = new Set(
  WORKER_PART_WIDTHS.map(([part]) => part)
);

/**
 * The parts a table `width` px wide shows, at `em` px to the em: the most
 * important ones that fit, in order, and always the worker's name.
 */
export function visibleWorkerParts(
  width: number,
  em: number,
  widths: [WorkerPart, number][] = WORKER_PART_WIDTHS
): Set<WorkerPart> {
  const shown = new Set<WorkerPart>();
  let used = 0;
  for (const [part, need] of widths) {
    used += need * em;
    if (shown.size > 0 && used > width) {
      break;
    }
    shown.add(part);
  }
  return shown;
}
