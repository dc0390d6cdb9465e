-- A second user with the same e-mail address is refused.
do $$ begin
  insert into users (email) values ('ada@example.com');
  raise exception 'duplicate e-mail accepted';
exception when unique_violation then null;
end $$;
select true;
