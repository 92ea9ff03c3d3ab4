-- The method a setup is for, as chosen on the phone step. A resend by the other method (a
-- call instead of a text) changes `channel`, the method the last code went by, not this. Null
-- in challenges made before it existed: those read as their channel.
alter table challenges add column method text;
