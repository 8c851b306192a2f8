/**
 * Random numbers for tests that draw many small choices as they go (a segment's length, which flag,
 * which byte to overwrite): fast-check supplies them, so a failing run prints its seed and path and
 * replays exactly (FC_SEED=… FC_PATH=…), and there is no generator of our own to get wrong.
 */
import fc from 'fast-check';

/** A source of numbers in [0, 1), drawn lazily from a fast-check stream. */
export type Random = () => number;

export const randomSource: fc.Arbitrary<Random> = fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })).map((stream) => {
  const it = stream[Symbol.iterator]();
  return () => it.next().value as number;
});

/** The source fast-check gives for `seed`, outside a property (the fuzzer's replayable stream of choices). */
export function randomFromSeed(seed: number): Random {
  return fc.sample(randomSource, { seed, numRuns: 1 })[0];
}
