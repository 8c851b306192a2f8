import { TcpReassembler } from '../../src/net/tcp-reassembly.js';
import { SegmentMaker } from './tcp-recorder.js';
it('debug', () => {
  const log: string[] = [];
  const tcp = new TcpReassembler({
    onOpen: (c) => log.push(`open ${c.client}`),
    onData: (c, d, data, o) => log.push(`data ${d} ${o.offset}+${o.length}`),
    onGap: (c, d, off, len) => { log.push(`gap ${d} ${off}+${len}`); },
    onClose: (c, d, how) => log.push(`close ${d} ${how}`),
    onEnd: () => log.push('end'),
    onProblem: (p) => log.push(`problem ${p.where} ${p.message}`),
  });
  const m = new SegmentMaker();
  const cIsn = 2 ** 32 - 100, sIsn = 12345;
  tcp.push(m.seg('c', cIsn, '', 'S'));
  tcp.push(m.seg('s', sIsn, '', 'SA', cIsn + 1));
  tcp.push(m.seg('c', cIsn + 1, '', 'A', sIsn + 1));
  tcp.push(m.seg('c', cIsn + 1 + 50, 'x'.repeat(100), 'PA'));
  tcp.push(m.seg('c', cIsn + 1 + 0, 'y'.repeat(50), 'PA'));
  tcp.push(m.seg('c', cIsn + 1 + 150, '', 'FA'));
  tcp.end();
  console.log(log.join('\n'));
});
