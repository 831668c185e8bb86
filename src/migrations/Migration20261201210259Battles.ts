import { Migration } from '@mikro-orm/migrations';

export class Migration20261201210259Battles extends Migration {
  override async up(): Promise<void> {
    this.addSql("create table \"battle\" (\"id\" uuid not null, \"status\" text check (\"status\" in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')) not null default 'QUEUED', \"attempts\" int not null default 0, \"worker_id\" varchar(200) null, \"error\" text null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"started_at\" timestamptz null, \"heartbeat_at\" timestamptz null, \"finished_at\" timestamptz null, \"model_name\" varchar(64) not null, \"alias\" varchar(64) not null, \"defender_version_id\" uuid not null, \"defender_version\" int not null, \"harmful_label\" varchar(64) not null, \"config\" jsonb not null, \"threshold\" double precision not null, \"auto_retrain\" boolean not null, \"seed_dataset_version_id\" uuid null, \"state\" jsonb null, \"rounds_done\" int not null default 0, \"evasions\" int not null default 0, \"detections\" int not null default 0, \"latency\" jsonb null, \"retrain_run_id\" uuid null, \"retrain_dataset_version_id\" uuid null, \"retrain_notice\" text null, \"rematch_of\" uuid null, \"principal\" varchar(200) null, constraint \"battle_pkey\" primary key (\"id\"));");
    this.addSql("create index \"battle_status_index\" on \"battle\" (\"status\");");
    this.addSql("create index \"battle_model_name_index\" on \"battle\" (\"model_name\");");
    this.addSql("create index \"battle_defender_version_id_index\" on \"battle\" (\"defender_version_id\");");
    this.addSql("create index \"battle_principal_index\" on \"battle\" (\"principal\");");
    this.addSql("create table \"battle_round\" (\"battle_id\" uuid not null, \"idx\" int not null, \"seed_index\" int not null, \"split\" varchar(8) not null, \"original\" text not null, \"variant\" text not null, \"strategy\" varchar(32) not null, \"score\" double precision not null, \"detected\" boolean not null, \"queries\" int not null, \"latency_ms\" double precision not null, constraint \"battle_round_pkey\" primary key (\"battle_id\", \"idx\"));");
  }

  override async down(): Promise<void> {
    this.addSql("drop table if exists \"battle\" cascade;");
    this.addSql("drop table if exists \"battle_round\" cascade;");
  }
}
