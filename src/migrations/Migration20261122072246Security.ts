import { Migration } from '@mikro-orm/migrations';

export class Migration20261122072246Security extends Migration {
  override async up(): Promise<void> {
    this.addSql("create table \"app_secret\" (\"name\" varchar(64) not null, \"value\" text not null, \"created_at\" timestamptz not null, constraint \"app_secret_pkey\" primary key (\"name\"));");
    this.addSql("create table \"audit_log\" (\"id\" bigserial primary key, \"created_at\" timestamptz not null, \"principal_id\" uuid null, \"principal_kind\" varchar(16) not null, \"api_key_id\" uuid null, \"operation\" varchar(100) not null, \"targets\" jsonb not null, \"outcome\" varchar(32) not null, \"request_id\" varchar(128) null, \"ip\" varchar(64) null);");
    this.addSql("create index \"audit_log_operation_id_index\" on \"audit_log\" (\"operation\", \"id\");");
    this.addSql("create index \"audit_log_principal_id_id_index\" on \"audit_log\" (\"principal_id\", \"id\");");
    this.addSql("create table \"app_user\" (\"id\" uuid not null, \"email\" varchar(254) not null, \"password_hash\" text not null, \"role\" text check (\"role\" in ('admin', 'user', 'viewer')) not null, \"disabled\" boolean not null default false, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, constraint \"app_user_pkey\" primary key (\"id\"));");
    this.addSql("alter table \"app_user\" add constraint \"app_user_email_unique\" unique (\"email\");");
    this.addSql("create table \"sign_in_link\" (\"id\" uuid not null, \"user_id\" uuid not null, \"token_hash\" varchar(64) not null, \"expires_at\" timestamptz not null, \"used_at\" timestamptz null, constraint \"sign_in_link_pkey\" primary key (\"id\"));");
    this.addSql("alter table \"sign_in_link\" add constraint \"sign_in_link_token_hash_unique\" unique (\"token_hash\");");
    this.addSql("create table \"auth_session\" (\"id\" uuid not null, \"user_id\" uuid not null, \"created_at\" timestamptz not null, \"revoked_at\" timestamptz null, \"revoked_reason\" varchar(32) null, constraint \"auth_session_pkey\" primary key (\"id\"));");
    this.addSql("create index \"auth_session_user_id_index\" on \"auth_session\" (\"user_id\");");
    this.addSql("create table \"refresh_token\" (\"id\" uuid not null, \"session_id\" uuid not null, \"token_hash\" varchar(64) not null, \"created_at\" timestamptz not null, \"expires_at\" timestamptz not null, \"used_at\" timestamptz null, constraint \"refresh_token_pkey\" primary key (\"id\"));");
    this.addSql("create index \"refresh_token_session_id_index\" on \"refresh_token\" (\"session_id\");");
    this.addSql("alter table \"refresh_token\" add constraint \"refresh_token_token_hash_unique\" unique (\"token_hash\");");
    this.addSql("create table \"api_key\" (\"id\" uuid not null, \"user_id\" uuid not null, \"name\" varchar(100) not null, \"prefix\" varchar(16) not null, \"key_hash\" varchar(64) not null, \"role\" text check (\"role\" in ('admin', 'user', 'viewer')) not null, \"created_at\" timestamptz not null, \"expires_at\" timestamptz null, \"revoked_at\" timestamptz null, constraint \"api_key_pkey\" primary key (\"id\"));");
    this.addSql("create index \"api_key_user_id_index\" on \"api_key\" (\"user_id\");");
    this.addSql("alter table \"api_key\" add constraint \"api_key_key_hash_unique\" unique (\"key_hash\");");
    this.addSql("alter table \"sign_in_link\" add constraint \"sign_in_link_user_id_foreign\" foreign key (\"user_id\") references \"app_user\" (\"id\") on update cascade on delete cascade;");
    this.addSql("alter table \"auth_session\" add constraint \"auth_session_user_id_foreign\" foreign key (\"user_id\") references \"app_user\" (\"id\") on update cascade on delete cascade;");
    this.addSql("alter table \"refresh_token\" add constraint \"refresh_token_session_id_foreign\" foreign key (\"session_id\") references \"auth_session\" (\"id\") on update cascade on delete cascade;");
    this.addSql("alter table \"api_key\" add constraint \"api_key_user_id_foreign\" foreign key (\"user_id\") references \"app_user\" (\"id\") on update cascade on delete cascade;");
    this.addSql("create index \"inference_job_principal_index\" on \"inference_job\" (\"principal\");");
    this.addSql("alter table \"model\" add column \"visibility\" text check (\"visibility\" in ('PRIVATE', 'SHARED')) not null default 'PRIVATE';");
    this.addSql("create index \"model_owner_index\" on \"model\" (\"owner\");");
    this.addSql("alter table \"ping_job\" add column \"owner\" varchar(200) null;");
    this.addSql("create index \"ping_job_owner_index\" on \"ping_job\" (\"owner\");");
    // Models made before owners existed belong to the platform: everyone keeps reading them.
    this.addSql("update \"model\" set \"visibility\" = 'SHARED' where \"owner\" is null;");
    // The audit log is append-only in the database itself, whatever the application does.
    this.addSql(
      "create function audit_log_append_only() returns trigger language plpgsql as $$ begin raise exception 'audit_log is append-only' using errcode = 'insufficient_privilege'; end $$;",
    );
    this.addSql("create trigger audit_log_no_update before update or delete on \"audit_log\" for each row execute function audit_log_append_only();");
    this.addSql("create trigger audit_log_no_truncate before truncate on \"audit_log\" for each statement execute function audit_log_append_only();");
  }

  override async down(): Promise<void> {
    this.addSql("drop trigger if exists audit_log_no_update on \"audit_log\";");
    this.addSql("drop trigger if exists audit_log_no_truncate on \"audit_log\";");
    this.addSql("drop function if exists audit_log_append_only();");
    this.addSql("alter table \"sign_in_link\" drop constraint \"sign_in_link_user_id_foreign\";");
    this.addSql("alter table \"auth_session\" drop constraint \"auth_session_user_id_foreign\";");
    this.addSql("alter table \"api_key\" drop constraint \"api_key_user_id_foreign\";");
    this.addSql("alter table \"refresh_token\" drop constraint \"refresh_token_session_id_foreign\";");
    this.addSql("drop table if exists \"app_secret\" cascade;");
    this.addSql("drop table if exists \"audit_log\" cascade;");
    this.addSql("drop table if exists \"app_user\" cascade;");
    this.addSql("drop table if exists \"sign_in_link\" cascade;");
    this.addSql("drop table if exists \"auth_session\" cascade;");
    this.addSql("drop table if exists \"refresh_token\" cascade;");
    this.addSql("drop table if exists \"api_key\" cascade;");
    this.addSql("drop index \"inference_job_principal_index\";");
    this.addSql("drop index \"model_owner_index\";");
    this.addSql("alter table \"model\" drop column \"visibility\";");
    this.addSql("drop index \"ping_job_owner_index\";");
    this.addSql("alter table \"ping_job\" drop column \"owner\";");
  }
}
