/**
 * The clusters the server manages, kept current from its push channel.
 * Views render this model and never fetch on their own.
 */
import { DisposableDelegate, type IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { APIError, openEvents, requestAPI } from './api';
import {
  ClusterEvent,
  ICluster,
  IClusterRequest,
  IProfile,
  ScaleRequest
} from './schema';
import type { ConnectionState, IClusterModel } from './tokens';

/** Retry delays of the push channel, in milliseconds. */
export interface IBackoff {
  initial: number;
  maximum: number;
}

export const DEFAULT_BACKOFF: IBackoff = { initial: 1000, maximum: 30000 };

/**
 * Cards are shown oldest first, so a new cluster appears at the bottom and the
 * others do not move; ties by name.
 */
export function compareClusters(a: ICluster, b: ICluster): number {
  return (
    (a.started || Infinity) - (b.started || Infinity) ||
    a.name.localeCompare(b.name, undefined, { numeric: true }) ||
    a.id.localeCompare(b.id)
  );
}

export class ClusterModel implements IClusterModel, IDisposable {
  constructor(options: ClusterModel.IOptions = {}) {
    this._request = options.request ?? requestAPI;
    this._openEvents = options.openEvents ?? (() => openEvents());
    this._backoff = options.backoff ?? DEFAULT_BACKOFF;
    this._delay = this._backoff.initial;
  }

  /** The clusters, oldest first. */
  get clusters(): ICluster[] {
    return [...this._clusters.values()].sort(compareClusters);
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** Why the state is `unreachable`, for the panel to show. */
  get stateError(): APIError | null {
    return this._stateError;
  }

  /** Emitted when clusters are added or removed (not on every update). */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted with each cluster whose content changed. */
  get clusterChanged(): ISignal<this, ICluster> {
    return this._clusterChanged;
  }

  get stateChanged(): ISignal<this, ConnectionState> {
    return this._stateChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  get(id: string): ICluster | undefined {
    return this._clusters.get(id);
  }

  /**
   * The cluster a command without an id acts on: the given one, else the newest
   * that is not lost.
   */
  resolve(id?: string): ICluster | undefined {
    if (id) {
      return this._clusters.get(id);
    }
    const live = this.clusters.filter(c => c.status !== 'lost');
    return live[live.length - 1];
  }

  /** Apply one message of the push channel. */
  applyEvent(event: ClusterEvent): void {
    switch (event.type) {
      case 'snapshot': {
        const ids = new Set(event.clusters.map(c => c.id));
        let membership = false;
        for (const id of [...this._clusters.keys()]) {
          if (!ids.has(id)) {
            this._clusters.delete(id);
            membership = true;
          }
        }
        for (const cluster of event.clusters) {
          membership = this._set(cluster) || membership;
        }
        if (membership) {
          this._changed.emit();
        }
        break;
      }
      case 'cluster':
        if (this._set(event.cluster)) {
          this._changed.emit();
        }
        break;
      case 'delta': {
        const old = this._clusters.get(event.id);
        if (old) {
          const rows = new Map(old.workers.map(row => [row.address, row]));
          for (const row of event.upserted) {
            rows.set(row.address, row);
          }
          for (const address of event.removed) {
            rows.delete(address);
          }
          this._set({ ...old, ...event.cluster, workers: [...rows.values()] });
        }
        break;
      }
      case 'removed':
        if (this._clusters.delete(event.id)) {
          this._changed.emit();
        }
        break;
    }
  }

  /**
   * Keep the push channel open until the returned handle is disposed: the panel
   * holds one while visible, a launch while it follows its cluster.
   */
  subscribe(): IDisposable {
    this._subscribers++;
    this._wanted = true;
    if (!this._socket && this._state !== 'connecting' && !this._retryTimer) {
      void this._open();
    }
    return new DisposableDelegate(() => {
      this._subscribers--;
      if (this._subscribers === 0) {
        this._close();
      }
    });
  }

  profiles(): Promise<IProfile[]> {
    if (!this._profiles) {
      this._profiles = this._request<IProfile[]>('profiles');
      this._profiles.catch(() => (this._profiles = null)); // asked again next time
    }
    return this._profiles;
  }

  async create(request: IClusterRequest): Promise<ICluster> {
    const cluster = await this._request<ICluster>('clusters', {
      method: 'POST',
      body: JSON.stringify(request)
    });
    this._applyReply(cluster);
    return cluster;
  }

  /**
   * Create a cluster and follow it over the push channel until all its workers
   * run. `progress` sees every state on the way. After `timeout` ms a running
   * cluster with fewer workers resolves; one still starting rejects.
   */
  async launch(
    request: IClusterRequest,
    progress: (cluster: ICluster) => void = () => undefined,
    timeout = 120_000
  ): Promise<ICluster> {
    const created = await this.create(request);
    // Subscribed after the POST, so the first snapshot already lists the new cluster.
    const subscription = this.subscribe();
    try {
      return await this._whenReady(created, progress, timeout);
    } finally {
      subscription.dispose();
    }
  }

  async scale(id: string, request: ScaleRequest): Promise<ICluster> {
    const cluster = await this._request<ICluster>(clusterPath(id), {
      method: 'PATCH',
      body: JSON.stringify(request)
    });
    this._applyReply(cluster);
    return cluster;
  }

  async recordReport(
    id: string,
    action: 'start' | 'stop'
  ): Promise<{ cluster: ICluster; html: string | null }> {
    const reply = await this._request<{
      cluster: ICluster;
      html: string | null;
    }>(`${clusterPath(id)}/performance-report`, {
      method: 'POST',
      body: JSON.stringify({ action })
    });
    this._applyReply(reply.cluster);
    return reply;
  }

  /** Start every worker's peak memory, and the memory-restart count, afresh. */
  async resetPeaks(id: string): Promise<ICluster> {
    const cluster = await this._request<ICluster>(
      `${clusterPath(id)}/reset-peaks`,
      { method: 'POST' }
    );
    this._applyReply(cluster);
    return cluster;
  }

  /**
   * Shut a cluster down, or forget a lost one; an id the server no longer knows is just dropped.
   * `forget`: stop listing a scheduler adopted by address, and leave it running.
   */
  async shutdown(
    id: string,
    options: { forget?: boolean } = {}
  ): Promise<void> {
    const query = options.forget ? '?forget=1' : '';
    try {
      await this._request<void>(clusterPath(id) + query, { method: 'DELETE' });
    } catch (error) {
      if (!(error instanceof APIError && error.status === 404)) {
        throw error;
      }
    }
    this.applyEvent({ type: 'removed', id });
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._close();
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _whenReady(
    created: ICluster,
    progress: (cluster: ICluster) => void,
    timeout: number
  ): Promise<ICluster> {
    const wanted = created.requested_workers ?? created.n_workers;
    const ready = (c: ICluster) =>
      c.status === 'running' && c.n_workers >= wanted;
    return new Promise<ICluster>((resolve, reject) => {
      let latest = this._clusters.get(created.id) ?? created;
      const finish = (error: Error | null) => {
        clearTimeout(timer);
        this._clusterChanged.disconnect(onCluster);
        this._changed.disconnect(onMembership);
        if (error) {
          reject(error);
        } else {
          resolve(latest);
        }
      };
      const check = () => {
        if (ready(latest)) {
          finish(null);
        } else if (
          latest.status === 'lost' ||
          latest.status === 'closing' ||
          latest.status === 'closed'
        ) {
          finish(new Error(`cluster ${latest.name} is ${latest.status}`));
        }
      };
      const onCluster = (_: unknown, cluster: ICluster) => {
        if (cluster.id === created.id) {
          latest = cluster;
          progress(cluster);
          check();
        }
      };
      const onMembership = () => {
        if (!this._clusters.has(created.id)) {
          finish(new Error(`cluster ${latest.name} was shut down`));
        }
      };
      const timer = setTimeout(() => {
        // Running with fewer workers than asked for so far is still up.
        finish(
          latest.status === 'running'
            ? null
            : new Error(`cluster ${latest.name} did not start in time`)
        );
      }, timeout);
      this._clusterChanged.connect(onCluster);
      this._changed.connect(onMembership);
      progress(latest);
      check();
    });
  }

  /** Close the push channel (nobody is subscribed). */
  private _close(): void {
    this._wanted = false;
    this._clearRetry();
    if (this._socket) {
      const socket = this._socket;
      this._socket = null;
      socket.onclose = null;
      socket.onmessage = null;
      socket.close();
    }
    this._setState('idle', null);
  }

  /**
   * A cluster as a REST reply gave it. While the push channel is connected it
   * already carries every state the server had, in order, and may be ahead of
   * a reply that arrives later: a reply only adds a cluster not yet known.
   */
  private _applyReply(cluster: ICluster): void {
    if (this._state !== 'connected' || !this._clusters.has(cluster.id)) {
      this.applyEvent({ type: 'cluster', cluster });
    }
  }

  /** Store a cluster; true when it is new. */
  private _set(cluster: ICluster): boolean {
    const isNew = !this._clusters.has(cluster.id);
    this._clusters.set(cluster.id, cluster);
    this._clusterChanged.emit(cluster);
    return isNew;
  }

  private async _open(): Promise<void> {
    this._setState('connecting', null);
    // A REST probe first: it tells "extension missing" (404) from "server down" (0).
    try {
      const clusters = await this._request<ICluster[]>('clusters');
      if (!this._wanted) {
        return;
      }
      this.applyEvent({ type: 'snapshot', clusters });
    } catch (error) {
      this._retry(error as APIError);
      return;
    }
    const socket = this._openEvents();
    this._socket = socket;
    socket.onopen = () => {
      this._delay = this._backoff.initial;
      this._setState('connected', null);
    };
    socket.onmessage = (message: MessageEvent) => {
      this.applyEvent(JSON.parse(message.data) as ClusterEvent);
    };
    socket.onclose = () => {
      this._socket = null;
      this._retry(new APIError('The connection to the server closed.', 0));
    };
  }

  private _retry(error: APIError): void {
    if (!this._wanted || this._isDisposed) {
      return;
    }
    this._setState('unreachable', error);
    this._clearRetry();
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      void this._open();
    }, this._delay);
    this._delay = Math.min(this._delay * 2, this._backoff.maximum);
  }

  private _clearRetry(): void {
    if (this._retryTimer) {
      clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
  }

  private _setState(state: ConnectionState, error: APIError | null): void {
    const errorChanged = error?.message !== this._stateError?.message;
    this._stateError = error;
    if (state !== this._state || errorChanged) {
      this._state = state;
      this._stateChanged.emit(state);
    }
  }

  private _clusters = new Map<string, ICluster>();
  private _state: ConnectionState = 'idle';
  private _stateError: APIError | null = null;
  private _wanted = false;
  private _subscribers = 0;
  private _profiles: Promise<IProfile[]> | null = null;
  private _socket: WebSocket | null = null;
  private _retryTimer: ReturnType<typeof setTimeout> | null = null;
  private _delay: number;
  private _isDisposed = false;
  private _request: typeof requestAPI;
  private _openEvents: () => WebSocket;
  private _backoff: IBackoff;
  private _changed = new Signal<this, void>(this);
  private _clusterChanged = new Signal<this, ICluster>(this);
  private _stateChanged = new Signal<this, ConnectionState>(this);
}

export namespace ClusterModel {
  export interface IOptions {
    /** Defaults to `requestAPI`; tests pass a fake. */
    request?: typeof requestAPI;
    /** Defaults to `openEvents`; tests pass a fake socket. */
    openEvents?: () => WebSocket;
    backoff?: IBackoff;
  }
}

function clusterPath(id: string): string {
  return `clusters/${encodeURIComponent(id)}`;
}
