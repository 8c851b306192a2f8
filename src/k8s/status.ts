/**
 * The outcome written on the error stream (PROTOCOL.md 2.6, 2.7) and the body of a refused upgrade.
 */
import type { ExecOutcome } from '../model/session.js';
import { channelProtocolVersion } from './exec-request.js';

export type { ExecOutcome } from '../model/session.js';

export interface RefusalStatus {
  /** HTTP status of the refusing response. */
  code: number;
  reason?: string;
  message: string;
}

/** A Status is a few hundred bytes; anything longer is shown clipped and not parsed. */
const MAX_STATUS_BYTES = 64 * 1024;
const MAX_EXCERPT_CHARS = 200;
const MAX_MESSAGE_CHARS = 2000;

const decoder = new TextDecoder();

/**
 * Interprets the complete error-stream payload of a session that negotiated `protocol`.
 * - v4+ (`v4.channel.k8s.io`, `v5…`, base64 variants): a metav1.Status JSON, with or without
 *   `metadata`. Success → code 0; NonZeroExitCode → the exit code from `details.causes[reason=ExitCode]`
 *   (0–255 as kubectl parses it, else null); other failures keep reason, message and `code` as httpCode.
 *   Anything else, an empty payload included, is Invalid with a printable excerpt as message.
 * - v1–v3: the server writes only a failure's message text, so text is a Failure without a code and
 *   an empty payload is Success.
 * - Unknown protocol (capture started after the upgrade, port-forward): a Status if it parses as one,
 *   otherwise text as in v1–v3.
 */
export function parseExecStatus(bytes: Uint8Array, protocol: string): ExecOutcome {
  const version = channelProtocolVersion(protocol);
  if (version !== null && version < 4) return legacyOutcome(bytes);
  const status = bytes.length <= MAX_STATUS_BYTES ? parseStatusObject(bytes) : undefined;
  if (status !== undefined) return statusOutcome(status, bytes);
  if (version === null) return legacyOutcome(bytes);
  return invalid(bytes);
}

/** The body of a non-101 answer to an upgrade request: usually a Status JSON, sometimes plain text (httpstream's protocol negotiation). */
export function parseRefusalStatus(body: Uint8Array, httpStatus: number): RefusalStatus {
  const status = body.length <= MAX_STATUS_BYTES ? parseStatusObject(body) : undefined;
  if (status === undefined) return { code: httpStatus, message: printable(body, MAX_MESSAGE_CHARS) };
  const refusal: RefusalStatus = { code: httpStatus, message: stringField(status, 'message') ?? '' };
  const reason = stringField(status, 'reason');
  if (reason !== undefined) refusal.reason = reason;
  return refusal;
}

type StatusObject = Record<string, unknown>;

/** A JSON object with a string `status`, as every metav1.Status has; undefined otherwise. */
function parseStatusObject(bytes: Uint8Array): StatusObject | undefined {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
  if (!isObject(value) || typeof value.status !== 'string') return undefined;
  return value;
}

function statusOutcome(status: StatusObject, bytes: Uint8Array): ExecOutcome {
  const reason = stringField(status, 'reason');
  const message = stringField(status, 'message');
  const httpCode = status.code;
  let outcome: ExecOutcome;
  if (status.status === 'Success') outcome = { status: 'Success', code: 0 };
  else if (status.status === 'Failure') outcome = { status: 'Failure', code: reason === 'NonZeroExitCode' ? exitCodeOf(status) : null };
  else return invalid(bytes); // kubectl: "error stream protocol error: unknown error"
  if (reason !== undefined) outcome.reason = reason;
  if (message !== undefined) outcome.message = message;
  if (typeof httpCode === 'number' && Number.isInteger(httpCode)) outcome.httpCode = httpCode;
  return outcome;
}

/** client-go v4.go: the first cause of type ExitCode, parsed as a uint8. */
function exitCodeOf(status: StatusObject): number | null {
  const details = status.details;
  if (!isObject(details) || !Array.isArray(details.causes)) return null;
  for (const cause of details.causes) {
    if (!isObject(cause) || cause.reason !== 'ExitCode') continue;
    const text = cause.message;
    if (typeof text !== 'string' || !/^\d{1,3}$/.test(text)) return null;
    const code = Number(text);
    return code <= 255 ? code : null;
  }
  return null;
}

function legacyOutcome(bytes: Uint8Array): ExecOutcome {
  if (bytes.length === 0) return { status: 'Success', code: 0 };
  return { status: 'Failure', code: null, message: printable(bytes, MAX_MESSAGE_CHARS) };
}

function invalid(bytes: Uint8Array): ExecOutcome {
  return { status: 'Invalid', code: null, message: printable(bytes, MAX_EXCERPT_CHARS) };
}

function stringField(object: StatusObject, name: string): string | undefined {
  const value = object[name];
  return typeof value === 'string' ? value : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Untrusted bytes as display text: UTF-8, control characters replaced, trimmed, clipped. */
function printable(bytes: Uint8Array, maxChars: number): string {
  const text = decoder
    .decode(bytes.subarray(0, maxChars * 4))
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\ufffd')
    .trim();
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}
