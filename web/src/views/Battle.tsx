import { useCallback, useEffect, useRef, useState } from 'react';
import {
  BattleDocument,
  BattleRoundCompletedDocument,
  BattleUpdatedDocument,
  CancelBattleDocument,
  RematchDocument,
  TrainingRunUpdatedDocument,
  type BattleFieldsFragment,
  type BattleQuery,
  type BattleRoundFieldsFragment,
} from '../../../src/sdk/index.js';
import { describeError, type ShownError } from '../api.js';
import { CategoryChart, LiveLineChart, type LiveLineHandle } from '../charts.js';
import { clip, fmtDuration, fmtInt, fmtMs, fmtNum, fmtPct, fmtTime, shortId } from '../format.js';
import { useFrameState, useSubscription } from '../hooks.js';
import { go, href } from '../router.js';
import { useSession } from '../session.js';
import { Badge, Card, ErrorBox, Loading, Progress, Stat, StatusBadge, terminal } from '../ui.js';

/** Rounds loaded from the `battle { rounds }` connection before the live stream takes over. */
const HISTORY_LIMIT = 5000;
const PAGE = 100;
const TABLE_ROWS = 25;
const ROLLING = 50;

interface RoundsState {
  readonly count: number;
  readonly evasions: number;
  readonly latest: readonly BattleRoundFieldsFragment[];
}

/**
 * One battle, live: its rounds so far from the connection, then every batch `battleRoundCompleted`
 * pushes and every state change `battleUpdated` pushes. Rounds are keyed by index, so the overlap
 * between history and stream counts once.
 */
