import { useCallback, useEffect, useRef, useState } from 'react';
import {
  CancelTrainingRunDocument,
  TrainingMetricsDocument,
  TrainingRunDocument,
  TrainingRunLogsDocument,
  TrainingRunsDocument,
  TrainingRunUpdatedDocument,
  type MetricPointFieldsFragment,
  type TrainingRunFieldsFragment,
} from '../../../src/sdk/index.js';
import { describeError, type ShownError } from '../api.js';
import { LiveLineChart, type LiveLineHandle } from '../charts.js';
import { fmtDuration, fmtInt, fmtNum, fmtPct, fmtTime, metric, shortId } from '../format.js';
import { useFrameState, useQuery, useSubscription } from '../hooks.js';
import { href } from '../router.js';
import { useSession } from '../session.js';
import { Badge, Card, ErrorBox, Loading, Progress, Stat, StatusBadge, terminal } from '../ui.js';

export function TrainingRunsView() {
  const list = useQuery(TrainingRunsDocument, { first: 50 }, { pollMs: 3000 });
  const runs = list.data?.trainingRuns.nodes ?? [];
  return (
    <>
      <div className="page-head">
        <h1>Training runs</h1>
      </div>
      <Card title={`Runs (${fmtInt(list.data?.trainingRuns.totalCount ?? 0)})`}>
        <ErrorBox error={list.error} />
        {!list.data && !list.error && <Loading what="training runs" />}
        {list.data && runs.length === 0 && <p className="muted">No training runs yet. Start one from a dataset version.</p>}
        {runs.length > 0 && (
          <table data-testid="runs-table">
            <thead>
              <tr>
                <th>Run</th>
                <th>Status</th>
                <th>Model</th>
                <th>Runner · device</th>
                <th>Progress</th>
                <th>Result</th>
                <th className="num">Test F1</th>
                <th>Started</th>
                <th>Took</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id}>
                  <td>
                    <a href={href('training', r.id)} data-testid="run-link">
                      {shortId(r.id)}
                    </a>
                  </td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>{r.model}</td>
                  <td>
                    {r.runner} <span className="muted small">{r.device ?? ''}</span>
                  </td>
                  <td>{terminal(r.status) ? fmtPct(r.progress, 0) : <Progress value={r.progress} />}</td>
                  <td>
                    {r.resultVersion != null ? (
                      <>
                        <a href={href('registry', r.model)}>v{r.resultVersion}</a> {r.promoted && <Badge tone="ok">champion</Badge>}
                      </>
                    ) : (
                      '–'
                    )}
                  </td>
                  <td className="num">{fmtNum(challengerF1(r.evaluation), 4)}</td>
                  <td>{fmtTime(r.startedAt ?? r.createdAt)}</td>
                  <td>{fmtDuration(r.startedAt, r.finishedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

function challengerF1(evaluation: unknown): number | null {
  const e = evaluation as { challenger?: unknown; f1?: unknown } | null;
  if (!e) return null;
  return metric(e.challenger, 'macroF1') ?? metric(e.challenger, 'f1');
}

const LOSS = ['loss'];
const QUALITY = ['val_f1', 'val_accuracy', 'train_accuracy'];

/** A run, live: the metric history from the query, then each point trainingMetrics pushes. */
export function TrainingRunView({ id }: { id: string }) {
  const { client } = useSession();
  const [run, setRun] = useFrameState<TrainingRunFieldsFragment | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<ShownError>();
  const [actionError, setActionError] = useState<ShownError>();
  const [latest, setLatest] = useFrameState<Record<string, number>>({});
  const loss = useRef<LiveLineHandle>(null);
  const quality = useRef<LiveLineHandle>(null);
  const seen = useRef(new Set<number>());
  const values = useRef<Record<string, number>>({});
  const buffer = useRef<MetricPointFieldsFragment[] | null>([]);
  const [logsTick, setLogsTick] = useState(0);

  const accept = useCallback(
    (points: readonly MetricPointFieldsFragment[]) => {
      for (const p of points) {
        if (seen.current.has(p.seq)) continue;
        seen.current.add(p.seq);
        values.current[p.name] = p.value;
        if (p.step == null) continue; // a summary, not a point on the curve
        const l = LOSS.indexOf(p.name);
        if (l >= 0) loss.current?.push(l, p.step, p.value);
        const q = QUALITY.indexOf(p.name);
        if (q >= 0) quality.current?.push(q, p.step, p.value);
      }
      setLatest({ ...values.current });
    },
    [setLatest],
  );

  const metrics$ = useSubscription(TrainingMetricsDocument, { runId: id }, (e) => {
    if (buffer.current) buffer.current.push(e.trainingMetrics);
    else accept([e.trainingMetrics]);
  });
  const updates$ = useSubscription(TrainingRunUpdatedDocument, { id }, (e) => {
    setRun(e.trainingRunUpdated);
    setLogsTick((n) => n + 1);
  });

  useEffect(() => {
    let live = true;
    seen.current = new Set();
    values.current = {};
    buffer.current = [];
    loss.current?.clear();
    quality.current?.clear();
    client.request(TrainingRunDocument, { id }).then(
      ({ trainingRun }) => {
        if (!live) return;
        if (!trainingRun) return setMissing(true);
        setRun(trainingRun);
        accept(trainingRun.metrics);
        const pending = buffer.current ?? [];
        buffer.current = null;
        accept(pending);
      },
      (e: unknown) => live && setError(describeError(e)),
    );
    return () => {
      live = false;
    };
  }, [client, id, accept, setRun]);

  const cancel = async () => {
    setActionError(undefined);
    try {
      setRun((await client.request(CancelTrainingRunDocument, { input: { id } })).cancelTrainingRun.trainingRun);
    } catch (e) {
      setActionError(describeError(e));
    }
  };

  if (missing) return <ErrorBox error={{ code: 'NOT_FOUND', message: `No training run ${id} that you may see.` }} />;
  const r = run;
  return (
    <>
      <div className="page-head">
        <h1>
          <a href={href('training')} className="muted">
            Training runs
          </a>{' '}
          / {shortId(id)}
        </h1>
        {r && (
          <div className="actions">
            <StatusBadge status={r.status} />
            {!terminal(r.status) && (
              <button onClick={() => void cancel()} data-testid="cancel-run">
                Cancel
              </button>
            )}
          </div>
        )}
      </div>
      <ErrorBox error={error ?? metrics$.error ?? updates$.error} />
      <ErrorBox error={actionError} />
      {!r && !error && <Loading what="the run" />}
      {r && (
        <Card>
          <div className="stats">
            <Stat label="progress" value={fmtPct(r.progress, 0)} />
            <Stat label="loss" value={fmtNum(latest['loss'], 4)} testId="latest-loss" />
            <Stat label="validation F1" value={fmtNum(latest['val_f1'], 4)} testId="latest-f1" />
            <Stat label="examples / s" value={fmtInt(latest['examples_per_second'])} />
            <Stat label="result" value={r.resultVersion != null ? <a href={href('registry', r.model)}>{r.model} v{r.resultVersion}</a> : '–'} />
            <Stat label="took" value={fmtDuration(r.startedAt, r.finishedAt)} />
          </div>
          {!terminal(r.status) && <Progress value={r.progress} />}
          <p className="muted small">
            Model {r.model}, runner {r.runner}, device {r.device ?? '–'}, worker {r.workerId ?? '–'}, attempt {r.attempts}, dataset version {shortId(r.datasetVersionId)}.
            Hyperparameters <code>{JSON.stringify(r.hyperparameters)}</code>
            {r.promoted && (
              <>
                {' '}
                <Badge tone="ok">promoted to champion</Badge>
              </>
            )}
          </p>
          {r.error && <ErrorBox error={{ code: 'RUN_FAILED', message: r.error }} />}
        </Card>
      )}
      <div className="grid2">
        <Card title="Loss">
          <LiveLineChart ref={loss} testId="loss-chart" xLabel="step" series={[{ label: 'loss' }]} />
        </Card>
        <Card title="F1 and accuracy">
          <LiveLineChart ref={quality} testId="f1-chart" xLabel="step" yMin={0} yMax={1} series={QUALITY.map((label) => ({ label }))} />
        </Card>
      </div>
      {r && (
        <div className="grid2">
          <Card title="Steps">
            <ol className="steps" data-testid="steps">
              {r.steps.map((s) => (
                <li key={s.name} className={`step ${s.status}`}>
                  <strong>{s.name}</strong> <Badge tone={s.status === 'SUCCEEDED' || s.status === 'succeeded' ? 'ok' : s.status.toLowerCase().includes('fail') ? 'bad' : 'running'}>{s.status.toLowerCase()}</Badge>{' '}
                  <span className="muted small">{fmtDuration(s.startedAt, s.finishedAt)}</span>
                  {s.detail && <div className="muted small">{s.detail}</div>}
                </li>
              ))}
            </ol>
            {r.evaluation ? (
              <details>
                <summary>Evaluation (challenger vs champion on the same test split)</summary>
                <pre>{JSON.stringify(r.evaluation, null, 2)}</pre>
              </details>
            ) : null}
          </Card>
          <Logs id={id} tick={logsTick} />
        </div>
      )}
    </>
  );
}

function Logs({ id, tick }: { id: string; tick: number }) {
  const logs = useQuery(TrainingRunLogsDocument, { id, first: 100 });
  const { reload } = logs;
  useEffect(() => reload(), [tick, reload]);
  const conn = logs.data?.trainingRun?.logs;
  return (
    <Card title={`Logs (${fmtInt(conn?.totalCount ?? 0)}${conn?.pageInfo.hasNextPage ? ', the first 100' : ''})`}>
      <ErrorBox error={logs.error} />
      <pre className="logs" data-testid="logs">
        {conn?.nodes.map((l) => `${fmtTime(l.at)} ${l.level.padEnd(5)} ${l.message}`).join('\n')}
      </pre>
    </Card>
  );
}
