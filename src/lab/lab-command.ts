/** `execscope lab`: placeholder entry point, replaced by the lab implementation. */
export async function labCommand(_argv: string[]): Promise<number> {
  process.stderr.write('execscope lab: not built yet\n');
  return 1;
}
