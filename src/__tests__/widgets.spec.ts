import {
  dataView,
  FakeComm,
  fakeManager,
  timelineIPC,
  workerRowsIPC
} from './widgets-setup';

import { IWorkerRow } from '../schema';
import {
  chartScales,
  linearScale,
  peakChart,
  peakIndex,
  profileChart
} from '../widgets/chart';
import { ClusterInfoModel, ClusterInfoView } from '../widgets/clusterInfo';
import {
  IPeakReport,
  PeakReportModel,
  peakReportView
} from '../widgets/peakReport';
import {
  IProfileReport,
  ProfileReportModel,
  profileReportView
} from '../widgets/profileReport';
import { defaultServices } from '../widgets/services';
import { cluster, worker } from './fixtures';

const GiB = 2 ** 30;

async function clusterInfoModel(rows: IWorkerRow[], comm = new FakeComm()) {
  const { workers, ...summary } = cluster('abc', { workers: rows });
  const state = await ClusterInfoModel._deserialize_state(
    { summary, rows: dataView(workerRowsIPC(rows)) },
    fakeManager
  );
  const model = new ClusterInfoModel(
    {
      ...new ClusterInfoModel(
        {},
        { model_id: 'x', widget_manager: fakeManager }
      ).defaults(),
      ...state
    },
    { model_id: 'm1', widget_manager: fakeManager, comm: comm as any }
  );
  return { model, comm, summary, workers };
}

function bodyRows(el: HTMLElement): HTMLTableRowElement[] {
  return Array.from(
    el.querySelectorAll<HTMLTableRowElement>(
      '.jp-ClusterCraft-workersTable tbody tr'
    )
  );
}

describe('ClusterInfoModel', () => {
  it('starts from the Arrow rows of its state and asks the kernel for a snapshot', async () => {
    const { model, comm } = await clusterInfoModel([worker(0), worker(1)]);
    expect([...model.workers.keys()]).toEqual([
      worker(0).address,
      worker(1).address
    ]);
    expect(comm.sent[0].data).toEqual({
      method: 'custom',
      content: { type: 'snapshot' }
    });
  });

  it('applies deltas: changed and added rows from Arrow, removed by address', async () => {
    const { model, comm } = await clusterInfoModel([worker(0), worker(1)]);
    const changed = jest.fn();
    model.on('cluster:changed', changed);
    await comm.receive(
      {
        type: 'delta',
        removed: [worker(0).address],
        summary: { ...model.summary, n_workers: 2, memory_used: 7 }
      },
      [workerRowsIPC([worker(1, { memory: 3 * GiB }), worker(2)])]
    );
    expect(changed).toHaveBeenCalledTimes(1);
    expect(model.cluster.workers.map(w => w.name)).toEqual(['1', '2']);
    expect(model.workers.get(worker(1).address)!.memory).toBe(3 * GiB);
    expect(model.summary.memory_used).toBe(7);
    // Saved notebook state holds the current table, not the first one.
    expect(model.get_state(false).rows.map((w: IWorkerRow) => w.name)).toEqual([
      '1',
      '2'
    ]);
  });

  it('replaces everything on a snapshot', async () => {
    const { model, comm } = await clusterInfoModel([worker(0), worker(1)]);
    await comm.receive({ type: 'snapshot', removed: [] }, [
      workerRowsIPC([worker(5)])
    ]);
    expect([...model.workers.keys()]).toEqual([worker(5).address]);
  });

  it('restores from saved JSON state without a kernel', async () => {
    const state = await ClusterInfoModel._deserialize_state(
      { rows: [worker(7)], summary: {} },
      fakeManager
    );
    expect(state.rows).toEqual([worker(7)]);
  });
});

