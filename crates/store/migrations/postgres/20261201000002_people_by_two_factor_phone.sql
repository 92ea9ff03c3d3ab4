-- A setup to a number someone has confirmed is limited more tightly; this finds that someone.
create index people_two_factor_phone on people (two_factor_phone);
