/**
 * Launching a recommended cluster through the server's cluster manager, and
 * following it until its workers are up.
 */
import { requestAPI } from '../api';
import { ICluster } from '../schema';

/** What the peak report asks the cluster manager for. */
export interface IClusterRequest {
  n_workers: number;
  threads_per_worker: number;
  memory_limit: number;
  /** The server's cluster profile to launch it with; absent: the default. */
  profile?: string | null;
}

export interface ILaunchOptions {
  /** The REST helper; tests pass a fake. */
  request?: typeof requestAPI;
  /** Milliseconds between progress checks. */
  interval?: number;
  /** Milliseconds to wait for the workers before giving up. */
  timeout?: number;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/**
 * POST the cluster, then GET it until it runs with all its workers (or the
 * timeout passes with it running). `progress` sees every state on the way.
 */
export async function launchCluster(
  spec: IClusterRequest,
  progress: (cluster: ICluster) => void = () => undefined,
  options: ILaunchOptions = {}
): Promise<ICluster> {
  const request = options.request ?? requestAPI;
  const interval = options.interval ?? 500;
  const deadline = Date.now() + (options.timeout ?? 120_000);
  let cluster = await request<ICluster>('clusters', {
    method: 'POST',
    body: JSON.stringify(spec)
  });
  progress(cluster);
  const ready = (c: ICluster) =>
    c.status === 'running' && c.n_workers >= spec.n_workers;
  while (!ready(cluster)) {
    if (cluster.status === 'lost' || cluster.status === 'closing') {
      throw new Error(`cluster ${cluster.name} is ${cluster.status}`);
    }
    if (Date.now() > deadline) {
      if (cluster.status === 'running') {
        return cluster; // up, with fewer workers than asked for so far
      }
      throw new Error(`cluster ${cluster.name} did not start in time`);
    }
    await sleep(interval);
    cluster = await request<ICluster>(
      `clusters/${encodeURIComponent(cluster.id)}`
    );
    progress(cluster);
  }
  return cluster;
}
