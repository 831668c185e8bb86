import { Migration } from '@mikro-orm/migrations';

export class Migration20261201224235BattleNoticesRoundsWithoutOriginal extends Migration {
  override async up(): Promise<void> {
    this.addSql("alter table \"battle\" add column \"notices\" jsonb not null default '[]';");
    this.addSql("alter table \"battle_round\" drop column \"original\";");
    // Variants are written once per round and seldom read: compressing each e-mail-sized one cost more than it saved.
    this.addSql("alter table \"battle_round\" alter column \"variant\" set storage external;");
  }

  override async down(): Promise<void> {
    this.addSql("alter table \"battle_round\" alter column \"variant\" set storage extended;");
    this.addSql("alter table \"battle\" drop column \"notices\";");
    this.addSql("alter table \"battle_round\" add column \"original\" text not null default '';");
  }
}
