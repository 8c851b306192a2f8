import { HandshakeReassembler } from '../../src/tls/handshake-reassembler.js';
import { handshakeMessage } from '../helpers/tls-synthetic.js';

function collect(max = 1000) {
  const messages: [number, string | null, number][] = [];
  const reassembler = new HandshakeReassembler(
    (type) => type !== 11,
    max,
    (type, body, length) => messages.push([type, body && Buffer.from(body).toString('latin1'), length]),
  );
  return { reassembler, messages };
}

const stream = Buffer.concat([
  handshakeMessage(1, Buffer.from('hello')),
  handshakeMessage(11, Buffer.alloc(3000, 0x41)),
  handshakeMessage(14, Buffer.alloc(0)),
  handshakeMessage(8, Buffer.from('ext')),
]);
const expected = [
  [1, 'hello', 5],
  [11, null, 3000],
  [14, '', 0],
  [8, 'ext', 3],
];

test('messages in one fragment, unwanted ones not kept', () => {
  const { reassembler, messages } = collect();
  reassembler.push(stream);
  expect(messages).toEqual(expected);
  expect(reassembler.partial).toBe(0);
});

test('messages spanning fragments, cut at every byte', () => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const { reassembler, messages } = collect();
    reassembler.push(stream.subarray(0, cut));
    reassembler.push(stream.subarray(cut));
    expect(messages).toEqual(expected);
  }
  const { reassembler, messages } = collect();
  for (let i = 0; i < stream.length; i++) reassembler.push(stream.subarray(i, i + 1));
  expect(messages).toEqual(expected);
});

test('a wanted message longer than the cap is passed without a body', () => {
  const { reassembler, messages } = collect(4);
  reassembler.push(handshakeMessage(1, Buffer.from('hello')).subarray(0, 6));
  expect(reassembler.partial).toBe(6);
  reassembler.push(Buffer.from('llo'));
  expect(messages).toEqual([[1, null, 5]]);
});

test('a claimed 16 MiB message allocates nothing and ends only when its bytes came', () => {
  const { reassembler, messages } = collect();
  reassembler.push(Buffer.from([1, 0xff, 0xff, 0xff, 0]));
  expect(messages).toEqual([]);
  expect(reassembler.partial).toBe(5);
});
