import { MUTATIONS, rng } from './capture-mutations.js';

/** A classic pcap (Ethernet) with one record whose IPv4 header claims the largest length (IHL 15). */
function pcapWithLongIpHeader(recordBytes: number): Buffer {
  const file = Buffer.alloc(24 + 16 + recordBytes);
  file.writeUInt32LE(0xa1b2c3d4, 0);
  file.writeUInt16LE(2, 4);
  file.writeUInt16LE(4, 6);
  file.writeUInt32LE(65535, 16);
  file.writeUInt32LE(1, 20);
  file.writeUInt32LE(recordBytes, 24 + 8);
  file.writeUInt32LE(recordBytes, 24 + 12);
  const ip = 24 + 16 + 14;
  file.writeUInt16BE(0x0800, ip - 2);
  file[ip] = 0x4f;
  file[ip + 9] = 6;
  return file;
}

describe('capture mutations', () => {
  // Found by the 10^6-input fuzz run: a mutated IP header length put the TCP sequence number past the
  // end of the file and the fuzzer itself died with ERR_OUT_OF_RANGE after 193,581 inputs.
  it('perturbTcpSequence leaves a record alone when the IP header length points past its end', () => {
    for (const recordBytes of [14 + 40, 14 + 60, 14 + 60 + 11]) {
      const file = pcapWithLongIpHeader(recordBytes);
      for (let seed = 1; seed <= 50; seed++) expect(() => MUTATIONS.perturbTcpSequence(file, rng(seed), file)).not.toThrow();
      expect(MUTATIONS.perturbTcpSequence(file, rng(1), file)).toEqual(file);
    }
  });

  it('perturbTcpSequence moves a sequence number that lies inside the record', () => {
    const file = pcapWithLongIpHeader(14 + 60 + 12);
    expect(MUTATIONS.perturbTcpSequence(file, rng(1), file)).not.toEqual(file);
  });
});
