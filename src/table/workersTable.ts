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
  spacer: 'jp-ClusterCraft-workersSpacer',
  rows: 'jp-ClusterCraft-workerRows',
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
  /** Its aria-rowindex. */
  index: number;
  cells: HTMLTableCellElement[];
  texts: string[];
  titles: string[];
  bar: IBarView;
}

/** Rows drawn beyond each edge of the viewport, so scrolling shows no gap. */
const OVERSCAN = 10;
/** Row height in px until one is measured. */
const DEFAULT_ROW_HEIGHT = 20;

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
        label: trans.__('Peak'),
        sortKey: 'memory_peak',
        numeric: true,
        // 0: the worker does not report a peak (clustercraft is not installed there).
        text: row => (row.memory_peak ? formatBytes(row.memory_peak) : '–'),
        title: row =>
          row.memory_peak && row.memory_limit
            ? trans.__(
                '%1 % of the memory limit',
                Math.round((row.memory_peak / row.memory_limit) * 100)
              )
            : ''
      },
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
    this._tbody.className = CLASS.rows;
    // Stand-ins for the rows above and below the view; in the DOM only while virtualized.
    this._spacers = [0, 1].map(() => {
      const spacer = document.createElement('tbody');
      spacer.className = CLASS.spacer;
      spacer.setAttribute('aria-hidden', 'true');
      const cell = spacer.insertRow().insertCell();
      cell.colSpan = this._columns.length;
      return spacer;
    });
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

  /** The `<tbody>` holding the worker rows. */
  get body(): HTMLTableSectionElement {
    return this._tbody;
  }

  /** How many rows are in the DOM (all of them unless virtualized). */
  get rowCount(): number {
    return this._views.size;
  }

  /**
   * The scrolling element around the table. With one, only the rows in view
   * (plus a margin) are in the DOM; call `refresh()` when it scrolls.
   */
  get viewport(): HTMLElement | null {
    return this._viewport;
  }

  set viewport(element: HTMLElement | null) {
    this._viewport = element;
    this.refresh();
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
    this._ordered = this._sort ? sortWorkers(rows, this._sort) : rows;
    this.refresh();
  }

  /** Redraw the rows in view, e.g. after the viewport scrolled or resized. */
  refresh(): void {
    const ordered = this._ordered;
    const [first, last] = this._window(ordered.length);
    const shown = ordered.slice(first, last);
    const seen = new Set<string>();
    shown.forEach((row, offset) => {
      seen.add(row.address);
      let view = this._views.get(row.address);
      if (!view) {
        view = this._createRow();
        this._views.set(row.address, view);
      }
      this._updateRow(view, row, this._now);
      // Row 1 is the header, for screen readers that see only part of the rows.
      const index = first + offset + 2;
      if (view.index !== index) {
        view.index = index;
        view.tr.setAttribute('aria-rowindex', String(index));
      }
    });
    for (const [address, view] of this._views) {
      if (!seen.has(address)) {
        view.tr.remove();
        this._views.delete(address);
      }
    }
    // Move rows only where the order differs from the DOM.
    let expected = this._tbody.firstChild;
    for (const row of shown) {
      const tr = this._views.get(row.address)!.tr;
      if (tr === expected) {
        expected = expected.nextSibling;
      } else {
        this._tbody.insertBefore(tr, expected);
      }
    }
    this._setRowCount(ordered.length);
    this._setSpacer(this._spacers[0], first * this._rowHeight, false);
    this._setSpacer(
      this._spacers[1],
      (ordered.length - last) * this._rowHeight,
      true
    );
    if (this._viewport) {
      if (!this._rowHeightMeasured && shown.length > 0) {
        const height =
          this._tbody.firstElementChild!.getBoundingClientRect().height;
        if (height > 0) {
          this._rowHeight = height;
          this._rowHeightMeasured = true;
        }
      }
    }
  }

  /** The slice of rows to put in the DOM: all, or those in view. */
  private _window(count: number): [number, number] {
    const viewport = this._viewport;
    if (!viewport) {
      return [0, count];
    }
    const height = viewport.clientHeight;
    const rowHeight = this._rowHeight;
    if (height <= 0) {
      // Not laid out (hidden, or no layout engine): nothing to measure by, draw all.
      return [0, count];
    }
    const top = viewport.scrollTop - (this.node.tHead?.offsetHeight ?? 0);
    const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN);
    const last = Math.min(
      count,
      Math.ceil((top + height) / rowHeight) + OVERSCAN
    );
    return [Math.min(first, last), last];
  }

  private _setSpacer(
    spacer: HTMLTableSectionElement,
    height: number,
    below: boolean
  ): void {
    if (height <= 0) {
      spacer.remove();
      return;
    }
    const text = `${Math.round(height)}px`;
    const cell = spacer.rows[0].cells[0];
    if (cell.style.height !== text) {
      cell.style.height = text;
    }
    if (spacer.parentNode !== this.node) {
      this.node.insertBefore(
        spacer,
        below ? this._tbody.nextSibling : this._tbody
      );
    }
  }

  private _setRowCount(count: number): void {
    if (count !== this._count) {
      this._count = count;
      this.node.setAttribute('aria-rowcount', String(count + 1));
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
      index: 0,
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
  private _ordered: readonly IWorkerRow[] = [];
  private _viewport: HTMLElement | null = null;
  private _spacers: HTMLTableSectionElement[];
  private _rowHeight = DEFAULT_ROW_HEIGHT;
  private _rowHeightMeasured = false;
  private _count = -1;
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
