import {
  AddressText,
  ClusterTables,
  memoryBreakdown,
  splitAddress,
  visibleWorkerParts,
  WorkersTable
} from '../table';
import { cluster, worker } from './fixtures';

const NOW = 1010 * 1000;
const MiB = 2 ** 20;
/** The font size of JupyterLab's UI, and the table's widths in its sidebar. */
const EM = 13;
const DEFAULT_SIDEBAR = 226;
const WIDE = 700;

const headerNames = (table: WorkersTable, offscreen: boolean) =>
  [...table.node.tHead!.rows[0].cells]
    .filter(
      th => th.classList.contains('jp-ClusterCraft-offscreen') === offscreen
    )
    .map(th => th.textContent);

describe('visibleWorkerParts', () => {
  it('leads with worker, memory use and CPU at the default sidebar width', () => {
    expect([...visibleWorkerParts(DEFAULT_SIDEBAR, EM)]).toEqual([
      'name',
      'memory',
      'cpu'
    ]);
  });

  it('adds status, then the bytes in use, then the rest as the table widens', () => {
    expect(visibleWorkerParts(275, EM).has('status')).toBe(true);
    expect(visibleWorkerParts(275, EM).has('memory_bytes')).toBe(false);
    expect(visibleWorkerParts(340, EM).has('memory_bytes')).toBe(true);
    const wide = visibleWorkerParts(WIDE, EM);
    expect(wide.size).toBe(9);
  });

  it('scales with the font and always keeps the worker name', () => {
    expect(visibleWorkerParts(DEFAULT_SIDEBAR, 2 * EM).has('cpu')).toBe(false);
    expect([...visibleWorkerParts(10, EM)]).toEqual(['name']);
  });
});

describe('WorkersTable at a width', () => {
  it('shows all columns until it knows its width', () => {
    const table = new WorkersTable();
    expect(headerNames(table, true)).toEqual([]);
  });

  it('moves the columns that do not fit out of view, for screen readers only', () => {
    const table = new WorkersTable();
    table.update([worker(0)], NOW);
    table.setWidth(DEFAULT_SIDEBAR, EM);
    expect(headerNames(table, false)).toEqual(['Worker', 'Memory use', 'CPU']);
    // Still column headers of the table, with their cells: "Threads" and "Memory" stay findable.
    expect(headerNames(table, true)).toEqual([
      'Threads',
      'Memory',
      'Peak',
      'Status',
      'Last seen'
    ]);
    const row = table.body.rows[0];
    expect(row.cells[1].classList).toContain('jp-ClusterCraft-offscreen');
    expect(row.cells[1].textContent).toBe('1');
    expect(row.cells[5].classList).not.toContain('jp-ClusterCraft-offscreen');
    // Out of view, so out of the tab order.
    const threads = table.node.tHead!.rows[0].cells[1].querySelector('button')!;
    expect(threads.tabIndex).toBe(-1);
    // Memory use keeps its percentage; the bytes come back with room.
    const label = row.querySelector('.jp-ClusterCraft-memoryBar-label')!;
    expect(label.textContent).toBe('25 %');
    table.setWidth(WIDE, EM);
    expect(headerNames(table, true)).toEqual([]);
    expect(label.textContent).toBe('1.00 GiB · 25 %');
    expect(threads.tabIndex).toBe(0);
  });

  it('gives new rows the columns of the current width', () => {
    const table = new WorkersTable();
    table.setWidth(DEFAULT_SIDEBAR, EM);
    table.update([worker(0), worker(1)], NOW);
    const hidden = [...table.body.rows[1].cells].map(td =>
      td.classList.contains('jp-ClusterCraft-offscreen')
    );
    expect(hidden).toEqual([false, true, true, false, true, false, true, true]);
  });

  it('changes nothing for a width of 0 (a hidden panel)', () => {
    const table = new WorkersTable();
    table.setWidth(DEFAULT_SIDEBAR, EM);
    table.setWidth(0, EM);
    expect(headerNames(table, false)).toEqual(['Worker', 'Memory use', 'CPU']);
  });
});

