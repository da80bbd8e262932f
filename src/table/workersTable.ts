/**
 * The workers table: one row per worker, keyed by address; an update touches
 * only the cells whose text changed, so a 1,000-worker cluster stays smooth.
 * It fits its width: the columns that do not fit leave the view (screen
 * readers still have them) and each row's details show everything.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { formatBytes } from '../format';
import { IWorkerRow } from '../schema';
import {
  ALL_WORKER_PARTS,
  IWorkerColumn,
  visibleWorkerParts,
  WorkerPart,
  workerColumns
} from './columns';
import {
  MemoryLevel,
  memoryBreakdown,
  memoryPercent,
  memorySegments
} from './memoryBar';
import { IWorkerSort, sortWorkers, WorkerSortKey } from './sort';
import { WorkerDetails } from './workerDetails';

export const CLASS = {
  table: 'jp-ClusterCraft-workersTable',
  row: 'jp-ClusterCraft-workerRow',
  cell: 'jp-ClusterCraft-workerCell',
  offscreen: 'jp-ClusterCraft-offscreen',
  sortButton: 'jp-ClusterCraft-sortButton',
  sortIndicator: 'jp-ClusterCraft-sortIndicator',
  spacer: 'jp-ClusterCraft-workersSpacer',
  rows: 'jp-ClusterCraft-workerRows',
  toggle: 'jp-ClusterCraft-workerToggle',
  chevron: 'jp-ClusterCraft-chevron',
  statusDot: 'jp-ClusterCraft-statusDot',
  name: 'jp-ClusterCraft-workerName',
  memoryCell: 'jp-ClusterCraft-memoryCell',
  bar: 'jp-ClusterCraft-memoryBar',
  barManaged: 'jp-ClusterCraft-memoryBar-managed',
  barUnmanaged: 'jp-ClusterCraft-memoryBar-unmanaged',
  barSpilled: 'jp-ClusterCraft-memoryBar-spilled',
  barLabel: 'jp-ClusterCraft-memoryBar-label',
  numeric: 'jp-mod-numeric'
};

/** The DOM data attribute holding the level of the bar, for its colour. */
export const LEVEL_ATTRIBUTE = 'data-level';
/** The column key of a header cell, for styles and tests. */
export const COLUMN_ATTRIBUTE = 'data-column';
/** A worker's status on its dot, for the dot's colour. */
export const STATUS_ATTRIBUTE = 'data-status';

interface IBarView {
  managed: HTMLElement;
  unmanaged: HTMLElement;
  spilled: HTMLElement;
  meter: HTMLElement;
  label: HTMLElement;
  widths: string[];
  level: MemoryLevel | '';
  valueText: string;
  labelText: string;
}

interface IRowView {
  tr: HTMLTableRowElement;
  /** Its aria-rowindex. */
  index: number;
  cells: HTMLTableCellElement[];
  texts: string[];
  titles: string[];
  toggle: HTMLButtonElement;
  dot: HTMLElement;
  name: HTMLElement;
  status: string;
  bar: IBarView;
}

/** Rows drawn beyond each edge of the viewport, so scrolling shows no gap. */
const OVERSCAN = 10;
/** Row height in px until one is measured. */
const DEFAULT_ROW_HEIGHT = 20;
/** Height of a worker's details in px until measured. */
const DEFAULT_DETAILS_HEIGHT = 200;
/** Font size in px when the table has none (not in a document). */
const DEFAULT_EM = 13;

const percent = (fraction: number) => `${(fraction * 100).toFixed(2)}%`;

