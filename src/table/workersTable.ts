/**
 * The workers table: one row per worker, keyed by address; an update touches
 * only the cells whose text changed, so a 1,000-worker cluster stays smooth.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { formatAge, formatBytes, formatPercent } from '../format';
import { IWorkerRow } from '../schema';
import { MemoryLevel, memorySegments } from './memoryBar';
import { IWorkerSort, sortWorkers, WorkerSortKey } from './sort';

export const CLASS = {
  table: 'jp-ClusterCraft-workersTable',
  row: 'jp-ClusterCraft-workerRow',
  cell: 'jp-ClusterCraft-workerCell',
  sortButton: 'jp-ClusterCraft-sortButton',
  sortIndicator: 'jp-ClusterCraft-sortIndicator',
  bar: 'jp-ClusterCraft-memoryBar',
  barManaged: 'jp-ClusterCraft-memoryBar-managed',
  barUnmanaged: 'jp-ClusterCraft-memoryBar-unmanaged',
  barSpilled: 'jp-ClusterCraft-memoryBar-spilled',
  barLabel: 'jp-ClusterCraft-memoryBar-label',
  numeric: 'jp-mod-numeric'
};

/** The DOM data attribute holding the level of the bar, for its colour. */
export const LEVEL_ATTRIBUTE = 'data-level';

interface IColumn {
  label: string;
  sortKey: WorkerSortKey;
  numeric: boolean;
  /** Plain text of the cell; the memory bar column has none. */
  text?: (row: IWorkerRow, now: number) => string;
  title?: (row: IWorkerRow) => string;
}

interface IBarView {
  managed: HTMLElement;
  unmanaged: HTMLElement;
  spilled: HTMLElement;
  meter: HTMLElement;
  label: HTMLElement;
  widths: string[];
  level: MemoryLevel | '';
  valueText: string;
}

interface IRowView {
  tr: HTMLTableRowElement;
  cells: HTMLTableCellElement[];
  texts: string[];
  titles: string[];
  bar: IBarView;
}

const percent = (fraction: number) => `${(fraction * 100).toFixed(2)}%`;

export class WorkersTable {
  constructor(options: WorkersTable.IOptions = {}) {
    const trans = (options.trans ??
      nullTranslator.load('clustercraft')) as TranslationBundle;
    this._trans = trans;
    this._sort = options.sort ?? null;
    this._columns = [
      {
        label: trans.__('Worker'),
        sortKey: 'name',
        numeric: false,
        text: row => String(row.name),
        title: row => row.address
      },
      {
        label: trans.__('Threads'),
        sortKey: 'nthreads',
        numeric: true,
        text: row => String(row.nthreads)
      },
      {
        label: trans.__('Memory'),
        sortKey: 'memory_limit',
        numeric: true,
        text: row => formatBytes(row.memory_limit)
      },
      { label: trans.__('Memory use'), sortKey: 'memory', numeric: false },
      {
        label: trans.__('CPU'),
        sortKey: 'cpu',
        numeric: true,
        text: row => formatPercent(row.cpu)
      },
      {
        label: trans.__('Status'),
        sortKey: 'status',
        numeric: false,
        text: row => row.status
      },
      {
        label: trans.__('Last seen'),
        sortKey: 'last_seen',
        numeric: false,
        text: (row, now) => formatAge(row.last_seen, now)
      }
    ];
    this._barColumn = this._columns.findIndex(c => !c.text);

    const table = document.createElement('table');
    table.className = CLASS.table;
    table.setAttribute('aria-label', trans.__('Workers'));
    const headRow = table.createTHead().insertRow();
    this._headers = this._columns.map(column => {
      const th = document.createElement('th');
      th.scope = 'col';
      const button = document.createElement('button');
      button.type = 'button';
      button.className = CLASS.sortButton;
      button.textContent = column.label;
      // The arrow is drawn by CSS from aria-sort; hidden so the header's name stays the label.
      const indicator = document.createElement('span');
      indicator.className = CLASS.sortIndicator;
      indicator.setAttribute('aria-hidden', 'true');
      button.appendChild(indicator);
      button.title = trans.__('Sort by %1', column.label);
      button.addEventListener('click', () => this._toggleSort(column.sortKey));
      th.appendChild(button);
      headRow.appendChild(th);
      return th;
    });
    this._tbody = table.createTBody();
    this.node = table;
    this._renderSortState();
  }

  /** The `<table>` element. */
  readonly node: HTMLTableElement;

  get sort(): IWorkerSort | null {
    return this._sort;
  }

  set sort(sort: IWorkerSort | null) {
    this._sort = sort;
    this._renderSortState();
    this.update(this._rows, this._now);
  }

  /** How many rows are shown. */
  get rowCount(): number {
    return this._views.size;
  }

