/**
 * `execscope tap kubectl`: a tap between kubectl and the apiserver of the user's kubeconfig. Reads
 * the kubeconfig through kubectl itself (`kubectl config view --raw --minify --flatten -o json`),
 * terminates kubectl's TLS on loopback with a certificate generated at start (its key and the
 * written kubeconfig are 0600 in a 0700 directory, removed at stop), connects to the apiserver as
 * kubectl would have (see kubeconfig-plan.ts) and records the plaintext on a `kubectl→apiserver`
 * interface.
 *
 * Both legs offer only HTTP/1.1 in ALPN: exec, attach and port-forward upgrades must stay HTTP/1.1
 * anyway, and kubectl's other requests then carry their credentials in HTTP/1.1 heads, where the
 * recording's redaction finds every one (a token an exec plugin fetched included). IO code.
 *
 *   const t = await startKubectlTap({ kubeconfig: '/path/config', recordTo: 'k.pcapng' });
 *   // KUBECONFIG=t.kubeconfigPath kubectl exec …
 *   await t.stop();
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planKubectlTap, tapKubeconfig, KubeconfigError, type KubeconfigView, type KubectlTapPlan } from './kubeconfig-plan.js';
import type { RecordingFeed } from '../record/pcapng-recorder.js';
import { generateSelfSignedCert } from './self-signed-cert.js';
import { startTap, type Tap, type TapEvent } from './tap.js';

export interface KubectlTapOptions {
  kubeconfig?: string;
  context?: string;
  /** Where kubectl connects (default: a free loopback port). */
  listen?: string;
  recordTo?: string;
  /** See TapOptions. */
  onWaitingForReader?(path: string): void;
  /** Abandons the start while it waits (kubectl reading the kubeconfig, a FIFO's reader): rejects with its reason. */
  abort?: AbortSignal;
  /** The recording as it is made (see TapOptions.feed). */
  feed?: RecordingFeed;
  /** Append the NSS key log of both TLS legs here (created 0600). */
  keyLogTo?: string;
  redact?: boolean;
  kubectl?: string;
  onEvent?(event: TapEvent): void;
}

export interface KubectlTap {
  tap: Tap;
  plan: KubectlTapPlan;
  /** The kubeconfig that points kubectl at the tap. */
  kubeconfigPath: string;
  stop(): Promise<void>;
}

export async function startKubectlTap(options: KubectlTapOptions): Promise<KubectlTap> {
  const view = await kubeconfigView(options);
  const plan = planKubectlTap(view);
  const dir = mkdtempSync(join(tmpdir(), 'execscope-tap-')); // mkdtemp makes it 0700
  try {
    const cert = plan.tls ? generateSelfSignedCert('execscope-tap') : null;
    if (cert) writeFileSync(join(dir, 'tap.key'), cert.keyPem, { mode: 0o600 });
    const tap = await startTap({
      listen: options.listen ?? '127.0.0.1:0',
      upstream: plan.upstream,
      recordTo: options.recordTo,
      keyLogTo: options.keyLogTo,
      onWaitingForReader: options.onWaitingForReader,
      abort: options.abort,
      feed: options.feed,
      hopName: 'kubectl→apiserver',
      redact: options.redact,
      secrets: plan.secrets,
      onEvent: options.onEvent,
      tls: plan.tls
        ? {
            server: { cert: cert!.certPem, key: cert!.keyPem },
            upstream: plan.tls,
            alpn: ['http/1.1'],
          }
        : undefined,
    });
    const host = tap.listening.kind === 'tcp' && tap.listening.host.includes(':') ? `[${tap.listening.host}]` : tap.listening.kind === 'tcp' ? tap.listening.host : '';
    const port = tap.listening.kind === 'tcp' ? tap.listening.port : 0;
    const url = `${plan.tls ? 'https' : 'http'}://${host}:${port}`;
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, `${JSON.stringify(tapKubeconfig(view, plan, url, cert?.certPem ?? null), null, 2)}\n`, { mode: 0o600 });
    return {
      tap,
      plan,
      kubeconfigPath,
      stop: async () => {
        await tap.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function kubeconfigView(options: KubectlTapOptions): Promise<KubeconfigView> {
  const args = ['config', 'view', '--raw', '--minify', '--flatten', '-o', 'json'];
  if (options.kubeconfig) args.push('--kubeconfig', options.kubeconfig);
  if (options.context) args.push('--context', options.context);
  const kubectl = options.kubectl ?? 'kubectl';
  return new Promise((resolve, reject) => {
    // A kubeconfig kubectl cannot finish reading (a FIFO no one writes, a hung filesystem) would hold
    // the start for ever: abandoning the start kills kubectl (SIGTERM), before anything is made.
    const child = spawn(kubectl, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: options.abort });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (options.abort?.aborted) reject(options.abort.reason);
      else reject(new KubeconfigError(e.code === 'ENOENT' ? `${kubectl} not found: the tap reads the kubeconfig through kubectl` : e.message));
    });
    child.once('close', (code) => {
      if (code !== 0) {
        reject(new KubeconfigError(`kubectl config view failed: ${err.trim().split('\n')[0] ?? `exit ${code}`}`));
        return;
      }
      try {
        resolve(JSON.parse(out) as KubeconfigView);
      } catch {
        reject(new KubeconfigError('kubectl config view printed no JSON'));
      }
    });
  });
}
