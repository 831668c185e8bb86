/**
 * Start a battle against a model's champion and print its rounds as they arrive, then a summary.
 *
 *   ARENA_URL=http://127.0.0.1:4000 ARENA_TOKEN=… npx tsx examples/watch-battle.ts <model> \
 *     [--rounds 200] [--seed-text "win free money now"]… [--strategy leetspeak]… [--seed 42]
 *
 * Uses only the SDK (src/sdk): typed documents generated from sdk/operations, over HTTP for the
 * mutation and graphql-ws for the two subscriptions. See examples/README.md.
 */
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import {
  ArenaGraphQLError,
  BattleDocument,
  BattleRoundCompletedDocument,
  BattleUpdatedDocument,
  CreateBattleDocument,
  createArenaClient,
  type ArenaClient,
  type BattleFieldsFragment,
  type BattleRoundFieldsFragment,
} from '../src/sdk/index.js';

const USAGE = 'usage: watch-battle <model> [--rounds N] [--seed-text TEXT]... [--strategy ID]... [--seed N] [--no-retrain]';
const DEFAULT_SEEDS = ['win free money now', 'claim your cash prize today', 'cheap pills online, no prescription'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '200' },
    'seed-text': { type: 'string', multiple: true },
    strategy: { type: 'string', multiple: true },
    seed: { type: 'string' },
    'no-retrain': { type: 'boolean', default: false },
  },
});
const model = positionals[0];
const rounds = Number(values.rounds);
const token = process.env['ARENA_TOKEN'];
if (!model || !Number.isInteger(rounds) || rounds < 1) fail(USAGE, 2);
if (!token) fail('ARENA_TOKEN must hold an access token (`arena users token --email …`) or an API key (createApiKey).', 2);

// Node 20 has no global WebSocket: the SDK takes the `ws` package's.
const client = createArenaClient({ url: process.env['ARENA_URL'] ?? 'http://127.0.0.1:4000', token, webSocketImpl: WebSocket });
try {
  await watch(client);
  await client.close();
} catch (error) {
  await client.close().catch(() => undefined);
  if (error instanceof ArenaGraphQLError) fail(`error ${error.code ?? 'UNKNOWN'}: ${error.message}`, 1);
  throw error;
}

async function watch(client: ArenaClient): Promise<void> {
  const { createBattle } = await client.request(CreateBattleDocument, {
    input: {
      model: model!,
      rounds,
      seedTexts: values['seed-text'] ?? DEFAULT_SEEDS,
      strategies: values.strategy ?? null,
      autoRetrain: !values['no-retrain'],
      ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
    },
  });
  const battle = createBattle.battle;
  console.log(`battle ${battle.id}: ${battle.totalRounds} rounds against ${battle.model} v${battle.defenderVersion} (${battle.strategies?.join(', ') ?? 'adaptive attacker'})`);

  const seen = new Set<number>();
  const show = (r: BattleRoundFieldsFragment) => {
    if (seen.has(r.index)) return;
    seen.add(r.index);
    console.log(`round ${String(r.index).padStart(5)}  ${r.strategy.padEnd(12)}  score ${r.score.toFixed(3)}  ${r.detected ? 'detected' : 'EVADED  '}  ${shorten(r.variant)}`);
  };
  // Both streams end by themselves when the battle does.
  const roundsDone = (async () => {
    for await (const event of client.subscribe(BattleRoundCompletedDocument, { battleId: battle.id })) for (const r of event.battleRoundCompleted.rounds) show(r);
  })();
  let last: BattleFieldsFragment = battle;
  for await (const event of client.subscribe(BattleUpdatedDocument, { battleId: battle.id })) last = event.battleUpdated;
  await roundsDone;

  // Rounds stored before the subscription was live are in the battle's pages (a late joiner's view).
  let after: string | null | undefined;
  do {
    const page = (await client.request(BattleDocument, { id: battle.id, first: 100, after })).battle!.rounds;
    for (const r of page.nodes) show(r);
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after && seen.size < last.roundsDone);

  summarize(last, seen.size);
  const retrain = last.retrainRunId ? (await client.request(BattleDocument, { id: battle.id, first: 1 })).battle!.retrainRun : null;
  if (retrain) console.log(`retrain: training run ${retrain.id}, ${retrain.status}${retrain.resultVersion ? `, version ${retrain.resultVersion}${retrain.promoted ? ' (promoted)' : ''}` : ''}`);
  else console.log(`retrain: none${last.retrainNotice ? ` (${last.retrainNotice})` : ''}`);
  if (last.status !== 'SUCCEEDED') fail(`battle ${last.status.toLowerCase()}: ${last.error ?? 'no reason given'}`, 1);
}

function summarize(b: BattleFieldsFragment, printed: number): void {
  const pct = (rate: number) => `${(100 * rate).toFixed(2)}%`;
  console.log(`\nbattle ${b.id} ${b.status}: ${b.roundsDone} rounds (${printed} printed)`);
  console.log(`evasion rate ${pct(b.evasionRate)} (${b.evasions}/${b.roundsDone})${b.testEvasionRate === null ? '' : `, test split ${pct(b.testEvasionRate)}`}`);
  for (const s of b.byStrategy) console.log(`  ${s.key.padEnd(12)}  ${pct(s.rate).padStart(7)}  (${s.evasions}/${s.attempts})`);
}

function shorten(text: string, max = 60): string {
  const flat = JSON.stringify(text);
  return flat.length <= max ? flat : `${flat.slice(0, max - 2)}…"`;
}

function fail(message: string, code: number): never {
  console.error(message);
  process.exit(code);
}