describe('ClusterInfoView', () => {
  it('draws the shared tables and follows deltas; tells the kernel when hidden', async () => {
    const { model, comm } = await clusterInfoModel([worker(0), worker(1)]);
    const view = new ClusterInfoView({ model } as any);
    view.render();
    expect(bodyRows(view.el)).toHaveLength(2);
    expect(view.el.getAttribute('aria-label')).toBe('Dask cluster');
    const headers = Array.from(view.el.querySelectorAll('th')).map(
      th => th.textContent
    );
    expect(headers.join(' ')).toMatch(/Worker/);
    await comm.receive({ type: 'delta', removed: [] }, [
      workerRowsIPC([worker(2)])
    ]);
    expect(bodyRows(view.el)).toHaveLength(3);
    view.remove();
    expect(comm.sent.at(-1)!.data.content).toEqual({
      type: 'visible',
      visible: false
    });
  });

  it('shows the verdict; Reset peaks asks the kernel to reset them', async () => {
    const rows = [worker(0, { memory_peak: 3.5 * GiB }), worker(1)];
    const { model, comm } = await clusterInfoModel(rows);
    const view = new ClusterInfoView({ model } as any);
    view.render();
    const line = view.el.querySelector('.jp-ClusterCraft-verdict')!;
    expect(line.getAttribute('data-level')).toBe('at-risk');
    expect(line.textContent).toContain('= 88 % of its 4.00 GiB limit');
    [...view.el.querySelectorAll('button')]
      .find(b => b.textContent === 'Reset peaks')!
      .click();
    expect(comm.sent.at(-1)!.data.content).toEqual({ type: 'reset_peaks' });
    view.remove();
  });

  it('shows a closed cluster as closed, with no workers left running', async () => {
    const rows = [worker(0), worker(1)];
    const { model, comm, summary } = await clusterInfoModel(rows);
    const view = new ClusterInfoView({ model } as any);
    view.render();
    expect(bodyRows(view.el)).toHaveLength(2);
    await comm.receive(
      {
        type: 'delta',
        summary: {
          ...summary,
          status: 'closed',
          dashboard_link: null,
          n_workers: 0,
          total_threads: 0,
          total_memory: 0,
          memory_used: 0
        },
        removed: rows.map(r => r.address)
      },
      []
    );
    expect(bodyRows(view.el)).toHaveLength(0);
    const summaryRows = Object.fromEntries(
      Array.from(
        view.el.querySelectorAll('.jp-ClusterCraft-summaryTable tr')
      ).map(tr => [
        tr.querySelector('th')!.textContent,
        tr.querySelector('td')!.textContent
      ])
    );
    expect(summaryRows['Status']).toBe('closed');
    expect(summaryRows['Workers']).toBe('0');
    expect(summaryRows['Started']).toBe('–'); // no age counting up
    expect(model.get_state().rows).toEqual([]); // saved as it ended
    view.remove();
  });

  it('applies a 1,000-worker delta and redraws every row', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => worker(i));
    const { model, comm } = await clusterInfoModel(rows);
    const view = new ClusterInfoView({ model } as any);
    view.render();
    const delta = workerRowsIPC(
      rows.map(r => ({ ...r, memory: r.memory + 1 }))
    );
    const start = performance.now();
    await comm.receive({ type: 'delta', removed: [] }, [delta]);
    const elapsed = performance.now() - start;
    expect(bodyRows(view.el)).toHaveLength(1000);
    // jsdom is several times slower than Chromium; bench/ measures the real browser.
    expect(elapsed).toBeLessThan(500);
  });
});

