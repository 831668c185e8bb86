import { print } from 'graphql';
import WebSocket from 'ws';
import {
  ClassifyDocument,
  createArenaClient,
  CreateModelDocument,
  InferenceJobUpdatedDocument,
  RegisterModelVersionDocument,
  SubmitInferenceJobDocument,
  type ArenaClient,
  type InferenceJobFieldsFragment,
} from '../../src/sdk/index.js';

/** The SDK's own `Classify` operation, as a client sends it. */
export const CLASSIFY_QUERY = print(ClassifyDocument);
const SUBMIT_QUERY = print(SubmitInferenceJobDocument);

/** A request body for `classify`, ready for autocannon or fetch. */
export const classifyBody = (model: string, texts: readonly string[]) => JSON.stringify({ query: CLASSIFY_QUERY, variables: { model, texts } });

/** A right `classify` answer: data and a result per text, no errors (cheap enough for every response of a load run). */
export function classifyAnswered(body: string, texts: number): boolean {
  if (!body.startsWith('{"data":{"classify":{')) return false;
  if (texts === 1) return body.includes('"results":[{"label":"') && !body.includes('"errors"');
  // Count results by their `cached` field, which each result carries once.
  let n = 0;
  for (let at = body.indexOf('"cached":'); at !== -1; at = body.indexOf('"cached":', at + 9)) n++;
  return n === texts;
}

/** The SDK client for a server's GraphQL URL; WebSocket from `ws` (Node 20 has none built in). */
export function clientFor(graphqlUrl: string, headers: Record<string, string> = {}): ArenaClient {
  const token = headers['authorization']?.replace(/^Bearer /, '');
  return createArenaClient({ url: graphqlUrl, webSocketImpl: WebSocket, ...(token ? { token } : {}) });
}

/** Creates `name` (ham/spam) and uploads `onnx` as its champion, through the SDK's multipart upload. */
export async function registerModel(client: ArenaClient, name: string, onnx: Uint8Array): Promise<number> {
  await client.request(CreateModelDocument, { input: { name, labels: ['ham', 'spam'] } });
  const { registerModelVersion } = await client.request(RegisterModelVersionDocument, {
    input: { model: name, file: new Blob([onnx], { type: 'application/octet-stream' }), alias: 'champion' },
  });
  return registerModelVersion.version.version;
}

export type JobView = InferenceJobFieldsFragment;

/** `submitInferenceJob` with inline texts; the body is built by the caller (see bulkBody) so its cost stays off the clock. */
export async function submitJob(graphqlUrl: string, body: string, headers: Record<string, string> = {}): Promise<JobView> {
  const response = await fetch(graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await response.text();
  const parsed = JSON.parse(text) as { data?: { submitInferenceJob: { inferenceJob: JobView } }; errors?: unknown };
  if (response.status !== 200 || !parsed.data || parsed.errors) {
    throw new Error(`submitInferenceJob: ${response.status} ${text.slice(0, 500)}`);
  }
  return parsed.data.submitInferenceJob.inferenceJob;
}

export const bulkBody = (model: string, texts: readonly string[]) => JSON.stringify({ query: SUBMIT_QUERY, variables: { input: { model, texts } } });

/** Follows `inferenceJobUpdated` until the job finishes; returns its last state. */
export async function awaitJob(client: ArenaClient, id: string, timeoutMs: number): Promise<JobView> {
  const events = client.subscribe(InferenceJobUpdatedDocument, { id });
  const timer = setTimeout(() => void events.return?.(), timeoutMs);
  let last: JobView | undefined;
  try {
    for await (const event of events) {
      last = event.inferenceJobUpdated;
      if (last.status !== 'QUEUED' && last.status !== 'RUNNING') break;
    }
  } finally {
    clearTimeout(timer);
    await events.return?.();
  }
  if (!last || last.status === 'QUEUED' || last.status === 'RUNNING') {
    throw new Error(`inference job ${id} did not finish within ${timeoutMs / 1000} s (last: ${last ? `${last.status}, ${last.processed}/${last.total}` : 'no event'})`);
  }
  return last;
}
