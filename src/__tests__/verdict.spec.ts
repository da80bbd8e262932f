import { readFileSync } from 'fs';

import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';

import { formatBytes, readableSize } from '../format';
import { ClusterModel } from '../model';
import { ClusterPanel } from '../panel/panel';
import { ICluster } from '../schema';
import { VerdictLine, WorkersTable } from '../table';
import { CommandIDs } from '../tokens';
import { verdict } from '../verdict';
import { cluster, worker } from './fixtures';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const trans = nullTranslator.load('clustercraft');

/** Cases clustercraft/tests/test_sizing.py checks against the Python verdict too. */
const CASES: {
  name: string;
  cluster: Pick<ICluster, 'workers' | 'memory_restarts'>;
  level: string | null;
  right_limit: number | null;
  text: string | null;
}[] = JSON.parse(readFileSync(`${__dirname}/data/verdicts.json`, 'utf8'));

describe('verdict', () => {
  it.each(CASES.map(c => [c.name, c]))(
    'words %s as the kernel does',
    (_, c) => {
      const found = verdict(c.cluster);
      expect(found?.level ?? null).toBe(c.level);
      expect(found?.rightLimit ?? null).toBe(c.right_limit);
      expect(found?.text ?? null).toBe(c.text);
    }
  );

  it('gives the issue’s line for a 1.60 GiB peak under a 3 GiB limit', () => {
    const found = verdict(
      cluster('a', {
        memory_restarts: 0,
        workers: [
          worker(0, { memory_peak: 1.6 * GiB, memory_limit: 3 * GiB }),
          worker(1, { memory_peak: GiB, memory_limit: 3 * GiB })
        ]
      })
    )!;
    expect(found.text).toBe(
      'Largest worker peak 1.60 GiB = 53 % of its 3.00 GiB limit; 0 restarts — fine; 2.75 GiB would be right'
    );
    expect(found.fraction).toBeCloseTo(0.533, 3);
  });

  it('fails on any memory restart and asks for more than the whole limit', () => {
    const found = verdict(
      cluster('a', {
        memory_restarts: 1,
        workers: [worker(0, { memory_peak: GiB, memory_limit: 2 * GiB })]
      })
    )!;
    expect(found.level).toBe('failed');
    expect(found.rightLimit).toBeGreaterThanOrEqual((2 * GiB) / 0.6);
    expect(found.text).toContain('1 restart — failed; at least 3.50 GiB');
  });
});

describe('readableSize', () => {
  it.each([
    [1, 128 * MiB],
    [300 * MiB, 384 * MiB],
    [2 * GiB + 1, 2.25 * GiB],
    [4 * GiB, 4 * GiB],
    [4 * GiB + 1, 4.5 * GiB],
    [32 * GiB + 1, 33 * GiB]
  ])('rounds %d up to %d, as sizing.py does', (bytes, rounded) => {
    expect(readableSize(bytes)).toBe(rounded);
  });
});

describe('Peak column', () => {
  it('shows each worker’s peak beside its memory use, a dash when unknown', () => {
    const table = new WorkersTable({ sort: null });
    table.update([
      worker(0, { memory_peak: 3 * GiB }),
      worker(1, { memory_peak: 0 })
    ]);
    const headers = [...table.node.tHead!.rows[0].cells].map(
      th => th.textContent
    );
    expect(headers.indexOf('Peak')).toBe(headers.indexOf('Memory use') + 1);
    const column = headers.indexOf('Peak');
    const [first, second] = [...table.body.rows].map(r => r.cells[column]);
    expect(first.textContent).toBe(formatBytes(3 * GiB));
    expect(first.title).toBe('75 % of the memory limit');
    expect(second.textContent).toBe('–');
    expect(second.title).toBe('');
  });

  it('sorts by peak', () => {
    const table = new WorkersTable({ sort: null });
    table.update([
      worker(0, { memory_peak: 3 * GiB }),
      worker(1, { memory_peak: GiB }),
      worker(2, { memory_peak: 2 * GiB })
    ]);
    table.sort = { key: 'memory_peak', direction: 'descending' };
    expect([...table.body.rows].map(r => r.cells[0].textContent)).toEqual([
      '0',
      '2',
      '1'
    ]);
  });
});

