import { Migration } from '@mikro-orm/migrations';

export class Migration20261122014904Initial extends Migration {
  override async up(): Promise<void> {
    this.addSql("create table \"ping_job\" (\"id\" uuid not null, \"status\" text check (\"status\" in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')) not null default 'QUEUED', \"attempts\" int not null default 0, \"worker_id\" varchar(200) null, \"error\" text null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"started_at\" timestamptz null, \"heartbeat_at\" timestamptz null, \"finished_at\" timestamptz null, \"message\" text not null, \"delay_ms\" int not null default 0, \"reply\" text null, constraint \"ping_job_pkey\" primary key (\"id\"));");
    this.addSql("create index \"ping_job_status_index\" on \"ping_job\" (\"status\");");
  }

  override async down(): Promise<void> {
    this.addSql("drop table if exists \"ping_job\" cascade;");
  }
}
