import { Migration } from '@mikro-orm/migrations';

export class Migration20261201200539Datasets extends Migration {
  override async up(): Promise<void> {
    this.addSql("create table \"dataset\" (\"id\" uuid not null, \"name\" varchar(64) not null, \"description\" text not null default '', \"labels\" text[] not null, \"owner\" varchar(200) null, \"visibility\" text check (\"visibility\" in ('PRIVATE', 'SHARED')) not null default 'PRIVATE', \"created_at\" timestamptz not null, constraint \"dataset_pkey\" primary key (\"id\"));");
    this.addSql("alter table \"dataset\" add constraint \"dataset_name_unique\" unique (\"name\");");
    this.addSql("create index \"dataset_owner_index\" on \"dataset\" (\"owner\");");
    this.addSql("create table \"dataset_version\" (\"id\" uuid not null, \"dataset_id\" uuid not null, \"version\" int not null, \"parent_id\" uuid null, \"lineage\" uuid[] not null, \"changes\" jsonb not null, \"row_count\" int not null, \"split_ratio\" double precision not null, \"validation\" jsonb not null, \"created_by\" varchar(200) null, \"created_at\" timestamptz not null, constraint \"dataset_version_pkey\" primary key (\"id\"));");
    this.addSql("alter table \"dataset_version\" add constraint \"dataset_version_dataset_id_version_unique\" unique (\"dataset_id\", \"version\");");
    this.addSql("create table \"example\" (\"id\" bigserial primary key, \"version_id\" uuid not null, \"text\" text not null, \"label\" varchar(64) not null, \"source\" text null, \"split\" varchar(8) not null, \"text_hash\" bigint not null);");
    this.addSql("create index \"example_version_id_label_split_id_index\" on \"example\" (\"version_id\", \"label\", \"split\", \"id\");");
    this.addSql("create index \"example_version_id_id_index\" on \"example\" (\"version_id\", \"id\");");
    this.addSql("alter table \"dataset_version\" add constraint \"dataset_version_dataset_id_foreign\" foreign key (\"dataset_id\") references \"dataset\" (\"id\") on update cascade on delete cascade;");
    this.addSql("alter table \"dataset_version\" add constraint \"dataset_version_parent_id_foreign\" foreign key (\"parent_id\") references \"dataset_version\" (\"id\") on update cascade on delete cascade;");
    this.addSql("alter table \"example\" add constraint \"example_version_id_foreign\" foreign key (\"version_id\") references \"dataset_version\" (\"id\") on update cascade on delete cascade;");
  }

  override async down(): Promise<void> {
    this.addSql("alter table \"dataset_version\" drop constraint \"dataset_version_dataset_id_foreign\";");
    this.addSql("alter table \"dataset_version\" drop constraint \"dataset_version_parent_id_foreign\";");
    this.addSql("alter table \"example\" drop constraint \"example_version_id_foreign\";");
    this.addSql("drop table if exists \"dataset\" cascade;");
    this.addSql("drop table if exists \"dataset_version\" cascade;");
    this.addSql("drop table if exists \"example\" cascade;");
  }
}
