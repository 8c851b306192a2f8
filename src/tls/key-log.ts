/**
 * TLS secrets from NSS key log files (SSLKEYLOGFILE; the format Wireshark, curl, browsers, Go's
 * KeyLogWriter and Node's 'keylog' event write) and from pcapng Decryption Secrets Blocks, which
 * carry the same text. Every source adds to one store, looked up by the connection's client random.
 *
 * Format: one `LABEL <client random hex> <secret hex>` per line, `#` comments.
 */
import { nodeCrypto } from '../core/node-modules.js';
import type { Problem } from '../core/problem.js';
import { tlsProblem } from './problems.js';

export const TLS_SECRET_LABELS = [
  'CLIENT_RANDOM',
  'CLIENT_EARLY_TRAFFIC_SECRET',
  'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  'CLIENT_TRAFFIC_SECRET_0',
  'SERVER_TRAFFIC_SECRET_0',
  'EXPORTER_SECRET',
] as const;

/** CLIENT_RANDOM carries the TLS 1.2 master secret; the others are TLS 1.3 traffic secrets. */
export type TlsSecretLabel = (typeof TLS_SECRET_LABELS)[number];

export interface KeyLogAddResult {
  /** Lines that stored a secret. */
  entries: number;
  /** Well-formed lines with a label this decoder has no use for (e.g. RSA, EARLY_EXPORTER_SECRET). */
  ignored: number;
  malformed: number;
  /** The first few malformed lines, each with its line number, then a count of the rest. */
  problems: Problem[];
}

const CLIENT_RANDOM_HEX = 64;
const MASTER_SECRET_HEX = 96;
const MAX_REPORTED_MALFORMED = 5;
/** TLS 1.2 sessions remembered for resumption; oldest forgotten first. */
const MAX_SESSIONS = 10_000;
const HEX = /^[0-9a-fA-F]+$/;
const LABEL = /^[A-Z][A-Z0-9_]*$/;
const KNOWN_LABELS: ReadonlySet<string> = new Set(TLS_SECRET_LABELS);

/**
 * Why a file's text is not a key log at all (empty, binary such as a capture given by mistake, or
 * no line of the format), or null when a line has the format: a wrong file is refused in one line,
 * where its lines would each be malformed.
 */
export function notAKeyLog(text: string): string | null {
  // Read as UTF-8, bytes that are not text become U+FFFD; a key log is ASCII.
  if (text.includes('\0') || text.includes('\uFFFD')) return 'is binary, not an NSS key log';
  for (const line of text.split('\n')) {
    const [label = '', random = '', secret = ''] = line.trim().split(/\s+/);
    if (LABEL.test(label) && HEX.test(random) && HEX.test(secret)) return null;
  }
  return text.trim() === '' ? 'is empty' : 'has no NSS key log line (LABEL <client random> <secret>)';
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const sessionKey = (idOrTicket: Uint8Array): string => nodeCrypto().createHash('sha256').update(idOrTicket).digest('base64');

export class TlsKeyLog {
  private readonly byClientRandom = new Map<string, Map<TlsSecretLabel, Uint8Array>>();
  /**
   * TLS 1.2 master secrets by SHA-256 of a session id or ticket (tickets from the wire can be long),
   * learnt from connections decrypted earlier.
   */
  private readonly sessions = new Map<string, Uint8Array>();

  /** Client randoms with at least one secret. */
  get size(): number {
    return this.byClientRandom.size;
  }

  add(text: string, source: string): KeyLogAddResult {
    const result: KeyLogAddResult = { entries: 0, ignored: 0, malformed: 0, problems: [] };
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line === '' || line.startsWith('#')) continue;
      const problem = this.addEntry(line.split(/\s+/));
      if (problem === null) result.entries++;
      else if (problem === 'ignored') result.ignored++;
      else {
        result.malformed++;
        if (result.malformed <= MAX_REPORTED_MALFORMED) {
          result.problems.push(tlsProblem('malformed-key-log', `malformed key log line: ${problem}`, { where: `${source} line ${i + 1}` }));
        }
      }
    }
    if (result.malformed > MAX_REPORTED_MALFORMED) {
      result.problems.push(tlsProblem('malformed-key-log', `${result.malformed - MAX_REPORTED_MALFORMED} more malformed key log lines`, { where: source }));
    }
    return result;
  }

  /**
   * Asked for a secret the log lacks: a key log being followed while it grows (a live capture) reads
   * what was appended, and may wait for the secret, before the lookup is tried once more. Secrets
   * can be logged just after their packet is captured: a server logs a TLS 1.3 client's application
   * secret once it has read the client's Finished, a client its handshake secrets once it has read
   * the ServerHello.
   */
  onMiss: ((label: TlsSecretLabel, clientRandomHex: string) => void) | null = null;

  get(label: TlsSecretLabel, clientRandom: string | Uint8Array): Uint8Array | undefined {
    const key = typeof clientRandom === 'string' ? clientRandom.toLowerCase() : toHex(clientRandom);
    const found = this.lookup(label, key);
    if (found !== undefined || this.onMiss === null) return found;
    this.onMiss(label, key);
    return this.lookup(label, key);
  }

  /** The secret if the log holds it now, without asking onMiss. */
  lookup(label: TlsSecretLabel, clientRandomHex: string): Uint8Array | undefined {
    return this.byClientRandom.get(clientRandomHex)?.get(label);
  }

  has(clientRandom: string | Uint8Array): boolean {
    const key = typeof clientRandom === 'string' ? clientRandom.toLowerCase() : toHex(clientRandom);
    return this.byClientRandom.has(key);
  }

  /** Remember a verified TLS 1.2 master secret under a session id or ticket, so a later abbreviated handshake can use it. */
  rememberSession(idOrTicket: Uint8Array, masterSecret: Uint8Array): void {
    if (idOrTicket.length === 0) return;
    const key = sessionKey(idOrTicket);
    this.sessions.delete(key);
    this.sessions.set(key, masterSecret);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
  }

  sessionMasterSecret(idOrTicket: Uint8Array): Uint8Array | undefined {
    return idOrTicket.length === 0 ? undefined : this.sessions.get(sessionKey(idOrTicket));
  }

  /** Stores one entry; returns null when stored, 'ignored' for an unused label, else what is wrong. */
  private addEntry(fields: string[]): string | null {
    const [label, random, secret] = fields;
    if (!KNOWN_LABELS.has(label)) return LABEL.test(label) ? 'ignored' : 'not a key log line';
    if (fields.length !== 3) return `expected "${label} <client random> <secret>"`;
    if (!HEX.test(random) || !HEX.test(secret)) return 'client random and secret must be hex';
    if (random.length !== CLIENT_RANDOM_HEX) return `client random must be 32 bytes (64 hex digits), got ${random.length} digits`;
    if (label === 'CLIENT_RANDOM' ? secret.length !== MASTER_SECRET_HEX : secret.length !== 64 && secret.length !== 96) {
      return `${label} secret has ${secret.length} hex digits, expected ${label === 'CLIENT_RANDOM' ? '96' : '64 or 96'}`;
    }
    const key = random.toLowerCase();
    let secrets = this.byClientRandom.get(key);
    if (!secrets) this.byClientRandom.set(key, (secrets = new Map()));
    secrets.set(label as TlsSecretLabel, Uint8Array.from(Buffer.from(secret, 'hex')));
    return null;
  }
}
