import { Migration } from '@mikro-orm/migrations';

export class Migration20261122043308Inference extends Migration {
  override async up(): Promise<void> {
    this.addSql("create table \"inference_job\" (\"id\" uuid not null, \"status\" text check (\"status\" in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')) not null default 'QUEUED', \"attempts\" int not null default 0, \"worker_id\" varchar(200) null, \"error\" text null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"started_at\" timestamptz null, \"heartbeat_at\" timestamptz null, \"finished_at\" timestamptz null, \"model_name\" varchar(64) not null, \"alias\" varchar(64) null, \"model_version_id\" uuid not null, \"version\" int not null, \"input_key\" text not null, \"total\" int not null, \"processed\" int not null default 0, \"failed\" int not null default 0, \"throughput\" double precision null, \"principal\" varchar(200) null, constraint \"inference_job_pkey\" primary key (\"id\"));");
    this.addSql("create index \"inference_job_status_index\" on \"inference_job\" (\"status\");");
    this.addSql("create table \"inference_log\" (\"id\" bigserial primary key, \"created_at\" timestamptz not null, \"kind\" text check (\"kind\" in ('CLASSIFY', 'PREDICT')) not null, \"principal\" varchar(200) null, \"request_id\" varchar(128) null, \"model_name\" varchar(64) not null, \"model_version_id\" uuid not null, \"version\" int not null, \"input_digest\" varchar(64) not null, \"input_count\" int not null default 1, \"input_length\" int not null, \"label\" varchar(64) null, \"output\" jsonb not null, \"latency_ms\" double precision not null, \"cached_count\" int not null default 0);");
    this.addSql("create index \"inference_log_created_at_index\" on \"inference_log\" (\"created_at\");");
    this.addSql("create index \"inference_log_model_version_id_id_index\" on \"inference_log\" (\"model_version_id\", \"id\");");
    this.addSql("create index \"inference_log_model_name_id_index\" on \"inference_log\" (\"model_name\", \"id\");");
    this.addSql("create table \"inference_result\" (\"job_id\" uuid not null, \"idx\" int not null, \"label\" varchar(64) null, \"scores\" jsonb null, \"error\" text null, constraint \"inference_result_pkey\" primary key (\"job_id\", \"idx\"));");
    this.addSql("create index \"inference_result_job_id_label_index\" on \"inference_result\" (\"job_id\", \"label\");");
  }

  override async down(): Promise<void> {
    this.addSql("drop table if exists \"inference_job\" cascade;");
    this.addSql("drop table if exists \"inference_log\" cascade;");
    this.addSql("drop table if exists \"inference_result\" cascade;");
  }
}
