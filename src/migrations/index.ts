import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261122014904Initial } from './Migration20261122014904Initial.js';
import { Migration20261122030006Registry } from './Migration20261122030006Registry.js';
import { Migration20261122043308Inference } from './Migration20261122043308Inference.js';
import { Migration20261122072246Security } from './Migration20261122072246Security.js';
import { Migration20261201200539Datasets } from './Migration20261201200539Datasets.js';
import { Migration20261201202335Training } from './Migration20261201202335Training.js';
import { Migration20261201210259Battles } from './Migration20261201210259Battles.js';
import { Migration20261201224235BattleNoticesRoundsWithoutOriginal } from './Migration20261201224235BattleNoticesRoundsWithoutOriginal.js';

/** Applied in this order; append new migrations at the end and never edit an applied one. */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261122014904Initial', class: Migration20261122014904Initial },
  { name: 'Migration20261122030006Registry', class: Migration20261122030006Registry },
  { name: 'Migration20261122043308Inference', class: Migration20261122043308Inference },
  { name: 'Migration20261122072246Security', class: Migration20261122072246Security },
  { name: 'Migration20261201200539Datasets', class: Migration20261201200539Datasets },
  { name: 'Migration20261201202335Training', class: Migration20261201202335Training },
  { name: 'Migration20261201210259Battles', class: Migration20261201210259Battles },
  { name: 'Migration20261201224235BattleNoticesRoundsWithoutOriginal', class: Migration20261201224235BattleNoticesRoundsWithoutOriginal },
];
