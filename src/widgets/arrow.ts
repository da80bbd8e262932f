/**
 * Decoding of the Arrow IPC streams the kernel (pyarrow) and the server send:
 * worker rows and memory timelines.
 */
import { DataType, tableFromIPC, Vector } from 'apache-arrow';

import { IWorkerRow } from '../schema';

/** What a comm buffer or a fetch can hand us. */
export type BinaryData = ArrayBuffer | ArrayBufferView;

/** A view of `data` as bytes, without copying. */
export function asBytes(data: BinaryData): Uint8Array {
  if (data instanceof Uint8Array) {
    return data;
  }
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return new Uint8Array(data);
}

/** One column as plain JS values: numbers (int64 too), strings or null. */
export type ColumnValues = ArrayLike<number | string | boolean | null>;

/**
 * The columns of an Arrow IPC stream by name. Numeric columns stay typed
 * arrays (int64 becomes Float64Array: byte counts fit in 2^53).
 */
export function decodeColumns(data: BinaryData): Map<string, ColumnValues> {
  const table = tableFromIPC(asBytes(data));
  const columns = new Map<string, ColumnValues>();
  table.schema.fields.forEach((field, index) => {
    columns.set(field.name, columnValues(table.getChildAt(index)!));
  });
  return columns;
}

function columnValues(vector: Vector): ColumnValues {
  const values = vector.toArray() as ArrayLike<any>;
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    return Float64Array.from(values as ArrayLike<bigint>, Number);
  }
  if (
    ArrayBuffer.isView(values) &&
    vector.nullCount === 0 &&
    !DataType.isBool(vector.type)
  ) {
    return values as ArrayLike<number>;
  }
  // Strings, booleans and nullable numbers: honour the validity bitmap.
  const out = new Array<any>(vector.length);
  for (let i = 0; i < vector.length; i++) {
    out[i] = vector.isValid(i) ? vector.get(i) : null;
  }
  return out;
}

/** The rows of an Arrow IPC stream as plain objects. */
export function decodeRows<T = Record<string, unknown>>(data: BinaryData): T[] {
  const columns = [...decodeColumns(data)];
  const length = columns.length ? columns[0][1].length : 0;
  const rows = new Array<T>(length);
  for (let i = 0; i < length; i++) {
    const row: Record<string, unknown> = {};
    for (const [name, values] of columns) {
      row[name] = values[i];
    }
    rows[i] = row as T;
  }
  return rows;
}

/** Worker rows (clustercraft/schema.py's WORKER_ROW_FIELDS) from an Arrow IPC stream. */
export function decodeWorkerRows(data: BinaryData): IWorkerRow[] {
  return decodeRows<IWorkerRow>(data);
}

/** A memory timeline: seconds since the start and RSS in bytes. */
export interface ITimeline {
  t: ArrayLike<number>;
  rss: ArrayLike<number>;
}

/** A timeline from an Arrow IPC stream with columns `t` and `rss`. */
export function decodeTimeline(data: BinaryData | null | undefined): ITimeline {
  if (!data || data.byteLength === 0) {
    return { t: [], rss: [] };
  }
  const columns = decodeColumns(data);
  return {
    t: (columns.get('t') ?? []) as ArrayLike<number>,
    rss: (columns.get('rss') ?? []) as ArrayLike<number>
  };
}
