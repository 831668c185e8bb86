import { Migration } from '@mikro-orm/migrations';

export class Migration20261122030006Registry extends Migration {
  override async up(): Promise<void> {
    this.addSql("create table \"model\" (\"id\" uuid not null, \"name\" varchar(64) not null, \"task\" varchar(64) not null default 'text-classification', \"labels\" jsonb not null, \"description\" text not null default '', \"owner\" varchar(200) null, \"created_at\" timestamptz not null, constraint \"model_pkey\" primary key (\"id\"));");
    this.addSql("alter table \"model\" add constraint \"model_name_unique\" unique (\"name\");");
    this.addSql("create table \"model_version\" (\"id\" uuid not null, \"model_id\" uuid not null, \"version\" int not null, \"format\" varchar(16) not null default 'onnx', \"artifact_key\" text not null, \"sha256\" varchar(64) not null, \"size_bytes\" bigint not null, \"featurizer_spec\" jsonb not null, \"signature\" jsonb not null, \"metrics\" jsonb not null, \"source\" text check (\"source\" in ('UPLOAD', 'TRAINING')) not null, \"training_run_id\" uuid null, \"dataset_version_id\" uuid null, \"created_by\" varchar(200) null, \"created_at\" timestamptz not null, constraint \"model_version_pkey\" primary key (\"id\"));");
    this.addSql("alter table \"model_version\" add constraint \"model_version_model_id_version_unique\" unique (\"model_id\", \"version\");");
    this.addSql("create table \"model_alias\" (\"id\" uuid not null, \"model_id\" uuid not null, \"name\" varchar(64) not null, \"version_id\" uuid not null, \"updated_at\" timestamptz not null, constraint \"model_alias_pkey\" primary key (\"id\"));");
    this.addSql("alter table \"model_alias\" add constraint \"model_alias_model_id_name_unique\" unique (\"model_id\", \"name\");");
    this.addSql("alter table \"model_version\" add constraint \"model_version_model_id_foreign\" foreign key (\"model_id\") references \"model\" (\"id\") on update cascade on delete cascade;");
    this.addSql("alter table \"model_alias\" add constraint \"model_alias_model_id_foreign\" foreign key (\"model_id\") references \"model\" (\"id\") on update cascade on delete cascade;");
    this.addSql("alter table \"model_alias\" add constraint \"model_alias_version_id_foreign\" foreign key (\"version_id\") references \"model_version\" (\"id\") on update cascade on delete restrict;");
  }

  override async down(): Promise<void> {
    this.addSql("alter table \"model_version\" drop constraint \"model_version_model_id_foreign\";");
    this.addSql("alter table \"model_alias\" drop constraint \"model_alias_model_id_foreign\";");
    this.addSql("alter table \"model_alias\" drop constraint \"model_alias_version_id_foreign\";");
    this.addSql("drop table if exists \"model\" cascade;");
    this.addSql("drop table if exists \"model_version\" cascade;");
    this.addSql("drop table if exists \"model_alias\" cascade;");
  }
}
