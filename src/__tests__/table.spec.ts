import { ClusterTables, sortWorkers, WorkersTable } from '../table';
import { cluster, worker } from './fixtures';

const NOW = 1010 * 1000;

function texts(table: HTMLTableElement, column: number): string[] {
  return [
    ...table.querySelectorAll<HTMLTableRowElement>(
      'tbody.jp-ClusterCraft-workerRows > tr'
    )
  ].map(r => r.cells[column].textContent!);
}

/** Records every DOM mutation under a node, synchronously on `take()`. */
function watch(node: Node) {
  const observer = new MutationObserver(() => undefined);
  observer.observe(node, {
    subtree: true,
    childList: true,
    attributes: true,
    characterData: true
  });
  return {
    take: () => observer.takeRecords(),
    stop: () => observer.disconnect()
  };
}

describe('WorkersTable', () => {
  it('is a real table with the contract column headers', () => {
    const table = new WorkersTable();
    const headers = [...table.node.tHead!.rows[0].cells].map(
      th => th.textContent
    );
    expect(headers).toEqual([
      'Worker',
      'Threads',
      'Memory',
      'Memory use',
      'Peak',
      'CPU',
      'Status',
      'Last seen'
    ]);
    expect(table.node.tHead!.rows[0].cells[0].getAttribute('scope')).toBe(
      'col'
    );
  });

  it('draws one row per worker with formatted cells', () => {
    const table = new WorkersTable();
    table.update([worker(0, { cpu: 12.34, last_seen: 1000 }), worker(1)], NOW);
    expect(table.rowCount).toBe(2);
    const row = table.body.rows[0];
    expect(row.cells[0].textContent).toBe('0');
    expect(row.cells[0].title).toBe('tcp://127.0.0.1:40000');
    expect(row.cells[2].textContent).toBe('4.00 GiB');
    expect(row.cells[4].textContent).toBe('2.00 GiB');
    expect(row.cells[4].title).toBe('50 % of the memory limit');
    expect(row.cells[5].textContent).toBe('12.3 %');
    expect(row.cells[7].textContent).toBe('10 seconds ago');
    const bar = row.cells[3].querySelector('[role="meter"]') as HTMLElement;
    expect(bar.getAttribute('aria-valuenow')).toBe('25');
    expect(bar.getAttribute('data-level')).toBe('ok');
    const segments = [...bar.children].map(s => (s as HTMLElement).style.width);
    expect(segments).toEqual(['12.50%', '12.50%', '0.00%']);
  });

  it('keys rows by address: an update writes only the changed cells', () => {
    const table = new WorkersTable();
    const rows = Array.from({ length: 50 }, (_, i) => worker(i));
    table.update(rows, NOW);
    const before = [...table.body.rows];
    const recorder = watch(table.node);
    const changed = rows.map(r => ({ ...r }));
    changed[7] = { ...changed[7], cpu: 99 };
    table.update(changed, NOW);
    const records = recorder.take();
    recorder.stop();
    // Same <tr> elements; only worker 7's CPU cell was written.
    expect([...table.body.rows]).toEqual(before);
    const touched = new Set(
      records.map(r =>
        r.target.nodeType === 1 ? r.target : r.target.parentNode
      )
    );
    expect([...touched]).toEqual([before[7].cells[5]]);
    expect(before[7].cells[5].textContent).toBe('99.0 %');
  });

  it('recolours the bar only when the memory level changes', () => {
    const table = new WorkersTable();
    table.update([worker(0)], NOW);
    const bar = table.node.querySelector('[role="meter"]') as HTMLElement;
    table.update([worker(0, { memory: 0.75 * 4 * 2 ** 30 })], NOW);
    expect(bar.getAttribute('data-level')).toBe('spill');
    table.update([worker(0, { memory: 0.97 * 4 * 2 ** 30 })], NOW);
    expect(bar.getAttribute('data-level')).toBe('terminate');
  });

  it('adds and removes rows as workers join and leave', () => {
    const table = new WorkersTable();
    table.update([worker(0), worker(1), worker(2)], NOW);
    const kept = table.body.rows[2];
    table.update([worker(2), worker(3)], NOW);
    expect(texts(table.node, 0)).toEqual(['2', '3']);
    expect(table.body.rows[0]).toBe(kept);
  });

  it('sorts by a clicked header, toggling direction, with aria-sort', () => {
    const table = new WorkersTable({ sort: null });
    table.update(
      [worker(0, { cpu: 5 }), worker(1, { cpu: 50 }), worker(2, { cpu: 20 })],
      NOW
    );
    const cpuHeader = table.node.tHead!.rows[0].cells[5];
    expect(cpuHeader.getAttribute('aria-sort')).toBe('none');
    cpuHeader.querySelector('button')!.click();
    expect(cpuHeader.getAttribute('aria-sort')).toBe('ascending');
    expect(texts(table.node, 0)).toEqual(['0', '2', '1']);
    cpuHeader.querySelector('button')!.click();
    expect(cpuHeader.getAttribute('aria-sort')).toBe('descending');
    expect(texts(table.node, 0)).toEqual(['1', '2', '0']);
    expect(table.node.tHead!.rows[0].cells[0].getAttribute('aria-sort')).toBe(
      'none'
    );
  });

  it('keeps the sort order as values change', () => {
    const table = new WorkersTable({
      sort: { key: 'cpu', direction: 'descending' }
    });
    table.update([worker(0, { cpu: 5 }), worker(1, { cpu: 50 })], NOW);
    expect(texts(table.node, 0)).toEqual(['1', '0']);
    table.update([worker(0, { cpu: 80 }), worker(1, { cpu: 50 })], NOW);
    expect(texts(table.node, 0)).toEqual(['0', '1']);
  });
});

