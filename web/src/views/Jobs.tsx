import { useState, type FormEvent } from 'react';
import { InferenceJobUpdatedDocument, JobsOverviewDocument, SubmitInferenceJobDocument, type InferenceJobFieldsFragment } from '../../../src/sdk/index.js';
import { describeError, type ShownError } from '../api.js';
import { fmtDuration, fmtInt, fmtNum, fmtPct, fmtTime, shortId } from '../format.js';
import { useQuery, useSubscription } from '../hooks.js';
import { href } from '../router.js';
import { useSession } from '../session.js';
import { Badge, Card, ErrorBox, Loading, Progress, Stat, StatusBadge } from '../ui.js';

const MINE = 'content-arena.dashboard.inference-jobs';
const remembered = (): string[] => {
  try {
    return JSON.parse(sessionStorage.getItem(MINE) ?? '[]') as string[];
  } catch {
    return [];
  }
};

/** Where a worker's current job is shown in this dashboard. */
const jobLink = (queue: string, id: string) => (queue === 'battle' ? href('battles', id) : queue === 'training' ? href('training', id) : null);

export function JobsView() {
  const q = useQuery(JobsOverviewDocument, {}, { pollMs: 2000 });
  const [mine, setMine] = useState<string[]>(remembered);
  const stats = q.data?.inferenceStats;
  const workers = q.data?.workers ?? [];
  // Jobs to follow, each live: every inference job a worker runs now, the ones just submitted here, the newest.
  const running = workers.flatMap((w) => w.currentJobs.filter((j) => j.queue === 'inference').map((j) => j.jobId));
  const newest = (q.data?.inferenceJobs.nodes ?? []).map((j) => j.id);
  const follow = [...new Set([...running, ...mine, ...newest])].slice(0, 20);
  const busy = workers.filter((w) => w.currentJobs.length > 0).length;
  return (
    <>
      <div className="page-head">
        <h1>Jobs & workers</h1>
      </div>
      <ErrorBox error={q.error} />
      {!q.data && !q.error && <Loading what="jobs and workers" />}
      {stats && (
        <Card title="Bulk inference">
          <div className="stats">
            <Stat label="jobs" value={fmtInt(stats.total)} />
            <Stat label="queued · running" value={`${fmtInt(stats.queued)} · ${fmtInt(stats.running)}`} />
            <Stat label="completed · failed" value={`${fmtInt(stats.completed)} · ${fmtInt(stats.failed)}`} />
            <Stat label="success rate" value={fmtPct(stats.successRate)} />
            <Stat label="texts classified" value={fmtInt(stats.textsProcessed)} />
            <Stat label="texts / s" value={fmtNum(stats.throughput)} />
          </div>
        </Card>
      )}
      {q.data && (
        <Card title={`Workers (${workers.length}, ${busy} busy)`}>
          <table data-testid="workers-table">
            <thead>
              <tr>
                <th>Worker</th>
                <th>State</th>
                <th>Queues</th>
                <th>Devices</th>
                <th>Running now</th>
                <th>Heartbeat</th>
                <th>Up</th>
              </tr>
            </thead>
            <tbody>
              {workers.map((w) => (
                <tr key={w.id}>
                  <td>
                    <strong>{w.host}</strong> <span className="muted small">pid {w.pid}</span>
                  </td>
                  <td>
                    {!w.online ? <Badge tone="bad">offline</Badge> : w.currentJobs.length > 0 ? <Badge tone="running">busy</Badge> : <Badge tone="ok">idle</Badge>}{' '}
                    <span className="muted small">
                      {w.currentJobs.length}/{w.concurrency}
                    </span>
                  </td>
                  <td className="small">{w.queues.join(', ')}</td>
                  <td className="small">{w.devices.map((d) => (d.kind === 'cpu' || d.kind === 'CPU' ? `${d.cores ?? '?'} CPU cores` : `${d.name ?? d.kind} #${d.index ?? 0}${d.memoryMiB ? ` ${fmtInt(d.memoryMiB)} MiB` : ''}`)).join(', ')}</td>
                  <td className="small">
                    {w.currentJobs.length === 0
                      ? '–'
                      : w.currentJobs.map((j) => {
                          const link = jobLink(j.queue, j.jobId);
                          return (
                            <div key={`${j.queue}:${j.jobId}`}>
                              {j.queue} {link ? <a href={link}>{shortId(j.jobId)}</a> : shortId(j.jobId)} <span className="muted">for {fmtDuration(j.startedAt, null)}</span>
                            </div>
                          );
                        })}
                  </td>
                  <td className="small">{fmtTime(w.lastHeartbeatAt)}</td>
                  <td className="small">{fmtDuration(w.startedAt, null)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      )}
      <Card title={`Inference jobs${q.data ? ` (${fmtInt(q.data.inferenceJobs.totalCount)}, the newest ${Math.min(20, q.data.inferenceJobs.totalCount)} shown)` : ''}`}>
        <SubmitJob
          models={(q.data?.models.nodes ?? []).filter((m) => m.aliases.some((a) => a.name === 'champion')).map((m) => m.name)}
          onSubmitted={(id) => {
            const next = [id, ...mine.filter((m) => m !== id)].slice(0, 20);
            sessionStorage.setItem(MINE, JSON.stringify(next));
            setMine(next);
          }}
        />
        {follow.length === 0 ? (
          <p className="muted">No inference jobs yet: submit one above, or with submitInferenceJob.</p>
        ) : (
          <table data-testid="jobs-table">
            <thead>
              <tr>
                <th>Job</th>
                <th>Status</th>
                <th>Model</th>
                <th>Progress</th>
                <th className="num">Processed</th>
                <th className="num">Failed</th>
                <th className="num">Texts / s</th>
                <th>Worker</th>
                <th>Took</th>
              </tr>
            </thead>
            <tbody>
              {follow.map((id) => (
                <JobRow key={id} id={id} />
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

function JobRow({ id }: { id: string }) {
  const [job, setJob] = useState<InferenceJobFieldsFragment | null>(null);
  const sub = useSubscription(InferenceJobUpdatedDocument, { id }, (e) => setJob(e.inferenceJobUpdated));
  if (!job)
    return (
      <tr>
        <td>{shortId(id)}</td>
        <td colSpan={8}>{sub.error ? <ErrorBox error={sub.error} /> : <span className="muted">…</span>}</td>
      </tr>
    );
  return (
    <tr>
      <td>{shortId(job.id)}</td>
      <td>
        <StatusBadge status={job.status} />
      </td>
      <td>
        {job.model} v{job.version}
      </td>
      <td>
        <Progress value={job.progress} /> <span className="small">{fmtPct(job.progress, 0)}</span>
      </td>
      <td className="num">
        {fmtInt(job.processed)} / {fmtInt(job.total)}
      </td>
      <td className="num">{fmtInt(job.failed)}</td>
      <td className="num">{fmtNum(job.throughput)}</td>
      <td className="small">{job.workerId ?? '–'}</td>
      <td>{fmtDuration(job.startedAt, job.finishedAt)}</td>
    </tr>
  );
}

function SubmitJob({ models, onSubmitted }: { models: readonly string[]; onSubmitted: (id: string) => void }) {
  const { client } = useSession();
  const [model, setModel] = useState('');
  const [texts, setTexts] = useState('win free money now\nlunch at noon tomorrow');
  const [copies, setCopies] = useState(1);
  const [error, setError] = useState<ShownError>();
  const chosen = model || models[0] || '';
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    const lines = texts.split('\n').map((t) => t.trim()).filter(Boolean);
    const all = Array.from({ length: Math.max(1, copies) }, (_, i) => lines.map((t) => (i === 0 ? t : `${t} ${i}`))).flat();
    try {
      // Many texts go as a JSON Lines file (multipart), a few inline.
      const input =
        all.length > 500
          ? { model: chosen, file: new File([all.map((t) => JSON.stringify(t)).join('\n')], 'texts.jsonl', { type: 'application/x-ndjson' }) }
          : { model: chosen, texts: all };
      const { submitInferenceJob } = await client.request(SubmitInferenceJobDocument, { input });
      onSubmitted(submitInferenceJob.inferenceJob.id);
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <form className="row" onSubmit={(e) => void submit(e)} data-testid="inference-form">
      <select value={chosen} onChange={(e) => setModel(e.target.value)}>
        {models.map((m) => (
          <option key={m}>{m}</option>
        ))}
      </select>
      <textarea rows={2} cols={40} value={texts} onChange={(e) => setTexts(e.target.value)} />
      <label className="inline">
        × <input type="number" min={1} max={10000} value={copies} onChange={(e) => setCopies(Number(e.target.value))} style={{ width: '5em' }} />
      </label>
      <button type="submit" disabled={!chosen}>
        Classify as a job
      </button>
      <ErrorBox error={error} />
    </form>
  );
}