describe('chart scales', () => {
  it('maps a domain linearly onto a range, inverted y included', () => {
    const y = linearScale([100, 200], [150, 10]);
    expect(y(100)).toBe(150);
    expect(y(200)).toBe(10);
    expect(y(150)).toBe(80);
    expect(linearScale([5, 5], [0, 10])(5)).toBe(0);
  });

  it('fits the baseline, the timeline, the peak and the limit', () => {
    const data = {
      timeline: { t: [0, 1, 2], rss: [120, 300, 150] },
      baseline: 100,
      peak: 320,
      limit: 1000,
      duration: 2
    };
    const { x, y } = chartScales(data);
    expect(x.domain).toEqual([0, 2]);
    expect(y.domain[0]).toBeLessThanOrEqual(100);
    expect(y.domain[1]).toBeGreaterThanOrEqual(1000);
    expect(peakIndex(data.timeline.rss)).toBe(1);
  });

  it('draws an SVG with the memory line, the peak marked and the limit line', () => {
    const chart = peakChart({
      timeline: { t: [0, 1, 2], rss: [120, 300, 150] },
      baseline: 100,
      peak: 320,
      limit: 1000,
      duration: 2
    });
    expect(chart.getAttribute('role')).toBe('img');
    expect(chart.getAttribute('aria-label')).toMatch(/peak 320 B/);
    expect(
      chart.querySelector('polyline')!.getAttribute('points')!.split(' ')
    ).toHaveLength(3);
    expect(
      chart.querySelector('.jp-ClusterCraft-peakChart-peak')
    ).not.toBeNull();
    expect(
      chart.querySelector('.jp-ClusterCraft-peakChart-limit')
    ).not.toBeNull();
  });

  it('keeps the labels of a peak at the baseline apart, in order', () => {
    const chart = peakChart({
      timeline: { t: [0, 0], rss: [178, 178] },
      baseline: 178,
      peak: 178,
      limit: 256,
      duration: 0
    });
    const labels = Array.from(chart.querySelectorAll('text[dy]')).map(tag => ({
      text: tag.textContent!.split(' ')[0],
      y: Number(tag.getAttribute('y'))
    }));
    labels.sort((a, b) => a.y - b.y);
    expect(labels.map(label => label.text)).toEqual([
      'limit',
      'baseline',
      'peak'
    ]);
    for (let i = 1; i < labels.length; i++) {
      expect(labels[i].y - labels[i - 1].y).toBeGreaterThanOrEqual(12);
    }
    const height = Number(chart.getAttribute('height'));
    expect(labels[labels.length - 1].y).toBeLessThanOrEqual(height);
  });
});

const REPORT: IPeakReport = {
  peak: 3 * GiB,
  baseline: GiB,
  increment: 2 * GiB,
  retained: 0,
  duration: 1.5,
  method: 'hwm',
  children_peak: 0,
  recommendation: {
    n_workers: 2,
    threads_per_worker: 1,
    memory_limit: 5 * GiB,
    rationale: 'Need 2 GiB + worker base.\nMemory limit = need x factor 2.'
  },
  warnings: [],
  error: null
};

async function peakReportModel(attributes: any) {
  const state = await PeakReportModel._deserialize_state(
    attributes,
    fakeManager
  );
  const defaults = new PeakReportModel(
    {},
    { model_id: 'd', widget_manager: fakeManager }
  ).defaults();
  return new PeakReportModel(
    { ...defaults, ...state },
    {
      model_id: 'p1',
      widget_manager: fakeManager
    }
  );
}