export function BattleView({ id }: { id: string }) {
  const { client } = useSession();
  const [battle, setBattle] = useFrameState<BattleFieldsFragment | null>(null);
  const [missing, setMissing] = useState(false);
  const [rounds, setRounds] = useFrameState<RoundsState>({ count: 0, evasions: 0, latest: [] });
  const [error, setError] = useState<ShownError>();
  const [actionError, setActionError] = useState<ShownError>();
  const chart = useRef<LiveLineHandle>(null);

  // Everything about rounds lives in refs; React renders at most once per frame from them.
  const seen = useRef(new Set<number>());
  const ordered = useRef<{ evasions: number; count: number; window: boolean[] }>({ evasions: 0, count: 0, window: [] });
  const latest = useRef<BattleRoundFieldsFragment[]>([]);
  const buffer = useRef<BattleRoundFieldsFragment[] | null>([]);
  const step = useRef(1);
  const newest = useRef<BattleFieldsFragment | null>(null);
  const showBattle = useCallback(
    (next: BattleFieldsFragment) => {
      // The query's answer can be older than an event that came first: keep the later state.
      const cur = newest.current;
      if (cur && cur.id === next.id && terminal(cur.status) && !terminal(next.status)) return;
      if (cur && cur.id === next.id && next.roundsDone < cur.roundsDone) return;
      newest.current = next;
      setBattle(next);
    },
    [setBattle],
  );

  const accept = useCallback(
    (batch: readonly BattleRoundFieldsFragment[]) => {
      const o = ordered.current;
      for (const r of batch) {
        if (seen.current.has(r.index)) continue;
        seen.current.add(r.index);
        o.count++;
        if (!r.detected) o.evasions++;
        o.window.push(!r.detected);
        if (o.window.length > ROLLING) o.window.shift();
        if (o.count % step.current === 0) {
          chart.current?.push(0, o.count, o.evasions / o.count);
          chart.current?.push(1, o.count, o.window.filter(Boolean).length / o.window.length);
        }
        latest.current.push(r);
      }
      if (latest.current.length > TABLE_ROWS * 2) latest.current.splice(0, latest.current.length - TABLE_ROWS);
      setRounds({ count: o.count, evasions: o.evasions, latest: latest.current.slice(-TABLE_ROWS).reverse() });
    },
    [setRounds],
  );

  // Subscribe first (buffering), then load history, then replay the buffer: nothing falls between.
  const rounds$ = useSubscription(BattleRoundCompletedDocument, { battleId: id }, (e) => {
    if (buffer.current) buffer.current.push(...e.battleRoundCompleted.rounds);
    else accept(e.battleRoundCompleted.rounds);
  });
  const updates$ = useSubscription(BattleUpdatedDocument, { battleId: id }, (e) => showBattle(e.battleUpdated));

  useEffect(() => {
    let live = true;
    seen.current = new Set();
    ordered.current = { evasions: 0, count: 0, window: [] };
    latest.current = [];
    buffer.current = [];
    chart.current?.clear();
    void (async () => {
      try {
        let after: string | null = null;
        let loaded = 0;
        for (;;) {
          const page: BattleQuery = await client.request(BattleDocument, { id, first: PAGE, ...(after ? { after } : {}) });
          if (!live) return;
          if (!page.battle) {
            setMissing(true);
            return;
          }
          if (loaded === 0) {
            showBattle(page.battle);
            step.current = Math.max(1, Math.ceil(page.battle.totalRounds / 400));
          }
          accept(page.battle.rounds.nodes);
          loaded += page.battle.rounds.nodes.length;
          if (!page.battle.rounds.pageInfo.hasNextPage || loaded >= HISTORY_LIMIT) break;
          after = page.battle.rounds.pageInfo.endCursor ?? null;
        }
        const pending = buffer.current ?? [];
        buffer.current = null;
        accept(pending);
      } catch (e) {
        if (live) setError(describeError(e));
      }
    })();
    return () => {
      live = false;
    };
  }, [client, id, accept, showBattle]);

  const act = async (what: 'cancel' | 'rematch') => {
    setActionError(undefined);
    try {
      if (what === 'cancel') showBattle((await client.request(CancelBattleDocument, { input: { id } })).cancelBattle.battle);
      else go('battles', (await client.request(RematchDocument, { input: { id } })).rematch.battle.id);
    } catch (e) {
      setActionError(describeError(e));
    }
  };

  if (missing) return <ErrorBox error={{ code: 'NOT_FOUND', message: `No battle ${id} that you may see.` }} />;
  const b = battle;
  return (
    <>
      <div className="page-head">
        <h1>
          <a href={href('battles')} className="muted">
            Battles
          </a>{' '}
          / {shortId(id)}
        </h1>
        {b && (
          <div className="actions">
            <StatusBadge status={b.status} />
            {!terminal(b.status) && (
              <button onClick={() => void act('cancel')} data-testid="cancel-battle">
                Cancel
              </button>
            )}
            {terminal(b.status) && (
              <button className="primary" onClick={() => void act('rematch')} data-testid="rematch">
                Rematch
              </button>
            )}
          </div>
        )}
      </div>
      <ErrorBox error={error ?? rounds$.error ?? updates$.error} />
      <ErrorBox error={actionError} />
      {!b && !error && <Loading what="the battle" />}
      {b && (
        <>
          <Card>
            <div className="stats">
              <Stat label="rounds streamed" value={fmtInt(rounds.count)} testId="rounds-count" />
              <Stat label={`of ${fmtInt(b.totalRounds)} rounds played`} value={fmtInt(b.roundsDone)} testId="rounds-done" />
              <Stat label="evasion rate" value={fmtPct(b.evasionRate)} testId="evasion-rate" hint="rounds whose variant the defender missed" />
              <Stat label="evasion, test split" value={fmtPct(b.testEvasionRate)} hint="on seeds from the held-out test split" />
              <Stat label="evaded / detected" value={`${fmtInt(b.evasions)} / ${fmtInt(b.detections)}`} />
              <Stat label="latency p50 · p95" value={b.latency ? `${fmtMs(b.latency.p50)} · ${fmtMs(b.latency.p95)}` : '–'} />
            </div>
            {!terminal(b.status) && <Progress value={b.roundsDone / Math.max(1, b.totalRounds)} />}
            <p className="muted small">
              Defender <a href={href('registry', b.model)}>{b.model}</a> v{b.defenderVersion} ({b.alias}), harmful label <code>{b.harmfulLabel}</code>, threshold{' '}
              {fmtPct(b.threshold, 0)}, {b.autoRetrain ? 'retrains automatically' : 'no automatic retrain'}, intensity {fmtNum(b.intensity)}, seed {b.seed}, {fmtInt(b.seedCount)} seed texts,{' '}
              {fmtInt(b.queries)} defender queries. Started {fmtTime(b.startedAt ?? b.createdAt)}, {terminal(b.status) ? `took ${fmtDuration(b.startedAt, b.finishedAt)}` : 'running'}.
              {b.rematchOf && (
                <>
                  {' '}
                  Rematch of <a href={href('battles', b.rematchOf)}>{shortId(b.rematchOf)}</a>.
                </>
              )}
            </p>
            {b.error && <ErrorBox error={{ code: 'BATTLE_FAILED', message: b.error }} />}
          </Card>
          <RetrainCard battle={b} />
          <div className="grid2">
            <Card title="Evasion rate over rounds">
              <LiveLineChart
                ref={chart}
                testId="evasion-chart"
                xLabel="round"
                percent
                yMin={0}
                yMax={1}
                series={[{ label: 'cumulative' }, { label: `last ${ROLLING} rounds` }]}
              />
            </Card>
            <Card title="Evasion by strategy">
              <CategoryChart
                testId="strategy-chart"
                type="bar"
                percent
                labels={b.byStrategy.map((s) => s.key)}
                datasets={[{ label: 'evasion rate', values: b.byStrategy.map((s) => s.rate) }]}
              />
              <table className="compact">
                <thead>
                  <tr>
                    <th>Strategy</th>
                    <th className="num">Attempts</th>
                    <th className="num">Evasions</th>
                    <th className="num">Rate</th>
                  </tr>
                </thead>
                <tbody>
                  {[...b.byStrategy, ...b.bySplit.map((s) => ({ ...s, key: `split: ${s.key}` }))].map((s) => (
                    <tr key={s.key}>
                      <td>{s.key}</td>
                      <td className="num">{fmtInt(s.attempts)}</td>
                      <td className="num">{fmtInt(s.evasions)}</td>
                      <td className="num">{fmtPct(s.rate)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
          </div>
          <Card title={`Latest rounds (${fmtInt(rounds.count)} in all, ${fmtInt(rounds.evasions)} evaded)`}>
            <table data-testid="rounds-table" className="rounds">
              <thead>
                <tr>
                  <th className="num">#</th>
                  <th>Strategy</th>
                  <th>Original</th>
                  <th>Variant</th>
                  <th className="num">Score</th>
                  <th>Outcome</th>
                </tr>
              </thead>
              <tbody>
                {rounds.latest.map((r) => (
                  <tr key={r.index}>
                    <td className="num">{r.index + 1}</td>
                    <td>
                      {r.strategy} <span className="muted small">{r.split}</span>
                    </td>
                    <td className="text" title={r.original.slice(0, 2000)}>
                      {clip(r.original)}
                    </td>
                    <td className="text" title={r.variant.slice(0, 2000)}>
                      {clip(r.variant)}
                    </td>
                    <td className="num">{fmtNum(r.score, 3)}</td>
                    <td>{r.detected ? <Badge tone="ok">detected</Badge> : <Badge tone="bad">evaded</Badge>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
        </>
      )}
    </>
  );
}

/** The retrain a battle triggered, followed live: its run, the version it made, whether it took over. */
function RetrainCard({ battle }: { battle: BattleFieldsFragment }) {
  const [run, setRun] = useState<{ status: string; resultVersion: number | null; promoted: boolean; progress: number; error: string | null } | null>(null);
  useSubscription(TrainingRunUpdatedDocument, battle.retrainRunId ? { id: battle.retrainRunId } : null, (e) => setRun(e.trainingRunUpdated));
  if (!battle.retrainRunId) {
    if (battle.retrainNotice) return <Card title="Retrain">{battle.retrainNotice}</Card>;
    if (terminal(battle.status) && battle.autoRetrain)
      return (
        <Card title="Retrain">
          <span className="muted">Evasion rate {fmtPct(battle.evasionRate)} stayed under the threshold {fmtPct(battle.threshold, 0)}: no retrain needed.</span>
        </Card>
      );
    return null;
  }
  return (
    <Card title="Retrain triggered" className="highlight">
      <div className="row" data-testid="retrain">
        <span>
          Training run <a href={href('training', battle.retrainRunId)}>{shortId(battle.retrainRunId)}</a> on dataset version {shortId(battle.retrainDatasetVersionId)} (base data
          plus the evaded samples)
        </span>
        {run && <StatusBadge status={run.status} />}
        {run && !terminal(run.status) && <Progress value={run.progress} />}
        {run?.resultVersion != null && (
          <span data-testid="retrain-result">
            → <a href={href('registry', battle.model)}>{battle.model} v{run.resultVersion}</a>{' '}
            {run.promoted ? <Badge tone="ok">promoted to champion</Badge> : <Badge tone="muted">challenger (not promoted)</Badge>}
          </span>
        )}
        {run?.error && <span className="bad-text">{run.error}</span>}
      </div>
      {run && terminal(run.status) && <p className="muted small">Rematch to play the same attack against the champion now.</p>}
    </Card>
  );
}
