-- A refresh token is kept after its one use, marked, so that presenting it again is seen for
-- what it is (a stolen copy, or a replay) and ends its whole family (RFC 9700 §4.14.2).
alter table application_tokens add column used_at bigint;
