import { nullTranslator } from '@jupyterlab/translation';

import { progressLabel } from '../panel/card';
import {
  BUILTIN_PROFILE,
  defaultClusterName,
  NewClusterForm,
  placeholder
} from '../panel/form';
import { cluster, worker } from './fixtures';

const trans = nullTranslator.load('clustercraft');

describe('plurals', () => {
  it('count workers with the right noun', () => {
    expect(progressLabel(cluster('a', { workers: [worker(0)] }), trans)).toBe(
      '1 / 1 worker'
    );
    expect(
      progressLabel(
        cluster('a', { workers: [worker(0)], requested_workers: 4 }),
        trans
      )
    ).toBe('1 / 4 workers');
    expect(
      progressLabel(
        cluster('a', {
          workers: [worker(0)],
          adapt: { minimum: 1, maximum: 3 }
        }),
        trans
      )
    ).toBe('1 worker (adaptive 1–3)');
    expect(
      progressLabel(
        cluster('a', { workers: [], n_workers: 0, requested_workers: 0 }),
        trans
      )
    ).toBe('0 / 0 workers');
  });

  it('go through trans._n, so translations choose the form', () => {
    const calls: unknown[][] = [];
    const spy = {
      ...trans,
      _n: (...args: unknown[]) => {
        calls.push(args);
        return 'translated';
      }
    } as typeof trans;
    expect(progressLabel(cluster('a'), spy)).toBe('translated');
    expect(calls[0].slice(0, 3)).toEqual([
      '%2 / %1 worker',
      '%2 / %1 workers',
      2
    ]);
  });
});

describe('the new-cluster form', () => {
  const local = BUILTIN_PROFILE;
  const memory = local.fields.find(f => f.name === 'memory_limit')!;

  it('says what each default is', () => {
    expect(placeholder(local.fields[0], 2, 'local', 2, trans)).toBe(
      '2 (default)'
    );
    expect(placeholder(memory, null, 'local', 4, trans)).toBe(
      'auto: machine memory / 4'
    );
    expect(placeholder(memory, null, 'local', 1, trans)).toBe(
      'auto: all machine memory'
    );
    expect(placeholder(memory, 2 ** 30, 'local', 2, trans)).toBe(
      '1.00 GiB (default)'
    );
    expect(placeholder(memory, null, 'jobqueue', 2, trans)).toBe(
      '(the cluster’s own default)'
    );
  });

  it('shows the defaults as placeholders and sends the settings for empty fields', () => {
    const form = new NewClusterForm(trans);
    expect(form.input('n_workers').placeholder).toBe('2 (default)');
    expect(form.input('name').placeholder).toBe('cluster-1 (default)');
    form.setDefaults({ threads_per_worker: 2, processes: true });
    expect(
      (form.input('threads_per_worker') as HTMLInputElement).placeholder
    ).toBe('2 (default)');
    expect(form.input('threads_per_worker').value).toBe('');
    const chosen = form.processes.selectedOptions[0];
    expect(chosen.textContent).toBe('Processes (default)');
    expect(form.request).toEqual({ threads_per_worker: 2, processes: true });
    // Typing the number of workers shows how "auto" shares the machine.
    form.input('n_workers').value = '4';
    form.input('n_workers').dispatchEvent(new Event('input'));
    expect((form.input('memory_limit') as HTMLInputElement).placeholder).toBe(
      'auto: machine memory / 4'
    );
    expect(form.request).toMatchObject({ n_workers: 4, threads_per_worker: 2 });
  });

  it("takes the server's own defaults from its profiles", () => {
    const form = new NewClusterForm(trans);
    form.setProfiles([
      {
        ...local,
        fields: local.fields.map(f =>
          f.name === 'n_workers'
            ? { ...f, default: 3 }
            : f.name === 'processes'
              ? { ...f, default: false }
              : f
        )
      }
    ]);
    expect((form.input('n_workers') as HTMLInputElement).placeholder).toBe(
      '3 (default)'
    );
    expect(form.processes.selectedOptions[0].textContent).toBe(
      'Threads (default)'
    );
    // The server's default is not sent: it applies anyway.
    expect(form.request).toEqual({});
  });

  it('follows the chosen profile: its fields, and only those, are sent', () => {
    const form = new NewClusterForm(trans);
    form.setProfiles([
      local,
      {
        name: 'slurm',
        title: 'SLURM',
        factory: 'dask_jobqueue.SLURMCluster',
        kind: 'jobqueue',
        fields: [
          {
            name: 'n_workers',
            type: 'integer',
            default: 1,
            description: 'Jobs'
          },
          {
            name: 'cores',
            type: 'integer',
            default: 2,
            description: 'Cores per job'
          },
          {
            name: 'queue',
            type: 'choice',
            default: 'debug',
            choices: ['debug', 'long'],
            description: 'Queue'
          }
        ]
      }
    ]);
    const profile = form.node.querySelector(
      'select[name=profile]'
    ) as HTMLSelectElement;
    expect([...profile.options].map(o => o.textContent)).toEqual([
      'This machine',
      'SLURM'
    ]);
    profile.value = 'slurm';
    profile.dispatchEvent(new Event('change'));
    expect(() => form.input('threads_per_worker')).toThrow(/no field/);
    form.input('cores').value = '4';
    const queue = form.input('queue') as HTMLSelectElement;
    expect(queue.selectedOptions[0].textContent).toBe('debug (default)');
    expect(form.request).toEqual({ profile: 'slurm', cores: 4 });
    queue.value = JSON.stringify('long');
    queue.dispatchEvent(new Event('change'));
    expect(form.request).toEqual({ profile: 'slurm', cores: 4, queue: 'long' });
    form.showError('cores must be at most 2', 'cores');
    expect(form.input('cores').getAttribute('aria-invalid')).toBe('true');
  });

  it('names the default cluster name as the server will', () => {
    expect(defaultClusterName([])).toBe('cluster-1');
    expect(defaultClusterName(['cluster-1', 'cluster-3'])).toBe('cluster-2');
    const form = new NewClusterForm(trans);
    form.clusterNames = ['cluster-1', 'mine'];
    expect((form.input('name') as HTMLInputElement).placeholder).toBe(
      'cluster-2 (default)'
    );
  });
});
