/**
 * Decoding problems as data. Each layer registers its problem codes once (`defineProblems`), so a
 * problem carries a stable code (`websocket.rsv-unnegotiated`) and a severity besides its message,
 * and points back to the bytes that caused it: connection, direction, stream offset and packet,
 * as far as the reporting layer knows them. Outer layers add what they know (`relocate`).
 */
import type { Direction } from './origin.js';

/** `error`: bytes could not be decoded; `warning`: a protocol violation or loss; `note`: worth knowing. */
export type Severity = 'error' | 'warning' | 'note';

export interface Problem {
  /** `layer.name`, registered with defineProblems; stable for scripts and tests. */
  code: string;
  severity: Severity;
  message: string;
  /** Human-readable location, e.g. "packet 57", "10.0.0.1:51234→10.0.0.9:6443 c2s offset 900". */
  where: string;
  /** The connection's id (ConnectionRecord.id), when a connection is known. */
  connection?: number;
  direction?: Direction;
  /** Byte offset in the direction's stream of the layer that reported it (see `where` for which). */
  offset?: number;
  /** 1-based packet number (as Wireshark counts). */
  packet?: number;
}

/** Where a problem is, as far as the reporting layer knows. */
export type ProblemPlace = Partial<Pick<Problem, 'where' | 'connection' | 'direction' | 'offset' | 'packet'>>;

export type ProblemFactory<C extends string> = (code: C, message: string, place?: ProblemPlace) => Problem;

const catalog = new Map<string, Severity>();

/**
 * Registers a layer's problem codes with their severities and returns the constructor for them:
 * `const problem = defineProblems('tcp', { 'gap': 'warning' }); problem('gap', '12 bytes lost', {offset})`.
 */
export function defineProblems<C extends string>(layer: string, severities: Record<C, Severity>): ProblemFactory<C> {
  for (const [name, severity] of Object.entries<Severity>(severities)) catalog.set(`${layer}.${name}`, severity);
  return (name, message, place = {}) => {
    const p: Problem = { code: `${layer}.${name}`, severity: severities[name], message, where: place.where ?? layer };
    if (place.connection !== undefined) p.connection = place.connection;
    if (place.direction !== undefined) p.direction = place.direction;
    if (place.offset !== undefined) p.offset = place.offset;
    if (place.packet !== undefined) p.packet = place.packet;
    return p;
  };
}

/** Every registered code with its severity (for documentation and tests). */
export function problemCatalog(): ReadonlyMap<string, Severity> {
  return catalog;
}

/**
 * The same problem seen from an enclosing layer: `where` gains the outer prefix, and the place
 * fields the inner layer did not know are filled in from `place`.
 */
export function relocate(p: Problem, prefix: string, place: ProblemPlace = {}): Problem {
  return { ...place, ...p, where: prefix ? `${prefix} ${p.where}` : p.where };
}
