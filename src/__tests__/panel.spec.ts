import { readFileSync } from 'fs';

import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

import { APIError } from '../api';
import { ClusterModel } from '../model';
import { reportName } from '../format';
import { jobsLabel } from '../panel/card';
import { ClusterPanel } from '../panel/panel';
import { CommandIDs } from '../tokens';
import { cluster, worker } from './fixtures';

const trans = nullTranslator.load('clustercraft');

function setUp(request = jest.fn()) {
  const model = new ClusterModel({ request });
  const commands = new CommandRegistry();
  const executed: [string, any][] = [];
  for (const id of [CommandIDs.scaleCluster, CommandIDs.shutdownCluster]) {
    commands.addCommand(id, {
      execute: args => void executed.push([id, args])
    });
  }
  const panel = new ClusterPanel({ model, trans, commands });
  return { model, panel, executed, request };
}

const buttons = (node: HTMLElement) =>
  [
    ...node.querySelectorAll<HTMLButtonElement>(
      '.jp-ClusterCraft-actions button'
    )
  ]
    .filter(b => !b.hidden)
    .map(b => b.textContent);

describe('ClusterPanel', () => {
  it('shows one card per cluster with progress, and drops removed ones', () => {
    const { model, panel } = setUp();
    model.applyEvent({
      type: 'snapshot',
      clusters: [
        cluster('a', {
          status: 'starting',
          workers: [worker(0)],
          n_workers: 1,
          requested_workers: 4
        })
      ]
    });
    const card = panel.card('a')!;
    expect(
      card.node.querySelector('.jp-ClusterCraft-progress')!.textContent
    ).toBe('1 / 4 workers');
    expect(card.node.getAttribute('data-status')).toBe('starting');
    model.applyEvent({ type: 'removed', id: 'a' });
    expect(panel.node.querySelectorAll('.jp-ClusterCraft-card')).toHaveLength(
      0
    );
  });

  it('shows why workers did not start, as an alert, until they do', () => {
    const { model, panel } = setUp();
    const reason = 'Workers failed to start: FileNotFoundError: /nope';
    model.applyEvent({
      type: 'snapshot',
      clusters: [
        cluster('a', { n_workers: 0, requested_workers: 2, error: reason })
      ]
    });
    const alert = panel.card('a')!.node.querySelector('[role="alert"]')!;
    expect(alert.textContent).toBe(reason);
    expect((alert as HTMLElement).hidden).toBe(false);
    model.applyEvent({
      type: 'cluster',
      cluster: cluster('a', { error: null })
    });
    expect((alert as HTMLElement).hidden).toBe(true);
  });

  it('shows a lost cluster as lost, with only a Remove action', () => {
    const { model, panel, executed } = setUp();
    model.applyEvent({ type: 'snapshot', clusters: [cluster('a')] });
    const node = panel.card('a')!.node;
    expect(buttons(node)).toEqual([
      'Scale',
      'Insert client code',
      'Copy address',
      'Record report',
      'Shut down'
    ]);
    model.applyEvent({
      type: 'cluster',
      cluster: cluster('a', { status: 'lost' })
    });
    expect(node.classList).toContain('jp-mod-lost');
    expect(buttons(node)).toEqual(['Remove']);
    [...node.querySelectorAll<HTMLButtonElement>('button')]
      .find(b => b.textContent === 'Remove')!
      .click();
    expect(executed).toEqual([[CommandIDs.shutdownCluster, { id: 'a' }]]);
  });

  it("launches with the form's values and shows the server's message by the field", async () => {
    const request = jest
      .fn()
      .mockRejectedValue(
        new APIError(
          "memory_limit: cannot read '12 parsecs' as bytes",
          400,
          'memory_limit'
        )
      );
    const { panel } = setUp(request);
    panel.setDefaults({ n_workers: 3, processes: false });
    panel.form.input('memory_limit').value = '12 parsecs';
    expect(await panel.launch()).toBeNull();
    expect(JSON.parse(request.mock.calls[0][1].body)).toEqual({
      n_workers: 3,
      memory_limit: '12 parsecs',
      processes: false
    });
    const input = panel.form.input('memory_limit');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    const message = panel.node.querySelector(
      `#${input.getAttribute('aria-describedby')}`
    )!;
    expect(message.textContent).toContain('12 parsecs');
    expect(
      panel.form.input('n_workers').getAttribute('aria-invalid')
    ).toBeNull();
    expect(panel.node.querySelectorAll('.jp-ClusterCraft-card')).toHaveLength(
      0
    );
  });

  it('gives a new card the focus, and keeps the focus in the panel when a card goes', async () => {
    const request = jest.fn().mockResolvedValue(cluster('b'));
    const { model, panel } = setUp(request);
    model.applyEvent({ type: 'snapshot', clusters: [cluster('a')] });
    Widget.attach(panel, document.body);
    expect(await panel.launch()).toMatchObject({ id: 'b' });
    const card = panel.card('b')!;
    expect(document.activeElement).toBe(card.node);
    expect(card.node.getAttribute('aria-label')).toBe('Cluster cluster-b');
    // Its Shut down button had the focus; the card goes: the focus moves to the other card.
    card.node.querySelector<HTMLButtonElement>('button')!.focus();
    model.applyEvent({ type: 'removed', id: 'b' });
    expect(document.activeElement).toBe(panel.card('a')!.node);
    Widget.detach(panel);
  });

  it('shows the next default cluster name', () => {
    const { model, panel } = setUp();
    model.applyEvent({ type: 'snapshot', clusters: [cluster('1')] });
    expect(panel.form.input('name').placeholder).toBe('cluster-2 (default)');
  });

  it('says once that the server extension is missing', async () => {
    jest.useFakeTimers();
    const request = jest.fn().mockRejectedValue(new APIError('Not Found', 404));
    const { panel } = setUp(request);
    const subscription = panel.model.subscribe();
    await jest.advanceTimersByTimeAsync(0);
    const status = panel.node.querySelector(
      '.jp-ClusterCraft-connection'
    ) as HTMLElement;
    expect(status.hidden).toBe(false);
    expect(status.textContent).toContain('server extension is not enabled');
    subscription.dispose();
    expect(status.hidden).toBe(true);
    jest.useRealTimers();
  });
});

