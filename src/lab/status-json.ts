/**
 * Server-side encoders for the metav1.Status JSON the lab writes: on the error stream (PROTOCOL.md 2.7,
 * as `json.Marshal(status.Status())` lays it out: field order of the Go struct, empty fields omitted,
 * `metadata` always present) and as the body of refused HTTP requests (apiserver `responsewriters`,
 * which adds kind/apiVersion).
 */

export interface StatusFields {
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { name?: string; kind?: string; causes?: { reason?: string; message?: string }[] };
  code?: number;
}

/** Key order of metav1.Status: kind, apiVersion, metadata, status, message, reason, details, code. */
function statusJson(fields: StatusFields, typed: boolean): string {
  const out: Record<string, unknown> = {};
  if (typed) {
    out.kind = 'Status';
    out.apiVersion = 'v1';
  }
  out.metadata = {};
  out.status = fields.status;
  if (fields.message) out.message = fields.message;
  if (fields.reason) out.reason = fields.reason;
  if (fields.details) out.details = fields.details;
  if (fields.code) out.code = fields.code;
  return JSON.stringify(out);
}

/** `{"metadata":{},"status":"Success"}` — the kubelet's (and apiserver translator's) success Status. */
export function successStatus(): string {
  return statusJson({ status: 'Success' }, false);
}

/**
 * The runtime's Status for a process that exited non-zero. The message text is what a CRI runtime's
 * exit error reads like (the shared captures' server wrote the same); kubectl only reads the cause.
 */
export function nonZeroExitStatus(message: string, exitCode: number): string {
  return statusJson(
    {
      status: 'Failure',
      message: `command terminated with non-zero exit code: ${message}`,
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
    },
    false,
  );
}

/** apierrors.NewInternalError(err) as written on the error stream. */
export function internalErrorStatus(message: string): string {
  return statusJson(
    {
      status: 'Failure',
      message: `Internal error occurred: ${message}`,
      reason: 'InternalError',
      details: { causes: [{ message }] },
      code: 500,
    },
    false,
  );
}

/** An API error response body (kind/apiVersion set), e.g. NotFound, BadRequest, Forbidden. */
export function apiErrorStatus(code: number, reason: string, message: string, details?: StatusFields['details']): string {
  return statusJson({ status: 'Failure', message, reason, details, code }, true);
}

export function notFoundStatus(kind: string, name: string): string {
  return apiErrorStatus(404, 'NotFound', `${kind} "${name}" not found`, { name, kind });
}