describe('VerdictLine', () => {
  it('is hidden until there is a verdict, then shows it with its level', () => {
    const line = new VerdictLine({ trans });
    line.update(cluster('a', { workers: [worker(0, { memory_peak: 0 })] }));
    expect(line.node.hidden).toBe(true);
    line.update(
      cluster('a', { workers: [worker(0, { memory_peak: 3.5 * GiB })] })
    );
    expect(line.node.hidden).toBe(false);
    expect(line.node.getAttribute('data-level')).toBe('at-risk');
    expect(line.node.textContent).toMatch(/^Largest worker peak 3\.50 GiB/);
    expect(line.node.querySelector('button')).toBeNull();
  });

  it('says the verdict waits for a run while every worker is idle', () => {
    const line = new VerdictLine({ trans, onResetPeaks: () => undefined });
    const idle = worker(0, { memory_peak: 150 * 2 ** 20, ran_tasks: false });
    line.update(cluster('a', { workers: [idle] }));
    expect(line.node.hidden).toBe(false);
    expect(line.node.querySelector('button')!.hidden).toBe(true);
    expect(line.node.getAttribute('data-level')).toBe('waiting');
    expect(line.node.querySelector('span')!.textContent).toBe(
      'No task has run yet: the verdict on memory comes with the first run.'
    );
    // Unknown (no WorkerPeak) or not running: nothing to say.
    line.update(cluster('a', { workers: [{ ...idle, ran_tasks: null }] }));
    expect(line.node.textContent).toMatch(/^Largest worker peak 150\.00 MiB/);
    line.update(cluster('a', { status: 'lost', workers: [idle] }));
    expect(line.node.hidden).toBe(true);
    line.update(
      cluster('a', { workers: [idle, worker(1, { memory_peak: 2 * GiB })] })
    );
    expect(line.node.getAttribute('data-level')).toBe('fine');
  });

  it('has a Reset peaks button only with a handler, usable while running', () => {
    const reset = jest.fn();
    const line = new VerdictLine({ trans, onResetPeaks: reset });
    const button = line.node.querySelector('button')!;
    expect(button.textContent).toBe('Reset peaks');
    line.update(cluster('a', { status: 'lost' }));
    expect(button.disabled).toBe(true);
    line.update(cluster('a'));
    expect(button.disabled).toBe(false);
    button.click();
    expect(reset).toHaveBeenCalledTimes(1);
  });
});

describe('the card', () => {
  it('shows the verdict and resets the peaks of its own cluster', () => {
    const model = new ClusterModel({ request: jest.fn() });
    const commands = new CommandRegistry();
    const executed: any[] = [];
    commands.addCommand(CommandIDs.resetPeaks, {
      execute: args => void executed.push(args)
    });
    const panel = new ClusterPanel({ model, trans, commands });
    model.applyEvent({
      type: 'snapshot',
      clusters: [
        cluster('a', {
          memory_restarts: 1,
          workers: [worker(0, { memory_peak: GiB })]
        })
      ]
    });
    const node = panel.card('a')!.node;
    const line = node.querySelector('.jp-ClusterCraft-verdict')!;
    expect(line.getAttribute('data-level')).toBe('failed');
    expect(line.textContent).toContain('1 restart — failed');
    [...node.querySelectorAll('button')]
      .find(b => b.textContent === 'Reset peaks')!
      .click();
    expect(executed).toEqual([{ id: 'a' }]);
  });

  it('asks the server to reset the peaks and shows its answer', async () => {
    const after = cluster('a', { memory_restarts: 0 });
    const request = jest.fn().mockResolvedValue(after);
    const model = new ClusterModel({ request });
    model.applyEvent({
      type: 'snapshot',
      clusters: [cluster('a', { memory_restarts: 3 })]
    });
    await model.resetPeaks('a');
    expect(request).toHaveBeenCalledWith('clusters/a/reset-peaks', {
      method: 'POST'
    });
    expect(model.get('a')!.memory_restarts).toBe(0);
  });
});
