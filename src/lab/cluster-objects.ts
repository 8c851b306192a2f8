/**
 * The API objects the lab's apiserver answers with: what kubectl v1.32 reads before an exec (version,
 * legacy discovery of core/v1 with pods/exec, the Pod with its containers and default-container
 * annotation) plus pod and namespace lists for `kubectl get`. Shapes follow a real apiserver's JSON.
 */
import { containerId, type PodSpec } from './runtime.js';

export const LAB_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:03:46Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export const API_GROUP_LIST = { kind: 'APIGroupList', apiVersion: 'v1', groups: [] };

export const CORE_V1_RESOURCES = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['ns'] },
    { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['po'], categories: ['all'] },
    { name: 'pods/attach', singularName: '', namespaced: true, kind: 'PodAttachOptions', verbs: ['create', 'get'] },
    { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
    { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] },
  ],
};

const CREATED = '2025-01-01T00:00:00Z';
const STARTED = '2025-01-01T00:00:02Z';

export function podObject(pod: PodSpec, withKind = true): object {
  const annotations = pod.containers.length > 1 ? { 'kubectl.kubernetes.io/default-container': pod.containers[0] } : undefined;
  const body = {
    metadata: {
      ...(annotations ? { annotations } : {}),
      creationTimestamp: CREATED,
      labels: { app: pod.name },
      name: pod.name,
      namespace: pod.namespace,
      resourceVersion: '4242',
      uid: pod.uid,
    },
    spec: {
      containers: pod.containers.map((name) => ({
        command: ['sleep', 'infinity'],
        image: 'execscope-lab/local-process',
        imagePullPolicy: 'IfNotPresent',
        name,
        resources: {},
        // What `kubectl attach -it` checks before it attaches a terminal.
        stdin: true,
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        tty: true,
      })),
      dnsPolicy: 'ClusterFirst',
      hostNetwork: true,
      nodeName: 'lab-node',
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      terminationGracePeriodSeconds: 30,
    },
    status: {
      conditions: [{ lastProbeTime: null, lastTransitionTime: STARTED, status: 'True', type: 'Ready' }],
      containerStatuses: pod.containers.map((name) => ({
        containerID: `containerd://${containerId(pod, name)}`,
        image: 'execscope-lab/local-process',
        imageID: 'execscope-lab/local-process@sha256:0000000000000000000000000000000000000000000000000000000000000000',
        lastState: {},
        name,
        ready: true,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: STARTED } },
      })),
      hostIP: '127.0.0.1',
      phase: 'Running',
      podIP: '127.0.0.1',
      qosClass: 'BestEffort',
      startTime: '2025-01-01T00:00:01Z',
    },
  };
  return withKind ? { apiVersion: 'v1', kind: 'Pod', ...body } : body;
}

export function podList(pods: readonly PodSpec[]): object {
  return { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '4242' }, items: pods.map((p) => ({ apiVersion: 'v1', kind: 'Pod', ...(podObject(p, false) as object) })) };
}

export function namespaceList(pods: readonly PodSpec[]): object {
  const names = [...new Set(['default', ...pods.map((p) => p.namespace)])].sort();
  return {
    kind: 'NamespaceList',
    apiVersion: 'v1',
    metadata: { resourceVersion: '4242' },
    items: names.map((name) => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { creationTimestamp: CREATED, labels: { 'kubernetes.io/metadata.name': name }, name, resourceVersion: '1', uid: `00000000-0000-4000-8000-${name.padEnd(12, '0').slice(0, 12).replace(/[^0-9a-f]/g, '0')}` },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    })),
  };
}
