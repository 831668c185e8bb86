import { EntityRepository, type Knex } from '@mikro-orm/postgresql';
import type { BattleRoundRow } from './battle.entity.js';

export interface NewBattleRound {
  readonly index: number;
  readonly seedIndex: number;
  readonly split: string;
  readonly variant: string;
  readonly strategy: string;
  readonly score: number;
  readonly detected: boolean;
  readonly queries: number;
}

export class BattleRoundRepository extends EntityRepository<BattleRoundRow> {
  /**
   * A batch of rounds in one statement, on the current transaction. Through knex, whose bindings
   * reach the server as parameters: MikroORM's execute() inlines them as escaped literals, and
   * escaping a batch of e-mail variants (megabytes) was most of a battle's garbage.
   */
  async insertBatch(battleId: string, latencyMs: number, rounds: readonly NewBattleRound[]): Promise<void> {
    if (rounds.length === 0) return;
    const em = this.getEntityManager();
    const knex = em.getTransactionContext<Knex.Transaction>() ?? em.getKnex();
    await knex.raw(
      `insert into battle_round (battle_id, idx, seed_index, split, variant, strategy, score, detected, queries, latency_ms)
       select ?::uuid, idx, seed_index, split, variant, strategy, score, detected, queries, ?::float8
         from jsonb_to_recordset(?::jsonb) as r(idx int, seed_index int, split varchar(8), variant text, strategy varchar(32), score float8, detected boolean, queries int)
       on conflict (battle_id, idx) do nothing`,
      [
        battleId,
        latencyMs,
        JSON.stringify(
          rounds.map((r) => ({ idx: r.index, seed_index: r.seedIndex, split: r.split, variant: r.variant, strategy: r.strategy, score: r.score, detected: r.detected, queries: r.queries })),
        ),
      ],
    );
  }
}
