-- The practice's time zone, an IANA name. Empty in practices made before it existed: those read
-- as their country's main zone until an owner chooses one.
alter table practices add column time_zone text not null default '';
