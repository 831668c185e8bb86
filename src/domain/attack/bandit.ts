/**
 * Strategy selection that adapts to what evades. Each strategy is an arm; a round's reward is 1
 * when its variant evaded the defender. Thompson sampling draws from Beta(evasions + 1,
 * failures + 1) per arm and plays the largest draw; UCB1 plays the arm with the best optimistic
 * estimate; `uniform` is for strategies the caller pinned (chosen uniformly, counts still kept).
 * All state is plain JSON so a battle resumes after a crash exactly where it stopped.
 */
import { unreachable } from '../job-status.js';
import type { Rng } from '../model/rng.js';

export const BANDIT_ALGORITHMS = ['thompson', 'ucb1', 'uniform'] as const;
export type BanditAlgorithm = (typeof BANDIT_ALGORITHMS)[number];

export interface ArmState {
  readonly id: string;
  readonly evasions: number;
  readonly failures: number;
  /** Chosen but not yet updated: UCB1 counts these as pulls so one batch spreads over the arms. */
  readonly pending: number;
}

export interface BanditState {
  readonly algorithm: BanditAlgorithm;
  readonly arms: readonly ArmState[];
}

interface MutableArm {
  id: string;
  evasions: number;
  failures: number;
  pending: number;
}

export class Bandit {
  private readonly arms: MutableArm[];
  private readonly index = new Map<string, number>();

  private constructor(
    readonly algorithm: BanditAlgorithm,
    arms: readonly ArmState[],
  ) {
    if (arms.length === 0) throw new Error('a bandit needs at least one arm');
    this.arms = arms.map((a) => ({ id: a.id, evasions: a.evasions, failures: a.failures, pending: a.pending }));
    this.arms.forEach((a, i) => {
      if (this.index.has(a.id)) throw new Error(`arm ${a.id} appears twice`);
      this.index.set(a.id, i);
    });
  }

  static create(arms: readonly string[], algorithm: BanditAlgorithm = 'thompson'): Bandit {
    return new Bandit(
      algorithm,
      arms.map((id) => ({ id, evasions: 0, failures: 0, pending: 0 })),
    );
  }

  static fromState(state: BanditState): Bandit {
    return new Bandit(state.algorithm, state.arms);
  }

  choose(rng: Rng): string {
    const arm = this.arms[this.chooseIndex(rng)]!;
    arm.pending++;
    return arm.id;
  }

  update(id: string, evaded: boolean): void {
    const i = this.index.get(id);
    if (i === undefined) throw new Error(`unknown arm ${id}`);
    const arm = this.arms[i]!;
    if (evaded) arm.evasions++;
    else arm.failures++;
    if (arm.pending > 0) arm.pending--;
  }

  /** A choice whose outcome will never come (the strategy could not be played): no longer pending, and nothing learned. */
  release(id: string): void {
    const i = this.index.get(id);
    if (i === undefined) throw new Error(`unknown arm ${id}`);
    const arm = this.arms[i]!;
    if (arm.pending > 0) arm.pending--;
  }

  state(): BanditState {
    return { algorithm: this.algorithm, arms: this.arms.map((a) => ({ ...a })) };
  }

  toJSON(): BanditState {
    return this.state();
  }

  private chooseIndex(rng: Rng): number {
    const arms = this.arms;
    switch (this.algorithm) {
      case 'uniform':
        return Math.floor(rng() * arms.length);
      case 'thompson': {
        let best = 0;
        let bestDraw = -1;
        for (let i = 0; i < arms.length; i++) {
          const a = arms[i]!;
          const draw = sampleBeta(rng, a.evasions + 1, a.failures + 1);
          if (draw > bestDraw) {
            bestDraw = draw;
            best = i;
          }
        }
        return best;
      }
      case 'ucb1': {
        let total = 0;
        for (const a of arms) total += a.evasions + a.failures + a.pending;
        // Unplayed arms first, a random one of them.
        const fresh: number[] = [];
        for (let i = 0; i < arms.length; i++) if (arms[i]!.evasions + arms[i]!.failures + arms[i]!.pending === 0) fresh.push(i);
        if (fresh.length > 0) return fresh[Math.floor(rng() * fresh.length)]!;
        const logTotal = Math.log(total);
        let best = 0;
        let bestValue = -Infinity;
        for (let i = 0; i < arms.length; i++) {
          const a = arms[i]!;
          const n = a.evasions + a.failures + a.pending;
          // Pending pulls count as pulls without reward: pessimistic, which is what spreads a batch.
          const value = a.evasions / n + Math.sqrt((2 * logTotal) / n);
          if (value > bestValue || (value === bestValue && rng() < 0.5)) {
            bestValue = value;
            best = i;
          }
        }
        return best;
      }
      default:
        return unreachable(this.algorithm);
    }
  }
}

/** A standard normal draw (Box–Muller; one of the pair is dropped to keep the draw count fixed). */
function sampleNormal(rng: Rng): number {
  const u = 1 - rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Gamma(shape, 1) for shape ≥ 1: Marsaglia and Tsang (2000). */
function sampleGamma(rng: Rng, shape: number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(α, β) for α, β ≥ 1 (always the case here: counts + 1). */
export function sampleBeta(rng: Rng, alpha: number, beta: number): number {
  const x = sampleGamma(rng, alpha);
  const y = sampleGamma(rng, beta);
  return x / (x + y);
}
