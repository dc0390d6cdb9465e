-- The schema of a small web app's backend: users and their orders.
create table users (id serial primary key, email text not null unique);
create table orders (
  id serial primary key,
  user_id int not null references users (id),
  cents int not null check (cents > 0)
);
insert into users (email) values ('ada@example.com'), ('linus@example.com');
insert into orders (user_id, cents) values (1, 1200), (1, 800), (2, 500);
