import autocannon from 'autocannon';
import { percentile } from './stats.js';

export interface LoadRequest {
  readonly url: string;
  readonly body: string;
  /** Sent with every request besides content-type (authorization). */
  readonly headers?: Record<string, string>;
  /** Every response must carry exactly these bytes; autocannon counts the others as mismatches. */
  readonly expectBody: string;
}

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * POSTs JSON from `connections` keep-alive connections for `seconds`. Rejects unless every
 * response was a 200 with the expected body: a fast wrong answer must never pass as a result.
 */
export function fire(request: LoadRequest, seconds: number, connections: number): Promise<LoadResult> {
  return run(request.url, { body: request.body, expectBody: request.expectBody }, seconds, connections, request.headers);
}

export interface VariedRequest {
  readonly url: string;
  readonly headers?: Record<string, string>;
  /** A fresh JSON body per request, so no two requests are the same (a result cache never answers). */
  body(): string;
  /** Whether a 200 response's body is a right answer; autocannon counts the others as mismatches. */
  verify(body: string): boolean;
}

/** fire() with a different body per request, each answer checked by `verify`. */
export function fireVaried(request: VariedRequest, seconds: number, connections: number): Promise<LoadResult> {
  return run(
    request.url,
    {
      requests: [{ setupRequest: (req) => ({ ...req, body: request.body() }) }],
      verifyBody: (body) => typeof body === 'string' && request.verify(body),
    },
    seconds,
    connections,
    request.headers,
  );
}

function run(url: string, what: Partial<autocannon.Options>, seconds: number, connections: number, headers: Record<string, string> = {}): Promise<LoadResult> {
  // autocannon's own histogram has 1 ms resolution, too coarse for sub-millisecond answers;
  // its per-response event carries the time as a float.
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, ...what, connections, duration: seconds },
      (error: unknown, result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        const problems = Object.entries({
          'non-2xx responses': result.non2xx,
          'connection errors': result.errors,
          timeouts: result.timeouts,
          'wrong answers': result.mismatches,
        }).filter(([, count]) => count > 0);
        if (problems.length > 0 || result['2xx'] === 0) {
          const counts = problems.map(([w, count]) => `${count} ${w}`).join(', ') || 'no responses';
          return reject(new Error(`${url}: ${counts} (status codes: ${JSON.stringify(result.statusCodeStats)})`));
        }
        latencies.sort((a, b) => a - b);
        resolve({
          requests: result['2xx'],
          seconds: result.duration,
          rps: result['2xx'] / result.duration,
          p50Ms: percentile(latencies, 0.5),
          p99Ms: percentile(latencies, 0.99),
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, ms) => {
      if (statusCode === 200) latencies.push(ms);
    });
  });
}

/** One request outside the load run, so a wrong answer is reported with its status and body. */
export async function checkOnce(request: LoadRequest): Promise<void> {
  const response = await fetch(request.url, { method: 'POST', headers: { 'content-type': 'application/json', ...request.headers }, body: request.body });
  const text = await response.text();
  if (response.status !== 200 || text !== request.expectBody) {
    throw new Error(`${request.url}: expected 200 ${JSON.stringify(request.expectBody)}, got ${response.status} ${JSON.stringify(text)}`);
  }
}

/** checkOnce() for a varied request: one fresh body, its answer checked by `verify`. */
export async function checkVaried(request: VariedRequest): Promise<void> {
  const response = await fetch(request.url, { method: 'POST', headers: { 'content-type': 'application/json', ...request.headers }, body: request.body() });
  const text = await response.text();
  if (response.status !== 200 || !request.verify(text)) {
    throw new Error(`${request.url}: expected 200 with a right answer, got ${response.status} ${JSON.stringify(text.slice(0, 500))}`);
  }
}
