/**
 * Import rules of execscope, read from the map in docs/architecture.md (one row per src/ folder:
 * its sans-IO status and the folders it may import), so the documentation is the rule.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const IO_MODULES = '^(node:)?(fs|fs/promises|net|child_process|http|https|http2|tls|dgram|readline|worker_threads)$';

function readMap() {
  const text = readFileSync(join(__dirname, 'docs', 'architecture.md'), 'utf8');
  const folders = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const name = /^`([\w-]+)`$/.exec(cells[0] ?? '');
    if (!name || cells.length !== 5) continue;
    const names = (cell) => [...cell.matchAll(/`([\w.-]+)`/g)].map((m) => m[1]);
    folders.push({ name: name[1], sansIo: cells[3].startsWith('yes'), ioFiles: names(cells[3]), imports: names(cells[4]) });
  }
  if (folders.length === 0) throw new Error('docs/architecture.md: no folder table found');
  return folders;
}

const folders = readMap();
const known = folders.map((f) => f.name);
/** src/cli.ts is part of the cli folder. */
const from = (name) => (name === 'cli' ? '^src/(cli/|cli\\.ts$)' : `^src/${name}/`);
const inFolders = (names) => `^src/(${names.map((n) => (n === 'cli' ? 'cli/|cli\\.ts$' : `${n}/`)).join('|')})`;

const forbidden = [
  {
    name: 'no-circular',
    comment: 'modules must not import each other in a circle (type-only imports vanish at run time and may)',
    severity: 'error',
    from: {},
    to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
  },
  {
    name: 'folder-not-in-architecture-map',
    comment: 'every folder of src/ needs a row in docs/architecture.md (what it is, what it may import)',
    severity: 'error',
    from: { path: '^src/[^/]+/', pathNot: inFolders(known) },
    to: {},
  },
  {
    name: 'import-of-folder-not-in-architecture-map',
    comment: 'every folder of src/ needs a row in docs/architecture.md',
    severity: 'error',
    from: { path: '^src/' },
    to: { path: '^src/[^/]+/', pathNot: inFolders(known) },
  },
];
for (const f of folders) {
  forbidden.push({
    name: `${f.name}-imports`,
    comment: `src/${f.name} may import only ${f.imports.length ? f.imports.join(', ') : 'nothing else in src/'} (docs/architecture.md)`,
    severity: 'error',
    from: { path: from(f.name) },
    to: { path: '^src/', pathNot: inFolders([f.name, ...f.imports]) },
  });
  if (f.sansIo) {
    forbidden.push({
      name: `${f.name}-sans-io`,
      comment: `src/${f.name} is sans-IO: it is fed bytes, it never opens files or sockets (docs/architecture.md)`,
      severity: 'error',
      from: { path: from(f.name), pathNot: f.ioFiles.length ? `^src/${f.name}/(${f.ioFiles.map((n) => n.replace(/\./g, '\\.')).join('|')})$` : undefined },
      to: { dependencyTypes: ['core'], path: IO_MODULES },
    });
  }
}

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js'] },
  },
};
