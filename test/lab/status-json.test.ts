import { apiErrorStatus, internalErrorStatus, nonZeroExitStatus, notFoundStatus, successStatus } from '../../src/lab/status-json.js';

describe('Status JSON encoders', () => {
  test('success is what the kubelet writes (metadata always present)', () => {
    expect(successStatus()).toBe('{"metadata":{},"status":"Success"}');
  });

  test('non-zero exit: the exit code as the ExitCode cause, in Go field order', () => {
    expect(nonZeroExitStatus('error executing command [sh -c exit 3], exit code 3', 3)).toBe(
      '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",' +
        '"reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}',
    );
  });

  test('internal error: apierrors.NewInternalError', () => {
    expect(internalErrorStatus('boom "quoted"')).toBe(
      '{"metadata":{},"status":"Failure","message":"Internal error occurred: boom \\"quoted\\"","reason":"InternalError","details":{"causes":[{"message":"boom \\"quoted\\""}]},"code":500}',
    );
  });

  test('API errors carry kind and apiVersion', () => {
    expect(notFoundStatus('pods', 'nosuch')).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"nosuch\\" not found","reason":"NotFound","details":{"name":"nosuch","kind":"pods"},"code":404}',
    );
    expect(JSON.parse(apiErrorStatus(400, 'BadRequest', 'container x is not valid for pod lab-0'))).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'container x is not valid for pod lab-0',
      reason: 'BadRequest',
      code: 400,
    });
  });
});
