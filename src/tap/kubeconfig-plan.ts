/**
 * What `execscope tap kubectl` takes from a kubeconfig and what it writes for kubectl. Input is the
 * one-context view `kubectl config view --raw --minify --flatten -o json` prints (kubectl itself
 * merges KUBECONFIG lists, picks the context and inlines the files). Pure.
 *
 * Upstream the tap speaks TLS as kubectl would have: the cluster's CA (or insecure-skip-tls-verify),
 * its tls-server-name, and the user's client certificate, which the tap must present itself because
 * TLS termination cannot relay it. Everything else about the user (token, tokenFile, exec plugins,
 * auth providers, basic auth, impersonation) stays in the user stanza kubectl reads, so kubectl sends
 * those headers and the tap passes them on unchanged.
 */
import { parseTapAddress, type TapAddress } from './tap-address.js';

type Stanza = Record<string, unknown>;

export interface KubeconfigView {
  clusters?: { name: string; cluster?: Stanza }[];
  users?: { name: string; user?: Stanza }[];
  contexts?: { name: string; context?: Stanza }[];
  'current-context'?: string;
}

export interface KubectlTapPlan {
  upstream: TapAddress;
  /** The server URL's path (a proxy prefix such as /k8s/clusters/c-1), kept in the tap's URL. */
  pathPrefix: string;
  tls: { ca?: string; insecure?: boolean; servername?: string; cert?: string; key?: string } | null;
  /** Credentials the tap knows of, blanked wherever they appear in the recording. */
  secrets: string[];
  contextName: string;
  /** The user presents a client certificate (through the tap). */
  clientCertificate: boolean;
  warnings: string[];
}

export class KubeconfigError extends Error {}

const decodeData = (value: unknown): string | undefined => (typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : undefined);

export function planKubectlTap(view: KubeconfigView): KubectlTapPlan {
  const contextName = view['current-context'];
  const context = view.contexts?.find((c) => c.name === contextName)?.context;
  if (!contextName || !context) throw new KubeconfigError('the kubeconfig has no current context (pass --context NAME)');
  const cluster = view.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw new KubeconfigError(`context ${contextName} names no cluster with a server`);
  const user = view.users?.find((u) => u.name === context.user)?.user ?? {};
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw new KubeconfigError(`the cluster's server is not a URL: ${cluster.server}`);
  }
  const https = url.protocol === 'https:';
  if (!https && url.protocol !== 'http:') throw new KubeconfigError(`unsupported server scheme ${url.protocol}`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : https ? 443 : 80;
  const warnings: string[] = [];
  if (cluster['proxy-url']) warnings.push(`the cluster's proxy-url is not used: the tap connects to ${host}:${port} directly`);
  const cert = decodeData(user['client-certificate-data']);
  const key = decodeData(user['client-key-data']);
  if (!https && (cert || key)) throw new KubeconfigError('a client certificate needs an https server');
  const secrets: string[] = [];
  if (typeof user.token === 'string') secrets.push(user.token);
  if (typeof user.password === 'string') {
    secrets.push(user.password);
    if (typeof user.username === 'string') secrets.push(Buffer.from(`${user.username}:${user.password}`).toString('base64'));
  }
  return {
    upstream: parseTapAddress(host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`),
    pathPrefix: url.pathname.replace(/\/$/, ''),
    tls: https
      ? {
          ca: decodeData(cluster['certificate-authority-data']),
          insecure: cluster['insecure-skip-tls-verify'] === true || undefined,
          servername: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
          cert,
          key,
        }
      : null,
    secrets,
    contextName,
    clientCertificate: cert !== undefined,
    warnings,
  };
}

/**
 * The kubeconfig kubectl uses through the tap: the same context and the same user stanza (a user
 * without credentials would make kubectl prompt for a password; a client certificate is simply not
 * asked for by the tap), the cluster pointed at the tap (`tapUrl`, trusting `tapCaPem`).
 */
export function tapKubeconfig(view: KubeconfigView, plan: KubectlTapPlan, tapUrl: string, tapCaPem: string | null): object {
  const context = view.contexts!.find((c) => c.name === plan.contextName)!;
  const user = view.users?.find((u) => u.name === context.context!.user);
  const userStanza = user?.user ?? {};
  const cluster: Record<string, unknown> = { server: `${tapUrl}${plan.pathPrefix}` };
  if (tapCaPem) cluster['certificate-authority-data'] = Buffer.from(tapCaPem).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'execscope-tap', cluster }],
    users: [{ name: user?.name ?? 'user', user: userStanza }],
    contexts: [{ name: plan.contextName, context: { ...context.context, cluster: 'execscope-tap', user: user?.name ?? 'user' } }],
    'current-context': plan.contextName,
  };
}
