-- The sign-in before the latest, so a person's dashboard can say when they were last here and
-- what changed since (a browser remembered in between).
alter table people add column previous_sign_in_at bigint;