describe('WorkersTable with a viewport', () => {
  /** A scroller of a given height: jsdom has no layout, so fake its size. */
  function viewport(height: number, scrollTop = 0): HTMLElement {
    const element = document.createElement('div');
    Object.defineProperty(element, 'clientHeight', { value: height });
    element.scrollTop = scrollTop;
    return element;
  }

  it('puts only the rows in view (and a margin) in the DOM', () => {
    const table = new WorkersTable();
    const scroller = viewport(200);
    table.viewport = scroller;
    table.update(
      Array.from({ length: 1000 }, (_, i) => worker(i)),
      NOW
    );
    // 200 px at 20 px a row, plus 10 rows of overscan below.
    expect(table.rowCount).toBe(20);
    expect(table.node.getAttribute('aria-rowcount')).toBe('1001');
    expect(table.body.rows[0].getAttribute('aria-rowindex')).toBe('2');
    const spacers = table.node.querySelectorAll<HTMLElement>(
      '.jp-ClusterCraft-workersSpacer'
    );
    // Only a spacer below: the view is at the top.
    expect(spacers).toHaveLength(1);
    expect(spacers[0].previousElementSibling).toBe(table.body);
    expect(spacers[0].querySelector('td')!.style.height).toBe(`${980 * 20}px`);
  });

  it('shows the rows scrolled to, reusing the ones still in view', () => {
    const table = new WorkersTable();
    const scroller = viewport(200);
    table.viewport = scroller;
    table.update(
      Array.from({ length: 1000 }, (_, i) => worker(i)),
      NOW
    );
    const row15 = table.body.rows[15];
    scroller.scrollTop = 200;
    table.refresh();
    // Rows 0-9 are overscan above, 10-19 in view, 20-29 overscan below.
    expect(texts(table.node, 0)[0]).toBe('0');
    scroller.scrollTop = 10000;
    table.refresh();
    const names = texts(table.node, 0);
    expect(names[0]).toBe('490');
    expect(names).toHaveLength(30);
    expect(table.body.rows[0].getAttribute('aria-rowindex')).toBe('492');
    expect(row15.isConnected).toBe(false);
    expect(
      table.node.querySelectorAll('.jp-ClusterCraft-workersSpacer')
    ).toHaveLength(2);
  });
});

describe('sortWorkers', () => {
  it('sorts names naturally and numbers numerically', () => {
    const rows = [worker(10), worker(9), worker(100)];
    expect(
      sortWorkers(rows, { key: 'name', direction: 'ascending' }).map(
        r => r.name
      )
    ).toEqual(['9', '10', '100']);
    const named = [
      worker(1, { name: 'b-2' }),
      worker(2, { name: 'b-10' }),
      worker(3, { name: 'a' })
    ];
    expect(
      sortWorkers(named, { key: 'name', direction: 'descending' }).map(
        r => r.name
      )
    ).toEqual(['b-10', 'b-2', 'a']);
  });
});

describe('ClusterTables', () => {
  it('draws the scheduler summary and the workers of a cluster', () => {
    const tables = new ClusterTables();
    jest.spyOn(Date, 'now').mockReturnValue(220 * 1000);
    tables.update(
      cluster('a', { started: 100, workers: [worker(0), worker(1), worker(2)] })
    );
    const summary = Object.fromEntries(
      [...tables.summary.node.rows].map(r => [
        r.cells[0].textContent,
        r.cells[1].textContent
      ])
    );
    expect(summary).toMatchObject({
      Scheduler: 'tcp://127.0.0.1:8786',
      Dashboard: 'http://127.0.0.1:8787/status',
      Workers: '3',
      'Total threads': '3',
      'Total memory': '12.00 GiB',
      'Memory in use': '3.00 GiB',
      Status: 'running',
      Processes: 'Yes',
      Started: '2 minutes ago'
    });
    const link = tables.summary.node.querySelector('a')!;
    expect(link.getAttribute('href')).toBe('http://127.0.0.1:8787/status');
    expect(tables.workers.rowCount).toBe(3);
    expect(tables.node.querySelectorAll('table')).toHaveLength(2);
    jest.restoreAllMocks();
  });
});
