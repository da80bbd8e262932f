import { nullTranslator } from '@jupyterlab/translation';

import { progressLabel } from '../panel/card';
import {
  BUILTIN_SERVER_DEFAULTS,
  defaultClusterName,
  NewClusterForm,
  placeholders
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
  it("says what each default is: the server's, until the settings give one", () => {
    expect(placeholders({}, BUILTIN_SERVER_DEFAULTS, trans)).toEqual({
      n_workers: '2 (default)',
      threads_per_worker: '1 (default)',
      memory_limit: 'auto: machine memory / 2'
    });
    expect(
      placeholders(
        { n_workers: 4, memory_limit: '4GiB' },
        BUILTIN_SERVER_DEFAULTS,
        trans
      )
    ).toMatchObject({
      n_workers: '4 (default)',
      memory_limit: '4GiB (default)'
    });
    expect(
      placeholders(
        {},
        { ...BUILTIN_SERVER_DEFAULTS, memory_limit: 2 ** 30 },
        trans
      ).memory_limit
    ).toBe('1.00 GiB (default)');
    expect(
      placeholders({ n_workers: 1 }, BUILTIN_SERVER_DEFAULTS, trans)
        .memory_limit
    ).toBe('auto: all machine memory');
  });

  it('shows the defaults as placeholders and sends the settings for empty fields', () => {
    const form = new NewClusterForm(trans);
    expect(form.input('n_workers').placeholder).toBe('2 (default)');
    expect(form.input('name').placeholder).toBe('cluster-1 (default)');
    form.setDefaults({ threads_per_worker: 2, processes: true });
    expect(form.input('threads_per_worker').placeholder).toBe('2 (default)');
    expect(form.input('threads_per_worker').value).toBe('');
    const chosen = form.processes.selectedOptions[0];
    expect(chosen.textContent).toBe('Processes (default)');
    expect(form.request).toEqual({ threads_per_worker: 2, processes: true });
    // Typing the number of workers shows how "auto" shares the machine.
    form.input('n_workers').value = '4';
    form.input('n_workers').dispatchEvent(new Event('input'));
    expect(form.input('memory_limit').placeholder).toBe(
      'auto: machine memory / 4'
    );
    expect(form.request).toMatchObject({ n_workers: 4, threads_per_worker: 2 });
  });

  it("takes the server's own defaults when it sends them", () => {
    const form = new NewClusterForm(trans);
    form.setServerDefaults({ n_workers: 3, processes: false });
    expect(form.input('n_workers').placeholder).toBe('3 (default)');
    expect(form.processes.selectedOptions[0].textContent).toBe(
      'Threads (default)'
    );
    // The server's default is not sent: it applies anyway.
    expect(form.request).toEqual({});
  });

  it('names the default cluster name as the server will', () => {
    expect(defaultClusterName([])).toBe('cluster-1');
    expect(defaultClusterName(['cluster-1', 'cluster-3'])).toBe('cluster-2');
    const form = new NewClusterForm(trans);
    form.clusterNames = ['cluster-1', 'mine'];
    expect(form.input('name').placeholder).toBe('cluster-2 (default)');
  });
});
