-- Consuming a code deletes its challenge, so no row is ever marked consumed.
alter table challenges drop column consumed_at;
