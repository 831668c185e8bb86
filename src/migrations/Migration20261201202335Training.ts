import { Migration } from '@mikro-orm/migrations';

export class Migration20261201202335Training extends Migration {
  override async up(): Promise<void> {
    this.addSql("create table \"model_evaluation\" (\"id\" uuid not null, \"model_version_id\" uuid not null, \"dataset_version_id\" uuid not null, \"metrics\" jsonb not null, \"created_by\" varchar(200) null, \"created_at\" timestamptz not null, constraint \"model_evaluation_pkey\" primary key (\"id\"));");
    this.addSql("create index \"model_evaluation_model_version_id_dataset_version_id_index\" on \"model_evaluation\" (\"model_version_id\", \"dataset_version_id\");");
    this.addSql("create table \"training_log\" (\"run_id\" uuid not null, \"seq\" int not null, \"level\" varchar(8) not null, \"message\" text not null, \"at\" timestamptz not null, constraint \"training_log_pkey\" primary key (\"run_id\", \"seq\"));");
    this.addSql("create table \"training_metric\" (\"run_id\" uuid not null, \"seq\" int not null, \"name\" varchar(64) not null, \"value\" double precision not null, \"step\" int null, \"epoch\" int null, \"at\" timestamptz not null, constraint \"training_metric_pkey\" primary key (\"run_id\", \"seq\"));");
    this.addSql("create table \"training_run\" (\"id\" uuid not null, \"status\" text check (\"status\" in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')) not null default 'QUEUED', \"attempts\" int not null default 0, \"worker_id\" varchar(200) null, \"error\" text null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"started_at\" timestamptz null, \"heartbeat_at\" timestamptz null, \"finished_at\" timestamptz null, \"model_name\" varchar(64) not null, \"dataset_version_id\" uuid not null, \"runner\" varchar(64) not null, \"hyperparameters\" jsonb not null, \"featurizer_spec\" jsonb not null, \"device\" varchar(32) null, \"steps\" jsonb not null, \"progress\" double precision not null default 0, \"evaluation\" jsonb null, \"result_version_id\" uuid null, \"result_version\" int null, \"promoted\" boolean not null default false, \"principal\" varchar(200) null, \"garbage_lines\" int not null default 0, constraint \"training_run_pkey\" primary key (\"id\"));");
    this.addSql("create index \"training_run_status_index\" on \"training_run\" (\"status\");");
    this.addSql("create index \"training_run_model_name_index\" on \"training_run\" (\"model_name\");");
    this.addSql("create index \"training_run_dataset_version_id_index\" on \"training_run\" (\"dataset_version_id\");");
    this.addSql("create index \"training_run_principal_index\" on \"training_run\" (\"principal\");");
    this.addSql("create table \"worker_process\" (\"id\" varchar(200) not null, \"host\" varchar(255) not null, \"pid\" int not null, \"queues\" jsonb not null, \"concurrency\" int not null, \"devices\" jsonb not null, \"current_jobs\" jsonb not null, \"started_at\" timestamptz not null, \"heartbeat_at\" timestamptz not null, constraint \"worker_process_pkey\" primary key (\"id\"));");
    this.addSql("create index \"worker_process_heartbeat_at_index\" on \"worker_process\" (\"heartbeat_at\");");
    this.addSql("alter table \"model\" add column \"promotion_policy\" text check (\"promotion_policy\" in ('AUTOMATIC', 'MANUAL')) not null default 'AUTOMATIC', add column \"promotion_margin\" double precision not null default 0;");
  }

  override async down(): Promise<void> {
    this.addSql("drop table if exists \"model_evaluation\" cascade;");
    this.addSql("drop table if exists \"training_log\" cascade;");
    this.addSql("drop table if exists \"training_metric\" cascade;");
    this.addSql("drop table if exists \"training_run\" cascade;");
    this.addSql("drop table if exists \"worker_process\" cascade;");
    this.addSql("alter table \"model\" drop column \"promotion_policy\", drop column \"promotion_margin\";");
  }
}