export class WorkersTable {
  constructor(options: WorkersTable.IOptions = {}) {
    const trans = (options.trans ??
      nullTranslator.load('clustercraft')) as TranslationBundle;
    this._trans = trans;
    this._sort = options.sort ?? null;
    this._columns = workerColumns(trans);
    const id = Private.nextId();
    this._details = new WorkerDetails({ id: `${id}-details`, trans });
    this._details.columns = this._columns.length;

    const table = document.createElement('table');
    table.className = CLASS.table;
    table.id = id;
    table.setAttribute('aria-label', trans.__('Workers'));
    const headRow = table.createTHead().insertRow();
    this._headers = this._columns.map(column => {
      const th = document.createElement('th');
      th.scope = 'col';
      th.setAttribute(COLUMN_ATTRIBUTE, column.key);
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
      button.addEventListener('click', () => this._toggleSort(column.key));
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
      // Columns out of view still take a (zero-width) slot in the table's grid.
      spacer.insertRow().insertCell().colSpan = this._columns.length;
      return spacer;
    });
    this.node = table;
    this._renderSortState();
    this._applyParts();
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

  /** How many worker rows are in the DOM (all of them unless virtualized). */
  get rowCount(): number {
    return this._views.size;
  }

  /** What the table shows at its width: columns, and the bytes of Memory use. */
  get parts(): ReadonlySet<WorkerPart> {
    return this._parts;
  }

  /**
   * Fit the columns to `width` px at `em` px to the em (the table's font size
   * when not given); a width of 0 (not laid out) changes nothing.
   */
  setWidth(width: number, em?: number): void {
    if (width <= 0) {
      return;
    }
    const size =
      em ?? (parseFloat(getComputedStyle(this.node).fontSize) || DEFAULT_EM);
    const parts = visibleWorkerParts(width, size);
    const same =
      parts.size === this._parts.size &&
      [...parts].every(part => this._parts.has(part));
    if (!same) {
      this._parts = parts;
      this._applyParts();
      this.refresh();
    }
  }

  /** The address of the worker whose details are open, or null. */
  get expanded(): string | null {
    return this._expanded;
  }

  /** The `<tr>` of the open details. */
  get details(): HTMLTableRowElement {
    return this._details.node;
  }

  /** Open a worker's details (closing any other), or close them with null. */
  expand(address: string | null): void {
    this._expanded = address;
    this.refresh();
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
    const open = this._expanded
      ? ordered.findIndex(row => row.address === this._expanded)
      : -1;
    if (open < 0) {
      // The worker left: its details go with it.
      this._expanded = null;
    }
    const [first, last] = this._window(ordered.length, open);
    const shown = ordered.slice(first, last);
    const seen = new Set<string>();
    const wanted: HTMLTableRowElement[] = [];
    shown.forEach((row, offset) => {
      seen.add(row.address);
      let view = this._views.get(row.address);
      if (!view) {
        view = this._createRow(row.address);
        this._views.set(row.address, view);
      }
      const position = first + offset;
      this._updateRow(view, row, this._now, position === open);
      // Row 1 is the header, for screen readers that see only part of the rows.
      const index = position + 2 + (open >= 0 && position > open ? 1 : 0);
      if (view.index !== index) {
        view.index = index;
        view.tr.setAttribute('aria-rowindex', String(index));
      }
      wanted.push(view.tr);
      if (position === open) {
        this._details.update(row, this._now);
        this._details.node.setAttribute('aria-rowindex', String(index + 1));
        wanted.push(this._details.node);
      }
    });
    for (const [address, view] of this._views) {
      if (!seen.has(address)) {
        view.tr.remove();
        this._views.delete(address);
      }
    }
    if (!wanted.includes(this._details.node)) {
      this._details.node.remove();
    }
    // Move rows only where the order differs from the DOM.
    let expected = this._tbody.firstChild;
    for (const tr of wanted) {
      if (tr === expected) {
        expected = expected.nextSibling;
      } else {
        this._tbody.insertBefore(tr, expected);
      }
    }
    this._setRowCount(ordered.length + (this._expanded ? 1 : 0));
    const height = this._rowHeight;
    const extra = this._expanded ? this._detailsHeight : 0;
    this._setSpacer(
      this._spacers[0],
      first * height + (open >= 0 && open < first ? extra : 0),
      false
    );
    this._setSpacer(
      this._spacers[1],
      (ordered.length - last) * height + (open >= last ? extra : 0),
      true
    );
    if (this._viewport) {
      this._measure(shown.length > 0);
    }
  }

  /** Learn the row and details heights from the DOM, once they are laid out. */
  private _measure(hasRows: boolean): void {
    if (!this._rowHeightMeasured && hasRows) {
      const first = this._tbody.firstElementChild!;
      const height = first.getBoundingClientRect().height;
      if (height > 0 && first !== this._details.node) {
        this._rowHeight = height;
        this._rowHeightMeasured = true;
      }
    }
    if (this._details.node.isConnected) {
      const height = this._details.node.getBoundingClientRect().height;
      if (height > 0) {
        this._detailsHeight = height;
      }
    }
  }

  /**
   * The slice of rows to put in the DOM: all, or those in view; `open` is the
   * position of the row whose details follow it (-1: none).
   */
  private _window(count: number, open: number): [number, number] {
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
    const extra = open >= 0 ? this._detailsHeight : 0;
    // A position in px to a row position, past the details when below them.
    const rowAt = (y: number) =>
      extra && y > (open + 1) * rowHeight
        ? Math.max(open + 1, (y - extra) / rowHeight)
        : y / rowHeight;
    const top = viewport.scrollTop - (this.node.tHead?.offsetHeight ?? 0);
    const first = Math.max(0, Math.floor(rowAt(top)) - OVERSCAN);
    const last = Math.min(count, Math.ceil(rowAt(top + height)) + OVERSCAN);
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

  /** Show the columns that fit; the others stay for screen readers only. */
  private _applyParts(): void {
    const shown = this._columns.map(column => this._parts.has(column.key));
    this._headers.forEach((th, index) => {
      th.classList.toggle(CLASS.offscreen, !shown[index]);
      // Out of view, so out of the tab order too.
      th.querySelector('button')!.tabIndex = shown[index] ? 0 : -1;
    });
    for (const view of this._views.values()) {
      view.cells.forEach((td, index) =>
        td.classList.toggle(CLASS.offscreen, !shown[index])
      );
    }
  }

  private _createRow(address: string): IRowView {
    const tr = document.createElement('tr');
    tr.className = CLASS.row;
    const cells = this._columns.map(column => {
      const td = tr.insertCell();
      td.className = column.numeric
        ? `${CLASS.cell} ${CLASS.numeric}`
        : CLASS.cell;
      td.classList.toggle(CLASS.offscreen, !this._parts.has(column.key));
      return td;
    });
    const toggle = document.createElement('button');
    toggle.type = 'button';
    toggle.className = CLASS.toggle;
    toggle.setAttribute('aria-expanded', 'false');
    toggle.addEventListener('click', () =>
      this.expand(this._expanded === address ? null : address)
    );
    const chevron = document.createElement('span');
    chevron.className = CLASS.chevron;
    chevron.setAttribute('aria-hidden', 'true');
    // The status column has the words; the dot is for the eye, also when that column is out of view.
    const dot = document.createElement('span');
    dot.className = CLASS.statusDot;
    dot.setAttribute('aria-hidden', 'true');
    const name = document.createElement('span');
    name.className = CLASS.name;
    toggle.append(chevron, dot, name);
    cells[this._column('name')].appendChild(toggle);

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
      valueText: '',
      labelText: ''
    };
    bar.label.className = CLASS.barLabel;
    const memoryCell = document.createElement('div');
    memoryCell.className = CLASS.memoryCell;
    memoryCell.append(meter, bar.label);
    cells[this._column('memory')].appendChild(memoryCell);
    return {
      tr,
      index: 0,
      cells,
      texts: cells.map(() => ''),
      titles: cells.map(() => ''),
      toggle,
      dot,
      name,
      status: '',
      bar
    };
  }

  private _updateRow(
    view: IRowView,
    row: IWorkerRow,
    now: number,
    expanded: boolean
  ): void {
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
    const nameIndex = this._column('name');
    const name = String(row.name);
    if (name !== view.texts[nameIndex]) {
      view.texts[nameIndex] = name;
      view.name.textContent = name;
    }
    if (row.address !== view.titles[nameIndex]) {
      view.titles[nameIndex] = row.address;
      view.cells[nameIndex].title = row.address;
    }
    if (row.status !== view.status) {
      view.status = row.status;
      view.dot.setAttribute(STATUS_ATTRIBUTE, row.status);
      view.dot.title = row.status;
    }
    const isOpen = view.toggle.getAttribute('aria-expanded') === 'true';
    if (expanded !== isOpen) {
      view.toggle.setAttribute('aria-expanded', String(expanded));
      if (expanded) {
        view.toggle.setAttribute('aria-controls', this._details.node.id);
      } else {
        view.toggle.removeAttribute('aria-controls');
      }
    }
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
    const valueText = memoryBreakdown(row, this._trans);
    if (valueText !== bar.valueText) {
      bar.valueText = valueText;
      bar.meter.setAttribute(
        'aria-valuenow',
        String(Math.round(segments.fraction * 100))
      );
      bar.meter.setAttribute('aria-valuetext', valueText);
      bar.meter.title = valueText;
    }
    const share = memoryPercent(row);
    const used = formatBytes(row.memory);
    let label = share === null ? used : `${share} %`;
    if (share !== null && this._parts.has('memory_bytes')) {
      label = `${used} · ${label}`;
    }
    if (label !== bar.labelText) {
      bar.labelText = label;
      bar.label.textContent = label;
    }
  }

  private _column(key: WorkerSortKey): number {
    return this._columns.findIndex(column => column.key === key);
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
        this._sort?.key === column.key ? this._sort.direction : 'none';
      this._headers[index].setAttribute('aria-sort', direction);
    });
  }

  private _trans: TranslationBundle;
  private _columns: IWorkerColumn[];
  private _headers: HTMLTableCellElement[];
  private _tbody: HTMLTableSectionElement;
  private _details: WorkerDetails;
  private _expanded: string | null = null;
  private _parts: ReadonlySet<WorkerPart> = ALL_WORKER_PARTS;
  private _views = new Map<string, IRowView>();
  private _rows: readonly IWorkerRow[] = [];
  private _ordered: readonly IWorkerRow[] = [];
  private _viewport: HTMLElement | null = null;
  private _spacers: HTMLTableSectionElement[];
  private _rowHeight = DEFAULT_ROW_HEIGHT;
  private _rowHeightMeasured = false;
  private _detailsHeight = DEFAULT_DETAILS_HEIGHT;
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

namespace Private {
  let counter = 0;
  export function nextId(): string {
    return `jp-ClusterCraft-workers${counter++}`;
  }
}
