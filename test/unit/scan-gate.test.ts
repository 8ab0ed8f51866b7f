import { ScanGate, TooManyScans } from '../../src/http/scan-gate';

/** A scan that runs until `finish` is called, recording when it started. */
function controlledScan(started: string[], name: string): { run: () => Promise<string>; finish: () => void } {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    run: async () => {
      started.push(name);
      await done;
      return name;
    },
    finish: () => finish(),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ScanGate', () => {
  test('refuses a token its scans beyond the per-token bound, and gives the slot back when one ends', async () => {
    const gate = new ScanGate(2, 10);
    const started: string[] = [];
    const [a, b] = [controlledScan(started, 'a'), controlledScan(started, 'b')];
    const running = [gate.run('token', a.run), gate.run('token', b.run)];
    await expect(gate.run('token', async () => 'c')).rejects.toBeInstanceOf(TooManyScans);
    await expect(gate.run('other', async () => 'other')).resolves.toBe('other');
    a.finish();
    await expect(running[0]).resolves.toBe('a');
    await expect(gate.run('token', async () => 'again')).resolves.toBe('again');
    b.finish();
    await expect(running[1]).resolves.toBe('b');
  });

  test('runs at most `atOnce` scans, the others in their order of arrival', async () => {
    const gate = new ScanGate(5, 2);
    const started: string[] = [];
    const scans = ['a', 'b', 'c', 'd'].map((name) => controlledScan(started, name));
    const results = scans.map((scan, i) => gate.run(`token-${i}`, scan.run));
    await tick();
    expect(started).toEqual(['a', 'b']);
    scans[1].finish();
    await results[1];
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    scans[0].finish();
    await results[0];
    await tick();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    scans[2].finish();
    scans[3].finish();
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c', 'd']);
  });

  test('a failed scan frees its slot', async () => {
    const gate = new ScanGate(1, 1);
    await expect(gate.run('token', async () => Promise.reject(new Error('redis down')))).rejects.toThrow('redis down');
    await expect(gate.run('token', async () => 'next')).resolves.toBe('next');
  });
});
