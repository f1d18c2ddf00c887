#!/bin/sh
# sqlite3: a database built, indexed, queried and vacuumed under the
# backend, output compared with a plain run.
set -u
. "$(dirname "$0")/common.sh"
require sqlite3

sql=$(mktemp) && register_cleanup "$sql"
cat >"$sql" <<'SQL'
create table item(id integer primary key, name text, score real, tags text);
with recursive n(x) as (select 1 union all select x + 1 from n where x < 60000)
insert into item select x, 'item-' || x || '-' || hex(x * 7919 % 65536), (x * 31 % 1000) / 10.0,
       substr('alpha,beta,gamma,delta', 1 + x % 12, 11) from n;
create index item_score on item(score);
select count(*), sum(score), max(length(name)) from item;
select tags, count(*), round(avg(score), 3) from item group by tags order by tags;
select name from item where score between 42.0 and 42.5 order by id limit 5;
update item set name = upper(name) where id % 3 = 0;
delete from item where id % 5 = 0;
vacuum;
select count(*), group_concat(substr(name, 1, 3), '') from (select name from item order by id limit 50);
SQL
compare_with_plain "sqlite3 in-memory database" sqlite3 :memory: ".read $sql"
