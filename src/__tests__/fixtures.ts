import { ICluster, IWorkerRow } from '../schema';

const GiB = 2 ** 30;

/** A worker row with plausible values; override what the test is about. */
export function worker(
  index: number,
  extra: Partial<IWorkerRow> = {}
): IWorkerRow {
  return {
    name: String(index),
    address: `tcp://127.0.0.1:${40000 + index}`,
    nthreads: 1,
    memory_limit: 4 * GiB,
    memory: GiB,
    memory_peak: 2 * GiB,
    managed_bytes: GiB / 2,
    spilled_bytes: 0,
    cpu: 2,
    status: 'running',
    nanny: null,
    local_directory: null,
    dashboard: null,
    last_seen: 1000,
    job_id: null,
    job_state: null,
    ran_tasks: true,
    ...extra
  };
}

export function cluster(id: string, extra: Partial<ICluster> = {}): ICluster {
  const workers = extra.workers ?? [worker(0), worker(1)];
  return {
    id,
    name: `cluster-${id}`,
    status: 'running',
    scheduler_address: 'tcp://127.0.0.1:8786',
    dashboard_link: 'http://127.0.0.1:8787/status',
    n_workers: workers.length,
    requested_workers: workers.length,
    total_threads: workers.length,
    total_memory: workers.length * 4 * GiB,
    memory_used: workers.length * GiB,
    processes: true,
    adapt: null,
    started: 100,
    workers,
    ...extra
  };
}
