import { serialize, deserialize } from 'node:v8';
import { carriersOf, CarrierLogBudget, logCarrier, newCarrierLog, type CarrierLog } from '../../src/core/carrier-log.js';

const spans = (log: CarrierLog, offset: number, length: number) => carriersOf(log, offset, length)?.map((s) => [s.offset, s.length, s.heldOffset, s.heldLength]) ?? null;

describe('carrier log', () => {
  it('records: any plaintext byte needs all of its record; records without plaintext hold none', () => {
    const log = newCarrierLog();
    const budget = new CarrierLogBudget(100);
    // A handshake record (no plaintext) is not logged; three records of 10, 0 and 7 plaintext bytes.
    logCarrier(log, budget, 10, 100, 37, true);
    logCarrier(log, budget, 0, 137, 22, true);
    logCarrier(log, budget, 7, 159, 34, true);
    expect(log.count).toBe(2);
    expect(log.innerEnd).toBe(17);
    expect(spans(log, 0, 1)).toEqual([[100, 37, 100, 37]]);
    expect(spans(log, 9, 2)).toEqual([
      [100, 37, 100, 37],
      [159, 34, 159, 34],
    ]);
    expect(spans(log, 10, 7)).toEqual([[159, 34, 159, 34]]);
    // Past what was logged: not known.
    expect(spans(log, 16, 2)).toBeNull();
  });

  it('linear pieces: one for one, the last bytes of their range; contiguous ones merge, a frame header between them does not', () => {
    const log = newCarrierLog();
    const budget = new CarrierLogBudget(100);
    // A frame at 0 (header 2 bytes) whose 10-byte payload arrives in pieces of 4 and 6; the next frame's header at 12–15.
    logCarrier(log, budget, 4, 2, 4, false);
    logCarrier(log, budget, 6, 6, 6, false);
    logCarrier(log, budget, 5, 16, 5, false);
    expect(log.count).toBe(2);
    expect(spans(log, 3, 4)).toEqual([[2, 10, 5, 4]]);
    expect(spans(log, 8, 4)).toEqual([
      [2, 10, 10, 2],
      [16, 5, 16, 2],
    ]);
    // Lost tunnel bytes: counted, carried by nothing.
    logCarrier(log, budget, 3, 0, 0, false);
    logCarrier(log, budget, 2, 40, 2, false);
    expect(spans(log, 14, 5)).toEqual([
      [16, 5, 20, 1],
      [40, 2, 40, 1],
    ]);
    // Bytes inflated from a compressed piece need all of it.
    logCarrier(log, budget, 50, 42, 9, true);
    expect(spans(log, 30, 1)).toEqual([[42, 9, 42, 9]]);
  });

  it('grows in chunks, every log of a capture drawing on one budget, and says where it stopped', () => {
    let spent = 0;
    const budget = new CarrierLogBudget(5000, () => spent++);
    const a = newCarrierLog();
    const b = newCarrierLog();
    for (let i = 0; i < 3000; i++) logCarrier(a, budget, 16, i * 50, 40, true);
    for (let i = 0; i < 3000; i++) logCarrier(b, budget, 16, i * 50, 40, true);
    // Chunks of 16, 32, … 2048, then 4096 entries, drawn from the budget: a's 3000 take 16+…+2048 =
    // 4080 slots; of the 920 left, b's chunks of 16…256 take 496 and the next, 512, is refused.
    expect(a).toMatchObject({ count: 3000, innerEnd: 48000, full: false });
    expect(a.offsets.map((c) => c.length)).toEqual([16, 32, 64, 128, 256, 512, 1024, 2048]);
    expect(b).toMatchObject({ count: 496, innerEnd: 496 * 16, full: true });
    expect(spent).toBe(1);
    expect(spans(a, 2999 * 16, 16)).toEqual([[2999 * 50, 40, 2999 * 50, 40]]);
    expect(spans(b, 495 * 16 + 15, 1)).toEqual([[495 * 50, 40, 495 * 50, 40]]);
    expect(spans(b, 495 * 16 + 15, 2)).toBeNull();
    // Chunks of 4096 from then on.
    const c = newCarrierLog();
    const roomy = new CarrierLogBudget(1 << 20);
    for (let i = 0; i < 9000; i++) logCarrier(c, roomy, 1, i * 2, 1, true);
    expect(c.offsets.map((x) => x.length)).toEqual([16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 4096]);
    expect(spans(c, 8999, 1)).toEqual([[17998, 1, 17998, 1]]);
    // Plain data: a record holding a log is serialised with it (the spill file).
    expect(spans(deserialize(serialize(a)) as CarrierLog, 2999 * 16, 16)).toEqual(spans(a, 2999 * 16, 16));
  });

  it('splits a linear range too long for one entry', () => {
    const log = newCarrierLog();
    const budget = new CarrierLogBudget(16);
    const big = 0x7fffffff + 10;
    logCarrier(log, budget, big, 1000, big + 14, false);
    expect(log.innerEnd).toBe(big);
    expect(spans(log, big - 1, 1)).toEqual([[1000 + 14 + 0x7fffffff, 10, 1000 + 14 + big - 1, 1]]);
    expect(spans(log, 0, 1)).toEqual([[1014, 0x7fffffff, 1014, 1]]);
  });
});
