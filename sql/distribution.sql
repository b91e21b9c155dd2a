--
-- Citus settings of models (distributed_by, colocate_with, distribution):
-- what is refused, and why.  This cluster has no Citus: distributing a
-- model is refused with what to install; the runs on a coordinator with
-- two workers are in test/citus.
--
CREATE TABLE public.dsrc (id int, region int);
INSERT INTO public.dsrc VALUES (1, 1), (2, 2);

-- without citus
SELECT medallion_create_model('dist_t', 'SELECT id, region FROM public.dsrc', layer => 'silver',
                              distributed_by => 'id');
SELECT medallion_create_model('dist_r', 'SELECT id, region FROM public.dsrc', layer => 'silver',
                              distribution => 'reference');
-- settings that do not go together, whatever is installed
SELECT medallion_create_model('dist_t', 'SELECT id, region FROM public.dsrc', layer => 'silver',
                              distribution => 'reference', distributed_by => 'id');
SELECT medallion_create_model('dist_t', 'SELECT id, region FROM public.dsrc', layer => 'silver',
                              distribution => 'hash');
SELECT medallion_create_model('dist_t', 'SELECT id, region FROM public.dsrc', layer => 'silver',
                              distribution => 'range', distributed_by => 'id');
SELECT medallion_create_model('dist_t', 'SELECT id, region FROM public.dsrc', layer => 'silver',
                              colocate_with => 'dist_other');
SELECT medallion_create_model('dist_t', 'SELECT id, region FROM public.dsrc', layer => 'silver',
                              distributed_by => 'id', colocate_with => 'dist_t');
SELECT medallion_create_model('dist_t', 'SELECT id, region FROM public.dsrc', layer => 'silver',
                              distribution => 'reference', colocate_with => 'dist_other');
-- what cannot be distributed
SELECT medallion_create_model('dist_v', 'SELECT id, region FROM public.dsrc', layer => 'silver',
                              materialized => 'view', distributed_by => 'id');
SELECT medallion_create_model('dist_i', 'SELECT id, region FROM public.dsrc', layer => 'silver',
                              materialized => 'incremental', distributed_by => 'id');
SELECT medallion_create_model('dist_i', 'SELECT id, region FROM public.dsrc', layer => 'silver',
                              materialized => 'incremental', unique_key => ARRAY['id'], strategy => 'append',
                              distributed_by => 'id');
-- incremental models with a key and snapshots may be distributed: here only Citus is missing
SELECT medallion_create_model('dist_s', 'SELECT id, region FROM public.dsrc', layer => 'silver',
                              materialized => 'snapshot', unique_key => ARRAY['id'], distributed_by => 'id');
SELECT medallion_create_model('dist_i', 'SELECT id, region FROM public.dsrc', layer => 'silver',
                              materialized => 'incremental', unique_key => ARRAY['id'], distributed_by => 'id');
-- nothing was defined
SELECT count(*) AS models FROM medallion.models WHERE name LIKE 'dist\_%';
SELECT count(*) AS relations FROM pg_class WHERE relname LIKE 'dist\_%' AND relkind IN ('r', 'v');
-- the catalog refuses what the function would
\set VERBOSITY terse
INSERT INTO medallion.models (name, layer, materialized, sql, owner, search_path, sql_hash, distribution)
VALUES ('dist_x', 'silver', 'table', 'SELECT 1', 'postgres', 'public', '', 'hash');
\set VERBOSITY default
DROP TABLE public.dsrc;
