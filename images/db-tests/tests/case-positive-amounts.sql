-- An order of zero cents is refused.
do $$ begin
  insert into orders (user_id, cents) values (1, 0);
  raise exception 'zero amount accepted';
exception when check_violation then null;
end $$;
select true;
