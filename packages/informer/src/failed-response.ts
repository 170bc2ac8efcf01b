import type { ApiResponse } from './api-response';

/** What a failed API response says about itself: its metav1.Status fields and Retry-After. */
export interface FailedResponse {
  code: number;
  reason: string;
  message: string;
  retryAfterSeconds: number | undefined;
}

/**
 * Reads a non-2xx response the way client-go does: the body's metav1.Status (`reason`,
 * `message`, `details.retryAfterSeconds`) when it is one, else the HTTP status line and the
 * body's start; a Retry-After header wins over the body's hint.
 */
export function readFailedResponse(
  res: Pick<ApiResponse, 'statusCode' | 'statusMessage' | 'headers'>,
  body: string,
): FailedResponse {
  let reason = res.statusMessage || 'Unknown';
  let message = `HTTP ${res.statusCode}`;
  let retryAfterSeconds: number | undefined;
  try {
    const s = JSON.parse(body) as {
      reason?: string;
      message?: string;
      details?: { retryAfterSeconds?: number };
    };
    if (s.reason) reason = s.reason;
    if (s.message) message = s.message;
    retryAfterSeconds = s.details?.retryAfterSeconds;
  } catch {
    if (body) message = body.slice(0, 200);
  }
  const header = Number(res.headers['retry-after']);
  if (Number.isFinite(header) && header >= 0) retryAfterSeconds = header;
  return { code: res.statusCode, reason, message, retryAfterSeconds };
}
