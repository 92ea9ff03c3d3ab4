-- What stood beside the password when the session was signed in: `sms` or `voice` (a code),
-- `remembered_browser`, or null (the password alone, or not signed in yet).
alter table sessions add column second_factor text;
