-- Totals per user are the sum of their orders.
select (select sum(cents) from orders where user_id = 1) = 2000;