describe('PeakReport widget', () => {
  it('launches once however often it is clicked, and asks before launching another', async () => {
    const model = await peakReportModel({ report: REPORT, code: '' });
    let finish: (cluster: any) => void = () => undefined;
    const launchClusterFake = jest.fn(
      () => new Promise<any>(resolve => (finish = resolve))
    );
    const confirm = jest.fn(async () => false);
    const View = peakReportView(
      defaultServices({ launchCluster: launchClusterFake, confirm })
    );
    const view = new View({ model } as any);
    view.render();
    const [launch] = Array.from(view.el.querySelectorAll('button'));
    const status = view.el.querySelector(
      '[role=status]:last-child'
    ) as HTMLElement;
    const recommendation = REPORT.recommendation!;
    const first = view.launch(recommendation, launch, status);
    expect(launch.disabled).toBe(true);
    expect(await view.launch(recommendation, launch, status)).toBeNull();
    finish({ ...cluster('c1'), scheduler_address: 'tcp://127.0.0.1:1' });
    await first;
    expect(launchClusterFake).toHaveBeenCalledTimes(1);
    // After it, a click asks first; declined, nothing starts.
    expect(await view.launch(recommendation, launch, status)).toBeNull();
    expect(confirm).toHaveBeenCalledTimes(1);
    expect(launchClusterFake).toHaveBeenCalledTimes(1);
  });

  it('is disabled, saying why, when the server would refuse the recommendation', async () => {
    const model = await peakReportModel({
      report: {
        ...REPORT,
        recommendation: { ...REPORT.recommendation!, request: null }
      },
      code: ''
    });
    const View = peakReportView(defaultServices());
    const view = new View({ model } as any);
    view.render();
    const [launch] = Array.from(view.el.querySelectorAll('button'));
    expect(launch.disabled).toBe(true);
    expect(launch.title).toContain('would refuse');
    const reason = view.el.querySelector(
      `#${launch.getAttribute('aria-describedby')}`
    )!;
    expect(reason.textContent).toContain('would refuse');
  });

  it('shows live figures while measuring, then the report, chart and buttons', async () => {
    const model = await peakReportModel({
      live: { running: true, current: GiB, peak: 2 * GiB, elapsed: 0.4 }
    });
    const View = peakReportView(defaultServices());
    const view = new View({ model } as any);
    view.render();
    expect(view.el.textContent).toMatch(/now 1.00 GiB, peak 2.00 GiB/);
    expect(view.el.querySelector('svg')).toBeNull();

    model.set({
      report: REPORT,
      timeline: (PeakReportModel.serializers.timeline.deserialize as any)(
        dataView(timelineIPC([0, 0.7, 1.5], [GiB, 3 * GiB, GiB]))
      ),
      live: { running: false }
    });
    expect(view.el.querySelector('svg polyline')).not.toBeNull();
    expect(view.el.textContent).toMatch(
      /Recommended cluster: 2 workers × 1 thread, memory limit 5.00 GiB/
    );
    const reasons = view.el.querySelectorAll(
      '.jp-ClusterCraft-peakReport-rationale li'
    );
    expect(Array.from(reasons).map(li => li.textContent)).toEqual([
      'Need 2 GiB + worker base.',
      'Memory limit = need x factor 2.'
    ]);
    const labels = Array.from(view.el.querySelectorAll('button')).map(b =>
      b.getAttribute('aria-label')
    );
    expect(labels).toEqual(['Launch recommended cluster', 'Copy as code']);
  });

  it('launches the recommended cluster, reports progress and inserts the client code', async () => {
    const model = await peakReportModel({
      report: REPORT,
      code: 'cluster = ...'
    });
    const launched = {
      ...cluster('c1', { status: 'running' }),
      scheduler_address: 'tcp://127.0.0.1:9999'
    };
    const insertCellBelow = jest.fn(() => true);
    const copyToClipboard = jest.fn();
    const showClusters = jest.fn();
    const launchClusterFake = jest.fn(async (spec: any, progress: any) => {
      progress({ ...launched, status: 'starting', n_workers: 1 });
      return launched;
    });
    const View = peakReportView(
      defaultServices({
        launchCluster: launchClusterFake,
        insertCellBelow,
        copyToClipboard,
        showClusters
      })
    );
    const view = new View({ model } as any);
    view.render();
    const [launch, copy] = Array.from(view.el.querySelectorAll('button'));
    copy.click();
    expect(copyToClipboard).toHaveBeenCalledWith('cluster = ...');

    const recommendation = REPORT.recommendation!;
    const result = await view.launch(
      recommendation,
      launch,
      view.el.querySelector('[role=status]:last-child') as HTMLElement
    );
    expect(result).toBe(launched);
    expect(launchClusterFake.mock.calls[0][0]).toEqual({
      n_workers: 2,
      threads_per_worker: 1,
      memory_limit: 5 * GiB
    });
    expect(showClusters).toHaveBeenCalled();
    expect(insertCellBelow).toHaveBeenCalledWith(
      view.el,
      'from dask.distributed import Client\nclient = Client("tcp://127.0.0.1:9999")'
    );
  });

  it('sends the request the kernel built for a cluster profile as is', async () => {
    const request = {
      profile: 'slurm',
      n_workers: 12,
      cores: 4,
      memory: 20 * GiB,
      processes: 4
    };
    const recommendation = {
      ...REPORT.recommendation!,
      profile: 'slurm',
      request
    };
    const model = await peakReportModel({
      report: { ...REPORT, recommendation },
      code: 'cluster = SLURMCluster(...)'
    });
    const launched = { ...cluster('c3', { status: 'running' }) };
    const launchClusterFake = jest.fn(async () => launched);
    const View = peakReportView(
      defaultServices({ launchCluster: launchClusterFake })
    );
    const view = new View({ model } as any);
    view.render();
    const launch = view.el.querySelector('button')!;
    expect(launch.disabled).toBe(false);
    launch.click();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(launchClusterFake).toHaveBeenCalledTimes(1);
    expect((launchClusterFake.mock.calls[0] as any[])[0]).toEqual(request);
  });

  it('words one worker and one thread in the singular', async () => {
    const recommendation = {
      ...REPORT.recommendation!,
      n_workers: 1,
      threads_per_worker: 2
    };
    const model = await peakReportModel({
      report: { ...REPORT, recommendation }
    });
    const view = new (peakReportView(defaultServices()))({ model } as any);
    view.render();
    expect(
      view.el.querySelector('.jp-ClusterCraft-peakReport-recommendation')!
        .textContent
    ).toBe(
      'Recommended cluster: 1 worker × 2 threads, memory limit 5.00 GiB per worker'
    );
  });

  it('disables Launch when one worker does not fit the profile', async () => {
    const recommendation = {
      ...REPORT.recommendation!,
      profile: 'slurm',
      request: null
    };
    const model = await peakReportModel({
      report: { ...REPORT, recommendation }
    });
    const launchClusterFake = jest.fn();
    const View = peakReportView(
      defaultServices({ launchCluster: launchClusterFake })
    );
    const view = new View({ model } as any);
    view.render();
    const launch = view.el.querySelector('button')!;
    expect(launch.disabled).toBe(true);
    expect(launch.title).toMatch(/does not fit cluster profile slurm/);
    expect(
      await view.launch(recommendation, launch, document.createElement('span'))
    ).toBeNull();
    expect(launchClusterFake).not.toHaveBeenCalled();
  });
});

