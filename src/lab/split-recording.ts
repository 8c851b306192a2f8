/**
 * One lab recording as the captures of several nodes: each hop's interface into a file of its own,
 * its clock shifted by an artificial offset (hop k by k × OFFSET), the TLS key log beside them in a
 * file of its own (mode 0600), as `tcpdump` on the client, the control plane and the worker would have
 * left them. `execscope CAPTURE…` merges them back (pipeline/merge-captures.ts). IO code.
 */
import { writeFileSync } from 'node:fs';
import { CaptureDecoder } from '../capture/capture-decoder.js';
import { readCaptureBytes } from '../capture/capture-source.js';
import { PcapngWriter } from '../capture/pcapng-writer.js';
import { packetBytes } from '../capture/packet.js';

const SECRETS_TLS_KEY_LOG = 0x544c534b;
const TSRESOL_NS = 9;

export interface SplitRecording {
  /** One file per hop interface, in interface order. */
  files: { path: string; interfaceName: string; offsetNs: number }[];
  /** The key log the recording embedded, or null when it had none (a plain-HTTP lab). */
  keyLog: string | null;
}

/** The file name part for an interface named like "kubectl→apiserver": its server side. */
const hopPart = (name: string, index: number) => (name.split('→').at(-1) ?? '').replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase() || `if${index}`;

/** Splits `input` into `${base}.HOP.pcapng` files; hop k's timestamps move by k × offsetNs. */
export async function splitRecording(input: string, base: string, offsetNs: number): Promise<SplitRecording> {
  // One writer per file: interface ids count per section.
  const interfaces: { name: string; writer: PcapngWriter; blocks: Uint8Array[] }[] = [];
  const keyLines: string[] = [];
  let origin = 0n;
  const decoder = new CaptureDecoder({
    onInfo: (info) => {
      origin = info.originNs ?? 0n;
    },
    onInterface: (i) => {
      const name = i.name ?? `interface ${i.id}`;
      const writer = new PcapngWriter();
      interfaces[i.id] = { name, writer, blocks: [writer.sectionHeader(), writer.interface(i.linkType, { name, tsresol: TSRESOL_NS })] };
    },
    onPacket: (p) => {
      const ts = origin + BigInt(p.ts) + BigInt(Math.round(p.interfaceId * offsetNs));
      const iface = interfaces[p.interfaceId];
      iface.blocks.push(iface.writer.enhancedPacket(0, ts, packetBytes(p).slice(), p.origLen));
    },
    onSecrets: (type, data) => {
      if (type === SECRETS_TLS_KEY_LOG) keyLines.push(Buffer.from(data).toString('utf8'));
    },
  });
  for await (const chunk of readCaptureBytes(input)) decoder.push(chunk);
  decoder.end();
  const files = interfaces.map((iface, k) => {
    const path = `${base}.${hopPart(iface.name, k)}.pcapng`;
    writeFileSync(path, Buffer.concat(iface.blocks), { mode: 0o600 });
    return { path, interfaceName: iface.name, offsetNs: k * offsetNs };
  });
  const keyLog = keyLines.length ? keyLines.join('') : null;
  if (keyLog !== null) writeFileSync(`${base}.keylog`, keyLog, { mode: 0o600 });
  return { files, keyLog };
}
