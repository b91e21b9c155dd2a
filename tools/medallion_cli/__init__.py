"""medallion: the command line of a medallion pipeline kept as files.

  deploy DIR     define, build, test and publish a project directory in one
                 transaction (--plan: say what it would do; --diff: and how
                 the data would change), all or nothing
  export DIR     write the catalog as such a directory
  run, test, plan, docs
                 medallion_run, medallion_test, medallion_plan, medallion_docs
  import DIR     medallion-dbt import

The directory is a dbt project in the shape medallion-dbt reads
(tools/medallion_dbt does the reading).  Exit codes: 0 done, or nothing to
do; 1 a model or test failed, or a change was refused (nothing changed);
2 a problem with the project or the connection (nothing changed)."""