  /**
   * Show these rows: rows are matched by address, new ones added, gone ones
   * removed, and only cells whose content changed are written.
   *
   * @param now - the current time in ms, for "Last seen".
   */
  update(rows: readonly IWorkerRow[], now: number = Date.now()): void {
    this._rows = rows;
    this._now = now;
    const ordered = this._sort ? sortWorkers(rows, this._sort) : rows;
    const seen = new Set<string>();
    for (const row of ordered) {
      seen.add(row.address);
      let view = this._views.get(row.address);
      if (!view) {
        view = this._createRow();
        this._views.set(row.address, view);
      }
      this._updateRow(view, row, now);
    }
    for (const [address, view] of this._views) {
      if (!seen.has(address)) {
        view.tr.remove();
        this._views.delete(address);
      }
    }
    // Move rows only where the order differs from the DOM.
    let expected = this._tbody.firstChild;
    for (const row of ordered) {
      const tr = this._views.get(row.address)!.tr;
      if (tr === expected) {
        expected = expected.nextSibling;
      } else {
        this._tbody.insertBefore(tr, expected);
      }
    }
  }

  private _createRow(): IRowView {
    const tr = document.createElement('tr');
    tr.className = CLASS.row;
    const cells = this._columns.map(column => {
      const td = tr.insertCell();
      td.className = column.numeric
        ? `${CLASS.cell} ${CLASS.numeric}`
        : CLASS.cell;
      return td;
    });
    const meter = document.createElement('div');
    meter.className = CLASS.bar;
    meter.setAttribute('role', 'meter');
    meter.setAttribute('aria-valuemin', '0');
    meter.setAttribute('aria-valuemax', '100');
    const segment = (className: string) => {
      const element = document.createElement('div');
      element.className = className;
      meter.appendChild(element);
      return element;
    };
    const bar: IBarView = {
      meter,
      managed: segment(CLASS.barManaged),
      unmanaged: segment(CLASS.barUnmanaged),
      spilled: segment(CLASS.barSpilled),
      label: document.createElement('span'),
      widths: ['', '', ''],
      level: '',
      valueText: ''
    };
    bar.label.className = CLASS.barLabel;
    cells[this._barColumn].append(meter, bar.label);
    return {
      tr,
      cells,
      texts: cells.map(() => ''),
      titles: cells.map(() => ''),
      bar
    };
  }

  private _updateRow(view: IRowView, row: IWorkerRow, now: number): void {
    this._columns.forEach((column, index) => {
      if (column.text) {
        const text = column.text(row, now);
        if (text !== view.texts[index]) {
          view.texts[index] = text;
          view.cells[index].textContent = text;
        }
      }
      if (column.title) {
        const title = column.title(row);
        if (title !== view.titles[index]) {
          view.titles[index] = title;
          view.cells[index].title = title;
        }
      }
    });
    this._updateBar(view.bar, row);
  }

  private _updateBar(bar: IBarView, row: IWorkerRow): void {
    const segments = memorySegments(row);
    const widths = [segments.managed, segments.unmanaged, segments.spilled].map(
      percent
    );
    const elements = [bar.managed, bar.unmanaged, bar.spilled];
    widths.forEach((width, index) => {
      if (width !== bar.widths[index]) {
        bar.widths[index] = width;
        elements[index].style.width = width;
      }
    });
    if (segments.level !== bar.level) {
      bar.level = segments.level;
      bar.meter.setAttribute(LEVEL_ATTRIBUTE, segments.level);
    }
    const used = formatBytes(row.memory);
    const valueText = this._trans.__(
      '%1 of %2: managed %3, unmanaged %4, spilled %5',
      used,
      formatBytes(row.memory_limit),
      formatBytes(row.managed_bytes),
      formatBytes(Math.max(0, (row.memory || 0) - (row.managed_bytes || 0))),
      formatBytes(row.spilled_bytes)
    );
    if (valueText !== bar.valueText) {
      bar.valueText = valueText;
      bar.meter.setAttribute(
        'aria-valuenow',
        String(Math.round(segments.fraction * 100))
      );
      bar.meter.setAttribute('aria-valuetext', valueText);
      bar.meter.title = valueText;
      bar.label.textContent = used;
    }
  }

  private _toggleSort(key: WorkerSortKey): void {
    const current = this._sort;
    this.sort =
      current?.key === key
        ? {
            key,
            direction:
              current.direction === 'ascending' ? 'descending' : 'ascending'
          }
        : { key, direction: 'ascending' };
  }

  private _renderSortState(): void {
    this._columns.forEach((column, index) => {
      const direction =
        this._sort?.key === column.sortKey ? this._sort.direction : 'none';
      this._headers[index].setAttribute('aria-sort', direction);
    });
  }

  private _trans: TranslationBundle;
  private _columns: IColumn[];
  private _barColumn: number;
  private _headers: HTMLTableCellElement[];
  private _tbody: HTMLTableSectionElement;
  private _views = new Map<string, IRowView>();
  private _rows: readonly IWorkerRow[] = [];
  private _now = Date.now();
  private _sort: IWorkerSort | null;
}

export namespace WorkersTable {
  export interface IOptions {
    trans?: TranslationBundle;
    /** Initial order; `null` keeps the order of the rows given. */
    sort?: IWorkerSort | null;
  }
}
