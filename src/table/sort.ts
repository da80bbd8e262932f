/**
 * Ordering of worker rows for the sortable columns.
 */
import { IWorkerRow } from '../schema';

export type SortDirection = 'ascending' | 'descending';

/** The row fields a column can sort by. */
export type WorkerSortKey =
  | 'name'
  | 'nthreads'
  | 'memory_limit'
  | 'memory'
  | 'memory_peak'
  | 'cpu'
  | 'status'
  | 'last_seen';

export interface IWorkerSort {
  key: WorkerSortKey;
  direction: SortDirection;
}

const collator = new Intl.Collator(undefined, { numeric: true });

/** Numbers numerically, text "naturally" (worker 2 before worker 10); ties by address. */
export function compareWorkers(
  a: IWorkerRow,
  b: IWorkerRow,
  key: WorkerSortKey
): number {
  const x = a[key];
  const y = b[key];
  let order: number;
  if (typeof x === 'number' && typeof y === 'number') {
    order = x - y;
  } else {
    order = collator.compare(String(x ?? ''), String(y ?? ''));
  }
  return order || collator.compare(a.address, b.address);
}

/** A sorted copy of the rows. */
export function sortWorkers(
  rows: readonly IWorkerRow[],
  sort: IWorkerSort
): IWorkerRow[] {
  const sign = sort.direction === 'ascending' ? 1 : -1;
  return [...rows].sort((a, b) => sign * compareWorkers(a, b, sort.key));
}
