-- Grows a copy of the real Jira 8 database (scripts/product-db.sh create NAME jira) with
-- synthetic issues and comments in Jira's own tables, as a larger PROD would hold them:
-- :issues issues in project TEST (issue numbers after the dump's 26), each with a description
-- of about 2 KB and two comments of about 1 KB (jiraaction), text that compresses about as
-- well as prose (hex digests, 2:1). psql -v issues=250000 -f Benchmarks/grow-jira.sql gives
-- about 1.3 GB of database. Ids start above the dump's and the OFBiz sequences and the
-- project's counter are moved past them, as Jira would.
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO jiraissue (id, issuenum, project, reporter, creator, issuetype, summary, description, priority,
                       issuestatus, created, updated, votes, watches, workflow_id)
SELECT 100000 + g, 26 + g, 10000, 'JIRAUSER10000', 'JIRAUSER10000', '10000',
       'Synthetic issue ' || g || ' ' || md5(g::text),
       (SELECT string_agg(md5((g * 64 + k)::text), ' ') FROM generate_series(1, 60) k),
       '3', '10000', now() - (g || ' minutes')::interval, now(), 0, 1, 200000 + g
FROM generate_series(1, :issues) g;
INSERT INTO jiraaction (id, issueid, author, actiontype, actionbody, created, updateauthor, updated)
SELECT 1000000 + g * 2 + c, 100000 + g, 'JIRAUSER10000', 'comment',
       (SELECT string_agg(md5((g * 4 + c * 2 + k)::text), ' ') FROM generate_series(1, 30) k),
       now(), 'JIRAUSER10000', now()
FROM generate_series(1, :issues) g, generate_series(0, 1) c;
UPDATE project SET pcounter = 26 + :issues WHERE id = 10000;
INSERT INTO sequence_value_item (seq_name, seq_id) VALUES ('Issue', 100000 + :issues + 100)
    ON CONFLICT (seq_name) DO UPDATE SET seq_id = EXCLUDED.seq_id;
INSERT INTO sequence_value_item (seq_name, seq_id) VALUES ('Action', 1000000 + 2 * :issues + 200)
    ON CONFLICT (seq_name) DO UPDATE SET seq_id = EXCLUDED.seq_id;
COMMIT;
ANALYZE jiraissue;
ANALYZE jiraaction;