const PROFILE: IProfileReport = {
  partitions: [
    {
      label: 'Order: 3, Pixel: 300',
      partition: 1,
      rows: 1500,
      nested_rows: 453100,
      memory: 11 * 2 ** 20,
      loaded: 11 * 2 ** 20,
      peak: 1.5 * GiB,
      duration: 2.5
    },
    {
      label: 'Order: 3, Pixel: 100',
      partition: 0,
      rows: 6000,
      nested_rows: 121418,
      memory: 3 * 2 ** 20,
      loaded: 3 * 2 ** 20,
      peak: 0.5 * GiB,
      duration: 0.75
    }
  ],
  columns: [
    'label',
    'rows',
    'nested_rows',
    'memory',
    'loaded',
    'peak',
    'duration'
  ],
  worker_base: 0.25 * GiB,
  model: { column: 'memory', base: 0.25 * GiB, per_unit: 100, source: 'fit' },
  largest: {
    label: 'Order: 3, Pixel: 300',
    memory: 11 * 2 ** 20,
    predicted_peak: 1.5 * GiB,
    profiled: true
  },
  recommendation: {
    n_workers: 2,
    threads_per_worker: 1,
    memory_limit: 3 * GiB,
    rationale: 'Need per worker: 1.50 GiB.\nMemory limit = need x 2.',
    profile: 'slurm'
  },
  warnings: ['a warning'],
  method: 'hwm',
  cost: { total: 5, runs: 3.25 },
  n_partitions: 14
};

async function profileReportModel(attributes: any) {
  const defaults = new ProfileReportModel(
    {},
    { model_id: 'd2', widget_manager: fakeManager }
  ).defaults();
  return new ProfileReportModel(
    { ...defaults, ...attributes },
    { model_id: 'r1', widget_manager: fakeManager }
  );
}