describe("A worker's details", () => {
  it('open under its row from the name, with every field, and close again', () => {
    const table = new WorkersTable();
    table.update(
      [worker(0, { nthreads: 4, nanny: 'tcp://127.0.0.1:39000' }), worker(1)],
      NOW
    );
    const toggle = table.body.rows[0].querySelector('button')!;
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    toggle.click();
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    const details = table.body.rows[1];
    expect(details).toBe(table.details);
    expect(toggle.getAttribute('aria-controls')).toBe(details.id);
    const fields = Object.fromEntries(
      [...details.querySelectorAll('dt')]
        .filter(dt => !dt.hidden)
        .map(dt => [dt.textContent, dt.nextElementSibling!.textContent])
    );
    expect(fields).toMatchObject({
      Address: 'tcp://127.0.0.1:40000',
      Threads: '4',
      Memory: '4.00 GiB',
      Status: 'running',
      Peak: '2.00 GiB, 50 % of the memory limit',
      Nanny: 'tcp://127.0.0.1:39000'
    });
    // Fields the worker does not have are not shown.
    expect(fields['Local directory']).toBeUndefined();
    expect(details.cells[0].colSpan).toBe(8);
    // Rows after the details count it.
    expect(table.body.rows[2].getAttribute('aria-rowindex')).toBe('4');
    toggle.click();
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(table.details.isConnected).toBe(false);
    expect(table.body.rows[1].getAttribute('aria-rowindex')).toBe('3');
  });

  it('follow the worker as values change, and go when it leaves', () => {
    const table = new WorkersTable();
    table.update([worker(0), worker(1)], NOW);
    table.expand('tcp://127.0.0.1:40001');
    table.update([worker(0), worker(1, { nthreads: 8 })], NOW);
    const threads = [...table.details.querySelectorAll('dt')].find(
      dt => dt.textContent === 'Threads'
    )!;
    expect(threads.nextElementSibling!.textContent).toBe('8');
    table.update([worker(0)], NOW);
    expect(table.expanded).toBeNull();
    expect(table.details.isConnected).toBe(false);
  });

  it('stay in place in a virtualized table, the spacer below counting them', () => {
    const table = new WorkersTable();
    const scroller = document.createElement('div');
    Object.defineProperty(scroller, 'clientHeight', { value: 200 });
    table.viewport = scroller;
    table.update(
      Array.from({ length: 1000 }, (_, i) => worker(i)),
      NOW
    );
    table.expand('tcp://127.0.0.1:40003');
    // The details of row 3 (200 px until measured) fill the view below it:
    // rows 0-3 are in view, then 10 rows of overscan.
    expect(table.body.rows[4]).toBe(table.details);
    expect(table.rowCount).toBe(14);
    const below = table.node.querySelector<HTMLElement>(
      '.jp-ClusterCraft-workersSpacer td'
    )!;
    expect(below.style.height).toBe(`${986 * 20}px`);
    // Scrolled past them, the spacer above takes their height.
    scroller.scrollTop = 10000 + 200;
    table.refresh();
    expect(table.details.isConnected).toBe(false);
    expect(table.body.rows[0].cells[0].textContent).toBe('490');
    const above = table.node.querySelector<HTMLElement>(
      '.jp-ClusterCraft-workersSpacer td'
    )!;
    expect(above.style.height).toBe(`${490 * 20 + 200}px`);
  });
});

describe('memoryBreakdown', () => {
  it('adds up: managed is what the process holds at most, spilled is on disk', () => {
    // The figures a user reported as not adding up.
    const text = memoryBreakdown({
      memory: 624.99 * MiB,
      managed_bytes: 747.68 * MiB,
      spilled_bytes: 213.62 * MiB,
      memory_limit: 1024 * MiB
    });
    expect(text).toBe(
      '624.99 MiB of 1.00 GiB (61 %): 624.99 MiB managed + 0 B unmanaged; 213.62 MiB spilled to disk'
    );
    expect(
      memoryBreakdown({
        memory: 600 * MiB,
        managed_bytes: 200 * MiB,
        spilled_bytes: 0,
        memory_limit: 0
      })
    ).toBe(
      '600.00 MiB, no memory limit: 200.00 MiB managed + 400.00 MiB unmanaged; 0 B spilled to disk'
    );
  });

  it("is the bar's tooltip and accessible value", () => {
    const table = new WorkersTable();
    table.update([worker(0, { managed_bytes: 2 * 2 ** 30 })], NOW);
    const meter = table.node.querySelector('[role="meter"]') as HTMLElement;
    expect(meter.title).toBe(
      '1.00 GiB of 4.00 GiB (25 %): 1.00 GiB managed + 0 B unmanaged; 0 B spilled to disk'
    );
    expect(meter.getAttribute('aria-valuetext')).toBe(meter.title);
  });
});

describe('addresses', () => {
  it('split before the port, or a short last path segment, for the ellipsis', () => {
    expect(splitAddress('tcp://127.0.0.1:40331')).toEqual([
      'tcp://127.0.0.1',
      ':40331'
    ]);
    expect(splitAddress('http://127.0.0.1:8787/status')).toEqual([
      'http://127.0.0.1:8787',
      '/status'
    ]);
    expect(splitAddress('inproc://10.0.0.1/1234/5678901234567')).toEqual([
      'inproc://10.0.0.1/1234/567',
      '8901234567'
    ]);
  });

  it('show the whole address to screen readers, with a named copy button', () => {
    const address = new AddressText({
      copyLabel: 'Copy the scheduler address'
    });
    address.update('tcp://127.0.0.1:40331');
    expect(address.node.textContent).toBe('tcp://127.0.0.1:40331');
    const copy = address.node.querySelector('button')!;
    expect(copy.getAttribute('aria-label')).toBe('Copy the scheduler address');
    expect(copy.hidden).toBe(false);
    address.update(null);
    expect(address.node.textContent).toBe('–');
    expect(copy.hidden).toBe(true);
  });

  it('are the Scheduler and Dashboard values of the summary', () => {
    const tables = new ClusterTables();
    tables.update(cluster('a'));
    const buttons = [
      ...tables.summary.node.querySelectorAll('button')
    ] as HTMLButtonElement[];
    expect(buttons.map(b => b.getAttribute('aria-label'))).toEqual([
      'Copy the scheduler address',
      'Copy the dashboard address'
    ]);
  });
});
