/**
 * One TLS connection, both directions: frames records, follows the handshake (ClientHello,
 * ServerHello, HelloRetryRequest, EncryptedExtensions, Finished, KeyUpdate, TLS 1.2 ChangeCipherSpec
 * and session tickets), installs record keys from the key log at each key change, and passes the
 * decrypted application data upward with the record it came in.
 *
 * Decrypted bytes are only ever passed on after their AEAD tag verified; a record that does not
 * open stops that direction with one Problem naming the connection.
 */
import type { Direction, FrameOrigin, StreamOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { tlsProblem, type TlsProblemCode } from './problems.js';
import { cipherSuite, type CipherSuite } from './cipher-suites.js';
import { HandshakeReassembler } from './handshake-reassembler.js';
import {
  MalformedHandshake,
  parseClientHello,
  parseEncryptedExtensions,
  parseKeyUpdate,
  parseServerHello,
  parseTls12NewSessionTicket,
  type ClientHello,
  type ServerHello,
} from './handshake-messages.js';
import { toHex, type TlsKeyLog, type TlsSecretLabel } from './key-log.js';
import { tls12RecordKeys, tls13NextTrafficSecret, tls13RecordKeys, type RecordKeys } from './key-schedule.js';
import { RecordDecrypter } from './record-decrypter.js';
import { MAX_TLS13_CIPHERTEXT, RECORD_HEADER, TlsRecordFramer } from './record-framer.js';
import {
  alertDescriptionName,
  alertLevelName,
  ContentType,
  contentTypeName,
  HandshakeType,
  handshakeTypeName,
  tlsVersionName,
} from './tls-names.js';

export interface TlsConnectionInfo {
  version?: 'TLS 1.2' | 'TLS 1.3' | string;
  /** IANA name. */
  cipherSuite?: string;
  sni?: string;
  alpnOffered?: string[];
  /** Chosen protocol: in ServerHello for TLS 1.2, in the encrypted EncryptedExtensions for TLS 1.3. */
  alpn?: string;
  /** Hex, the key log's lookup key. */
  clientRandom?: string;
  /** TLS 1.2 abbreviated handshake (session id or ticket) or TLS 1.3 PSK. */
  resumed?: boolean;
  helloRetryRequest?: boolean;
  /** null until the handshake shows which keys are needed. */
  keysFound: boolean | null;
  /** Keys were found, but a record they should open failed (wrong or partial key log). */
  keysWrong?: true;
}

export interface TlsAlert {
  level: number;
  description: number;
  levelName: string;
  descriptionName: string;
}

export interface TlsRecordInfo {
  /** Outer content type (23 for every protected TLS 1.3 record). */
  contentType: number;
  contentTypeName: string;
  /** legacy_record_version, e.g. 0x0303. */
  version: number;
  /** Fragment length, header excluded. */
  length: number;
  /** Sequence number under the key that opened it; null when not decrypted. */
  seq: number | null;
  /** Protected by record encryption. */
  encrypted: boolean;
  decrypted: boolean;
  /** TLS 1.3 inner content type of a decrypted record. */
  innerType?: number;
  innerTypeName?: string;
  /** Content bytes of a decrypted record (TLS 1.3: without inner type and padding). */
  plaintextLength?: number;
  /** Handshake messages that ended in this record. */
  handshake?: string[];
  alerts?: TlsAlert[];
  /** The record in the TCP stream: header and fragment. */
  origin: FrameOrigin;
}

export interface TlsSink {
  /** Called whenever the connection description grows; info is a fresh object each time. */
  onHandshakeInfo(info: TlsConnectionInfo): void;
  /** Every record, after its content was handled. */
  onRecord(dir: Direction, rec: TlsRecordInfo): void;
  /**
   * Decrypted application data, in order. origin.offset/length are positions in this direction's
   * plaintext stream (0-based), packet/ts those of the record's last packet. `record` says which
   * record carried it. data is only valid during the call.
   */
  onPlaintext(dir: Direction, data: Uint8Array, origin: StreamOrigin, record: { seq: number; origin: FrameOrigin }): void;
  onProblem(p: Problem): void;
}

export interface TlsConnectionDecoderOptions {
  /** The connection, e.g. "127.0.0.1:5000→127.0.0.1:6443"; starts every Problem's where. */
  where?: string;
}

/** ClientHello bodies are the largest messages parsed; certificates are skipped, never buffered. */
const MAX_PARSED_HANDSHAKE = 1 << 17;
const PARSED_HANDSHAKE_TYPES: ReadonlySet<number> = new Set([
  HandshakeType.clientHello,
  HandshakeType.serverHello,
  HandshakeType.newSessionTicket,
  HandshakeType.encryptedExtensions,
  HandshakeType.keyUpdate,
]);
/** Records tried against the application key when the handshake key is missing before giving up. */
const MAX_TRIAL_RECORDS = 32;
/** TLS 1.2 tickets remembered until the connection's keys verify. */
const MAX_PENDING_TICKETS = 4;
const TLS12 = 0x0303;
const TLS13 = 0x0304;
const CLOSE_NOTIFY = 0;

const KEYLOG_HINT =
  'to decrypt, record the secrets with SSLKEYLOGFILE=/path/keys.log (curl, Firefox, Chrome, Node --tls-keylog, ' +
  "Go's tls.Config.KeyLogWriter) and pass --keylog /path/keys.log, or embed them in the pcapng " +
  '(editcap --inject-secrets tls,/path/keys.log)';

type OnceProblem = Extract<TlsProblemCode, 'no-keys' | 'wrong-keys' | 'partial-keys' | 'not-decryptable' | 'early-data' | 'cleartext-data'>;
/** Where in the connection: a direction, and the stream offset when known. */
type At = { dir: Direction; offset?: number } | null;

interface Opened {
  plaintext: Uint8Array;
  seq: number;
}

class DirectionState {
  readonly framer: TlsRecordFramer;
  readonly handshake: HandshakeReassembler;
  /** Records are protected: after ServerHello in TLS 1.3, after ChangeCipherSpec in TLS 1.2. */
  protected = false;
  decrypter: RecordDecrypter | null = null;
  /** TLS 1.3: handshake traffic keys until this side's Finished. */
  epoch: 'handshake' | 'application' = 'handshake';
  /** TLS 1.3 secret of the current key, for KeyUpdate. */
  trafficSecret: Uint8Array | null = null;
  /** TLS 1.3 without the handshake secret: the application key, tried on each record until one opens. */
  trialDecrypter: RecordDecrypter | null = null;
  trials = 0;
  /** After a gap: nothing more of this direction is decoded. */
  framingLost = false;
  /** Decryption given up (gap, wrong or missing keys): records are still listed. */
  stopped = false;
  decryptedAny = false;
  plaintextOffset = 0;

  constructor(framer: TlsRecordFramer, handshake: HandshakeReassembler) {
    this.framer = framer;
    this.handshake = handshake;
  }
}

export class TlsConnectionDecoder {
  private readonly where: string;
  private readonly dirs: Record<Direction, DirectionState>;
  private readonly info: TlsConnectionInfo = { keysFound: null };
  private clientHello: ClientHello | null = null;
  private serverHello: ServerHello | null = null;
  private suite: CipherSuite | null = null;
  private tls13 = false;
  /** TLS 1.2: the full handshake's ServerHelloDone (an abbreviated, resumed one has none). */
  private sawServerHelloDone = false;
  private tls12Keys: { client: RecordKeys; server: RecordKeys; forHello: ServerHello; masterSecret: Uint8Array } | null = null;
  private pendingTickets: Uint8Array[] = [];
  private sessionRemembered = false;
  /** State of the record being handled, for its TlsRecordInfo. */
  private recordHandshake: string[] = [];
  private readonly reported = new Set<OnceProblem>();

  constructor(
    private readonly keys: TlsKeyLog,
    private readonly sink: TlsSink,
    opts: TlsConnectionDecoderOptions = {},
  ) {
    this.where = opts.where ?? 'TLS connection';
    this.dirs = { c2s: this.newDirection('c2s'), s2c: this.newDirection('s2c') };
  }

  push(dir: Direction, data: Uint8Array, origin: StreamOrigin): void {
    this.dirs[dir].framer.push(data, origin);
  }

  /** Bytes lost from the capture: record boundaries and the implicit sequence numbers are gone with them. */
  gap(dir: Direction, offset: number, length: number): void {
    const d = this.dirs[dir];
    if (d.framingLost) return;
    d.framingLost = true;
    d.framer.stop();
    d.stopped = true;
    this.problem(
      'gap',
      { dir, offset },
      `${length} bytes missing: TLS record boundaries and the implicit record sequence numbers (part of every AEAD nonce) ` +
        `are lost, so the rest of ${dir} is neither framed nor decrypted`,
    );
  }

  end(): void {
    for (const dir of ['c2s', 's2c'] as const) {
      const d = this.dirs[dir];
      const partial = d.framer.partial;
      if (partial) this.problem('truncated', { dir }, `stream ends inside a TLS record (${partial.have} of ${partial.need} bytes)`);
      if (d.handshake.partial > 0) this.problem('truncated', { dir }, `stream ends inside a handshake message (${d.handshake.partial} bytes)`);
      d.framer.stop();
    }
  }

  private newDirection(dir: Direction): DirectionState {
    const handshake = new HandshakeReassembler(
      (type) => PARSED_HANDSHAKE_TYPES.has(type),
      MAX_PARSED_HANDSHAKE,
      (type, body, length) => this.onHandshakeMessage(dir, type, body, length),
    );
    const framer = new TlsRecordFramer(
      (record, origin) => this.onRecord(dir, record, origin),
      (message, offset) => this.problem('malformed-record', { dir, offset }, message),
    );
    return new DirectionState(framer, handshake);
  }

  private onRecord(dir: Direction, record: Uint8Array, origin: FrameOrigin): void {
    const d = this.dirs[dir];
    const outerType = record[0];
    const info: TlsRecordInfo = {
      contentType: outerType,
      contentTypeName: contentTypeName(outerType),
      version: (record[1] << 8) | record[2],
      length: record.length - RECORD_HEADER,
      seq: null,
      encrypted: d.protected && (!this.tls13 || outerType === ContentType.applicationData),
      decrypted: false,
      origin,
    };
    this.recordHandshake = [];
    let type = outerType;
    let content = record.subarray(RECORD_HEADER);
    if (info.encrypted) {
      const opened = this.open(dir, d, record, origin);
      if (opened === null) return this.sink.onRecord(dir, info);
      const { plaintext, seq } = opened;
      info.decrypted = true;
      info.seq = seq;
      content = plaintext;
      if (this.tls13) {
        let end = plaintext.length - 1;
        while (end >= 0 && plaintext[end] === 0) end--;
        if (end < 0) {
          this.problem('malformed-record', { dir, offset: origin.offset }, 'decrypted TLS 1.3 record has no inner content type');
          return this.sink.onRecord(dir, info);
        }
        type = plaintext[end];
        content = plaintext.subarray(0, end);
        info.innerType = type;
        info.innerTypeName = contentTypeName(type);
      }
      info.plaintextLength = content.length;
    }
    this.handleContent(dir, d, type, content, info);
    if (this.recordHandshake.length) info.handshake = this.recordHandshake;
    this.sink.onRecord(dir, info);
  }

  private handleContent(dir: Direction, d: DirectionState, type: number, content: Uint8Array, info: TlsRecordInfo): void {
    switch (type) {
      case ContentType.handshake:
        d.handshake.push(content);
        break;
      case ContentType.changeCipherSpec:
        if (this.serverHello && !this.tls13) this.tls12ChangeCipherSpec(dir, d);
        break;
      case ContentType.alert:
        info.alerts = this.alerts(dir, content, info.origin);
        break;
      case ContentType.applicationData:
        if (!info.decrypted) this.cleartextApplicationData(dir, info.origin);
        else if (content.length > 0) {
          const { lastPacket, lastTs } = info.origin;
          const origin: StreamOrigin = { offset: d.plaintextOffset, length: content.length, packet: lastPacket, ts: lastTs };
          d.plaintextOffset += content.length;
          this.sink.onPlaintext(dir, content, origin, { seq: info.seq as number, origin: info.origin });
        }
        break;
    }
  }

  /** Opens a protected record, or returns null (and decides whether that is a problem). */
  private open(dir: Direction, d: DirectionState, record: Uint8Array, origin: FrameOrigin): Opened | null {
    if (d.stopped) return null;
    if (d.decrypter === null) return d.trialDecrypter ? this.tryApplicationKey(dir, d, record, origin) : null;
    const seq = d.decrypter.nextSeq;
    const plaintext = d.decrypter.open(record);
    if (plaintext !== null) {
      d.decryptedAny = true;
      if (!this.tls13 && !this.sessionRemembered) this.rememberTls12Session();
      return { plaintext, seq };
    }
    if (this.tls13 && dir === 'c2s' && d.epoch === 'handshake' && !d.decryptedAny && this.clientHello?.earlyData) {
      this.reportOnce('early-data', { dir, offset: origin.offset }, 'the client sent 0-RTT early data; it is listed but not decrypted');
      return null;
    }
    d.stopped = true;
    this.wrongKeys(dir, origin.offset, `record ${seq} of ${dir} fails authentication, decryption of ${dir} stops here`);
    return null;
  }

  /** TLS 1.3 with only the application secret: the handshake records cannot open, the first that does starts the epoch. */
  private tryApplicationKey(dir: Direction, d: DirectionState, record: Uint8Array, origin: FrameOrigin): Opened | null {
    const trial = d.trialDecrypter as RecordDecrypter;
    const plaintext = trial.open(record);
    if (plaintext !== null) {
      d.decrypter = trial;
      d.trialDecrypter = null;
      d.epoch = 'application';
      d.decryptedAny = true;
      return { plaintext, seq: 0 };
    }
    if (++d.trials >= MAX_TRIAL_RECORDS) {
      d.trialDecrypter = null;
      d.stopped = true;
      this.wrongKeys(dir, origin.offset, `no ${dir} record opens with the ${dir === 'c2s' ? 'client' : 'server'} application traffic secret`);
    }
    return null;
  }

  private onHandshakeMessage(dir: Direction, type: number, body: Uint8Array | null, length: number): void {
    this.recordHandshake.push(handshakeTypeName(type));
    if (body === null && PARSED_HANDSHAKE_TYPES.has(type)) {
      this.problem('malformed-handshake', { dir }, `${handshakeTypeName(type)} of ${length} bytes is too large to parse`);
      return;
    }
    try {
      if (dir === 'c2s' && type === HandshakeType.clientHello) this.onClientHello(parseClientHello(body as Uint8Array));
      else if (dir === 's2c' && type === HandshakeType.serverHello) this.onServerHello(parseServerHello(body as Uint8Array));
      else if (dir === 's2c' && type === HandshakeType.encryptedExtensions) this.updateInfo({ alpn: parseEncryptedExtensions(body as Uint8Array).alpn });
      else if (dir === 's2c' && type === HandshakeType.newSessionTicket && !this.tls13) this.onTls12Ticket(parseTls12NewSessionTicket(body as Uint8Array));
      else if (dir === 's2c' && type === HandshakeType.serverHelloDone) this.sawServerHelloDone = true;
      else if (type === HandshakeType.finished && this.tls13 && this.dirs[dir].epoch === 'handshake') this.installApplicationKey(dir);
      else if (type === HandshakeType.keyUpdate && this.tls13) this.keyUpdate(dir, parseKeyUpdate(body as Uint8Array).updateRequested);
    } catch (e) {
      if (!(e instanceof MalformedHandshake)) throw e;
      this.problem('malformed-handshake', { dir }, `malformed ${handshakeTypeName(type)}: ${e.message}`);
    }
  }

  private onClientHello(hello: ClientHello): void {
    this.clientHello = hello;
    this.updateInfo({ clientRandom: toHex(hello.random), sni: hello.sni, alpnOffered: hello.alpn });
  }

  private onServerHello(hello: ServerHello): void {
    const suite = cipherSuite(hello.cipherSuite);
    const version = hello.selectedVersion ?? hello.legacyVersion;
    this.tls13 = version === TLS13;
    if (hello.helloRetryRequest) {
      // The client answers with a second ClientHello in the clear; keys come with the real ServerHello.
      this.updateInfo({ version: tlsVersionName(version), cipherSuite: suite.name, helloRetryRequest: true });
      return;
    }
    this.serverHello = hello;
    this.suite = suite;
    this.sawServerHelloDone = false;
    this.updateInfo({ version: tlsVersionName(version), cipherSuite: suite.name, alpn: hello.alpn });
    if (this.clientHello === null) {
      this.problem('no-client-hello', { dir: 's2c' }, 'ServerHello without a ClientHello: the client random is unknown, nothing can be decrypted');
      return;
    }
    if (this.tls13) this.installTls13HandshakeKeys(hello);
    else if (version !== TLS12) {
      this.reportOnce('not-decryptable', null, `${tlsVersionName(version)} is not decrypted (only TLS 1.2 and TLS 1.3 are)`);
    }
  }

  private installTls13HandshakeKeys(hello: ServerHello): void {
    for (const d of Object.values(this.dirs)) {
      d.protected = true;
      d.framer.maxLength = MAX_TLS13_CIPHERTEXT;
    }
    const random = (this.clientHello as ClientHello).random;
    const labels: TlsSecretLabel[] = [
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
      'CLIENT_TRAFFIC_SECRET_0',
      'SERVER_TRAFFIC_SECRET_0',
    ];
    const missing = labels.filter((l) => !this.keys.get(l, random));
    this.updateInfo({ resumed: hello.pskAccepted, keysFound: missing.length < labels.length });
    if (missing.length === labels.length) return this.reportNoKeys();
    if (!this.decryptable()) return;
    // Application secrets may still come (a later pcapng secrets block: OpenSSL logs the client's only
    // after its Finished); they are looked for, and reported missing, when each side switches to them.
    const missingHandshake = missing.filter((l) => l.includes('HANDSHAKE'));
    if (missingHandshake.length) this.reportPartial(missingHandshake);
    for (const dir of ['c2s', 's2c'] as const) {
      const d = this.dirs[dir];
      const handshakeSecret = this.keys.get(dir === 'c2s' ? 'CLIENT_HANDSHAKE_TRAFFIC_SECRET' : 'SERVER_HANDSHAKE_TRAFFIC_SECRET', random);
      const applicationSecret = this.keys.get(dir === 'c2s' ? 'CLIENT_TRAFFIC_SECRET_0' : 'SERVER_TRAFFIC_SECRET_0', random);
      if (handshakeSecret) {
        d.decrypter = this.tls13Decrypter(handshakeSecret);
      } else if (applicationSecret) {
        d.trialDecrypter = this.tls13Decrypter(applicationSecret);
        d.trafficSecret = applicationSecret;
      }
    }
  }

  /** The logged keys fail on this connection: said once, and in its info (what `keys` lists). */
  private wrongKeys(dir: Direction, offset: number, detail: string): void {
    this.reportOnce('wrong-keys', { dir, offset }, `keys for client random ${this.info.clientRandom} do not decrypt this connection (wrong or partial key log): ${detail}`);
    this.updateInfo({ keysWrong: true });
  }

  private reportPartial(missing: string[]): void {
    this.reportOnce(
      'partial-keys',
      null,
      `partial key log for client random ${this.info.clientRandom}: no ${missing.join(', ')}; only what the logged secrets protect is decrypted`,
    );
  }

  private tls13Decrypter(secret: Uint8Array): RecordDecrypter {
    const suite = this.suite as CipherSuite;
    const aead = suite.aead as NonNullable<CipherSuite['aead']>;
    return new RecordDecrypter(aead, true, tls13RecordKeys(aead, suite.hash, secret));
  }

  /** After this side's Finished, its records use the application traffic secret. */
  private installApplicationKey(dir: Direction): void {
    const d = this.dirs[dir];
    d.epoch = 'application';
    d.decrypter = null;
    if (d.stopped || this.clientHello === null) return;
    const label = dir === 'c2s' ? 'CLIENT_TRAFFIC_SECRET_0' : 'SERVER_TRAFFIC_SECRET_0';
    const secret = this.keys.get(label, this.clientHello.random);
    if (!secret) {
      d.stopped = true;
      this.reportPartial([label]);
      return;
    }
    d.trafficSecret = secret;
    d.decrypter = this.tls13Decrypter(secret);
  }

  private keyUpdate(dir: Direction, updateRequested: boolean): void {
    if (updateRequested) this.recordHandshake[this.recordHandshake.length - 1] += ' (update_requested)';
    const d = this.dirs[dir];
    if (d.epoch !== 'application' || d.trafficSecret === null || d.stopped) return;
    d.trafficSecret = tls13NextTrafficSecret((this.suite as CipherSuite).hash, d.trafficSecret);
    d.decrypter = this.tls13Decrypter(d.trafficSecret);
  }

  /** Only AEAD suites are decrypted; anything else is reported once. */
  private decryptable(): boolean {
    if (this.suite?.aead) return true;
    this.reportOnce('not-decryptable', null, `cipher suite ${this.suite?.name} is not decrypted (only AES-GCM and ChaCha20-Poly1305 suites are)`);
    return false;
  }

  private tls12ChangeCipherSpec(dir: Direction, d: DirectionState): void {
    d.protected = true;
    d.decrypter = null;
    const hello = this.serverHello as ServerHello;
    if (hello.legacyVersion !== TLS12) return; // older versions were reported at ServerHello
    // Without the ClientHello (reported at the ServerHello) the client random, and so the keys, are unknown.
    if (this.clientHello === null) return;
    if (this.tls12Keys?.forHello !== hello) this.deriveTls12Keys(hello);
    if (this.tls12Keys === null || d.stopped) return;
    const aead = (this.suite as CipherSuite).aead as NonNullable<CipherSuite['aead']>;
    d.decrypter = new RecordDecrypter(aead, false, dir === 'c2s' ? this.tls12Keys.client : this.tls12Keys.server);
  }

  /** At the first ChangeCipherSpec: the handshake shows by then whether it was abbreviated (resumed). */
  private deriveTls12Keys(hello: ServerHello): void {
    this.tls12Keys = null;
    const client = this.clientHello as ClientHello;
    const resumed = !this.sawServerHelloDone;
    const logged = this.keys.get('CLIENT_RANDOM', client.random);
    const remembered = resumed
      ? (client.sessionTicket && this.keys.sessionMasterSecret(client.sessionTicket)) || this.keys.sessionMasterSecret(client.sessionId)
      : undefined;
    const masterSecret = logged ?? remembered;
    this.updateInfo({ resumed, keysFound: masterSecret !== undefined });
    if (masterSecret === undefined) return this.reportNoKeys();
    if (!this.decryptable()) return;
    const suite = this.suite as CipherSuite;
    const keys = tls12RecordKeys(suite.aead as NonNullable<CipherSuite['aead']>, suite.hash, masterSecret, client.random, hello.random);
    this.tls12Keys = { ...keys, forHello: hello, masterSecret };
    this.sessionRemembered = false;
  }

  private onTls12Ticket(ticket: Uint8Array): void {
    if (this.pendingTickets.length < MAX_PENDING_TICKETS) this.pendingTickets.push(ticket);
    if (this.sessionRemembered && this.tls12Keys) this.keys.rememberSession(ticket, this.tls12Keys.masterSecret);
  }

  /** Once a record opened, the master secret is known good: later connections may resume this session. */
  private rememberTls12Session(): void {
    const keys = this.tls12Keys;
    if (keys === null) return;
    this.sessionRemembered = true;
    this.keys.rememberSession(keys.forHello.sessionId, keys.masterSecret);
    for (const ticket of this.pendingTickets) this.keys.rememberSession(ticket, keys.masterSecret);
  }

  private alerts(dir: Direction, content: Uint8Array, origin: FrameOrigin): TlsAlert[] {
    const alerts: TlsAlert[] = [];
    for (let i = 0; i + 1 < content.length; i += 2) {
      const alert: TlsAlert = {
        level: content[i],
        description: content[i + 1],
        levelName: alertLevelName(content[i]),
        descriptionName: alertDescriptionName(content[i + 1]),
      };
      alerts.push(alert);
      if (alert.description !== CLOSE_NOTIFY) {
        const who = dir === 'c2s' ? 'client' : 'server';
        this.problem('alert', { dir, offset: origin.offset }, `${who} sent TLS alert ${alert.levelName} ${alert.descriptionName} (${alert.description})`);
      }
    }
    return alerts;
  }

  private cleartextApplicationData(dir: Direction, origin: FrameOrigin): void {
    if (dir === 'c2s' && this.serverHello === null && this.clientHello?.earlyData) {
      this.reportOnce('early-data', { dir, offset: origin.offset }, 'the client sent 0-RTT early data; it is listed but not decrypted');
    } else {
      this.reportOnce('cleartext-data', { dir, offset: origin.offset }, 'application data record before encryption was negotiated; not passed on');
    }
  }

  private reportNoKeys(): void {
    this.reportOnce(
      'no-keys',
      null,
      `no TLS keys for client random ${this.info.clientRandom} in the key log: records are listed but not decrypted; ${KEYLOG_HINT}`,
    );
  }

  private updateInfo(changes: Partial<TlsConnectionInfo>): void {
    let grew = false;
    for (const [key, value] of Object.entries(changes) as [keyof TlsConnectionInfo, unknown][]) {
      if (value === undefined || JSON.stringify(this.info[key]) === JSON.stringify(value)) continue;
      (this.info as unknown as Record<string, unknown>)[key] = value;
      grew = true;
    }
    if (!grew) return;
    const copy = { ...this.info };
    if (copy.alpnOffered) copy.alpnOffered = copy.alpnOffered.slice();
    this.sink.onHandshakeInfo(copy);
  }

  private reportOnce(code: OnceProblem, at: At, message: string): void {
    if (this.reported.has(code)) return;
    this.reported.add(code);
    this.problem(code, at, message);
  }

  /** at: the direction and offset, or null for the connection as a whole. */
  private problem(code: TlsProblemCode, at: At, message: string): void {
    if (at === null) return this.sink.onProblem(tlsProblem(code, message, { where: this.where }));
    const where = `${this.where} ${at.dir}${at.offset === undefined ? '' : ` offset ${at.offset}`}`;
    this.sink.onProblem(tlsProblem(code, message, { where, direction: at.dir, offset: at.offset }));
  }
}

/** The first bytes of a client's stream look like a TLS ClientHello record (needs 6 bytes). */
export function isTlsClientHello(firstBytes: Uint8Array): boolean {
  if (firstBytes.length < 6) return false;
  const length = (firstBytes[3] << 8) | firstBytes[4];
  return (
    firstBytes[0] === ContentType.handshake &&
    firstBytes[1] === 3 &&
    firstBytes[2] <= 4 &&
    length >= 4 &&
    length <= 2 ** 14 &&
    firstBytes[5] === HandshakeType.clientHello
  );
}