describe('performance reports', () => {
  it('turns Record report into Stop report while recording', () => {
    const { model, panel } = setUp();
    model.applyEvent({ type: 'snapshot', clusters: [cluster('a')] });
    const node = panel.card('a')!.node;
    model.applyEvent({
      type: 'cluster',
      cluster: cluster('a', { recording: 1700000000 })
    });
    expect(buttons(node)).toContain('Stop report');
    const stop = [...node.querySelectorAll('button')].find(
      b => b.textContent === 'Stop report'
    )!;
    expect(stop.getAttribute('aria-pressed')).toBe('true');
    model.applyEvent({
      type: 'cluster',
      cluster: cluster('a', { recording: null })
    });
    expect(buttons(node)).toContain('Record report');
  });

  it('names report files after the cluster and the time, safely', () => {
    const when = new Date(Date.UTC(2026, 10, 24, 5, 6, 7));
    expect(reportName('my cluster/1', when)).toBe(
      'dask-report-my_cluster_1-2026-11-24T05-06-07.html'
    );
  });
});

describe('the cluster object Python builds (data/cluster.json)', () => {
  it('is drawn whole: name, progress, one row per worker', () => {
    const fromPython = JSON.parse(
      readFileSync(`${__dirname}/data/cluster.json`, 'utf8')
    );
    const { model, panel } = setUp();
    model.applyEvent({ type: 'snapshot', clusters: [fromPython] });
    const node = panel.card(fromPython.id)!.node;
    expect(node.querySelector('h3')!.textContent).toBe('survey');
    expect(
      node.querySelector('.jp-ClusterCraft-progress')!.textContent
    ).toContain('adaptive 1–3');
    const rows = [...node.querySelectorAll('tr.jp-ClusterCraft-workerRow')];
    expect(rows.map(row => row.querySelector('th, td')!.textContent)).toEqual([
      '0',
      'worker-é'
    ]);
    expect(node.textContent).toContain('1 restart');
  });
});

describe('job-queue clusters', () => {
  it('say where their jobs are and why the last one ended', () => {
    const jobs = {
      system: 'slurm',
      queue: 'debug',
      running: 2,
      pending: 1,
      jobs: [],
      ended: [{ job_id: '41', state: 'CANCELLED', reason: 'scancel' }]
    };
    expect(jobsLabel(cluster('a', { profile: 'slurm', jobs }), trans)).toBe(
      'slurm: 2 running, 1 pending in queue debug; job 41 ended: CANCELLED, scancel'
    );
    expect(jobsLabel(cluster('a'), trans)).toBe('');
    const { model, panel } = setUp();
    model.applyEvent({
      type: 'snapshot',
      clusters: [cluster('a', { profile: 'slurm', jobs })]
    });
    const line = panel
      .card('a')!
      .node.querySelector('.jp-ClusterCraft-jobs') as HTMLElement;
    expect(line.hidden).toBe(false);
    expect(line.textContent).toContain('1 pending in queue debug');
  });
});

describe('actions follow where a cluster comes from', () => {
  it('offers Forget for a scheduler adopted by address, and no Scale or report', () => {
    const { model, panel, executed } = setUp();
    model.applyEvent({
      type: 'snapshot',
      clusters: [cluster('a', { origin: 'address' } as any)]
    });
    const node = panel.card('a')!.node;
    expect(buttons(node)).toEqual([
      'Insert client code',
      'Copy address',
      'Forget',
      'Shut down'
    ]);
    model.applyEvent({
      type: 'cluster',
      cluster: cluster('b', { origin: 'kernel' } as any)
    });
    expect(buttons(panel.card('b')!.node)).toEqual([
      'Scale',
      'Insert client code',
      'Copy address',
      'Shut down'
    ]);
    expect(executed).toEqual([]);
  });
});
