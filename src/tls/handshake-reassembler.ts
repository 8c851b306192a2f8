/**
 * Cuts one direction's handshake byte stream into messages (type, 24-bit length, body). Messages
 * may span records and records may hold several messages. Only messages the caller parses are
 * buffered, and only up to a cap; the rest (certificate chains can be large) are counted past.
 */
export type HandshakeMessageHandler = (type: number, body: Uint8Array | null, length: number) => void;

const HEADER = 4;

export class HandshakeReassembler {
  private readonly header = new Uint8Array(HEADER);
  private headerFilled = 0;
  private inBody = false;
  private type = 0;
  private length = 0;
  /** Copy of a wanted message that spans fragments; null when skipping it. */
  private body: Uint8Array | null = null;
  private bodyFilled = 0;

  constructor(
    private readonly wanted: (type: number) => boolean,
    private readonly maxBufferedBody: number,
    /** body is null for a message that is not wanted or longer than the cap. */
    private readonly onMessage: HandshakeMessageHandler,
  ) {}

  /** Bytes held of a message that has not ended: non-zero at the end of a stream means it was cut. */
  get partial(): number {
    return this.inBody ? HEADER + this.bodyFilled : this.headerFilled;
  }

  push(fragment: Uint8Array): void {
    let pos = 0;
    while (pos < fragment.length) {
      if (!this.inBody) {
        if (this.headerFilled === 0 && fragment.length - pos >= HEADER) {
          this.startMessage(fragment, pos);
          pos += HEADER;
        } else {
          this.header[this.headerFilled++] = fragment[pos++];
          if (this.headerFilled < HEADER) continue;
          this.startMessage(this.header, 0);
        }
        if (fragment.length - pos >= this.length) {
          this.complete(this.wantsBody() ? fragment.subarray(pos, pos + this.length) : null); // no copy
          pos += this.length;
        } else {
          this.body = this.wantsBody() ? new Uint8Array(this.length) : null;
        }
        continue;
      }
      const n = Math.min(this.length - this.bodyFilled, fragment.length - pos);
      this.body?.set(fragment.subarray(pos, pos + n), this.bodyFilled);
      this.bodyFilled += n;
      pos += n;
      if (this.bodyFilled === this.length) this.complete(this.body);
    }
  }

  private startMessage(bytes: Uint8Array, at: number): void {
    this.type = bytes[at];
    this.length = (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
    this.inBody = true;
    this.bodyFilled = 0;
  }

  private wantsBody(): boolean {
    return this.wanted(this.type) && this.length <= this.maxBufferedBody;
  }

  private complete(body: Uint8Array | null): void {
    this.inBody = false;
    this.headerFilled = 0;
    this.body = null;
    this.onMessage(this.type, body, this.length);
  }
}
