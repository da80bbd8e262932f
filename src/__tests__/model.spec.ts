import { APIError } from '../api';
import { ClusterModel, compareClusters } from '../model';
import { cluster } from './fixtures';

/** A stand-in for the browser WebSocket that the test drives. */
class FakeSocket {
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  closed = false;
  close() {
    this.closed = true;
  }
  push(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

describe('ClusterModel applying pushed messages', () => {
  it('replaces everything with a snapshot and reports membership changes', () => {
    const model = new ClusterModel({ request: jest.fn() });
    let membership = 0;
    model.changed.connect(() => membership++);
    model.applyEvent({
      type: 'snapshot',
      clusters: [cluster('a'), cluster('b')]
    });
    expect(model.clusters.map(c => c.id)).toEqual(['a', 'b']);
    expect(membership).toBe(1);
    model.applyEvent({ type: 'snapshot', clusters: [cluster('b')] });
    expect(model.clusters.map(c => c.id)).toEqual(['b']);
    expect(membership).toBe(2);
  });

  it('updates one cluster in place without a membership change', () => {
    const model = new ClusterModel({ request: jest.fn() });
    model.applyEvent({ type: 'snapshot', clusters: [cluster('a')] });
    const changed: string[] = [];
    let membership = 0;
    model.clusterChanged.connect((_, c) =>
      changed.push(`${c.id}:${c.n_workers}`)
    );
    model.changed.connect(() => membership++);
    model.applyEvent({
      type: 'cluster',
      cluster: cluster('a', { n_workers: 5 })
    });
    expect(changed).toEqual(['a:5']);
    expect(membership).toBe(0);
    expect(model.get('a')!.n_workers).toBe(5);
    model.applyEvent({ type: 'cluster', cluster: cluster('c') });
    expect(membership).toBe(1);
  });

  it('drops removed clusters; an unknown id changes nothing', () => {
    const model = new ClusterModel({ request: jest.fn() });
    model.applyEvent({
      type: 'snapshot',
      clusters: [cluster('a'), cluster('b')]
    });
    let membership = 0;
    model.changed.connect(() => membership++);
    model.applyEvent({ type: 'removed', id: 'a' });
    model.applyEvent({ type: 'removed', id: 'zzz' });
    expect(model.clusters.map(c => c.id)).toEqual(['b']);
    expect(membership).toBe(1);
  });
});

describe('ClusterModel applying deltas', () => {
  it('merges changed summary fields and rows by address, drops removed ones', () => {
    const model = new ClusterModel({ request: jest.fn() });
    model.applyEvent({ type: 'cluster', cluster: cluster('a') });
    const [first, second] = model.get('a')!.workers;
    const changed: string[] = [];
    model.clusterChanged.connect((_, c) => changed.push(c.id));
    model.applyEvent({
      type: 'delta',
      id: 'a',
      cluster: { memory_used: 7, n_workers: 1 },
      upserted: [{ ...first, memory: 7 }],
      removed: [second.address]
    });
    const merged = model.get('a')!;
    expect(merged.memory_used).toBe(7);
    expect(merged.n_workers).toBe(1);
    expect(merged.name).toBe('cluster-a');
    expect(merged.workers).toEqual([{ ...first, memory: 7 }]);
    expect(changed).toEqual(['a']);
  });
});

describe('ClusterModel sorting and resolving', () => {
  it('orders cards oldest first, then by natural name', () => {
    const model = new ClusterModel({ request: jest.fn() });
    model.applyEvent({
      type: 'snapshot',
      clusters: [
        cluster('x', { started: 300, name: 'late' }),
        cluster('y', { started: 100, name: 'n10' }),
        cluster('z', { started: 100, name: 'n9' })
      ]
    });
    expect(model.clusters.map(c => c.name)).toEqual(['n9', 'n10', 'late']);
    expect(
      compareClusters(cluster('p', { started: 0 }), cluster('q'))
    ).toBeGreaterThan(0);
  });

  it('resolves a command without id to the newest live cluster', () => {
    const model = new ClusterModel({ request: jest.fn() });
    model.applyEvent({
      type: 'snapshot',
      clusters: [
        cluster('old', { started: 1 }),
        cluster('gone', { started: 5, status: 'lost' })
      ]
    });
    expect(model.resolve()!.id).toBe('old');
    expect(model.resolve('gone')!.id).toBe('gone');
  });
});

describe('ClusterModel talking to the server', () => {
  afterEach(() => jest.useRealTimers());

  it('probes with REST, then listens on the push channel', async () => {
    const socket = new FakeSocket();
    const request = jest.fn().mockResolvedValue([cluster('a')]);
    const model = new ClusterModel({
      request,
      openEvents: () => socket as unknown as WebSocket
    });
    const subscription = model.subscribe();
    await flush();
    expect(request).toHaveBeenCalledWith('clusters');
    expect(model.clusters.map(c => c.id)).toEqual(['a']);
    socket.onopen!();
    expect(model.state).toBe('connected');
    socket.push({ type: 'cluster', cluster: cluster('b') });
    socket.push({ type: 'removed', id: 'a' });
    expect(model.clusters.map(c => c.id)).toEqual(['b']);
    subscription.dispose();
    expect(socket.closed).toBe(true);
    expect(model.state).toBe('idle');
  });

  it('never lets a REST reply overwrite a newer pushed state', async () => {
    const socket = new FakeSocket();
    let answer: (value: unknown) => void = () => undefined;
    const request = jest.fn((path: string, init?: RequestInit) =>
      path === 'clusters' && !init
        ? Promise.resolve([cluster('a')])
        : new Promise(resolve => (answer = resolve))
    );
    const model = new ClusterModel({
      request,
      openEvents: () => socket as unknown as WebSocket
    });
    const subscription = model.subscribe();
    await flush();
    socket.onopen!();
    // The PATCH is answered with the state at that moment; the push has
    // already brought the one after it.
    const scaled = model.scale('a', { n_workers: 1 });
    await flush();
    socket.push({
      type: 'cluster',
      cluster: cluster('a', { requested_workers: 1, n_workers: 1 })
    });
    answer(cluster('a', { requested_workers: 1 }));
    await scaled;
    expect(model.resolve('a')!.n_workers).toBe(1);
    // A reply still adds a cluster the push has not brought yet.
    const created = model.create({ n_workers: 1 });
    await flush();
    answer(cluster('b'));
    await created;
    expect(model.clusters.map(c => c.id)).toEqual(['a', 'b']);
    subscription.dispose();
    // Without the push channel, replies are all there is.
    const again = model.scale('a', { n_workers: 2 });
    await flush();
    answer(cluster('a', { requested_workers: 2 }));
    await again;
    expect(model.resolve('a')!.requested_workers).toBe(2);
  });

  it('retries with growing delays while the extension is missing', async () => {
    jest.useFakeTimers();
    const request = jest.fn().mockRejectedValue(new APIError('Not Found', 404));
    const model = new ClusterModel({
      request,
      openEvents: () => new FakeSocket() as unknown as WebSocket,
      backoff: { initial: 100, maximum: 400 }
    });
    const subscription = model.subscribe();
    await jest.advanceTimersByTimeAsync(0);
    expect(model.state).toBe('unreachable');
    expect(model.stateError!.status).toBe(404);
    expect(request).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(100);
    expect(request).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(199);
    expect(request).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(request).toHaveBeenCalledTimes(3);
    // Hidden panel: no more requests.
    subscription.dispose();
    await jest.advanceTimersByTimeAsync(10000);
    expect(request).toHaveBeenCalledTimes(3);
  });

  it('applies what create, scale and shutdown return', async () => {
    const request = jest
      .fn()
      .mockResolvedValueOnce(cluster('n', { status: 'starting' }))
      .mockResolvedValueOnce(cluster('n', { requested_workers: 3 }))
      .mockRejectedValueOnce(new APIError('gone', 404));
    const model = new ClusterModel({ request });
    await model.create({ n_workers: 2, memory_limit: '1GiB' });
    expect(request).toHaveBeenLastCalledWith('clusters', {
      method: 'POST',
      body: JSON.stringify({ n_workers: 2, memory_limit: '1GiB' })
    });
    expect(model.get('n')!.status).toBe('starting');
    await model.scale('n', { n_workers: 3 });
    expect(request).toHaveBeenLastCalledWith('clusters/n', {
      method: 'PATCH',
      body: '{"n_workers":3}'
    });
    expect(model.get('n')!.requested_workers).toBe(3);
    // A 404 on delete means it is already gone: forget it quietly.
    await model.shutdown('n');
    expect(model.get('n')).toBeUndefined();
  });

  it('forgets a scheduler adopted by address with DELETE ?forget=1', async () => {
    const request = jest
      .fn()
      .mockResolvedValueOnce(cluster('s', { origin: 'address' }))
      .mockResolvedValueOnce(undefined);
    const model = new ClusterModel({ request });
    await model.create({ address: 'tcp://10.0.0.5:8786' });
    await model.shutdown('s', { forget: true });
    expect(request).toHaveBeenLastCalledWith('clusters/s?forget=1', {
      method: 'DELETE'
    });
    expect(model.get('s')).toBeUndefined();
  });

  it('passes field errors on from the server', async () => {
    const request = jest
      .fn()
      .mockRejectedValue(new APIError('bad size', 400, 'memory_limit'));
    const model = new ClusterModel({ request });
    await expect(
      model.create({ memory_limit: '12 parsecs' })
    ).rejects.toMatchObject({
      status: 400,
      field: 'memory_limit'
    });
    expect(model.clusters).toEqual([]);
  });
});

describe('ClusterModel.launch', () => {
  /** A model whose server answers the POST with `created` and pushes over a fake socket. */
  /** A server that lists the cluster once it has been POSTed, as the real one does. */
  function launching(created: ReturnType<typeof cluster>) {
    const socket = new FakeSocket();
    let posted = false;
    const request = jest.fn(async (path: string, init?: any) => {
      if (init?.method === 'POST') {
        posted = true;
        return created;
      }
      return posted ? [created] : [];
    });
    const model = new ClusterModel({
      request: request as any,
      openEvents: () => socket as unknown as WebSocket
    });
    return { model, socket, request };
  }

  it('POSTs once and follows pushes (no polling) until every worker runs', async () => {
    const created = cluster('c9', {
      status: 'starting',
      n_workers: 0,
      requested_workers: 2
    });
    const { model, socket, request } = launching(created);
    const seen: number[] = [];
    const launched = model.launch({ n_workers: 2 }, c =>
      seen.push(c.n_workers)
    );
    await flush();
    socket.onopen!();
    socket.push({ type: 'cluster', cluster: { ...created, n_workers: 1 } });
    socket.push({
      type: 'cluster',
      cluster: { ...created, status: 'running', n_workers: 2 }
    });
    const result = await launched;
    expect(result.n_workers).toBe(2);
    expect([...new Set(seen)]).toEqual([0, 1, 2]); // a snapshot may repeat a state
    const posts = request.mock.calls.filter(
      ([, init]: any[]) => init?.method === 'POST'
    );
    expect(posts).toHaveLength(1);
    expect(
      request.mock.calls.every(([path]: any[]) => path === 'clusters')
    ).toBe(true);
    // The launch's subscription is let go: the channel closes again.
    expect(socket.closed).toBe(true);
    expect(model.state).toBe('idle');
  });

  it('subscribes after the POST, so a snapshot never drops the new cluster', async () => {
    const created = cluster('c6', { status: 'starting', n_workers: 0 });
    const { model, socket, request } = launching(created);
    const launched = model.launch({ n_workers: 2 });
    await flush();
    const calls = request.mock.calls.map(([path, init]: any[]) =>
      init?.method === 'POST' ? 'POST' : path
    );
    expect(calls).toEqual(['POST', 'clusters']);
    expect(model.get('c6')).toBeDefined();
    socket.push({ type: 'cluster', cluster: cluster('c6') });
    expect((await launched).status).toBe('running');
  });

  it('keeps the channel open for the panel after the launch lets go', async () => {
    const created = cluster('c7', { status: 'running' });
    const { model, socket } = launching(created);
    const panel = model.subscribe();
    await flush();
    await model.launch({ n_workers: 1 });
    expect(socket.closed).toBe(false);
    panel.dispose();
    expect(socket.closed).toBe(true);
  });

  it('fails when the cluster is lost', async () => {
    const created = cluster('c8', { status: 'starting', n_workers: 0 });
    const { model, socket } = launching(created);
    const launched = model.launch({ n_workers: 1 });
    await flush();
    socket.push({ type: 'cluster', cluster: { ...created, status: 'lost' } });
    await expect(launched).rejects.toThrow(/lost/);
  });
});
