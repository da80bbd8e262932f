/**
 * The one schema shared by the sidebar panel and the inline widget.
 * Mirrors clustercraft/schema.py and the cluster object of the REST API.
 */

/** One worker, as the scheduler reports it. Byte counts in bytes, times in epoch seconds. */
export interface IWorkerRow {
  name: string;
  address: string;
  nthreads: number;
  memory_limit: number;
  memory: number;
  /** The worker process's peak memory since it started or since "Reset peaks"; 0: unknown. */
  memory_peak: number;
  managed_bytes: number;
  spilled_bytes: number;
  cpu: number;
  status: string;
  nanny: string | null;
  local_directory: string | null;
  dashboard: string | null;
  last_seen: number;
  /** Job-queue workers: the job that runs the worker, and its state in the queue. */
  job_id: string | null;
  job_state: string | null;
  /** Whether it started a task since it started or since "Reset peaks"; null: unknown. */
  ran_tasks: boolean | null;
}

/** "closed": a kernel's ClusterInfo after its client or cluster closed (no workers, final). */
export type ClusterStatus =
  'starting' | 'running' | 'closing' | 'lost' | 'closed';

/**
 * Where a cluster comes from: launched from the panel, made in a kernel (which
 * keeps it; it leaves the list when it closes), or a scheduler started
 * elsewhere and adopted by its address (Forget leaves it running).
 */
export type ClusterOrigin = 'panel' | 'kernel' | 'address';

/** The kernel a cluster was made in. */
export interface IKernelInfo {
  /** The kernel id, from its connection file's name. */
  id: string | null;
  pid: number;
  /** The notebook's path when a Jupyter server started the kernel for it. */
  notebook: string | null;
}

export interface IAdaptRange {
  minimum: number;
  maximum: number;
}

/** One job of a job queue: its id, state in the queue and why it is pending or ended. */
export interface IJob {
  job_id: string;
  state: string | null;
  reason?: string | null;
}

/** The jobs of a job-queue or gateway cluster. */
export interface IJobs {
  system: string;
  queue?: string | null;
  running: number;
  pending: number;
  jobs: IJob[];
  /** The last jobs that ended, newest last. */
  ended: IJob[];
}

/** A cluster as the server (or the kernel widget) describes it. */
export interface ICluster {
  id: string;
  name: string;
  status: ClusterStatus;
  /** Absent from older servers: the panel's. */
  origin?: ClusterOrigin;
  /** For `origin: 'kernel'`. */
  kernel?: IKernelInfo | null;
  scheduler_address: string;
  dashboard_link: string | null;
  n_workers: number;
  /** The target worker count, for "2 / 4 workers" progress. */
  requested_workers?: number;
  total_threads: number;
  total_memory: number;
  memory_used: number;
  processes: boolean;
  adapt: IAdaptRange | null;
  started: number;
  /** The server's cluster profile it was launched with. */
  profile?: string | null;
  /** A job queue's or gateway's jobs; null for clusters on this machine. */
  jobs?: IJobs | null;
  /** When a performance report started recording (epoch seconds), else null. */
  recording?: number | null;
  /** Why workers did not start (the scheduler still runs), else null. */
  error?: string | null;
  /** Workers their nanny restarted for using too much memory (since start or "Reset peaks"). */
  memory_restarts?: number;
  /** How the workers' peaks were read: exact high-water marks, or sampled RSS; null: not at all. */
  memory_peak_method?: 'hwm' | 'sampled' | null;
  workers: IWorkerRow[];
}

/** The columns of a worker row, in display order. */
export const WORKER_FIELDS: (keyof IWorkerRow)[] = [
  'name',
  'address',
  'nthreads',
  'memory_limit',
  'memory',
  'memory_peak',
  'managed_bytes',
  'spilled_bytes',
  'cpu',
  'status',
  'nanny',
  'local_directory',
  'dashboard',
  'last_seen',
  'job_id',
  'job_state',
  'ran_tasks'
];

/**
 * The body of `POST /clustercraft/clusters`. The new-cluster form, the settings'
 * defaults and a recommendation's Launch all speak it; omitted keys take the
 * server's defaults.
 */
export interface IClusterRequest {
  /** The server's cluster profile (GET /clustercraft/profiles); absent: its default. */
  profile?: string | null;
  name?: string;
  n_workers?: number;
  threads_per_worker?: number;
  memory_limit?: number | string;
  processes?: boolean;
  adapt?: IAdaptRange;
  /**
   * `tcp://host:port` or `tls://host:port`: list a scheduler started elsewhere
   * instead (with `name`, and for tls:// `security: {tls_ca_file,
   * tls_client_cert, tls_client_key}`); no other field then.
   */
  address?: string;
  security?: Record<string, string>;
  /** The profile's other fields (cores, queue, walltime, ...). */
  [field: string]: unknown;
}

/** One field a cluster profile lets a request set (`GET /clustercraft/profiles`). */
export interface IProfileField {
  name: string;
  type: 'integer' | 'number' | 'boolean' | 'string' | 'memory' | 'choice';
  /** Memory in bytes; null: the cluster class's own default. */
  default: unknown;
  minimum?: number;
  maximum?: number;
  choices?: unknown[];
  description: string;
}

/** A kind of cluster the server's admin offers: this machine, a job queue, a gateway. */
export interface IProfile {
  name: string;
  title: string;
  factory: string;
  kind: 'local' | 'jobqueue' | 'gateway' | 'custom';
  /** `n_workers` first. */
  fields: IProfileField[];
}

/** The body of `PATCH /clustercraft/clusters/{id}`. */
export type ScaleRequest =
  { n_workers: number } | { adapt: IAdaptRange | null };

/**
 * What the server pushes on `/clustercraft/clusters/events`: a snapshot, a
 * cluster the subscriber has not seen yet, then only what changed (`delta`:
 * changed summary fields, new or changed rows, removed addresses).
 */
export type ClusterEvent =
  | { type: 'snapshot'; clusters: ICluster[] }
  | { type: 'cluster'; cluster: ICluster }
  | {
      type: 'delta';
      id: string;
      cluster: Partial<ICluster>;
      upserted: IWorkerRow[];
      removed: string[];
    }
  | { type: 'removed'; id: string };
