-- test/dbt/unit's source: members and their visits.
CREATE SCHEMA gym_raw;
CREATE TABLE gym_raw.members (member_id integer, phone text, joined_on date, plan text);
CREATE TABLE gym_raw.visits (visit_id integer, member_id integer, checked_in_at timestamp, minutes integer);
INSERT INTO gym_raw.members VALUES (1, '+31 6 1234 5678', '2024-01-02', 'gold'), (2, '12', '2024-02-03', 'basic');
INSERT INTO gym_raw.visits VALUES (100, 1, '2024-03-01 08:00', 45), (101, 2, '2024-03-01 09:30', 30);