describe('ProfileReport widget', () => {
  it('shows which partition runs, then the table, the chart and the buttons', async () => {
    const model = await profileReportModel({
      live: {
        running: true,
        partition: 2,
        of: 3,
        label: 'Order: 3, Pixel: 100',
        current: GiB,
        peak: 2 * GiB
      }
    });
    expect(model.get('_view_name')).toBe('ProfileReportView');
    const View = profileReportView(defaultServices());
    const view = new View({ model } as any);
    view.render();
    expect(view.el.getAttribute('aria-label')).toBe('Partition profile report');
    expect(view.el.textContent).toMatch(
      /partition 2 of 3 \(Order: 3, Pixel: 100\).*now 1.00 GiB, peak 2.00 GiB/
    );

    model.set({ report: PROFILE, live: { running: false } });
    const table = view.el.querySelector(
      'table.jp-ClusterCraft-profileReport-table'
    )!;
    const headers = Array.from(table.querySelectorAll('thead th')).map(
      th => th.textContent
    );
    expect(headers).toEqual([
      'Partition',
      'Rows',
      'Nested rows',
      'Memory (estimated)',
      'Loaded (measured)',
      'Worker peak',
      'Duration'
    ]);
    const first = Array.from(
      table.querySelectorAll('tbody tr')[0].children
    ).map(td => td.textContent);
    expect(first).toEqual([
      'Order: 3, Pixel: 300',
      '1,500',
      '453,100',
      '11.00 MiB',
      '11.00 MiB',
      '1.50 GiB',
      '2.500 s'
    ]);
    const chart = view.el.querySelector('svg.jp-ClusterCraft-profileChart')!;
    expect(chart.getAttribute('aria-label')).toMatch(
      /against partition memory for 2 partitions.*memory limit 3.00 GiB/
    );
    expect(chart.querySelectorAll('circle')).toHaveLength(2);
    expect(
      chart.querySelector('.jp-ClusterCraft-profileChart-fit')
    ).not.toBeNull();
    expect(view.el.textContent).toMatch(
      /1.50 GiB on Order: 3, Pixel: 300 \(measured\)/
    );
    expect(view.el.textContent).toMatch(/a warning/);
    const labels = Array.from(view.el.querySelectorAll('button')).map(b =>
      b.getAttribute('aria-label')
    );
    expect(labels).toEqual(['Launch recommended cluster', 'Copy as code']);
  });

  it('launches the recommendation with its cluster profile', async () => {
    const model = await profileReportModel({ report: PROFILE });
    const launched = { ...cluster('c2', { status: 'running' }) };
    const launchClusterFake = jest.fn(async () => launched);
    const View = profileReportView(
      defaultServices({ launchCluster: launchClusterFake })
    );
    const view = new View({ model } as any);
    view.render();
    const launch = view.el.querySelector('button')!;
    await view.launch(
      PROFILE.recommendation!,
      launch,
      document.createElement('span')
    );
    expect((launchClusterFake.mock.calls[0] as any[])[0]).toEqual({
      n_workers: 2,
      threads_per_worker: 1,
      memory_limit: 3 * GiB,
      profile: 'slurm'
    });
  });
});

describe('profile chart', () => {
  it('draws the points, the fitted line to the largest partition and the limit', () => {
    const chart = profileChart({
      points: [
        { x: 100, y: 300 },
        { x: 50, y: 200 }
      ],
      base: 100,
      perUnit: 2,
      xMax: 400,
      xLabel: 'memory',
      limit: 2000
    });
    expect(chart.getAttribute('role')).toBe('img');
    const fit = chart.querySelector('.jp-ClusterCraft-profileChart-fit')!;
    // from (0, base) to the largest partition (plus 5 % room): 100 + 2 x 420 = 940
    expect(Number(fit.getAttribute('x1'))).toBeLessThan(
      Number(fit.getAttribute('x2'))
    );
    expect(Number(fit.getAttribute('y1'))).toBeGreaterThan(
      Number(fit.getAttribute('y2'))
    );
    expect(
      chart.querySelector('.jp-ClusterCraft-peakChart-limit')
    ).not.toBeNull();
    expect(chart.querySelectorAll('circle title')[0].textContent).toBe(
      'memory 100 B: peak 300 B'
    );
  });
});
