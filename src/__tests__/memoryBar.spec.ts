import { memoryLevel, memorySegments, MEMORY_THRESHOLDS } from '../table';

const limit = 1000;

describe('memorySegments', () => {
  it('splits process memory into managed and unmanaged against the limit', () => {
    const s = memorySegments({
      memory: 500,
      managed_bytes: 200,
      spilled_bytes: 100,
      memory_limit: limit
    });
    expect(s.managed).toBeCloseTo(0.2);
    expect(s.unmanaged).toBeCloseTo(0.3);
    expect(s.spilled).toBeCloseTo(0.1);
    expect(s.fraction).toBeCloseTo(0.5);
    expect(s.level).toBe('ok');
  });

  it('never draws more than the limit: spilled is cut first', () => {
    const s = memorySegments({
      memory: 900,
      managed_bytes: 600,
      spilled_bytes: 5000,
      memory_limit: limit
    });
    expect(s.managed + s.unmanaged + s.spilled).toBeCloseTo(1);
    expect(s.spilled).toBeCloseTo(0.1);
    const over = memorySegments({
      memory: 1500,
      managed_bytes: 1200,
      spilled_bytes: 10,
      memory_limit: limit
    });
    expect(over.managed).toBe(1);
    expect(over.unmanaged).toBe(0);
    expect(over.spilled).toBe(0);
    expect(over.level).toBe('terminate');
  });

  it('treats managed above process memory as all managed', () => {
    const s = memorySegments({
      memory: 100,
      managed_bytes: 300,
      spilled_bytes: 0,
      memory_limit: limit
    });
    expect(s.managed).toBeCloseTo(0.1);
    expect(s.unmanaged).toBe(0);
  });

  it('draws nothing without a limit', () => {
    const s = memorySegments({
      memory: 100,
      managed_bytes: 10,
      spilled_bytes: 0,
      memory_limit: 0
    });
    expect([s.managed, s.unmanaged, s.spilled, s.level]).toEqual([
      0,
      0,
      0,
      'ok'
    ]);
  });
});

describe('memoryLevel', () => {
  it("changes colour at Dask's target, spill, pause and terminate thresholds", () => {
    expect(MEMORY_THRESHOLDS).toEqual({
      target: 0.6,
      spill: 0.7,
      pause: 0.8,
      terminate: 0.95
    });
    expect(memoryLevel(0.59)).toBe('ok');
    expect(memoryLevel(0.6)).toBe('target');
    expect(memoryLevel(0.69)).toBe('target');
    expect(memoryLevel(0.7)).toBe('spill');
    expect(memoryLevel(0.8)).toBe('pause');
    expect(memoryLevel(0.949)).toBe('pause');
    expect(memoryLevel(0.95)).toBe('terminate');
  });
});
