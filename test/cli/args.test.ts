/** The argv parser every command uses: an option's missing value is a usage error naming the option. */
import { parseArgs, UsageError } from '../../src/cli/args.js';

const spec = { flags: ['--json'], options: ['--keylog'] };

test.each([
  ['--keylog at the end', ['c.pcap', '--keylog']],
  ['--keylog= with nothing after the =', ['c.pcap', '--keylog=']],
  ['--keylog followed by an empty argument', ['c.pcap', '--keylog', '']],
])('%s: "--keylog needs a value"', (_name, argv) => {
  expect(() => parseArgs(argv, spec)).toThrow(new UsageError('--keylog needs a value'));
});

test('--keylog=FILE and --keylog FILE give the value', () => {
  expect(parseArgs(['c.pcap', '--keylog=a.log', '--keylog', 'b.log'], spec).options.get('--keylog')).toEqual(['a.log', 'b.log']);
});
